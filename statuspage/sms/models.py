"""Mobile numbers that get text messages, and what each follows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..catalog.models import Agency, Service
from ..extensions import db
from ..subscriptions.models import FollowsScopes
from ..types import UTCDateTime


class SmsSubscriber(FollowsScopes, db.Model):
    """One mobile number in E.164 form. Texting STOP keeps the row (stopped_at) so the number is
    never texted again until it sends START; the one-time code is kept only as a keyed hash."""

    __tablename__ = "sms_subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)  # "+12025550143"
    everything: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    restarted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last START
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The code sent last: HMAC-SHA256 under the secret key, when it expires, wrong tries.
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # What the code, once typed, adds: JSON {"everything": bool, "agencies": [...],
    # "services": [...]}; a confirmed number's choices change only then.
    pending_choice: Mapped[str | None] = mapped_column(Text)

    scopes: Mapped[list[SmsScope]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", passive_deletes=True
    )


class SmsScope(db.Model):
    """One thing a number follows: a whole agency, or one service."""

    __tablename__ = "sms_scopes"
    __table_args__ = (UniqueConstraint("sms_subscriber_id", "agency_id", "service_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sms_subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("sms_subscribers.id", ondelete="CASCADE"), index=True
    )
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"), index=True)

    subscriber: Mapped[SmsSubscriber] = relationship(back_populates="scopes")
    agency: Mapped[Agency | None] = relationship()
    service: Mapped[Service | None] = relationship()
