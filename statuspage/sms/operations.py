"""Text messages to citizens' phones: signing a number up with a code sent to it (double opt-in),
STOP and START from the phone, and the outbox rows for each public update the policy names."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

import phonenumbers
from flask import current_app
from phonenumbers import PhoneNumberType, geocoder
from sqlalchemy import String, cast, func, literal, or_, select, update

from .. import clock
from ..catalog.models import Service
from ..extensions import db
from ..policy import current_policy

# subscriptions.operations imports this module to call enqueue_update: read at call time.
from ..subscriptions import operations as subscriptions
from ..subscriptions.models import Notification
from ..upsert import insert_if_absent
from .models import SmsScope, SmsSubscriber
from .provider import Inbound, is_configured

if TYPE_CHECKING:
    from ..subscriptions.operations import Choice

CODE_EVENT = "sms_code"
UPDATE_EVENT = "incident_update"
CODE_DIGITS = 6
# The keywords carriers and Twilio honour, matched as the whole text (any case, no punctuation).
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "UNSTOP", "YES"}
HELP_WORDS = {"HELP", "INFO"}
# Types a text message can reach; premium-rate, toll-free, shared-cost numbers are where SMS
# pumping fraud sends its texts, and landlines cannot receive them.
TEXTABLE = {
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.VOIP,
}
_LONGEST_TYPED = 30  # "+1 (202) 555-0143 ext. 1234" and room to spare
_TYPED = re.compile(r"^[0-9+()\-./ ]+$")


def _problem(message: str, field: str | None = None) -> Exception:
    """A SubscriptionError, as the sign-up forms show them."""
    return subscriptions.SubscriptionError(message, field)


def recipient_key(subscriber_id: int) -> str:
    return f"sms:{subscriber_id}"


def subscriber_id_of(key: str) -> int:
    return int(key.removeprefix("sms:"))


# --- numbers -----------------------------------------------------------------------------------


def normalise_number(typed: str | None) -> str:
    """A textable mobile number from an allowed region in E.164 form, or a clear message."""
    typed = (typed or "").strip()
    if not typed:
        raise _problem("Enter your mobile number.", "number")
    if len(typed) > _LONGEST_TYPED or not _TYPED.match(typed):
        raise _problem(
            "Enter a mobile number with digits only (spaces, dashes, brackets and a leading + "
            "are fine), like 202-555-0143.",
            "number",
        )
    config = current_app.config
    try:
        parsed = phonenumbers.parse(typed, config["SMS_DEFAULT_REGION"])
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise _problem(
            "Enter a full mobile number, like 202-555-0143 (or +44 7700 900123 from abroad).",
            "number",
        )
    region = phonenumbers.region_code_for_number(parsed)
    if region not in config["SMS_ALLOWED_REGIONS"]:
        place = geocoder.country_name_for_number(parsed, "en") or region or "there"
        raise _problem(
            f"We cannot send text messages to numbers from {place} (+{parsed.country_code}). "
            "Get updates by email or follow a feed instead.",
            "number",
        )
    if phonenumbers.number_type(parsed) not in TEXTABLE:
        raise _problem("This number cannot get text messages. Enter a mobile number.", "number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def display_number(number: str) -> str:
    """+12025550143 as "+1 202-555-0143" for pages."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# --- codes -------------------------------------------------------------------------------------


def _derive_code(subscriber_id: int, nonce: str) -> str:
    """The code a code message carries, from its nonce: the code itself is stored nowhere."""
    digest = hmac.new(
        current_app.config["SECRET_KEY"].encode(),
        f"sms-code:{subscriber_id}:{nonce}".encode(),
        hashlib.sha256,
    ).digest()
    return str(int.from_bytes(digest[:8], "big") % 10**CODE_DIGITS).zfill(CODE_DIGITS)


def _code_hash(subscriber_id: int, code: str) -> str:
    return hmac.new(
        current_app.config["SECRET_KEY"].encode(),
        f"sms-code-hash:{subscriber_id}:{code}".encode(),
        hashlib.sha256,
    ).hexdigest()


def code_for_message(event_key: str) -> str | None:
    """The code of a code message if it is still the number's live one, else None."""
    subscriber_id, _, nonce = event_key.partition(":")
    subscriber = db.session.get(SmsSubscriber, int(subscriber_id))
    if subscriber is None or subscriber.code_hash is None:
        return None
    code = _derive_code(subscriber.id, nonce)
    live = hmac.compare_digest(subscriber.code_hash, _code_hash(subscriber.id, code))
    if not live or subscriber.code_expires_at is None or subscriber.code_expires_at <= clock.now():
        return None
    return code


def _choice_json(choice: Choice) -> str:
    return json.dumps({
        "everything": choice.everything,
        "agencies": sorted(choice.agency_ids),
        "services": sorted(choice.service_ids),
    })  # fmt: skip


def pending_choice(subscriber: SmsSubscriber) -> Choice:
    """What the waiting code would add."""
    data = json.loads(subscriber.pending_choice or "{}")
    return subscriptions.Choice(
        everything=bool(data.get("everything")),
        agency_ids=set(data.get("agencies", [])),
        service_ids=set(data.get("services", [])),
    )


def choice_of(subscriber: SmsSubscriber) -> Choice:
    return subscriptions.Choice(
        subscriber.everything, subscriber.agency_ids, subscriber.service_ids
    )


def request_code(typed_number: str, choice: Choice) -> SmsSubscriber:
    """Send a code to the number; the choice takes effect (a confirmed number's is added to what
    it follows) only when the code is typed back. Asking again replaces the code."""
    if not is_configured():
        raise _problem("Text messages are not available on this site.")
    number = normalise_number(typed_number)
    choice.check()
    now = clock.now()
    # Two sign-ups of a new number at once: the unique key lets one insert, both then read it.
    insert_if_absent(SmsSubscriber, number=number, everything=False, code_attempts=0,
                     created_at=now)  # fmt: skip
    subscriber = db.session.scalars(
        select(SmsSubscriber).where(SmsSubscriber.number == number).with_for_update()
    ).one()
    nonce = secrets.token_hex(8)
    subscriber.code_hash = _code_hash(subscriber.id, _derive_code(subscriber.id, nonce))
    subscriber.code_expires_at = now + current_app.config["SMS_CODE_VALID_FOR"]
    subscriber.code_attempts = 0
    subscriber.pending_choice = _choice_json(choice)
    db.session.add(Notification(
        channel="sms", recipient_key=recipient_key(subscriber.id), address=number,
        event=CODE_EVENT, event_key=f"{subscriber.id}:{nonce}", status="pending", attempts=0,
        next_attempt_at=now, last_error="", created_at=now,
    ))  # fmt: skip
    db.session.commit()
    return subscriber


def confirm_code(typed_number: str, typed_code: str) -> SmsSubscriber:
    """Check the code; on success the number gets texts for what it chose (added to what it
    already followed). Each wrong code counts; past SMS_CODE_ATTEMPTS the code is void."""
    number = normalise_number(typed_number)
    code = re.sub(r"[\s-]", "", typed_code or "")
    if not re.fullmatch(rf"\d{{{CODE_DIGITS}}}", code):
        raise _problem(f"Enter the {CODE_DIGITS}-digit code from the text message.", "code")
    subscriber = db.session.scalars(
        select(SmsSubscriber).where(SmsSubscriber.number == number).with_for_update()
    ).first()
    if subscriber is None or subscriber.code_hash is None:
        raise _problem(
            "There is no code waiting for this number. Check the number, or ask for a new code.",
            "code",
        )
    now = clock.now()
    most = current_app.config["SMS_CODE_ATTEMPTS"]
    if subscriber.code_expires_at is None or subscriber.code_expires_at <= now:
        raise _problem("This code has expired. Ask for a new code.", "code")
    if subscriber.code_attempts >= most:
        raise _problem("Too many wrong codes. Ask for a new code.", "code")
    if not hmac.compare_digest(subscriber.code_hash, _code_hash(subscriber.id, code)):
        subscriber.code_attempts += 1
        left = most - subscriber.code_attempts
        db.session.commit()
        if left <= 0:
            raise _problem("That code is not right, and that was the last try. "
                                    "Ask for a new code.", "code")  # fmt: skip
        raise _problem(
            f"That code is not right. Check the text message and try again "
            f"({left} {'try' if left == 1 else 'tries'} left).",
            "code",
        )
    _apply(subscriber, pending_choice(subscriber), merge=subscriber.confirmed_at is not None)
    subscriber.confirmed_at = subscriber.confirmed_at or now
    if subscriber.stopped_at is not None:  # typing the code is asking for texts again
        subscriber.stopped_at, subscriber.restarted_at = None, now
    subscriber.code_hash = subscriber.code_expires_at = subscriber.pending_choice = None
    subscriber.code_attempts = 0
    db.session.commit()
    return subscriber


def _apply(subscriber: SmsSubscriber, choice: Choice, merge: bool) -> None:
    if merge:
        choice = subscriptions.Choice(
            everything=subscriber.everything or choice.everything,
            agency_ids=subscriber.agency_ids | choice.agency_ids,
            service_ids=subscriber.service_ids | choice.service_ids,
        )
    subscriber.everything = choice.everything
    if choice.everything:
        subscriber.scopes = []
        return
    kept = {(s.agency_id, s.service_id): s for s in subscriber.scopes}
    wanted = [(a, None) for a in sorted(choice.agency_ids)] + [
        (None, s) for s in sorted(choice.service_ids)
    ]
    subscriber.scopes = [
        kept.get(key) or SmsScope(agency_id=key[0], service_id=key[1]) for key in wanted
    ]


# --- STOP, START and HELP ----------------------------------------------------------------------


def keyword(body: str) -> str:
    """The text as a keyword: "Stop." and " stop " are STOP."""
    return re.sub(r"[^A-Z]", "", (body or "").upper())


def stop(number: str) -> None:
    """No more texts to the number; those still waiting end as skipped, never sent."""
    subscriber = db.session.scalars(
        select(SmsSubscriber).where(SmsSubscriber.number == number)
    ).first()
    if subscriber is None:
        return
    now = clock.now()
    if subscriber.stopped_at is None:
        subscriber.stopped_at = now
    subscriber.code_hash = subscriber.code_expires_at = subscriber.pending_choice = None
    skip_waiting(subscriber.id, "The number texted STOP.")
    db.session.commit()


def skip_waiting(subscriber_id: int, reason: str) -> None:
    db.session.execute(
        update(Notification)
        .where(
            Notification.recipient_key == recipient_key(subscriber_id),
            Notification.status == "pending",
        )
        .values(status="skipped", last_error=reason)
    )


def start(number: str) -> bool:
    """Texts again for a confirmed number that had stopped them; False when it never signed up."""
    subscriber = db.session.scalars(
        select(SmsSubscriber).where(SmsSubscriber.number == number)
    ).first()
    if subscriber is None or subscriber.confirmed_at is None:
        return False
    if subscriber.stopped_at is not None:
        subscriber.stopped_at, subscriber.restarted_at = None, clock.now()
        db.session.commit()
    return True


def answer_inbound(inbound: Inbound, site_url: str, site_name: str) -> str | None:
    """What to text back to a keyword (None: nothing)."""
    try:
        number = phonenumbers.format_number(
            phonenumbers.parse(inbound.sender, None), phonenumbers.PhoneNumberFormat.E164
        )
    except phonenumbers.NumberParseException:
        return None
    word = keyword(inbound.body)
    if word in STOP_WORDS:
        stop(number)
        return f"{site_name}: you will get no more texts. Text START to get them again."
    if word in START_WORDS:
        if start(number):
            return f"{site_name}: you will get texts again. Text STOP to stop them."
        return f"{site_name}: sign up for texts at {site_url}"
    if word in HELP_WORDS:
        return f"{site_name}: service status alerts. Details: {site_url} Text STOP to stop."
    return None


# --- what gets texted -------------------------------------------------------------------------


def tier_words(up_to: int) -> str:
    return "tier 1 services" if up_to == 1 else f"services of tiers 1-{up_to}"


def texting_summary() -> str:
    """The policy's text-message column in words: "P1 Critical and P2 High incidents on services
    of tiers 1-2" (empty when no priority is texted)."""
    from ..incidents.models import PRIORITY_LABELS

    policy = current_policy()
    texted = [(p, policy[p].sms_up_to_tier) for p in sorted(policy.priorities)]
    texted = [(p, tier) for p, tier in texted if tier is not None]
    if not texted:
        return ""
    if len({tier for _p, tier in texted}) == 1:
        names = [PRIORITY_LABELS[p] for p, _tier in texted]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return f"{listed} incidents on {tier_words(texted[0][1])}"
    parts = [f"{PRIORITY_LABELS[p]} incidents on {tier_words(tier)}" for p, tier in texted]
    return "; ".join(parts)


# --- the outbox --------------------------------------------------------------------------------


def texted_services(incident) -> list[Service]:
    """The affected services whose tier the policy texts about at the incident's priority."""
    rules = current_policy()[incident.priority]
    return [a.service for a in incident.affected if rules.sends_sms(a.service.tier)]


def enqueue_update(incident, update) -> None:
    """Called inside publish_update's transaction (for public incidents only), after the email
    fan-out: one row per confirmed, not stopped number following a service the policy texts
    about (or its agency, or everything), written by the database in one statement."""
    if not is_configured():
        return
    services = texted_services(incident)
    if not services:
        return

    service_ids = [service.id for service in services]
    agency_ids = sorted({service.agency_id for service in services})
    now = clock.now()
    follows = (
        select(SmsScope.id)
        .where(
            SmsScope.sms_subscriber_id == SmsSubscriber.id,
            or_(SmsScope.agency_id.in_(agency_ids), SmsScope.service_id.in_(service_ids)),
        )
        .exists()
    )
    values = {
        "channel": literal("sms"),
        "recipient_key": literal("sms:") + cast(SmsSubscriber.id, String),
        "address": SmsSubscriber.number,
        "event": literal(UPDATE_EVENT),
        "event_key": literal(str(update.id)),
        "status": literal("pending"),
        "attempts": literal(0),
        "next_attempt_at": literal(now, Notification.next_attempt_at.type),
        "last_error": literal(""),
        "created_at": literal(now, Notification.created_at.type),
    }
    numbers = select(*(value.label(name) for name, value in values.items())).where(
        SmsSubscriber.confirmed_at.is_not(None),
        SmsSubscriber.stopped_at.is_(None),
        or_(SmsSubscriber.everything.is_(True), follows),
    )
    db.session.execute(
        subscriptions._insert()(Notification)
        .from_select(list(values), numbers)
        .on_conflict_do_nothing()
    )


@dataclass(frozen=True)
class SmsCounts:
    receiving: int  # confirmed and not stopped
    stopped: int
    waiting: int  # never confirmed


def sms_counts() -> SmsCounts:
    rows = db.session.execute(
        select(
            func.count().filter(
                SmsSubscriber.confirmed_at.is_not(None), SmsSubscriber.stopped_at.is_(None)
            ),
            func.count().filter(SmsSubscriber.stopped_at.is_not(None)),
            func.count().filter(SmsSubscriber.confirmed_at.is_(None)),
        )
    ).one()
    return SmsCounts(*(value or 0 for value in rows))
