"""The deadline clock at work: reminders before each deadline and when it passes, and each missed
deadline recorded once. Safe when several processes run it at once: unique keys decide who records
and who sends, and a conditional claim lets only one process send each reminder."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..mail import Mailer, Message
from ..policy import current_calendar, current_policy
from ..timefmt import format_absolute
from ..upsert import insert_if_absent
from ..users.models import Membership, Role, User
from .cadence import deadlines_for
from .deadlines import Deadline, Kind, pending, reminder_at
from .models import AffectedService, Incident, MissedDeadline, Reminder
from .visibility import open_clause

MAX_ATTEMPTS = 5
# A claim older than this belongs to a process that died mid-send; try again.
STALE_CLAIM = timedelta(minutes=10)
BEFORE, OVERDUE = "before", "overdue"


@dataclass
class ClockRun:
    reminders_created: int = 0
    misses_recorded: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0


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
    """Create due reminders and record passed deadlines, then send what is waiting."""
    run = ClockRun()
    policy, calendar = current_policy(), current_calendar()
    for incident in open_incidents():
        for deadline in pending(deadlines_for(incident)):
            # Counted back from each deadline: business hours before one are not a fixed lead.
            if reminder_at(deadline.due, policy, calendar) <= now < deadline.due:
                run.reminders_created += _claim(incident, deadline, BEFORE, now)
            elif now >= deadline.due:
                run.misses_recorded += record_miss(incident.id, deadline.kind, deadline.due, now)
                run.reminders_created += _claim(incident, deadline, OVERDUE, now)
        db.session.commit()
    deliver(now, run)
    return run


def recipients(incident: Incident) -> list[str]:
    """The assignee and the agency's communications leads."""
    leads = db.session.scalars(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.agency_id == incident.agency_id,
            Membership.role == int(Role.COMMUNICATIONS_LEAD),
            User.active.is_(True),
        )
    ).all()
    found = [incident.assignee.email] if incident.assignee and incident.assignee.active else []
    return sorted(set(found) | set(leads))


def _claim(incident: Incident, deadline: Deadline, stage: str, now: datetime) -> bool:
    to = recipients(incident)
    if not to:
        return False
    return insert_if_absent(
        Reminder,
        incident_id=incident.id,
        kind=deadline.kind.value,
        due_at=deadline.due,
        stage=stage,
        recipients=",".join(to),
        status="pending",
        attempts=0,
        last_error="",
        created_at=now,
    )


def _ready(reminder: Reminder, now: datetime) -> bool:
    if reminder.status == "sending":
        return reminder.claimed_at is not None and now - reminder.claimed_at >= STALE_CLAIM
    if reminder.attempts == 0 or reminder.claimed_at is None:
        return True
    return now >= reminder.claimed_at + timedelta(minutes=2 ** (reminder.attempts - 1))


def deliver(now: datetime, run: ClockRun | None = None) -> ClockRun:
    """Send waiting reminders, each by exactly one process; failures retry with backoff."""
    run = run or ClockRun()
    waiting = db.session.scalars(
        select(Reminder).where(Reminder.status.in_(("pending", "sending")))
    ).all()
    candidates = [(r.id, r.status, r.attempts) for r in waiting if _ready(r, now)]
    db.session.commit()
    if not candidates:
        return run
    with Mailer() as mailer:
        for reminder_id, status, attempts in candidates:
            claimed = db.session.execute(
                update(Reminder)
                .where(
                    Reminder.id == reminder_id,
                    Reminder.status == status,
                    Reminder.attempts == attempts,
                )
                .values(status="sending", claimed_at=now, attempts=attempts + 1)
            ).rowcount
            db.session.commit()
            if not claimed:
                continue  # another process has it
            _send(db.session.get(Reminder, reminder_id), mailer, now, run)
            db.session.commit()
    return run


def _send(reminder: Reminder, mailer: Mailer, now: datetime, run: ClockRun) -> None:
    incident = reminder.incident
    still_pending = (
        any(
            d.kind.value == reminder.kind and d.due == reminder.due_at
            for d in pending(deadlines_for(incident))
        )
        and incident.is_open
    )
    if not still_pending:
        reminder.status = "skipped"  # met before the reminder went out
        run.skipped += 1
        return
    try:
        mailer.send(compose(reminder, now))
    except (smtplib.SMTPException, OSError) as error:
        reminder.last_error = f"{type(error).__name__}: {error}"[:2000]
        reminder.status = "failed" if reminder.attempts >= MAX_ATTEMPTS else "pending"
        run.failed += 1
        return
    reminder.status = "sent"
    reminder.sent_at = now
    run.sent += 1


def compose(reminder: Reminder, now: datetime) -> Message:
    incident = reminder.incident
    what = Kind(reminder.kind).label
    due = format_absolute(reminder.due_at)
    link = f"{current_app.config['SITE_URL'].rstrip('/')}/admin/incidents/{incident.ref}"
    minutes = int(abs((reminder.due_at - now).total_seconds()) // 60)
    if reminder.stage == BEFORE:
        subject = f"[P{incident.priority}] {what.capitalize()} due in {minutes} min: {incident.ref}"
        opening = f"The {what} for {incident.ref} is due by {due}, in {minutes} minutes."
    else:
        subject = f"[P{incident.priority}] OVERDUE: {what} for {incident.ref}"
        opening = f"The {what} for {incident.ref} was due by {due}. It is {minutes} minutes late."
    text = (
        f"{opening}\n\n"
        f"Incident: {incident.title}\n"
        f"Priority: {incident.priority_label}\n"
        f"State: {incident.state_enum.label}\n\n"
        f"Open the incident: {link}\n"
    )
    return Message(to=tuple(reminder.recipients.split(",")), subject=subject, text=text)
