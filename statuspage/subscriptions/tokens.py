"""Signed links in emails: confirm (expires) and manage/unsubscribe (lasts as long as the address)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from .. import clock

CONFIRM_SALT = "subscription-confirm"
MANAGE_SALT = "subscription-manage"
ADDITION_SALT = "subscription-addition"
CONFIRM_MAX_AGE = timedelta(hours=48)


class TokenError(ValueError):
    """The link is broken, tampered with or too old; the message says what to do."""


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def confirm_token(subscriber_id: int, email: str) -> str:
    return _serializer(CONFIRM_SALT).dumps(
        {"s": subscriber_id, "e": email, "t": clock.now().isoformat()}
    )


def manage_token(subscriber_id: int, email: str) -> str:
    return _serializer(MANAGE_SALT).dumps({"s": subscriber_id, "e": email})


def addition_token(subscriber_id: int, email: str, addition_id: int) -> str:
    """The link that confirms adding choices to a confirmed subscription (expires like confirm)."""
    return _serializer(ADDITION_SALT).dumps(
        {"s": subscriber_id, "e": email, "a": addition_id, "t": clock.now().isoformat()}
    )


def read_confirm_token(token: str) -> tuple[int, str]:
    data = _load(token, CONFIRM_SALT)
    _check_age(data)
    return data["s"], data["e"]


def read_addition_token(token: str) -> tuple[int, str, int]:
    data = _load(token, ADDITION_SALT)
    _check_age(data)
    if not isinstance(data.get("a"), int):
        raise TokenError("This link is not valid.")
    return data["s"], data["e"], data["a"]


def _check_age(data: dict) -> None:
    try:
        issued = datetime.fromisoformat(data["t"])
    except (KeyError, TypeError, ValueError):
        raise TokenError("This confirmation link is not valid.") from None
    if clock.now() - issued > CONFIRM_MAX_AGE:
        raise TokenError("This confirmation link has expired. Subscribe again to get a new one.")


def read_manage_token(token: str) -> tuple[int, str]:
    data = _load(token, MANAGE_SALT)
    return data["s"], data["e"]


def _load(token: str, salt: str) -> dict:
    try:
        data = _serializer(salt).loads(token)
    except BadSignature:
        raise TokenError(
            "This link is not valid. Check it was copied completely, or subscribe again."
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("s"), int) or "e" not in data:
        raise TokenError("This link is not valid.")
    return data
