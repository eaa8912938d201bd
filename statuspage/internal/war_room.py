"""Working an incident together: the war room roles, the private working log and, for the gravest
priorities, the war room itself (opened with who was paged and the bridge link, closed with a
hand-over note that schedules the post-incident review).

Nothing here is public: the roles and the log live in private tables no public page, feed, API
answer, subscriber email or export reads. Each operation takes the incident's lock, checks the
rules (refusing with IncidentRuleError, nothing changed), writes the change and its audit entry,
and commits where you can see it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from .. import audit, clock
from ..extensions import db
from ..incidents import cadence
from ..incidents.deadlines import review_priority
from ..incidents.models import Incident, State
from ..incidents.operations import IncidentRuleError, lock
from ..policy import Policy, current_policy
from ..reports import reviews
from ..timefmt import format_absolute
from ..users.models import Role, User
from . import messages
from .models import IncidentNote, IncidentRole, NoteKind, Position, WarRoomRole
from .recipients import holders

ROLE_NAMED = "role_named"
WAR_ROOM_OPEN = "war_room_open"
WAR_ROOM_CLOSED = "war_room_closed"
NOTE_LIMIT = 5000
PAGED_LIMIT = 2000
BRIDGE_LIMIT = 500
# What each role is for, in the message that tells someone they hold it.
ROLE_DUTIES = {
    WarRoomRole.INCIDENT_COMMANDER: "You lead the response and make the decisions.",
    WarRoomRole.TECHNICAL_LEAD: "You lead the investigation and the fix.",
    WarRoomRole.COMMUNICATIONS_LEAD: "You write the public updates on the cadence the policy "
    "sets for the incident's priority.",
    WarRoomRole.SCRIBE: "You keep the working log: notes, decisions and why they were taken.",
    WarRoomRole.AGENCY_LIAISON: "You keep the agency's leadership and the other agencies "
    "involved informed.",
}
# Positions told when a war room opens if the policy has no notification matrix.
LEADERSHIP = (Position.SERVICE_OWNER, Position.AGENCY_CIO, Position.CDO)


def _stamp(moment: datetime) -> str:
    """A moment in an outbox key (which holds 80 characters)."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")


def _unstamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)


# --- the war room roles -----------------------------------------------------------------------


def holder(incident: Incident, role: WarRoomRole) -> User | None:
    row = next((r for r in incident.roles if r.role == role.value), None)
    return row.user if row else None


def may_hold(person: User, incident: Incident) -> bool:
    """Only someone with access to the incident's agency may hold a role on it."""
    return person.active and person.can(Role.VIEWER, incident.agency_id)


def set_roles(
    incident: Incident, chosen: dict[WarRoomRole, User | None], *, by: User
) -> list[WarRoomRole]:
    """Name, replace or clear the people holding the roles given (None clears one). Every change
    is audited and each person named is told by internal message. Returns the roles changed;
    a refusal (someone without access to the agency) changes nothing."""
    lock(incident)
    if incident.state_enum is State.CLOSED:
        raise IncidentRuleError("This incident is closed; its roles can no longer change.")
    for role, person in chosen.items():
        if person is not None and not may_hold(person, incident):
            raise IncidentRuleError(
                f"{person.name} has no access to {incident.agency.name}, so cannot be "
                f"{role.label.lower()}. Choose someone who works on this agency's incidents.",
                role.value,
            )
    now = clock.now()
    changed = []
    for role, person in chosen.items():
        row = next((r for r in incident.roles if r.role == role.value), None)
        previous = row.user if row else None
        if (previous.id if previous else None) == (person.id if person else None):
            continue
        if person is None:
            incident.roles.remove(row)
        elif row is None:
            incident.roles.append(
                IncidentRole(role=role.value, user_id=person.id, assigned_at=now)
            )
        else:
            row.user_id, row.assigned_at = person.id, now
        audit.record(
            "role_cleared" if person is None else "role_named",
            actor=by, agency_id=incident.agency_id, incident=incident, role=role.label,
            **{"from": previous.name if previous else "nobody",
               "to": person.name if person else "nobody"},
        )  # fmt: skip
        if person is not None:
            messages.enqueue(
                [messages.Recipient(person.name, person.email)],
                ROLE_NAMED,
                f"{role.value}|{person.id}|{_stamp(now)}",
                incident_id=incident.id,
            )
        changed.append(role)
    db.session.commit()
    return changed


@messages.renderer(ROLE_NAMED)
def render_role_named(detail: str, incident_id: int | None) -> messages.InternalMessage:
    role_value, user_id, _moment = detail.split("|", 2)
    role = WarRoomRole(role_value)
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise messages.Skip("the incident no longer exists")
    person = holder(incident, role)
    if person is None or person.id != int(user_id):
        raise messages.Skip(f"no longer the {role.label.lower()}")
    return messages.InternalMessage(
        f"You are the {role.label.lower()} for {incident.ref}: {incident.title}",
        f"You have been named {role.label.lower()} on {incident.ref} ({incident.title}). "
        f"{ROLE_DUTIES[role]}\n\nWho holds what now:\n{_roles_text(incident)}",
        incident.id,
    )


def _roles_text(incident: Incident) -> str:
    return "\n".join(
        f"- {role.label}: {person.name if (person := holder(incident, role)) else 'nobody yet'}"
        for role in WarRoomRole
    )


# --- the working log --------------------------------------------------------------------------


def add_note(
    incident: Incident, kind: NoteKind, text: str, rationale: str = "", *, by: User
) -> IncidentNote:
    """A note or a decision (with why it was taken) in the private working log."""
    lock(incident)
    text, rationale = (text or "").strip(), (rationale or "").strip()
    if kind not in (NoteKind.NOTE, NoteKind.DECISION):
        raise IncidentRuleError("Choose a note or a decision.", "kind")
    if not text:
        raise IncidentRuleError(
            "Write the decision." if kind is NoteKind.DECISION else "Write the note.", "text"
        )
    if len(text) > NOTE_LIMIT:
        raise IncidentRuleError(f"Keep it to {NOTE_LIMIT} characters or fewer.", "text")
    if kind is NoteKind.DECISION and not rationale:
        raise IncidentRuleError(
            "Say why it was decided: a decision needs its rationale.", "rationale"
        )
    if len(rationale) > NOTE_LIMIT:
        raise IncidentRuleError(f"Keep it to {NOTE_LIMIT} characters or fewer.", "rationale")
    note = _note(incident, kind, text, rationale if kind is NoteKind.DECISION else "", by)
    db.session.commit()
    return note


def _note(incident: Incident, kind: NoteKind, text: str, rationale: str, by: User) -> IncidentNote:
    note = IncidentNote(kind=kind.value, text=text, rationale=rationale, author_id=by.id,
                        at=clock.now())  # fmt: skip
    incident.notes.append(note)
    db.session.flush()
    audit.record(f"{kind.value}_logged", actor=by, agency_id=incident.agency_id,
                 incident=incident, note=note.id)  # fmt: skip
    return note


# --- the war room -----------------------------------------------------------------------------


def war_room_priorities(policy: Policy) -> tuple[int, ...]:
    """The priorities that may open a war room: those the notification matrix briefs leadership
    for while they last (P1 by default)."""
    if policy.notify is not None and policy.notify.briefings:
        return tuple(sorted(policy.notify.briefings))
    return (min(policy.priorities),)


def priorities_text(priorities: tuple[int, ...]) -> str:
    names = [f"P{p}" for p in priorities]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def war_room_is_open(incident: Incident) -> bool:
    return incident.war_room_opened_at is not None and incident.war_room_closed_at is None


def check_bridge_url(value: str) -> str:
    """An http(s) link with a host: anything else (javascript:, a file, a typo) is refused."""
    value = (value or "").strip()
    if not value:
        raise IncidentRuleError("Enter the bridge link everyone joins.", "bridge_url")
    if len(value) > BRIDGE_LIMIT:
        raise IncidentRuleError(
            f"Keep the bridge link to {BRIDGE_LIMIT} characters or fewer.", "bridge_url"
        )
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname \
            or re.search(r"\s", value):  # fmt: skip
        raise IncidentRuleError(
            "Enter the bridge link as a web address starting with https:// (or http://).",
            "bridge_url",
        )
    return value


def paged_list(text: str) -> list[str]:
    """Who was paged, one name a line (commas and semicolons separate names too)."""
    return [name.strip() for name in re.split(r"[\n,;]+", text or "") if name.strip()]


def leadership(incident: Incident, policy: Policy) -> list[messages.Recipient]:
    """Everyone the notification matrix names for the incident's priority (and for security
    incidents), told at once when the war room opens."""
    if policy.notify is not None:
        positions = [rule.position for rule in
                     policy.notify.rules_for(incident.priority, incident.is_security)]  # fmt: skip
    else:
        positions = list(LEADERSHIP)
    agencies = incident.agency_ids
    found: dict[str, messages.Recipient] = {}
    for position in dict.fromkeys(positions):
        for person in holders(Position(position), agencies):
            found.setdefault(person.email.lower(), person)
    return list(found.values())


def open_war_room(incident: Incident, *, paged: str, bridge_url: str, by: User) -> None:
    """Open the war room of a grave incident: who was paged, the bridge link and the time are
    recorded, and leadership is told at once."""
    lock(incident)
    policy = current_policy()
    allowed = war_room_priorities(policy)
    if not incident.is_open:
        raise IncidentRuleError(
            "The incident is resolved; a war room is for an incident still in progress."
        )
    if incident.priority not in allowed:
        raise IncidentRuleError(
            f"A war room is for {priorities_text(allowed)} incidents; this one is "
            f"P{incident.priority}. Raise the priority first if it is that grave."
        )
    if war_room_is_open(incident):
        raise IncidentRuleError(
            f"The war room is already open (since {format_absolute(incident.war_room_opened_at)})."
        )
    names = paged_list(paged)
    if not names:
        raise IncidentRuleError("Say who was paged, one name a line.", "paged")
    if len(paged) > PAGED_LIMIT:
        raise IncidentRuleError(f"Keep the list to {PAGED_LIMIT} characters or fewer.", "paged")
    bridge = check_bridge_url(bridge_url)
    now = clock.now()
    incident.war_room_opened_at, incident.war_room_closed_at = now, None
    incident.paged, incident.bridge_url = "\n".join(names), bridge
    audit.record("war_room_opened", actor=by, agency_id=incident.agency_id, incident=incident,
                 bridge=bridge, paged=", ".join(names))  # fmt: skip
    messages.enqueue(
        leadership(incident, policy), WAR_ROOM_OPEN, _stamp(now), incident_id=incident.id
    )
    db.session.commit()


@dataclass(frozen=True)
class Closed:
    """What closing the war room did: the review started (if the policy asks for one), when it
    is due in words, and who was told."""

    review_started: bool
    review_due: str
    told: str | None


def close_war_room(incident: Incident, *, handover: str, by: User) -> Closed:
    """Close the war room with a hand-over note; start the post-incident review the policy asks
    for and tell the incident commander (or the assignee) when it is due."""
    lock(incident)
    if not war_room_is_open(incident):
        raise IncidentRuleError("The war room is not open.")
    handover = (handover or "").strip()
    if not handover:
        raise IncidentRuleError(
            "Write the hand-over note: what is still going on, who holds what, what comes next.",
            "handover",
        )
    if len(handover) > NOTE_LIMIT:
        raise IncidentRuleError(f"Keep it to {NOTE_LIMIT} characters or fewer.", "handover")
    now = clock.now()
    note = _note(incident, NoteKind.HANDOVER, handover, "", by)
    incident.war_room_closed_at = now
    audit.record("war_room_closed", actor=by, agency_id=incident.agency_id, incident=incident,
                 handover_note=note.id)  # fmt: skip
    tell = holder(incident, WarRoomRole.INCIDENT_COMMANDER) or incident.assignee or by
    messages.enqueue(
        [messages.Recipient(tell.name, tell.email)], WAR_ROOM_CLOSED, _stamp(now),
        incident_id=incident.id,
    )  # fmt: skip
    need = reviews.owed_by(incident).need
    started = need.required and reviews.report_for(incident) is None
    if started:
        reviews.start_review(incident, by=by)  # commits the war room's closing with it
    db.session.commit()
    return Closed(started, review_due_text(incident) if need.required else "", tell.name)


def review_due_text(incident: Incident) -> str:
    """When the post-incident review is due, in words: a time once resolved, else the window."""
    need = reviews.owed_by(incident).need
    if not need.required:
        return "not required by the policy"
    if need.due is not None:
        return f"due {format_absolute(need.due)}"
    policy = current_policy()
    priority, _since = review_priority(cadence.facts_for(incident), policy)
    window = policy[priority].review_due or policy.rules.breach_review_due
    return f"due within {window} of resolution"


@messages.renderer(WAR_ROOM_OPEN)
def render_war_room_open(detail: str, incident_id: int | None) -> messages.InternalMessage:
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise messages.Skip("the incident no longer exists")
    opened = _unstamp(detail)
    paged = ", ".join(paged_list(incident.paged)) or "nobody recorded"
    briefings = ""
    policy = current_policy()
    if policy.notify is not None and incident.priority in policy.notify.briefings:
        every = policy.notify.briefings[incident.priority]
        briefings = f"\n\nLeadership briefings come every {every} while it lasts."
    return messages.InternalMessage(
        f"[P{incident.priority}] War room open: {incident.title} ({incident.ref})",
        f"The war room for {incident.ref} ({incident.title}) opened "
        f"{format_absolute(opened)}.\n\nBridge: {incident.bridge_url}\nPaged: {paged}\n\n"
        f"Who holds what:\n{_roles_text(incident)}{briefings}",
        incident.id,
    )


@messages.renderer(WAR_ROOM_CLOSED)
def render_war_room_closed(detail: str, incident_id: int | None) -> messages.InternalMessage:
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise messages.Skip("the incident no longer exists")
    handover = next((n for n in incident.notes if n.kind == NoteKind.HANDOVER.value), None)
    subject = f"War room closed: {incident.title} ({incident.ref})"
    if reviews.owed_by(incident).need.required:
        due = review_due_text(incident)
        subject += f"; review {due}"
        started = " (a draft is started, prefilled from the record)" \
            if reviews.report_for(incident) else ""  # fmt: skip
        said = f"The post-incident review is {due}{started}."
    else:
        said = "The policy asks for no post-incident review for this incident."
    return messages.InternalMessage(
        subject,
        f"The war room for {incident.ref} ({incident.title}) closed "
        f"{format_absolute(_unstamp(detail))}.\n\n{said}\n\nHand-over note:\n"
        f"{handover.text if handover else ''}",
        incident.id,
    )
