"""Internal messages: written into the same transactional outbox as citizen email (channel
"staff"), so they share its retries, its record of failures and its one-message-per-recipient
key. Each kind of message has a renderer that says what happened, shows the incident's clock and
links to the incident; every message carries an "I have seen this" link (ack.py).

A message is identified by (recipient address, event "internal", event key); the event key is
``<kind>:<incident id or 0>:<detail>``, so enqueuing the same thing twice (two job processes, a
retried request) writes one row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.dialects import postgresql, sqlite

from .. import clock
from ..extensions import db
from ..mail import Attachment
from ..subscriptions.models import Notification

EVENT = "internal"


class Skip(Exception):
    """The message is no longer needed (e.g. the deadline it warned of was met); not sent."""


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str


@dataclass(frozen=True)
class InternalMessage:
    subject: str
    text: str  # plain text; the HTML part is made from it
    incident_id: int | None = None
    acknowledge: bool = True  # an "I have seen this" link (not in account emails)
    # Files built by the renderer at send time from the database (the outbox row holds only its
    # key), so a message queued before a change carries the state when it goes.
    attachments: tuple[Attachment, ...] = ()


# kind -> function(detail: str, incident_id: int | None) -> InternalMessage (may raise Skip)
RENDERERS: dict[str, Callable[[str, int | None], InternalMessage]] = {}


def renderer(kind: str):
    """Register the function that renders messages of ``kind``."""

    def register(function):
        RENDERERS[kind] = function
        return function

    return register


def event_key(kind: str, incident_id: int | None, detail: str) -> str:
    return f"{kind}:{incident_id or 0}:{detail}"


def parse_event_key(key: str) -> tuple[str, int | None, str]:
    kind, incident_id, detail = key.split(":", 2)
    return kind, int(incident_id) or None, detail


def enqueue(
    recipients: Iterable[Recipient],
    kind: str,
    detail: str,
    *,
    incident_id: int | None = None,
    send_at=None,
) -> int:
    """Outbox rows for these people, in the caller's transaction; a row already there (the same
    message to the same address) is left alone. Returns how many were new."""
    now = clock.now()
    key = event_key(kind, incident_id, detail)
    seen: set[str] = set()
    rows = []
    for person in recipients:
        address = person.email.strip().lower()
        if not address or address in seen:
            continue
        seen.add(address)
        rows.append({
            "channel": "staff", "recipient_key": "staff:" + _short(address),
            "address": address, "incident_id": incident_id,
            "event": EVENT, "event_key": key, "status": "pending", "attempts": 0,
            "next_attempt_at": send_at or now, "last_error": "", "created_at": now,
        })  # fmt: skip
    if not rows:
        return 0
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # The new rows' ids, counted: psycopg reports no rowcount for this statement (always 0).
    result = db.session.execute(
        insert(Notification).values(rows).on_conflict_do_nothing().returning(Notification.id)
    )
    return len(result.all())


def _short(address: str) -> str:
    """recipient_key holds 40 characters: a long address is keyed by its digest."""
    if len(address) <= 34:
        return address
    return hashlib.sha256(address.encode()).hexdigest()[:34]


def _load_renderers() -> None:
    """Renderers live beside what they announce, in this package's modules (and the deadline
    reminders'); a process that only dispatches imports them all once."""
    if _loaded:
        return
    import importlib
    import pkgutil

    from .. import internal

    for module in pkgutil.iter_modules(internal.__path__):
        importlib.import_module(f"{internal.__name__}.{module.name}")
    importlib.import_module("statuspage.incidents.reminders")
    importlib.import_module("statuspage.users.emails")
    importlib.import_module("statuspage.press.messages")
    importlib.import_module("statuspage.alerts.messages")
    importlib.import_module("statuspage.reports.meetings")
    importlib.import_module("statuspage.reports.review_clock")
    _loaded.append(True)


_loaded: list[bool] = []


def render(key: str) -> InternalMessage:
    kind, incident_id, detail = parse_event_key(key)
    _load_renderers()
    if kind not in RENDERERS:
        raise Skip(f"no renderer for {kind}")
    return RENDERERS[kind](detail, incident_id)
