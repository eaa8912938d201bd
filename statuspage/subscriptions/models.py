"""Email subscribers and what they follow, webhook endpoints, and the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..catalog.models import Agency, Service
from ..extensions import db
from ..types import UTCDateTime


class FollowsScopes:
    """A subscriber (by email or by text message) whose ``scopes`` each name an agency or a
    service it follows."""

    @property
    def agency_ids(self) -> set[int]:
        return {s.agency_id for s in self.scopes if s.agency_id is not None}

    @property
    def service_ids(self) -> set[int]:
        return {s.service_id for s in self.scopes if s.service_id is not None}


class Subscriber(FollowsScopes, db.Model):
    """An email address. Unsubscribing deletes the row (and its pending messages)."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    everything: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    scopes: Mapped[list[SubscriberScope]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", passive_deletes=True
    )



class SubscriberScope(db.Model):
    """One thing a subscriber follows: a whole agency, or one service."""

    __tablename__ = "subscriber_scopes"
    __table_args__ = (UniqueConstraint("subscriber_id", "agency_id", "service_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"), index=True)

    subscriber: Mapped[Subscriber] = relationship(back_populates="scopes")
    agency: Mapped[Agency | None] = relationship()
    service: Mapped[Service | None] = relationship()


class SubscriptionAddition(db.Model):
    """Choices a confirmed subscriber asked to add by signing up again, waiting for the owner of
    the address to confirm them by the emailed link (so nobody else can change what they get)."""

    __tablename__ = "subscription_additions"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    everything: Mapped[bool] = mapped_column(Boolean, default=False)
    agency_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    service_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    subscriber: Mapped[Subscriber] = relationship()


class Webhook(db.Model):
    """A partner agency's endpoint: a signed JSON POST for every published event in its scope."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(128))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))  # None: everything
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    agency: Mapped[Agency | None] = relationship()


class Notification(db.Model):
    """One message to one recipient about one event, written in the transaction that publishes
    the event. The unique key means no recipient ever gets the same event twice."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("recipient_key", "event", "event_key"),
        Index("ix_notifications_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))  # "email", "webhook" or "staff"
    recipient_key: Mapped[str] = mapped_column(String(40))  # "subscriber:12", "webhook:3"
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    # Internal messages (channel "staff"): the address, the incident, and the "I have seen this"
    # acknowledgement made by link.
    address: Mapped[str | None] = mapped_column(String(254))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    event: Mapped[str] = mapped_column(String(30))
    event_key: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # renewed while sending
    claim_token: Mapped[str | None] = mapped_column(String(32))  # which claim owns the row
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    subscriber: Mapped[Subscriber | None] = relationship()
    webhook: Mapped[Webhook | None] = relationship()
