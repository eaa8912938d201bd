"""The notification matrix at work: who inside government is told about an incident, and when.

`due_notices` is a pure function of the incident's facts and the policy (table-tested); the job
`tell_people` turns what is due into internal messages in the outbox. Each notice has a key of its
own (the priority period, the position, the moment), so a job that runs every 30 s in several
processes writes each message once, and a job that was down sends what it missed once.

For each period the incident holds a priority (from detection or a change of priority until the
next change or resolution):
- each position the matrix names for that priority (and for security incidents) is told at once
  or after its delay, if the incident still holds the priority then;
- leadership (everyone that row told) is briefed every `briefings` interval while it lasts (only
  the latest briefing due is sent: nobody needs three briefings at once after an outage);
- while nobody has acknowledged the incident, each `unacknowledged` interval tells the next
  position up the ladder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..extensions import db
from ..incidents import cadence
from ..incidents.deadlines import IncidentFacts
from ..incidents.models import Incident
from ..incidents.reminders import open_incidents
from ..policy import BusinessCalendar, Policy, current_calendar, current_policy
from ..timefmt import format_absolute
from . import messages
from .models import Position
from .recipients import holders

KIND = "matrix"
TOLD, BRIEFING, ESCALATION = "told", "briefing", "escalation"


@dataclass(frozen=True)
class Notice:
    """One position to tell about one incident: when it is due and why."""

    what: str  # TOLD, BRIEFING or ESCALATION
    position: str
    due: datetime
    priority: int
    period: int  # which priority period (0: from detection)
    why: str

    @property
    def detail(self) -> str:
        """The outbox key's detail: the same notice is never written twice."""
        moment = self.due.strftime("%Y%m%dT%H%M%S")
        return f"{self.what}|{self.period}|P{self.priority}|{self.position}|{moment}"


def periods(facts: IncidentFacts) -> list[tuple[datetime, int, datetime | None]]:
    """(start, priority, end) for each period the incident held a priority, up to resolution."""
    found = []
    changes = list(facts.priorities)
    for index, (start, priority) in enumerate(changes):
        end = changes[index + 1][0] if index + 1 < len(changes) else None
        if facts.resolved_at is not None:
            if start >= facts.resolved_at:
                break
            end = facts.resolved_at if end is None else min(end, facts.resolved_at)
        found.append((start, priority, end))
    return found


def due_notices(
    facts: IncidentFacts, now: datetime, policy: Policy, calendar: BusinessCalendar
) -> list[Notice]:
    """Every notice due by ``now`` for an incident (see the module docstring)."""
    matrix = policy.notify
    found: list[Notice] = []
    for period, (start, priority, end) in enumerate(periods(facts)):
        within = lambda moment: moment <= now and (end is None or moment < end)  # noqa: E731
        told = []
        for rule in matrix.rules_for(priority, facts.is_security):
            if rule.summary:
                continue  # the daily summary carries it
            due = rule.after.after(start, calendar) if rule.after else start
            if within(due):
                told.append(rule.position)
                found.append(Notice(TOLD, rule.position, due, priority, period,
                                    f"P{priority}: {rule}"))  # fmt: skip
        every = matrix.briefings.get(priority)
        if every is not None:
            latest, moment = None, every.after(start, calendar)
            while within(moment):
                latest, moment = moment, every.after(moment, calendar)
            if latest is not None:
                for position in dict.fromkeys(told):
                    found.append(Notice(BRIEFING, position, latest, priority, period,
                                        f"P{priority}: briefing every {every}"))  # fmt: skip
        window = matrix.unacknowledged.get(priority)
        if window is None:
            continue
        acknowledged = facts.acknowledged_at
        if acknowledged is not None and acknowledged <= start:
            continue
        moment = window.after(start, calendar)
        for position in matrix.ladder:
            if not within(moment) or (acknowledged is not None and moment >= acknowledged):
                break
            found.append(Notice(ESCALATION, position, moment, priority, period,
                                f"P{priority}: nobody acknowledged it for {window}"))  # fmt: skip
            moment = window.after(moment, calendar)
    return found


def tell_people(now: datetime) -> int:
    """Write the internal messages due for every open incident; returns how many were new."""
    policy, calendar = current_policy(), current_calendar()
    written = 0
    for incident in open_incidents():
        agencies = incident.agency_ids
        for notice in due_notices(cadence.facts_for(incident), now, policy, calendar):
            written += messages.enqueue(
                holders(Position(notice.position), agencies),
                KIND,
                notice.detail,
                incident_id=incident.id,
            )
        db.session.commit()
    return written


@messages.renderer(KIND)
def render(detail: str, incident_id: int | None) -> messages.InternalMessage:
    what, _period, priority, position, moment = detail.split("|")
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise messages.Skip("the incident no longer exists")
    role = Position(position).label
    services = ", ".join(
        f"{a.service.name} ({a.service.agency.name}, {a.impact_enum.label.lower()})"
        for a in incident.affected
    )
    latest = incident.latest_update
    said = f"Latest update ({format_absolute(latest.published_at)}): {latest.body}" if latest \
        else "No update has been posted yet."  # fmt: skip
    facts = f"Incident: {incident.title}\nServices: {services}\n{said}"
    if what == BRIEFING:
        subject = f"[{priority}] Briefing: {incident.title} ({incident.ref})"
        opening = f"Leadership briefing as {role.lower()}: where {incident.ref} stands now."
    elif what == ESCALATION:
        subject = f"[{priority}] Not acknowledged: {incident.title} ({incident.ref})"
        opening = (
            f"Nobody has acknowledged {incident.ref} yet. The policy tells the next level up: "
            f"you, as {role.lower()}. Make sure someone takes it in hand."
        )
    else:
        subject = f"[{priority}] {incident.title} ({incident.ref})"
        opening = (
            f"A {priority} incident{' (security)' if incident.is_security else ''} is open. "
            f"You are told as {role.lower()}, as the notification matrix asks."
        )
    return messages.InternalMessage(subject, f"{opening}\n\n{facts}", incident.id)
