"""The dispatcher: claims pending outbox rows, sends them, records the result.

Several dispatchers may run at once: rows are claimed with FOR UPDATE SKIP LOCKED (PostgreSQL) and
a conditional UPDATE ... RETURNING, so each row is sent by one dispatcher. Each result is committed
as soon as it is known, so a crash mid-batch loses nothing; a claim left by a dead dispatcher is
taken back after STALE_CLAIM. Failures retry with exponential backoff, then end as failed with the
error kept."""

from __future__ import annotations

import hashlib
import hmac
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from .. import clock
from ..extensions import db
from ..mail import Mailer, Message
from .messages import EventGone, Rendered, personal_links, render_event, webhook_body
from .models import Notification
from .operations import SubscriptionError, check_webhook_url

BATCH_SIZE = 200
MAX_ATTEMPTS = 8
STALE_CLAIM = timedelta(minutes=10)
WEBHOOK_TIMEOUT_SECONDS = 10
PERSONAL_EVENTS = {"confirmation", "manage_link"}


@dataclass
class DispatchRun:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … up to an hour between tries."""
    return min(timedelta(seconds=30 * 2 ** (attempts - 1)), timedelta(hours=1))


def claim(now: datetime, batch_size: int) -> list[int]:
    db.session.execute(
        update(Notification)
        .where(Notification.status == "sending", Notification.claimed_at < now - STALE_CLAIM)
        .values(status="pending")
    )
    candidates = db.session.scalars(
        select(Notification.id)
        .where(Notification.status == "pending", Notification.next_attempt_at <= now)
        .order_by(Notification.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    ).all()
    if not candidates:
        db.session.commit()
        return []
    claimed = (
        db.session.execute(
            update(Notification)
            .where(Notification.id.in_(candidates), Notification.status == "pending")
            .values(status="sending", claimed_at=now)
            .returning(Notification.id)
        )
        .scalars()
        .all()
    )
    db.session.commit()
    return sorted(claimed)


def dispatch(now: datetime | None = None, batch_size: int = BATCH_SIZE) -> DispatchRun:
    """Send one batch."""
    now = now or clock.now()
    run = DispatchRun()
    ids = claim(now, batch_size)
    run.claimed = len(ids)
    if not ids:
        return run
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.id.in_(ids))
        .options(selectinload(Notification.subscriber), selectinload(Notification.webhook))
        .order_by(Notification.id)
    ).all()
    site_url = current_app.config["SITE_URL"]
    cache: dict[tuple[str, str], Rendered] = {}
    with current_app.test_request_context(base_url=site_url), Mailer() as mailer:
        for row in rows:
            try:
                _deliver(row, mailer, cache, now)
            except Exception as error:  # any failure is recorded on the row and retried
                _record_failure(row, error, now, run)
            else:
                row.status = "sent"
                row.sent_at = now
                row.attempts += 1
                run.sent += 1
            db.session.commit()
    return run


def dispatch_until_empty(batch_size: int = BATCH_SIZE) -> DispatchRun:
    total = DispatchRun()
    while True:
        run = dispatch(clock.now(), batch_size)
        if not run.claimed:
            return total
        for name in ("claimed", "sent", "retried", "failed"):
            setattr(total, name, getattr(total, name) + getattr(run, name))


def _rendered(row: Notification, cache: dict) -> Rendered:
    if row.event in PERSONAL_EVENTS:
        return render_event(row.event, row.event_key, row)
    key = (row.event, row.event_key)
    if key not in cache:
        cache[key] = render_event(row.event, row.event_key, row)
    return cache[key]


def _deliver(row: Notification, mailer: Mailer, cache: dict, now: datetime) -> None:
    rendered = _rendered(row, cache)
    if row.channel == "email":
        manage_url, unsubscribe_url = personal_links(row)
        text, html = rendered.personal(manage_url, unsubscribe_url)
        mailer.send(
            Message(
                to=(row.subscriber.email,),
                subject=rendered.subject,
                text=text,
                html=html,
                headers=(
                    ("List-Unsubscribe", f"<{unsubscribe_url}>"),
                    ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
                ),
            )
        )
    else:
        post_webhook(row.webhook.url, row.webhook.secret, webhook_body(rendered, row), now)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 of "<timestamp>.<body>" under the webhook's secret, as hex."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer we do not follow (it could point anywhere)


def post_webhook(url: str, secret: str, body: bytes, now: datetime) -> None:
    check_webhook_url(url)  # again at send time: DNS may have changed since it was added
    timestamp = str(int(now.timestamp()))
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "statuspage-webhooks/1",
            "X-Statuspage-Timestamp": timestamp,
            "X-Statuspage-Signature": "sha256=" + signature(secret, timestamp, body),
        },
    )
    opener = urllib.request.build_opener(_NoRedirects)
    with opener.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(url, response.status, "not a 2xx answer", None, None)


def _record_failure(row: Notification, error: Exception, now: datetime, run: DispatchRun) -> None:
    db.session.rollback()
    row = db.session.get(Notification, row.id)
    if row is None:
        return  # the subscriber left meanwhile
    row.attempts += 1
    row.last_error = f"{type(error).__name__}: {error}"[:2000]
    permanent = isinstance(error, (EventGone, SubscriptionError))
    if permanent or row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
        run.failed += 1
    else:
        row.status = "pending"
        row.next_attempt_at = now + backoff(row.attempts)
        run.retried += 1


def retry(notification: Notification) -> None:
    """An admin sends a failed message again."""
    notification.status = "pending"
    notification.next_attempt_at = clock.now()
    notification.attempts = 0
    db.session.commit()

