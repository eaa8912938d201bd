"""The deadline clock at work: a reminder before each deadline and another when it passes, and
each missed deadline recorded once. Reminders are internal messages in the outbox (one delivery
engine with citizen email): the outbox's unique key writes each reminder once per recipient however
many processes run the clock, and its dispatcher sends each row once, with its retries. A reminder
whose deadline was met (or whose incident was resolved) before it went is skipped, not sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import clock
from ..extensions import db
from ..internal.messages import InternalMessage, Recipient, Skip, enqueue, renderer
from ..internal.recipients import members
from ..policy import current_calendar, current_policy
from ..timefmt import format_absolute
from ..upsert import insert_if_absent
from ..users.models import Role
from .cadence import deadlines_for
from .deadlines import Deadline, Kind, pending, reminder_at
from .models import AffectedService, Incident, MissedDeadline
from .visibility import open_clause

KIND = "reminder"
BEFORE, OVERDUE = "before", "overdue"


@dataclass
class ClockRun:
    reminders_queued: int = 0  # outbox rows written (one per recipient)
    misses_recorded: int = 0


def open_incidents() -> list[Incident]:
    return list(
        db.session.scalars(
            select(Incident)
            .where(open_clause())
            .options(
                selectinload(Incident.affected).selectinload(AffectedService.service),
                selectinload(Incident.updates),
                selectinload(Incident.priority_changes),
            )
            .order_by(Incident.id)
        )
    )


def record_miss(incident_id: int, kind: Kind, due: datetime, now: datetime, met_at=None) -> bool:
    """Record a missed deadline once; True when this call recorded it."""
    return insert_if_absent(
        MissedDeadline,
        incident_id=incident_id,
        kind=kind.value,
        due_at=due,
        recorded_at=now,
        met_at=met_at,
    )


def check_deadlines(now: datetime) -> ClockRun:
    """Queue the reminders that are due and record passed deadlines; the dispatcher sends."""
    run = ClockRun()
    policy, calendar = current_policy(), current_calendar()
    for incident in open_incidents():
        for deadline in pending(deadlines_for(incident)):
            # Counted back from each deadline: business hours before one are not a fixed lead.
            if reminder_at(deadline.due, policy, calendar) <= now < deadline.due:
                run.reminders_queued += remind(incident, deadline, BEFORE)
            elif now >= deadline.due:
                run.misses_recorded += record_miss(incident.id, deadline.kind, deadline.due, now)
                run.reminders_queued += remind(incident, deadline, OVERDUE)
        db.session.commit()
    return run


def recipients(incident: Incident) -> list[Recipient]:
    """The assignee and the agency's communications leads."""
    found = members(Role.COMMUNICATIONS_LEAD, [incident.agency_id])
    assignee = incident.assignee
    if assignee is not None and assignee.active:
        found.insert(0, Recipient(assignee.name, assignee.email))
    return found


def remind(incident: Incident, deadline: Deadline, stage: str) -> int:
    """Outbox rows for one reminder (the same reminder is never written twice)."""
    due = deadline.due.astimezone(UTC).isoformat().replace("+00:00", "Z")  # the key holds 80
    detail = f"{deadline.kind.value}:{due}:{stage}"
    return enqueue(recipients(incident), KIND, detail, incident_id=incident.id)


@renderer(KIND)
def render(detail: str, incident_id: int | None) -> InternalMessage:
    kind_value, rest = detail.split(":", 1)
    due_iso, stage = rest.rsplit(":", 1)
    kind, due = Kind(kind_value), datetime.fromisoformat(due_iso)
    what = kind.label
    incident = db.session.get(Incident, incident_id) if incident_id else None
    if incident is None:
        raise Skip("the incident no longer exists")
    if not incident.is_open:
        raise Skip(f"the incident was {incident.state} before the reminder went")
    if not any(d.kind is kind and d.due == due for d in pending(deadlines_for(incident))):
        raise Skip(f"the {what} deadline was met before the reminder went")
    now = clock.now()
    if stage == BEFORE and now >= due:
        raise Skip(f"the {what} deadline passed before the reminder went; the overdue one says so")
    minutes = int(abs((due - now).total_seconds()) // 60)
    if stage == BEFORE:
        subject = f"[P{incident.priority}] {what.capitalize()} due in {minutes} min: {incident.ref}"
        opening = f"The {what} for {incident.ref} is due by {format_absolute(due)}, in {minutes} " \
            "minutes."  # fmt: skip
    else:
        subject = f"[P{incident.priority}] OVERDUE: {what} for {incident.ref}"
        opening = f"The {what} for {incident.ref} was due by {format_absolute(due)}. It is " \
            f"{minutes} minutes late."  # fmt: skip
    text = (
        f"{opening}\n\n"
        f"Incident: {incident.title}\n"
        f"Priority: {incident.priority_label}\n"
        f"State: {incident.state_enum.label}"
    )
    return InternalMessage(subject, text, incident.id)
