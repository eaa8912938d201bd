"""The dispatcher: claims pending outbox rows, sends them, records the results.

Several dispatchers may run at once: rows are claimed with FOR UPDATE SKIP LOCKED (PostgreSQL) and
a conditional UPDATE ... RETURNING, so each row is sent by one dispatcher. Each claim has a token,
and a row is sent only by the claim that still owns it. Claiming sets claimed_at; a claim not
renewed for STALE_CLAIM (a dead or stalled dispatcher) is taken back by another. So for
RENEW_CLAIM after its claim was made or last renewed, a batch's rows are known to be its own
without asking; a batch that runs longer (slow webhooks, a slow mail server) renews every row it
still owns, and learns which those are, in one UPDATE ... RETURNING before its next message. A
live dispatcher therefore keeps its rows however slowly it runs, and a stalled one, carrying on,
skips the rows another took back instead of sending them again. Each message goes out at most
RENEW_CLAIM after ownership was confirmed; only a single send longer than STALE_CLAIM - RENEW_CLAIM
could go twice, and the SMTP and webhook timeouts keep each send far shorter.

Results are written a chunk (CHUNK_SIZE rows) at a time, once its messages are answered: one
UPDATE for each kind of outcome, on an autocommit connection. A crash between sending and
recording loses nothing: the rows are still claimed, come back after STALE_CLAIM and are sent
again. That is the accepted at-least-once edge: a dispatcher killed (or stalled past STALE_CLAIM)
after sending part of a chunk and before recording it has those messages, at most CHUNK_SIZE,
sent twice; a live one never sends a message twice. Failures retry with exponential backoff, then
end as failed with the error kept."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import secrets
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
from . import webhooks
from .messages import EventGone, Rendered, personal_link_builder, render_event, webhook_body
from .models import Notification, Subscriber, Webhook
from .operations import SubscriptionError

BATCH_SIZE = 200
CHUNK_SIZE = 100  # rows whose results are recorded together
MAX_ATTEMPTS = 8
STALE_CLAIM = timedelta(minutes=1)
RENEW_CLAIM = timedelta(seconds=15)
WEBHOOK_TIMEOUT_SECONDS = 10
PERSONAL_EVENTS = {"confirmation", "manage_link", "add_choices"}
# Channels sent by their own modules: "module:function", called with (row, now). The function
# sends one row or raises: EventGone or SubscriptionError (never retried), Skip (no longer
# needed), anything else (retried with backoff). Imported when first needed.
CHANNEL_SENDERS = {
    "sms": "statuspage.sms.delivery:send",
    "social": "statuspage.social.delivery:send",
}


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
        # The due index's order: ORDER BY id made PostgreSQL walk the primary key past every row
        # already sent (0.3 s a claim half way through 1,000,000 rows).
        .order_by(Notification.next_attempt_at)
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
    recipient_key: str
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
            Notification.id, Notification.channel, Notification.recipient_key, Notification.event,
            Notification.event_key,
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
    """Send one batch, a chunk at a time; each chunk's results are committed when it is done."""
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
        lease = _Lease(results, token, ids, now, started)
        for start in range(0, len(rows), CHUNK_SIZE):
            chunk = rows[start : start + CHUNK_SIZE]
            outcomes: dict[int, Failure | None] = {}
            for row in chunk:
                if not lease.holds(row.id):
                    run.taken_back += 1  # another dispatcher took it back after a stall: theirs
                    continue
                try:
                    if not _deliver(row, mailer, cache, links, now):
                        outcomes[row.id] = None  # went (a webhook); emails are answered below
                except Exception as error:  # recorded on the row: skipped, retried or failed
                    db.session.rollback()
                    outcomes[row.id] = Failure.of(error)
            for row_id, error in mailer.results().items():
                outcomes[row_id] = None if error is None else Failure.of(error)
            _record_results(results, token, {row.id: row for row in chunk}, outcomes, now, run)
    return run


class _Lease:
    """This claim's hold on its batch: which rows it still owns, and since when that is known.

    Claiming (or renewing) a row sets its claimed_at, and no other dispatcher takes it back
    before STALE_CLAIM has passed, so for RENEW_CLAIM after that the rows are ours without asking.
    A batch that runs longer renews every row it still owns, and learns which those are, in one
    UPDATE ... RETURNING before its next message."""

    def __init__(self, connection, token: str, ids: list[int], now: datetime, started: datetime):
        self.connection = connection
        self.token = token
        self.now = now
        self.started = started
        self.confirmed = now  # the claim itself
        self.owned = set(ids)

    def holds(self, notification_id: int) -> bool:
        """True when this claim may send the row now."""
        moment = self.now + (clock.now() - self.started)  # the batch's own time, however slow
        if moment - self.confirmed >= RENEW_CLAIM:
            self._renew(moment)
        return notification_id in self.owned

    def _renew(self, moment: datetime) -> None:
        owned = self.connection.execute(
            update(Notification)
            .where(Notification.status == "sending", Notification.claim_token == self.token)
            .values(claimed_at=moment)
            .returning(Notification.id)
        ).scalars()
        self.owned &= set(owned)
        self.confirmed = moment


@contextmanager
def _results_connection():
    """A connection that commits each statement (a chunk's results) as soon as it is written.
    On PostgreSQL those commits do not wait for the disk: only a crash of the database itself, not
    of the app, could replay the last few messages."""
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


def _record_results(
    connection, token: str, rows: dict[int, Row], outcomes: dict, now: datetime, run: DispatchRun
) -> None:
    """Write a chunk's results: one UPDATE for each distinct result (usually one: all sent)."""
    groups: dict[tuple, list[int]] = {}
    for row_id, outcome in outcomes.items():  # None: sent
        attempts = rows[row_id].attempts + 1
        if outcome is None:
            # Not fenced: it went, so it is sent even if another took the row meanwhile.
            key = (False, (("status", "sent"), ("sent_at", now), ("attempts", attempts)))
            run.sent += 1
        else:
            key = (True, _failure(outcome, attempts, now, run))
        groups.setdefault(key, []).append(row_id)
    for (fenced, values), ids in groups.items():
        query = update(Notification).where(Notification.id.in_(ids))
        if fenced:  # a failure is written only while this claim still owns the row
            query = query.where(Notification.claim_token == token)
        connection.execute(query.values(**dict(values)))


@dataclass(frozen=True)
class Failure:
    """Why a row did not go, kept as text (an exception would keep its frames and sockets)."""

    kind: str  # "skipped", "final" (never retried) or "retry"
    message: str

    @classmethod
    def of(cls, error: Exception) -> Failure:
        if isinstance(error, Skip):  # no longer needed (a deadline met before it went)
            return cls("skipped", str(error)[:2000])
        final = isinstance(error, (EventGone, SubscriptionError))
        return cls("final" if final else "retry", f"{type(error).__name__}: {error}"[:2000])


def _failure(failure: Failure, attempts: int, now: datetime, run: DispatchRun) -> tuple:
    if failure.kind == "skipped":
        run.skipped += 1
        return (("status", "skipped"), ("last_error", failure.message), ("attempts", attempts))
    if failure.kind == "final" or attempts >= MAX_ATTEMPTS:
        run.failed += 1
        return (("status", "failed"), ("attempts", attempts), ("last_error", failure.message))
    run.retried += 1
    return (
        ("status", "pending"), ("attempts", attempts), ("last_error", failure.message),
        ("next_attempt_at", now + backoff(attempts)),
    )  # fmt: skip


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


def _deliver(row: Row, mailer: Mailer, cache: dict, links, now: datetime) -> bool:
    """Send one row; True when it is an email whose answer the mailer's results() will hold."""
    if row.channel == "staff":
        mailer.submit(row.id, staff_message(row.id, row.address, row.event_key))
        return True
    if row.channel in CHANNEL_SENDERS:
        channel_sender(row.channel)(row, now)
        return False
    if row.channel == "email" and row.email is None:
        raise EventGone("the subscriber has left")
    if row.channel == "webhook" and row.webhook_url is None:
        raise EventGone("the webhook was removed")
    rendered = _rendered(row, cache)
    if row.channel == "email":
        manage_url, unsubscribe_url = links(row.subscriber_id, row.email)
        text_body, html_body = rendered.personal(manage_url, unsubscribe_url)
        mailer.submit(
            row.id,
            Message(
                to=(row.email,),
                subject=rendered.subject,
                text=text_body,
                html=html_body,
                headers=(
                    *((("List-Id", rendered.list_id),) if rendered.list_id else ()),
                    ("List-Unsubscribe", f"<{unsubscribe_url}>"),
                    ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
                    ("Auto-Submitted", "auto-generated"),  # RFC 3834: no auto-replies, please
                ),
                sender_name=rendered.sender_name,
            ),
        )
        return True
    body = webhook_body(rendered, row.event, row.event_key)
    post_webhook(row.webhook_url, row.webhook_secret, body, now)
    return False


def channel_sender(channel: str):
    module, _, name = CHANNEL_SENDERS[channel].partition(":")
    return getattr(importlib.import_module(module), name)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 of "<timestamp>.<body>" under the webhook's secret, as hex."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def post_webhook(url: str, secret: str, body: bytes, now: datetime) -> None:
    """POST the signed body. The host is checked again at send time (DNS may have changed since
    the webhook was added) and the connection goes to the very address checked; a redirect is
    not followed but recorded as a failure with its status, and retried like any other."""
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "statuspage-webhooks/1",
        "X-Statuspage-Timestamp": timestamp,
        "X-Statuspage-Signature": "sha256=" + signature(secret, timestamp, body),
    }
    try:
        webhooks.post(
            url,
            body,
            headers,
            timeout=WEBHOOK_TIMEOUT_SECONDS,
            allow_private=bool(current_app.config.get("WEBHOOKS_ALLOW_PRIVATE")),
        )
    except webhooks.AddressRefused as refused:
        raise SubscriptionError(str(refused)) from None  # not retried: fix the address


def retry(notification: Notification) -> None:
    """An admin sends a failed message again."""
    notification.status = "pending"
    notification.next_attempt_at = clock.now()
    notification.attempts = 0
    db.session.commit()
