"""The morning summary: each day from DAILY_SUMMARY_HOUR (site zone), one email per agency to its
service owners and agency CIO: the open P1 and P2 incidents (status, expected fix, impact), the
P3 and P4 incidents opened or resolved the day before, and the deadlines missed the day before.
Exercises (drills) are listed apart and marked.

The outbox key ``daily:0:<agency id>:<date>`` (internal messages' ``<kind>:<incident>:<detail>``
with no incident) makes it one message per person, agency and day, however many processes run
the job. The text is made when the message is sent, from the day in its key."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app, url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ..catalog.models import Agency, Service
from ..extensions import db
from ..incidents.deadlines import Kind
from ..incidents.models import AffectedService, Incident, MissedDeadline
from ..incidents.visibility import open_clause
from ..timefmt import format_absolute, site_zone
from . import messages
from .models import Position, Triage
from .recipients import holders

KIND = "daily"
POSITIONS = (Position.SERVICE_OWNER, Position.AGENCY_CIO)
HIGH = (1, 2)  # listed while open; lower priorities when they opened or resolved yesterday


def summary_hour() -> int:
    hour = int(current_app.config["DAILY_SUMMARY_HOUR"])
    if not 0 <= hour <= 23:
        raise ValueError(f"DAILY_SUMMARY_HOUR must be an hour from 0 to 23, not {hour}")
    return hour


def due_day(now: datetime) -> date | None:
    """The day whose summary is due at ``now`` (site zone), or None before the hour."""
    local = now.astimezone(site_zone())
    return local.date() if local.hour >= summary_hour() else None


def day_window(day: date) -> tuple[datetime, datetime]:
    """The day from midnight to midnight in the site zone, as UTC."""
    zone = site_zone()
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def send_daily_summaries(now: datetime) -> int:
    """Write today's summary for every agency's service owners and CIO, once from the hour on;
    returns how many messages were new."""
    day = due_day(now)
    if day is None:
        return 0
    written = 0
    for agency_id in db.session.scalars(select(Agency.id).order_by(Agency.id)):
        people = [person for position in POSITIONS for person in holders(position, [agency_id])]
        written += messages.enqueue(people, KIND, f"{agency_id}:{day.isoformat()}")
    db.session.commit()
    return written


# --- what it says ------------------------------------------------------------------------------


@dataclass
class Summary:
    agency: Agency
    day: date
    open_high: list[Incident] = field(default_factory=list)
    lower: list[Incident] = field(default_factory=list)  # P3/P4 opened or resolved yesterday
    missed: list[MissedDeadline] = field(default_factory=list)
    exercises: list[Incident] = field(default_factory=list)
    exercise_missed: list[MissedDeadline] = field(default_factory=list)


def _of_agency(agency_id: int):
    """The agency's incidents, and shared platform incidents on one of its services."""
    return or_(
        Incident.agency_id == agency_id,
        Incident.affected.any(AffectedService.service.has(Service.agency_id == agency_id)),
    )


def gather(agency: Agency, day: date) -> Summary:
    start, end = day_window(day - timedelta(days=1))
    summary = Summary(agency, day)
    incidents = db.session.scalars(
        select(Incident)
        .where(
            _of_agency(agency.id),
            or_(
                open_clause(),
                (Incident.detected_at >= start) & (Incident.detected_at < end),
                (Incident.resolved_at >= start) & (Incident.resolved_at < end),
            ),
        )
        .options(
            selectinload(Incident.affected).selectinload(AffectedService.service),
            selectinload(Incident.updates),
        )
        .order_by(Incident.priority, Incident.detected_at)
    ).all()
    yesterday = lambda moment: moment is not None and start <= moment < end  # noqa: E731
    for incident in incidents:
        if incident.is_exercise:
            summary.exercises.append(incident)
        elif incident.priority in HIGH and incident.is_open:
            summary.open_high.append(incident)
        elif incident.priority not in HIGH and (
            yesterday(incident.detected_at) or yesterday(incident.resolved_at)
        ):
            summary.lower.append(incident)
    missed = db.session.scalars(
        select(MissedDeadline)
        .join(Incident)
        .where(_of_agency(agency.id), MissedDeadline.due_at >= start, MissedDeadline.due_at < end)
        .options(selectinload(MissedDeadline.incident))
        .order_by(MissedDeadline.due_at)
    ).all()
    for row in missed:
        (summary.exercise_missed if row.incident.is_exercise else summary.missed).append(row)
    return summary


def _link(incident: Incident) -> str:
    base = current_app.config["SITE_URL"].rstrip("/")
    return base + url_for("admin.incident", ref=incident.ref)


def _impact(incident: Incident) -> str:
    services = ", ".join(
        f"{a.service.name} ({a.impact_enum.label.lower()})" for a in incident.affected
    )
    described = incident.impact_description.strip()
    return f"{services}. {described}" if described else services


def _expected_fix(incident: Incident) -> str:
    latest = incident.latest_public_update
    if latest is None or latest.expected_resolution_at is None:
        return "not given yet"
    return format_absolute(latest.expected_resolution_at)


def _heading(incident: Incident) -> str:
    mark = "[EXERCISE] " if incident.is_exercise else ""
    return (
        f"- {mark}{incident.ref} · {incident.priority_label} · {incident.state_enum.label}: "
        f"{incident.title}"
    )


def _open_lines(incident: Incident) -> list[str]:
    return [
        _heading(incident),
        f"  Impact: {_impact(incident)}",
        f"  Expected fix: {_expected_fix(incident)}",
        f"  {_link(incident)}",
    ]


def _lower_lines(incident: Incident, start: datetime, end: datetime) -> list[str]:
    said = []
    if start <= incident.detected_at < end:
        said.append(f"opened {format_absolute(incident.detected_at)}")
    if incident.resolved_at is not None and start <= incident.resolved_at < end:
        said.append(f"resolved {format_absolute(incident.resolved_at)}")
    if incident.triage:
        said.append(f"closed as {Triage(incident.triage).label.lower()}")
    words = ", ".join(said)
    return [_heading(incident), f"  {words[:1].upper()}{words[1:]}.", f"  {_link(incident)}"]


def _missed_lines(rows: Iterable[MissedDeadline]) -> list[str]:
    lines = []
    for row in rows:
        mark = "[EXERCISE] " if row.incident.is_exercise else ""
        if row.met_at is not None:
            late = int((row.met_at - row.due_at).total_seconds() // 60)
            outcome = f"met {late} min late"
        else:
            outcome = "not met yet" if row.incident.is_open else "never met"
        lines.append(
            f"- {mark}{row.incident.ref}: {Kind(row.kind).label} due "
            f"{format_absolute(row.due_at)}, {outcome}"
        )
    return lines


def _section(title: str, lines: list[str], empty: str) -> list[str]:
    return [title, *(lines or [empty]), ""]


def text_of(summary: Summary) -> tuple[str, str]:
    """The subject and the plain text."""
    day, yesterday = summary.day, summary.day - timedelta(days=1)
    start, end = day_window(yesterday)
    spoken = f"{day:%A} {day.day} {day:%B %Y}"
    before = f"{yesterday:%A} {yesterday.day} {yesterday:%B}"
    count = len(summary.open_high)
    subject = (
        f"Daily summary for {summary.agency.name}, {spoken}: "
        + (f"{count} open P1/P2 incident{'s' if count != 1 else ''}" if count else
           "no open P1/P2 incident")
    )  # fmt: skip
    lines = [f"Where {summary.agency.name} stands this morning, {spoken}.", ""]
    lines += _section(
        "Open P1 and P2 incidents",
        [line for incident in summary.open_high for line in _open_lines(incident)],
        "None.",
    )
    lines += _section(
        f"P3 and P4 incidents opened or resolved yesterday ({before})",
        [line for incident in summary.lower for line in _lower_lines(incident, start, end)],
        "None.",
    )
    lines += _section(f"Deadlines missed yesterday ({before})", _missed_lines(summary.missed),
                      "None.")  # fmt: skip
    if summary.exercises or summary.exercise_missed:
        exercise_lines = []
        for incident in summary.exercises:
            if incident.is_open:
                exercise_lines += _open_lines(incident)
            else:
                exercise_lines += _lower_lines(incident, start, end)
        exercise_lines += _missed_lines(summary.exercise_missed)
        lines += _section("EXERCISES (drills): never public, not real incidents",
                          exercise_lines, "None.")  # fmt: skip
    return subject, "\n".join(lines).rstrip()


@messages.renderer(KIND)
def render(detail: str, incident_id: int | None) -> messages.InternalMessage:
    agency_id, day = detail.split(":", 1)
    agency = db.session.get(Agency, int(agency_id))
    if agency is None:
        raise messages.Skip("the agency no longer exists")
    subject, text = text_of(gather(agency, date.fromisoformat(day)))
    return messages.InternalMessage(subject, text)
