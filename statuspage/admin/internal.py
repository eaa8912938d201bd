"""The incident page's internal messages: who was told what about the incident, whether it went,
and when each person said "I have seen this"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ..extensions import db
from ..incidents.models import Incident
from ..internal import messages
from ..subscriptions.models import Notification
from ..users.models import User
from .incidents import incident_context

STATUS_WORDS = {"pending": "queued", "sending": "sending", "sent": "sent", "failed": "failed",
                "skipped": "skipped"}  # fmt: skip


@dataclass(frozen=True)
class InternalMessageRow:
    to: str
    address: str
    subject: str
    status: str  # queued, sending, sent, failed or skipped
    why: str  # the error of a failed try, or why a message was skipped
    queued_at: datetime
    sent_at: datetime | None
    seen_at: datetime | None


def subject_of(key: str) -> str:
    """The message's subject as it was (or would be) sent; one no longer needed (its renderer
    skips it) is named by its kind."""
    try:
        return messages.render(key).subject
    except Exception:  # skipped, or no longer renderable: the page still shows the row
        return messages.parse_event_key(key)[0].replace("_", " ").capitalize()


@incident_context("internal_messages")
def internal_messages(incident: Incident, forms) -> list[InternalMessageRow]:
    notifications = db.session.scalars(
        select(Notification)
        .where(Notification.incident_id == incident.id, Notification.channel == "staff")
        .order_by(Notification.created_at, Notification.id)
    ).all()
    addresses = {n.address for n in notifications}
    names = dict(
        db.session.execute(
            select(func.lower(User.email), User.name).where(func.lower(User.email).in_(addresses))
        ).all()
    ) if addresses else {}  # fmt: skip
    subjects: dict[str, str] = {}  # one message to several people is rendered once
    rows = []
    for notification in notifications:
        key = notification.event_key
        if key not in subjects:
            subjects[key] = subject_of(key)
        rows.append(InternalMessageRow(
            to=names.get(notification.address, notification.address),
            address=notification.address,
            subject=subjects[key],
            status=STATUS_WORDS.get(notification.status, notification.status),
            why=notification.last_error if notification.status != "sent" else "",
            queued_at=notification.created_at,
            sent_at=notification.sent_at,
            seen_at=notification.acknowledged_at,
        ))  # fmt: skip
    return rows
