"""The clock an incident runs on: its facts read from the database, its deadlines and how to say
them ("next update due in 22 min", "OVERDUE by 7 min", "acknowledge now")."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from .. import clock
from ..extensions import db
from ..policy import current_calendar, current_policy
from . import deadlines as rules
from .deadlines import Deadline, IncidentFacts, Kind
from .models import AffectedService, Incident

# Within this long of a deadline, the dashboard calls it "due soon".
DUE_SOON = timedelta(minutes=10)


def recurrence_counts(
    incidents: Sequence[tuple[int, datetime, Sequence[int]]],
) -> dict[int, int]:
    """For each (incident id, detected at, service ids): the most incidents on one of its services
    within the recurrence window before its detection, itself included. One query for them all."""
    window, calendar = current_policy().rules.recurrence_window, current_calendar()
    since = {
        incident_id: detected_at - (window.after(detected_at, calendar) - detected_at)
        for incident_id, detected_at, _ in incidents
    }
    service_ids = {service_id for _, _, services in incidents for service_id in services}
    if not service_ids:
        return {incident_id: 1 for incident_id, _, _ in incidents}
    # The incidents come from the detection index first, so the plan never walks a service's
    # whole history (SQLite without statistics would start from the service index).
    # A drill or an incident that was not one (triaged) makes nothing recurring.
    recent = select(Incident.id).where(
        Incident.detected_at >= min(since.values()),
        Incident.detected_at <= max(detected_at for _, detected_at, _ in incidents),
        Incident.is_exercise.is_(False),
        Incident.triage.is_(None),
    )
    detections: dict[int, list[datetime]] = defaultdict(list)
    for service_id, detected_at in db.session.execute(
        select(AffectedService.service_id, Incident.detected_at)
        .join(Incident)
        .where(AffectedService.incident_id.in_(recent), AffectedService.service_id.in_(service_ids))
        .order_by(Incident.detected_at)
    ):
        detections[service_id].append(detected_at)
    return {
        incident_id: max(
            (
                bisect.bisect_right(detections[service_id], detected_at)
                - bisect.bisect_left(detections[service_id], since[incident_id])
                for service_id in services
            ),
            default=1,
        )
        for incident_id, detected_at, services in incidents
    }


def recent_on_same_service(incident: Incident) -> int:
    services = [a.service_id for a in incident.affected]
    return recurrence_counts([(incident.id, incident.detected_at, services)])[incident.id]


def incident_facts(
    *,
    detected_at: datetime,
    priority: int,
    priority_changes: Iterable[tuple[datetime, int]],
    tiers: Iterable[int],
    is_security: bool,
    acknowledged_at: datetime | None,
    first_public_at: datetime | None,
    resolved_at: datetime | None,
    public_updates: Iterable[tuple[datetime, datetime | None]] = (),
    recent_on_same_service: int = 1,
    triage: str | None = None,
) -> IncidentFacts:
    """The facts the deadline rules need, from plain values: the one place they are put together
    (facts_for for the dashboard and jobs, the monthly report from its rows read in bulk).

    ``priority_changes``: (when, to which priority), in the order recorded; none means the
    incident's ``priority`` since detection. ``tiers``: of the affected services (none counts as
    tier 4). ``public_updates``: (published at, next update promised by) for each update citizens
    could read; the latest one and its promise are what the cadence runs from. ``triage``: how
    it ended when it was not an incident after all (then no review is owed).
    """
    history = sorted(priority_changes, key=lambda change: change[0])  # stable: ties keep order
    last = max(public_updates, key=lambda update: update[0], default=None)
    return IncidentFacts(
        detected_at=detected_at,
        priorities=tuple(history) or ((detected_at, priority),),
        tier=min(tiers, default=4),
        is_security=is_security,
        acknowledged_at=acknowledged_at,
        first_public_at=first_public_at,
        last_public_update_at=last[0] if last else None,
        promised_next_update_at=last[1] if last else None,
        resolved_at=resolved_at,
        recent_on_same_service=recent_on_same_service,
        triaged=bool(triage),
    )


def facts_for(
    incident: Incident, *, with_recurrence: bool = False, recurrence: int | None = None
) -> IncidentFacts:
    """The plain facts the deadline rules need, read from the incident and its history.
    ``recurrence`` gives a count already made (see recurrence_counts)."""
    public_updates = [u for u in incident.updates if u.is_public]
    return incident_facts(
        detected_at=incident.detected_at,
        priority=incident.priority,
        priority_changes=[(c.changed_at, c.to_priority) for c in incident.priority_changes],
        tiers=[a.service.tier for a in incident.affected],
        is_security=incident.is_security,
        acknowledged_at=incident.acknowledged_at,
        first_public_at=incident.first_public_at,
        resolved_at=incident.resolved_at,
        public_updates=[(u.published_at, u.next_update_at) for u in public_updates],
        recent_on_same_service=recurrence
        or (recent_on_same_service(incident) if with_recurrence else 1),
        triage=incident.triage,
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


def public_timing(incident: Incident, now: datetime | None = None) -> rules.PublicTiming:
    """What the public page says about when: one next update, the expected fix, and lateness."""
    latest = incident.latest_public_update
    return rules.public_timing(
        facts_for(incident),
        latest.expected_resolution_at if latest else None,
        now or clock.now(),
        current_policy(),
        current_calendar(),
    )


def public_timings(incidents, now: datetime | None = None) -> dict[int, rules.PublicTiming]:
    """Incident id -> its public timing, for a page listing several open incidents."""
    now = now or clock.now()
    return {incident.id: public_timing(incident, now) for incident in incidents}


def prefilled_promise(incident: Incident, now: datetime | None = None) -> datetime | None:
    return rules.prefilled_promise(
        facts_for(incident), now or clock.now(), current_policy(), current_calendar()
    )


def latest_promise(incident: Incident, now: datetime) -> datetime | None:
    return rules.latest_promise(facts_for(incident), now, current_policy(), current_calendar())
