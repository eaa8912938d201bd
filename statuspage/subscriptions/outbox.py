"""The dispatcher: claims pending outbox rows, sends them, records the result.

Several dispatchers may run at once: rows are claimed with FOR UPDATE SKIP LOCKED (PostgreSQL) and
a conditional UPDATE ... RETURNING, so each row is sent by one dispatcher. Each result is committed
as soon as it is known, so a crash mid-batch loses nothing. Each claim has a token: before each
message the dispatcher checks that its token still owns the row (and renews the claim), and renews
the whole batch every RENEW_CLAIM, so a claim not renewed for STALE_CLAIM (a dead or stalled
dispatcher) is taken back by another, and the first one then skips those rows instead of sending
them again. Only one send longer than STALE_CLAIM could still go twice: the SMTP and webhook timeouts
keep each send far shorter. Failures retry with exponential backoff, then end as failed with the
error kept."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from .. import clock
from ..extensions import db
from ..mail import Mailer, Message
from ..internal.delivery import staff_message
from ..internal.messages import Skip
from .messages import EventGone, Rendered, personal_link_builder, render_event, webhook_body
from .models import Notification, Subscriber, Webhook
from .operations import SubscriptionError, check_webhook_url

BATCH_SIZE = 200
MAX_ATTEMPTS = 8
STALE_CLAIM = timedelta(minutes=1)
RENEW_CLAIM = timedelta(seconds=15)
WEBHOOK_TIMEOUT_SECONDS = 10
PERSONAL_EVENTS = {"confirmation", "manage_link"}


@dataclass
class DispatchRun:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    taken_back: int = 0  # claimed, then taken back by another dispatcher while this one stalled


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … up to an hour between tries."""
    return min(timedelta(seconds=30 * 2 ** (attempts - 1)), timedelta(hours=1))


def claim(now: datetime, batch_size: int, token: str | None = None) -> list[int]:
    """Claim up to batch_size due rows for ``token`` (a new one when not given)."""
    token = token or secrets.token_hex(16)
    db.session.execute(
        update(Notification)
        .where(Notification.status == "sending", Notification.claimed_at < now - STALE_CLAIM)
        .values(status="pending", claim_token=None)
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
            .values(status="sending", claimed_at=now, claim_token=token)
            .returning(Notification.id)
        )
        .scalars()
        .all()
    )
    db.session.commit()
    return sorted(claimed)


@dataclass(frozen=True)
class Row:
    """What sending one outbox row needs, read in one query (no ORM objects to expire)."""

    id: int
    channel: str
    event: str
    event_key: str
    attempts: int
    subscriber_id: int | None
    email: str | None
    webhook_url: str | None
    webhook_secret: str | None
    address: str | None


def _rows(ids: list[int]) -> list[Row]:
    query = (
        select(
            Notification.id, Notification.channel, Notification.event, Notification.event_key,
            Notification.attempts, Notification.subscriber_id, Subscriber.email,
            Webhook.url, Webhook.secret, Notification.address,
        )
        .outerjoin(Subscriber, Subscriber.id == Notification.subscriber_id)
        .outerjoin(Webhook, Webhook.id == Notification.webhook_id)
        .where(Notification.id.in_(ids))
        .order_by(Notification.id)
    )  # fmt: skip
    return [Row(*values) for values in db.session.execute(query)]


def dispatch(now: datetime | None = None, batch_size: int = BATCH_SIZE) -> DispatchRun:
    """Send one batch; each result is committed as soon as it is known."""
    now = now or clock.now()
    started = clock.now()
    run = DispatchRun()
    token = secrets.token_hex(16)
    ids = claim(now, batch_size, token)
    run.claimed = len(ids)
    if not ids:
        return run
    rows = _rows(ids)
    db.session.commit()
    site_url = current_app.config["SITE_URL"]
    cache: dict[tuple[str, str], Rendered] = {}
    with (
        current_app.test_request_context(base_url=site_url),
        Mailer() as mailer,
        _results_connection() as results,
    ):
        links = personal_link_builder()
        renewed = now
        for row in rows:
            moment = now + (clock.now() - started)  # the batch's own time, however slow it runs
            if moment - renewed >= RENEW_CLAIM:
                _renew_batch(results, token, moment)
                renewed = moment
            if not _still_ours(results, row.id, token, moment):
                run.taken_back += 1  # another dispatcher took it back after a stall: theirs
                continue
            try:
                _deliver(row, mailer, cache, links, now)
            except Skip as skipped:  # no longer needed (a deadline met before it went)
                db.session.rollback()
                _record(results, row.id, token, status="skipped", last_error=str(skipped)[:2000],
                        attempts=row.attempts + 1)  # fmt: skip
                run.skipped += 1
            except Exception as error:  # any failure is recorded on the row and retried
                db.session.rollback()
                _record_failure(results, row, token, error, now, run)
            else:
                # Not fenced: it went, so it is sent even if another took the row meanwhile.
                _record(results, row.id, None, status="sent", sent_at=now,
                        attempts=row.attempts + 1)  # fmt: skip
                run.sent += 1
    return run


@contextmanager
def _results_connection():
    """A connection that commits each result as soon as it is written (a crash then loses at most
    the message in flight). On PostgreSQL those commits do not wait for the disk: only a crash of
    the database itself, not of the app, could replay the last few messages."""
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.exec_driver_sql("SET synchronous_commit TO OFF")
        try:
            yield connection
        finally:
            if postgres:
                connection.exec_driver_sql("RESET synchronous_commit")


def _still_ours(connection, notification_id: int, token: str, moment: datetime) -> bool:
    """True (and the claim renewed) when this claim still owns the row and it is not yet sent."""
    owned = connection.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.status == "sending",
            Notification.claim_token == token,
        )
        .values(claimed_at=moment)
        .returning(Notification.id)
    ).first()
    return owned is not None


def _renew_batch(connection, token: str, moment: datetime) -> None:
    connection.execute(
        update(Notification)
        .where(Notification.status == "sending", Notification.claim_token == token)
        .values(claimed_at=moment)
    )


def _record(connection, notification_id: int, token: str | None, **values) -> None:
    """Write a result; with a token, only while that claim still owns the row."""
    query = update(Notification).where(Notification.id == notification_id)
    if token is not None:
        query = query.where(Notification.claim_token == token)
    connection.execute(query.values(**values))


def dispatch_until_empty(batch_size: int = BATCH_SIZE) -> DispatchRun:
    total = DispatchRun()
    while True:
        run = dispatch(clock.now(), batch_size)
        if not run.claimed:
            return total
        for name in ("claimed", "sent", "retried", "failed", "skipped", "taken_back"):
            setattr(total, name, getattr(total, name) + getattr(run, name))


def _rendered(row: Row, cache: dict) -> Rendered:
    if row.event in PERSONAL_EVENTS:
        return render_event(row.event, row.event_key, row.subscriber_id, row.email)
    key = (row.event, row.event_key)
    if key not in cache:
        cache[key] = render_event(row.event, row.event_key, row.subscriber_id, row.email)
    return cache[key]


def _deliver(row: Row, mailer: Mailer, cache: dict, links, now: datetime) -> None:
    if row.channel == "staff":
        mailer.send(staff_message(row.id, row.address, row.event_key))
        return
    if row.channel == "email" and row.email is None:
        raise EventGone("the subscriber has left")
    if row.channel == "webhook" and row.webhook_url is None:
        raise EventGone("the webhook was removed")
    rendered = _rendered(row, cache)
    if row.channel == "email":
        manage_url, unsubscribe_url = links(row.subscriber_id, row.email)
        text_body, html_body = rendered.personal(manage_url, unsubscribe_url)
        mailer.send(
            Message(
                to=(row.email,),
                subject=rendered.subject,
                text=text_body,
                html=html_body,
                headers=(
                    ("List-Unsubscribe", f"<{unsubscribe_url}>"),
                    ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
                ),
            )
        )
    else:
        body = webhook_body(rendered, row.event, row.event_key)
        post_webhook(row.webhook_url, row.webhook_secret, body, now)


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


def _record_failure(
    connection, row: Row, token: str, error: Exception, now: datetime, run: DispatchRun
) -> None:
    attempts = row.attempts + 1
    message = f"{type(error).__name__}: {error}"[:2000]
    if isinstance(error, (EventGone, SubscriptionError)) or attempts >= MAX_ATTEMPTS:
        _record(connection, row.id, token, status="failed", attempts=attempts, last_error=message)
        run.failed += 1
    else:
        _record(
            connection, row.id, token, status="pending", attempts=attempts, last_error=message,
            next_attempt_at=now + backoff(attempts),
        )  # fmt: skip
        run.retried += 1


def retry(notification: Notification) -> None:
    """An admin sends a failed message again."""
    notification.status = "pending"
    notification.next_attempt_at = clock.now()
    notification.attempts = 0
    db.session.commit()
