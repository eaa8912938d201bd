"""The public site's version: one number that moves whenever what the public sees may change.

Every commit that inserts, changes or deletes a row of a public table (incidents, their updates,
services, maintenance windows…) bumps `site_state.version` in the same transaction. The page cache
(`public/cache.py`) and the static export key on it, so a page is rendered once per change instead
of once per request. Tables are public unless listed in PRIVATE_TABLES: forgetting a new table
there costs a needless re-render, never a stale page. A model public only in some states says so
with a `counts_as_public` property (a media statement, once released): its other changes re-render
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, event, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import clock
from .extensions import db
from .types import UTCDateTime

# Rows the public never sees; changing them must not throw the public pages out of the cache
# (a surge of subscriptions during an outage would otherwise re-render / on every sign-up).
PRIVATE_TABLES = frozenset({
    "site_state", "audit_log", "users", "memberships", "login_failures", "update_templates",
    "jargon_terms", "approvals", "missed_deadlines", "reminders", "subscribers",
    "subscriber_scopes", "webhooks", "notifications", "contacts", "incident_roles",
    "incident_notes", "user_sessions", "press_talking_points",
    "api_keys", "idempotent_requests", "held_posts", "alert_groups", "alert_group_services",
})  # fmt: skip

_CHANGED = "statuspage.public_changed"


class SiteState(db.Model):
    """A single row (id 1): the version of what the public sees, and when it last changed."""

    __tablename__ = "site_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Version:
    number: int
    changed_at: datetime


def current_version() -> Version | None:
    """The version now, or None when the row is missing (an empty database)."""
    row = db.session.execute(select(SiteState.version, SiteState.changed_at)).first()
    return Version(row.version, row.changed_at) if row else None


def bump(session: Session | None = None) -> None:
    """Move the version on, in the caller's transaction (called for you on public changes)."""
    session = session or db.session
    now = clock.now()
    result = session.execute(
        update(SiteState)
        .where(SiteState.id == 1)
        .values(version=SiteState.version + 1, changed_at=now)
    )
    if result.rowcount == 0:
        session.add(SiteState(id=1, version=1, changed_at=now))
        session.flush()


def _touches_public_rows(session: Session) -> bool:
    rows = (*session.new, *session.dirty, *session.deleted)
    return any(
        getattr(type(row), "__tablename__", None) not in PRIVATE_TABLES
        and getattr(row, "counts_as_public", True)  # a model public in some states only
        and (row not in session.dirty or session.is_modified(row))
        for row in rows
    )


@event.listens_for(Session, "after_flush")
def _note_public_change(session: Session, flush_context) -> None:
    if not session.info.get(_CHANGED) and _touches_public_rows(session):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_change(state) -> None:
    # `session.execute(update(Model)…)` bypasses the flush; it counts all the same.
    if not (state.is_update or state.is_delete or state.is_insert) or state.bind_mapper is None:
        return
    if state.bind_mapper.persist_selectable.name not in PRIVATE_TABLES:
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _bump_on_commit(session: Session) -> None:
    # The version row is locked only for the moment between this update and the commit.
    session.flush()
    if session.info.pop(_CHANGED, False):
        bump(session)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)
