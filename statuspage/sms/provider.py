"""The one small interface to an SMS provider, and its Twilio implementation (Twilio's own
library). Another provider (GOV.UK Notify for a UK deployment) would be one more class here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from flask import current_app


class SmsNotConfigured(RuntimeError):
    """SMS_PROVIDER names a provider whose settings are missing (a message names them)."""


class Refused(Exception):
    """The provider will never deliver this message (a bad or opted-out number): not retried.
    ``opted_out``: the number itself told the carrier STOP."""

    def __init__(self, message: str, opted_out: bool = False):
        super().__init__(message)
        self.opted_out = opted_out


class Forged(Exception):
    """An inbound request not signed by the provider."""


@dataclass(frozen=True)
class Inbound:
    """A text a person sent to our number."""

    sender: str  # E.164
    body: str


class SmsProvider(Protocol):
    def send(self, to: str, body: str) -> str:
        """Send one text; return the provider's id for it. Raises Refused when it can never go,
        anything else when it may go on a later try."""

    def inbound(self, url: str, form: Mapping[str, str], headers: Mapping[str, str]) -> Inbound:
        """The text in a webhook request to ``url`` (the address the provider was given), or
        Forged when the request's signature does not check out."""

    def reply(self, text: str | None) -> tuple[str, str]:
        """The body and content type that answer the webhook (with ``text`` sent back)."""


# Twilio error codes that mean the message can never go to that number as it is.
TWILIO_OPTED_OUT = 21610  # the number replied STOP: Twilio refuses until it sends START
TWILIO_PERMANENT = {
    21211,  # not a valid phone number
    21408,  # no permission to send to that region
    21612,  # not reachable from our number
    21614,  # not a mobile number
    21635,  # a landline
}
TWILIO_TIMEOUT_SECONDS = 10


class TwilioProvider:
    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        api_base_url: str | None = None,
    ):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        self.auth_token = auth_token
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.client = Client(
            account_sid, auth_token, http_client=TwilioHttpClient(timeout=TWILIO_TIMEOUT_SECONDS)
        )
        if api_base_url:  # a stand-in of Twilio's REST API in tests (or a proxy in front of it)
            self.client.api.base_url = api_base_url.rstrip("/")

    def send(self, to: str, body: str) -> str:
        from twilio.base.exceptions import TwilioRestException

        sender = (
            {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid
            else {"from_": self.from_number}
        )
        try:
            message = self.client.messages.create(to=to, body=body, **sender)
        except TwilioRestException as error:
            if error.code == TWILIO_OPTED_OUT:
                raise Refused(f"Twilio {error.code}: {error.msg}", opted_out=True) from None
            if error.code in TWILIO_PERMANENT:
                raise Refused(f"Twilio {error.code}: {error.msg}") from None
            raise RuntimeError(f"Twilio answered {error.status}: {error.msg}") from None
        return message.sid

    def inbound(self, url: str, form: Mapping[str, str], headers: Mapping[str, str]) -> Inbound:
        from twilio.request_validator import RequestValidator

        signature = headers.get("X-Twilio-Signature", "")
        if not signature or not RequestValidator(self.auth_token).validate(url, form, signature):
            raise Forged("the request is not signed by Twilio")
        return Inbound(sender=form.get("From", ""), body=form.get("Body", ""))

    def reply(self, text: str | None) -> tuple[str, str]:
        from twilio.twiml.messaging_response import MessagingResponse

        response = MessagingResponse()
        if text:
            response.message(text)
        return str(response), "text/xml; charset=utf-8"


def check_settings(config: Mapping) -> None:
    """Stop start-up when SMS_PROVIDER names a provider without what it needs."""
    name = config.get("SMS_PROVIDER")
    if not name:
        return
    if name != "twilio":
        raise SmsNotConfigured(f"SMS_PROVIDER is {name!r}; the one provider known is 'twilio'.")
    missing = [key for key in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN") if not config.get(key)]
    if not (config.get("TWILIO_FROM_NUMBER") or config.get("TWILIO_MESSAGING_SERVICE_SID")):
        missing.append("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
    if missing:
        raise SmsNotConfigured(
            "SMS_PROVIDER is 'twilio' but these are not set: " + ", ".join(missing) + "."
        )


def is_configured() -> bool:
    return bool(current_app.config.get("SMS_PROVIDER"))


_SETTINGS = (
    "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER",
    "TWILIO_MESSAGING_SERVICE_SID", "TWILIO_API_BASE_URL",
)  # fmt: skip
_providers: dict[tuple, SmsProvider] = {}


def current_provider() -> SmsProvider:
    """The provider the settings name, one per distinct settings (its connections are kept)."""
    config = current_app.config
    check_settings(config)
    if not config.get("SMS_PROVIDER"):
        raise SmsNotConfigured("No SMS provider is configured (SMS_PROVIDER).")
    key = tuple(config.get(name) for name in _SETTINGS)
    if key not in _providers:
        sid, token, from_number, service_sid, base_url = key
        _providers[key] = TwilioProvider(
            sid, token, from_number=from_number, messaging_service_sid=service_sid,
            api_base_url=base_url,
        )  # fmt: skip
    return _providers[key]
