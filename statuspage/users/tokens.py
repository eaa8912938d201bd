"""One-time links for setting a password: an invitation (72 hours) and a password reset (1 hour).

A link is signed with the secret key and names the user, when it was made, and a fingerprint of
the user's password hash at that moment. Setting a password changes the hash, so every link made
before it stops working: a link works once, and an older link dies with a newer one's use. Nothing
secret is stored: the outbox row that sends the email holds the same three values, and the link
is made from them (and the secret key) when the email is written.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from .. import clock
from ..extensions import db
from .models import User

INVITATION = "invitation"
PASSWORD_RESET = "password_reset"
PURPOSES = (INVITATION, PASSWORD_RESET)


class TokenError(ValueError):
    """The link is broken, used, or too old; the message says what to do."""


@dataclass(frozen=True)
class LinkData:
    """What a link carries: whose it is, when it was made, the password fingerprint then."""

    user_id: int
    issued: int  # whole seconds since the epoch, UTC
    fingerprint: str

    def detail(self) -> str:
        return f"{self.user_id}:{self.issued}:{self.fingerprint}"

    @classmethod
    def from_detail(cls, detail: str) -> LinkData:
        user_id, issued, fingerprint = detail.split(":")
        return cls(int(user_id), int(issued), fingerprint)


def max_age(purpose: str) -> timedelta:
    config = current_app.config
    return config["INVITATION_VALID_FOR"] if purpose == INVITATION else config["PASSWORD_RESET_VALID_FOR"]


def fingerprint(purpose: str, user: User) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = f"{purpose}:{user.id}:{user.password_hash}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:16]


def link_data(purpose: str, user: User) -> LinkData:
    return LinkData(user.id, int(clock.now().timestamp()), fingerprint(purpose, user))


def _serializer(purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"account-{purpose}")


def token_for(purpose: str, data: LinkData) -> str:
    return _serializer(purpose).dumps([data.user_id, data.issued, data.fingerprint])


def read(purpose: str, token: str) -> User:
    """The user a valid, unused, unexpired link is for; TokenError otherwise."""
    what = "invitation" if purpose == INVITATION else "password reset link"
    again = (
        "Ask whoever invited you to send a new invitation."
        if purpose == INVITATION
        else "Ask for a new one from the sign-in page."
    )
    try:
        user_id, issued, print_then = _serializer(purpose).loads(token)
        issued_at = datetime.fromtimestamp(int(issued), UTC)
    except (BadSignature, TypeError, ValueError, OverflowError, OSError):
        raise TokenError(f"This {what} is not valid. Check it was copied completely. {again}") from None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active:  # a service account has no links either
        raise TokenError(f"This {what} is not valid any more. {again}")
    if not hmac.compare_digest(str(print_then), fingerprint(purpose, user)):
        if purpose == INVITATION and user.has_password:
            raise TokenError(
                "This invitation has been used already. Sign in, or use “Forgot your password?” "
                "on the sign-in page."
            )
        raise TokenError(f"This {what} has been used already, or a newer one replaced it. {again}")
    if clock.now() - issued_at > max_age(purpose):
        raise TokenError(f"This {what} has expired. {again}")
    return user
