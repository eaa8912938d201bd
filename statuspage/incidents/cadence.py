"""The clock an incident runs on: its facts read from the database, its deadlines and how to say
them ("next update due in 22 min", "OVERDUE by 7 min", "acknowledge now")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from .. import clock
from ..extensions import db
from ..policy import current_calendar, current_policy
from . import deadlines as rules
from .deadlines import Deadline, IncidentFacts, Kind
from .models import AffectedService, Incident

# Within this long of a deadline, the dashboard calls it "due soon".
DUE_SOON = timedelta(minutes=10)


def recent_on_same_service(incident: Incident) -> int:
    """The most incidents on any one of its services within the recurrence window (this one
    included)."""
    window = current_policy().rules.recurrence_window
    service_ids = [a.service_id for a in incident.affected]
    if not service_ids:
        return 1
    # The window runs back from this incident's detection.
    span = window.after(incident.detected_at, current_calendar()) - incident.detected_at
    since = incident.detected_at - span
    counts = db.session.execute(
        select(AffectedService.service_id, func.count())
        .join(Incident)
        .where(
            AffectedService.service_id.in_(service_ids),
            Incident.detected_at >= since,
            Incident.detected_at <= incident.detected_at,
        )
        .group_by(AffectedService.service_id)
    )
    return max((count for _, count in counts), default=1)


def facts_for(incident: Incident, *, with_recurrence: bool = False) -> IncidentFacts:
    """The plain facts the deadline rules need, read from the incident and its history."""
    changes = sorted(incident.priority_changes, key=lambda c: c.changed_at)
    priorities = tuple((c.changed_at, c.to_priority) for c in changes) or (
        (incident.detected_at, incident.priority),
    )
    public_updates = [
        u
        for u in incident.updates
        if incident.first_public_at is not None and u.published_at >= incident.first_public_at
    ]
    last = max(public_updates, key=lambda u: u.published_at, default=None)
    return IncidentFacts(
        detected_at=incident.detected_at,
        priorities=priorities,
        tier=min((a.service.tier for a in incident.affected), default=4),
        is_security=incident.is_security,
        acknowledged_at=incident.acknowledged_at,
        first_public_at=incident.first_public_at,
        last_public_update_at=last.published_at if last else None,
        promised_next_update_at=last.next_update_at if last else None,
        resolved_at=incident.resolved_at,
        recent_on_same_service=recent_on_same_service(incident) if with_recurrence else 1,
    )


def deadlines_for(incident: Incident) -> list[Deadline]:
    return rules.deadlines(facts_for(incident), current_policy(), current_calendar())


def next_update_due(incident: Incident) -> datetime | None:
    return rules.next_update_due(facts_for(incident), current_policy(), current_calendar())


@dataclass(frozen=True)
class ClockReading:
    """What the dashboard says about one incident's most urgent deadline."""

    deadline: Deadline | None
    text: str
    state: str  # "overdue", "due-soon", "on-time" or "none"
    seconds_left: int | None

    @property
    def urgency(self) -> float:
        return self.seconds_left if self.seconds_left is not None else float("inf")


def _minutes(delta: timedelta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def describe(deadline: Deadline | None, now: datetime) -> ClockReading:
    if deadline is None:
        return ClockReading(None, "no deadline running", "none", None)
    left = deadline.due - now
    seconds = int(left.total_seconds())
    if seconds <= 0:
        if deadline.kind is Kind.ACKNOWLEDGE:
            return ClockReading(deadline, f"acknowledge now (OVERDUE by {_minutes(left)})",
                                "overdue", seconds)  # fmt: skip
        return ClockReading(
            deadline, f"{deadline.kind.label} OVERDUE by {_minutes(left)}", "overdue", seconds
        )
    state = "due-soon" if left <= DUE_SOON else "on-time"
    if deadline.kind is Kind.ACKNOWLEDGE:
        return ClockReading(deadline, f"acknowledge now (due in {_minutes(left)})", state, seconds)
    return ClockReading(deadline, f"{deadline.kind.label} due in {_minutes(left)}", state, seconds)


def reading(incident: Incident, now: datetime | None = None) -> ClockReading:
    """The most urgent unmet deadline of an open incident, in words."""
    now = now or clock.now()
    if not incident.is_open:
        return describe(None, now)
    waiting = rules.pending(deadlines_for(incident))
    return describe(waiting[0] if waiting else None, now)
