"""'I have seen this': each internal message carries a signed link that records when its
recipient acknowledged it. The token names the outbox row; a forged or altered one is refused."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import update

from .. import clock
from ..extensions import db
from ..subscriptions.models import Notification

SALT = "statuspage-staff-ack"


class BadLink(ValueError):
    """The link was not made by us (or was altered)."""


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def token_for(notification_id: int) -> str:
    return _serializer().dumps(notification_id)


def notification_for(token: str) -> Notification:
    try:
        notification_id = _serializer().loads(token)
    except BadSignature:
        raise BadLink("This link is not valid. Open the link from the message itself.") from None
    notification = db.session.get(Notification, int(notification_id))
    if notification is None or notification.channel != "staff":
        raise BadLink("This message no longer exists.")
    return notification


def acknowledge(token: str) -> tuple[Notification, bool]:
    """Record the acknowledgement once; returns the row and whether this call recorded it."""
    notification = notification_for(token)
    now: datetime = clock.now()
    recorded = db.session.execute(
        update(Notification)
        .where(Notification.id == notification.id, Notification.acknowledged_at.is_(None))
        .values(acknowledged_at=now)
    ).rowcount
    db.session.commit()
    db.session.refresh(notification)
    return notification, bool(recorded)
