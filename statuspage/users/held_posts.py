"""What a person was sending when their session ran out: kept, never lost, never sent unseen.

A lead who writes an update for longer than SESSION_IDLE_MINUTES (or past the session's
lifetime) and presses the button would otherwise lose the text on the way to the sign-in page.
Instead the form's fields are kept on the server for HOLD_FOR, bound to the account whose session
timed out, and after signing in again that person sees what they typed and sends it with one
button (a fresh form, with a new CSRF token, to the same address), or copies it and goes back.
Secrets (passwords, one-time codes, CSRF tokens) are never kept."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import MultiDict

from .. import clock
from ..extensions import db
from ..types import UTCDateTime

HOLD_FOR = timedelta(hours=2)
NEVER_KEPT = ("csrf_token", "password", "current_password", "confirm", "code", "recovery_code")
MAX_FIELDS_BYTES = 1_000_000  # the request size limit already bounds this


class HeldPost(db.Model):
    __tablename__ = "held_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(2000))
    fields: Mapped[str] = mapped_column(Text)  # JSON [[name, value], ...] in the form's order
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def items(self) -> list[tuple[str, str]]:
        return [(name, value) for name, value in json.loads(self.fields)]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hold(user_id: int, path: str, form: MultiDict) -> str | None:
    """Keep a timed-out person's form; the token for the page that gives it back (None when the
    form held nothing worth keeping)."""
    items = [(name, value) for name, value in form.items(multi=True)
             if name not in NEVER_KEPT and isinstance(value, str)]  # fmt: skip
    if not any(value.strip() for _name, value in items) or len(path) > 2000:
        return None
    now = clock.now()
    db.session.execute(delete(HeldPost).where(HeldPost.created_at < now - HOLD_FOR))
    token = secrets.token_urlsafe(24)
    db.session.add(HeldPost(token_hash=_hash(token), user_id=user_id, path=path,
                            fields=json.dumps(items), created_at=now))  # fmt: skip
    db.session.commit()
    return token


def find(token: str, user_id: int) -> HeldPost | None:
    """The kept form behind ``token``, for that person only, while it is kept."""
    post = db.session.scalars(select(HeldPost).where(HeldPost.token_hash == _hash(token))).first()
    if post is None or post.user_id != user_id or post.created_at < clock.now() - HOLD_FOR:
        return None
    return post
