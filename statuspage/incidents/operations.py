"""State changes to incidents. Each operation checks the policy, writes the change and its audit
entry, and commits where you can see it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, text, update

from .. import audit, clock, duties
from ..catalog.models import Agency, Service
from ..extensions import db
from ..internal import decisions
from ..policy import Visibility, current_policy
from ..timefmt import format_absolute
from ..users.models import Role, User
from .deadlines import Kind, check_security_priority, pending
from .models import (
    UPDATE_STATUSES,
    AffectedService,
    Approval,
    ApprovalKind,
    ApprovalStatus,
    Impact,
    Incident,
    IncidentUpdate,
    MissedDeadline,
    PriorityChange,
    Source,
    State,
)
from ..subscriptions.operations import enqueue_update
from .references import next_reference
from .visibility import is_public, priority_allows_public

# Clocks drift; a time a little ahead of ours is not "in the future".
CLOCK_SKEW = timedelta(minutes=1)
# An expected fix further ahead than this is a typing mistake (a wrong year), not an estimate.
FURTHEST_ESTIMATE = timedelta(days=366)


class IncidentRuleError(ValueError):
    """A change the rules refuse; ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class NewIncident:
    agency: Agency
    title: str
    priority: int
    source: Source
    detected_at: datetime
    affected: dict[Service, Impact] = field(default_factory=dict)
    is_security: bool = False
    made_public: bool = False
    impact_description: str = ""
    started_at: datetime | None = None
    # The matrix's suggestion, when the lead gave urgency and impact ("P2 from high urgency and
    # medium impact"); audited beside the priority chosen.
    suggestion: str = ""
    # A drill: the same forms, clock and internal messages, never public (visibility.py).
    is_exercise: bool = False
    # An incident on a shared platform affects the services of other agencies that depend on
    # it; the CDO or a site administrator coordinates it.
    coordinator: User | None = None


@dataclass
class UpdateContent:
    """A public update: the free Markdown body and the plain-language elements beside it."""

    status: State
    body: str
    what_affected: str = ""
    who_affected: str = ""
    affected_since: datetime | None = None
    cause: str = ""
    workaround: str = ""
    help: str = ""
    next_update_at: datetime | None = None
    resolved_at: datetime | None = None  # defaults to now for a resolution
    expected_resolution_at: datetime | None = None  # "expected to be fixed by", if known
    make_public: bool = False  # a lead makes a P3 public with this message


@dataclass
class Scope:
    """What an incident is about: its title and each affected service's impact."""

    title: str
    affected: dict[Service, Impact]


def lock(incident: Incident) -> None:
    """Take the incident for this transaction before reading what a change depends on, so two
    leads acting at once are applied one after the other (and nothing is recorded twice).
    PostgreSQL locks the row; SQLite has one writer at a time, so the write lock is taken now."""
    if incident.id is None:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        statement = "SELECT id FROM incidents WHERE id = :id FOR UPDATE"
    else:
        statement = "UPDATE incidents SET id = id WHERE id = :id"
    # A plain connection statement: it changes nothing the public sees, so no re-render.
    connection.execute(text(statement), {"id": incident.id})
    db.session.refresh(incident)


def check_priority(priority: int, is_security: bool) -> None:
    if priority not in (1, 2, 3, 4):
        raise IncidentRuleError("Choose a priority from P1 to P4.", "priority")
    if message := check_security_priority(priority, is_security, current_policy()):
        raise IncidentRuleError(message, "priority")


def check_new_incident(data: NewIncident) -> None:
    """Refuse an incident the rules do not allow, naming the field at fault."""
    if not (data.title or "").strip():
        raise IncidentRuleError("Enter a title.", "title")
    check_priority(data.priority, data.is_security)
    if data.detected_at > clock.now() + CLOCK_SKEW:
        raise IncidentRuleError("The detected time cannot be in the future.", "detected_at")
    if data.started_at is not None and data.started_at > data.detected_at:
        raise IncidentRuleError(
            "The start time must be at or before the detected time.", "started_at"
        )
    if not data.affected:
        raise IncidentRuleError("Choose at least one affected service.", "services")
    if data.made_public and current_policy()[data.priority].public is not Visibility.WHEN_MARKED:
        data.made_public = False  # only a P3's visibility is the lead's choice; P1/P2 always are
    for service in data.affected:
        if service.agency_id != data.agency.id:
            raise IncidentRuleError(
                f"{service.name} is not a service of {data.agency.name}.", "services"
            )
    _add_dependents(data)


def _add_dependents(data: NewIncident) -> None:
    """A platform's failure is its dependents' too: each is added with the platform's impact
    (the lead can change it), and the incident becomes shared, with a coordinator."""
    from ..catalog.dependencies import dependents

    chosen = dict(data.affected)
    for service in dependents(s.id for s in chosen):
        platforms = [i for s, i in chosen.items() if i is not None]
        data.affected.setdefault(service, max(platforms, key=lambda i: Impact(i).severity)
                                 if platforms else None)  # fmt: skip
    if all(s.agency_id == data.agency.id for s in data.affected):
        return
    coordinator = data.coordinator
    if coordinator is None or not can_coordinate(coordinator):
        raise IncidentRuleError(
            "This platform's failure affects other agencies' services: name its coordinator, "
            "the Chief Digital Officer or a site administrator.",
            "coordinator",
        )


def can_coordinate(user: User) -> bool:
    """The CDO (on the duty roster, with an account) or a site administrator."""
    from ..internal.models import Contact

    if user.is_site_admin:
        return True
    return db.session.scalar(
        select(Contact.id).where(Contact.position == "cdo", Contact.user_id == user.id).limit(1)
    ) is not None


def create_incident(
    data: NewIncident, *, by: User | None, along: Callable[[Incident], None] | None = None
) -> Incident:
    """Log a new incident with the day's next reference (taken in this transaction). ``along``
    writes what belongs with it in the same transaction (the alert group that opened it)."""
    check_new_incident(data)
    incident = _build_incident(data, by)
    db.session.add(incident)
    audit.record(
        "incident_logged",
        actor=by,
        agency_id=data.agency.id,
        incident=incident,
        priority=f"P{data.priority}",
        title=incident.title,
        **({"suggested": data.suggestion} if data.suggestion else {}),
        **({"exercise": "yes (a drill: never public)"} if data.is_exercise else {}),
    )
    if along is not None:
        along(incident)
    db.session.commit()
    return incident


def _build_incident(data: NewIncident, by: User | None) -> Incident:
    now = clock.now()
    incident = Incident(
        ref=next_reference(data.detected_at),
        agency_id=data.agency.id,
        title=data.title.strip(),
        priority=data.priority,
        is_security=data.is_security,
        made_public=data.made_public,
        is_exercise=bool(data.is_exercise),
        is_shared=any(s.agency_id != data.agency.id for s in data.affected),
        coordinator_id=data.coordinator.id if data.coordinator else None,
        state=State.NEW.value,
        source=Source(data.source).value,
        impact_description=(data.impact_description or "").strip(),
        detected_at=data.detected_at,
        started_at=data.started_at,
        created_by_id=by.id if by else None,
        created_at=now,
    )
    default = Impact(current_policy()[data.priority].default_impact)
    incident.affected = [
        AffectedService(service_id=service.id, impact=Impact(impact or default).value)
        for service, impact in data.affected.items()
    ]
    incident.priority_changes = [
        PriorityChange(
            from_priority=None,
            to_priority=data.priority,
            reason="Incident logged",
            changed_by_id=by.id if by else None,
            changed_at=data.detected_at,
        )
    ]
    return incident


def publish_update(
    incident: Incident,
    content: UpdateContent | None = None,
    *,
    by: User | None,
    scope: Scope | None = None,
    **fields,
) -> IncidentUpdate:
    """Post an update (with a change of scope, if given). It is public when the incident's
    priority allows; the first public one makes the incident public (see _publish)."""
    content = content or UpdateContent(**fields)
    lock(incident)
    if scope is not None:
        _apply_scope(incident, scope, by)
    update_row = _publish(incident, content, by)
    db.session.commit()
    return update_row


def _publish(incident: Incident, content: UpdateContent, by: User | None) -> IncidentUpdate:
    """The one way an update is written, and the one way an incident becomes public: with a
    message for citizens, which is emailed to subscribers and starts the update cadence. An
    update written while the incident may not be public stays private for good."""
    status = _check_update(incident, content)
    now = clock.now()
    visibility = current_policy()[incident.priority].public
    if content.make_public and visibility is not Visibility.ALWAYS and not incident.made_public:
        _mark_public_decision(incident, by)
    # A drill's message is written as for citizens, so its clock runs as a real one's would;
    # visibility.is_public keeps it off every public path (pages, feeds, API, export, emails).
    public = priority_allows_public(incident.priority, incident.made_public)
    met = {}
    if public:
        met = {Kind.NEXT_UPDATE: now, Kind.FIRST_COMMUNICATION: now}
    if incident.acknowledged_at is None:
        met[Kind.ACKNOWLEDGE] = now
    if status is State.RESOLVED and incident.state_enum is not State.RESOLVED:
        met[Kind.TARGET_RESOLUTION] = content.resolved_at or now
    _record_late(incident, met, now)
    update_row = IncidentUpdate(
        incident=incident,
        status=status.value,
        body=content.body.strip(),
        what_affected=(content.what_affected or "").strip(),
        who_affected=(content.who_affected or "").strip(),
        affected_since=content.affected_since,
        cause=(content.cause or "").strip(),
        workaround=(content.workaround or "").strip(),
        help=(content.help or "").strip(),
        next_update_at=content.next_update_at,
        expected_resolution_at=content.expected_resolution_at,
        is_public=public,
        published_at=now,
        author_id=by.id if by else None,
    )
    db.session.add(update_row)
    previous = incident.state_enum
    if previous is not status:
        audit.record(
            "state_changed",
            actor=by,
            agency_id=incident.agency_id,
            incident=incident,
            **{"from": previous.value, "to": status.value},
        )
    incident.state = status.value
    if incident.acknowledged_at is None:
        _acknowledge(incident, by, now)
    if status is State.RESOLVED:
        if previous is not State.RESOLVED:
            incident.resolved_at = content.resolved_at or now
            _mark_met(incident, Kind.TARGET_RESOLUTION, incident.resolved_at)
    else:
        incident.resolved_at = None
    if public:
        if incident.first_public_at is None:
            incident.first_public_at = now
            _mark_met(incident, Kind.FIRST_COMMUNICATION, now)
            audit.record(
                "went_public", actor=by, agency_id=incident.agency_id, incident=incident,
                priority=f"P{incident.priority}",
                **({"exercise": "rehearsed: never shown to the public"}
                   if incident.is_exercise else {}),
            )  # fmt: skip
        _mark_met(incident, Kind.NEXT_UPDATE, now)
    db.session.flush()
    # The notifications are written in this same transaction: a publish never loses them.
    enqueue_update(incident, update_row)
    audit.record(
        "update_published", actor=by, agency_id=incident.agency_id, incident=incident,
        status=status.value,
        public=("exercise (never shown)" if incident.is_exercise else "yes") if public else "no",
    )  # fmt: skip
    return update_row


def _mark_public_decision(incident: Incident, by: User | None) -> None:
    """A lead decides a P3 is shown to the public (several reports); only with a message."""
    if current_policy()[incident.priority].public is not Visibility.WHEN_MARKED:
        raise IncidentRuleError(
            f"A P{incident.priority} is {_visibility_words(incident.priority)}; "
            "only its priority decides whether it is public.",
            "make_public",
        )
    incident.made_public = True
    audit.record("made_public", actor=by, agency_id=incident.agency_id, incident=incident)


def _visibility_words(priority: int) -> str:
    from .policy_text import visibility_rule

    return visibility_rule(priority, current_policy())


def _check_update(incident: Incident, content: UpdateContent) -> State:
    try:
        status = State(content.status)
    except ValueError:
        status = None
    if status not in UPDATE_STATUSES:
        raise IncidentRuleError(
            "Choose investigating, identified, monitoring or resolved.", "status"
        )
    if incident.state_enum is State.CLOSED:
        raise IncidentRuleError("This incident is closed; it takes no more updates.")
    if not (content.body or "").strip():
        raise IncidentRuleError("Write what is happening for the public.", "body")
    now = clock.now()
    if content.next_update_at is not None:
        if status is State.RESOLVED:
            raise IncidentRuleError(
                "A resolved incident has no next update; clear that time.", "next_update_at"
            )
        if content.next_update_at <= now:
            raise IncidentRuleError("The next update time must be in the future.", "next_update_at")
        _check_promise(incident, content.next_update_at, now)
    if content.expected_resolution_at is not None:
        if status is State.RESOLVED:
            raise IncidentRuleError(
                "A resolved incident needs no expected fix time; clear it.",
                "expected_resolution_at",
            )
        if content.expected_resolution_at < incident.detected_at:
            raise IncidentRuleError(
                "The expected fix time cannot be before the problem was detected.",
                "expected_resolution_at",
            )
        if content.expected_resolution_at <= now:
            raise IncidentRuleError(
                "The expected fix time must be in the future; clear it if you do not know.",
                "expected_resolution_at",
            )
        if content.expected_resolution_at > now + FURTHEST_ESTIMATE:
            raise IncidentRuleError(
                "The expected fix time is more than a year away: check the date.",
                "expected_resolution_at",
            )
    if content.resolved_at is not None:
        if status is not State.RESOLVED:
            raise IncidentRuleError(
                "A resolution time goes only with the status resolved.", "resolved_at"
            )
        if content.resolved_at < incident.detected_at:
            raise IncidentRuleError(
                "The resolution time cannot be before the problem was detected.", "resolved_at"
            )
        if content.resolved_at > now + CLOCK_SKEW:
            raise IncidentRuleError("The resolution time cannot be in the future.", "resolved_at")
    if content.affected_since is not None and content.affected_since > now + CLOCK_SKEW:
        raise IncidentRuleError("“Since when” cannot be in the future.", "affected_since")
    return status


def _check_promise(incident: Incident, promise: datetime, now: datetime) -> None:
    """A promise may be sooner than the cadence, never later: one "next update by" for all."""
    from .cadence import latest_promise

    latest = latest_promise(incident, now)
    if latest is not None and promise > latest + CLOCK_SKEW:
        cadence = current_policy()[incident.priority].update_cadence
        raise IncidentRuleError(
            f"The policy asks for an update on a P{incident.priority} every {cadence}, so the "
            f"next one is due by {format_absolute(latest)}. Promise that time or earlier.",
            "next_update_at",
        )


def acknowledge(incident: Incident, *, by: User) -> None:
    """Someone has taken the incident in hand; recorded with who and when."""
    lock(incident)
    if incident.acknowledged_at is not None:
        who = incident.acknowledged_by.name if incident.acknowledged_by else "the system"
        raise IncidentRuleError(f"Already acknowledged by {who}.")
    now = clock.now()
    _record_late(incident, {Kind.ACKNOWLEDGE: now}, now)
    _acknowledge(incident, by, now)
    db.session.commit()


def _acknowledge(incident: Incident, by: User | None, now: datetime) -> None:
    incident.acknowledged_at = now
    incident.acknowledged_by_id = by.id if by else None
    _mark_met(incident, Kind.ACKNOWLEDGE, now)
    audit.record("acknowledged", actor=by, agency_id=incident.agency_id, incident=incident)


def assign(incident: Incident, assignee: User | None, *, by: User) -> None:
    """Give the incident to someone with a role in its agency (or to nobody)."""
    lock(incident)
    if incident.state_enum is State.CLOSED:
        raise IncidentRuleError("This incident is closed.", "assignee")
    if assignee is not None and not assignee.can(Role.COMMUNICATIONS_LEAD, incident.agency_id):
        raise IncidentRuleError(
            f"{assignee.name} cannot work on this agency's incidents.", "assignee"
        )
    previous = incident.assignee
    if (previous.id if previous else None) == (assignee.id if assignee else None):
        return  # already so (another lead did the same at the same moment)
    incident.assignee_id = assignee.id if assignee else None
    if assignee is not None and incident.assigned_at is None:
        incident.assigned_at = clock.now()
    decisions.assigned(incident, assignee, by=by, at=clock.now())
    audit.record(
        "assigned",
        actor=by,
        agency_id=incident.agency_id,
        incident=incident,
        **{
            "from": previous.name if previous else "nobody",
            "to": assignee.name if assignee else "nobody",
        },
    )
    db.session.commit()


def change_priority(
    incident: Incident,
    *,
    to: int,
    reason: str,
    by: User | None,
    message: UpdateContent | None = None,
) -> str:
    """Raise the priority at once; lowering it needs the approver the policy names. A message
    given with it is published in the same step (the first public update of an incident that
    the higher priority makes public); without one, an incident that was private stays so and
    its first-communication deadline runs from this moment.

    Returns "escalated", "lowered" or "requested" (waiting for approval).
    """
    lock(incident)
    outcome = _change_priority(incident, to, reason, by)
    if message is not None:
        _publish(incident, message, by)
    db.session.commit()
    return outcome


def _change_priority(incident: Incident, to: int, reason: str, by: User | None) -> str:
    if incident.state_enum is State.CLOSED:
        raise IncidentRuleError("This incident is closed; its priority cannot change.", "priority")
    check_priority(to, incident.is_security)
    if to == incident.priority:
        raise IncidentRuleError(f"The incident is already P{to}.", "priority")
    if not (reason or "").strip():
        raise IncidentRuleError("Say why the priority changes.", "reason")
    reason = reason.strip()
    if to < incident.priority:
        _apply_priority(incident, to, reason, by)
        return "escalated"
    if pending_approval(incident, ApprovalKind.DE_ESCALATION):
        raise IncidentRuleError(
            "A request to lower the priority is already waiting for approval.", "priority"
        )
    approver = current_policy().rules.deescalation_approver
    now = clock.now()
    approval = Approval(
        incident=incident,
        kind=ApprovalKind.DE_ESCALATION.value,
        to_priority=to,
        reason=reason,
        requested_by_id=by.id if by else None,
        requested_at=now,
    )
    db.session.add(approval)
    if by is None or by.can(approver, incident.agency_id):
        # The approver asking is the approval.
        _decide(approval, True, by, "Approved by the person who asked", now)
        return "lowered"
    audit.record(
        "de_escalation_requested", actor=by, agency_id=incident.agency_id, incident=incident,
        reason=reason, to=f"P{to}",
    )  # fmt: skip
    decisions.approval_requested(approval, approver)
    return "requested"


def _apply_priority(incident: Incident, to: int, reason: str, by: User | None) -> None:
    now = clock.now()
    action = "priority_escalated" if to < incident.priority else "priority_lowered"
    db.session.add(
        PriorityChange(
            incident=incident,
            from_priority=incident.priority,
            to_priority=to,
            reason=reason,
            changed_by_id=by.id if by else None,
            changed_at=now,
        )
    )
    audit.record(
        action, actor=by, agency_id=incident.agency_id, incident=incident, reason=reason,
        **{"from": f"P{incident.priority}", "to": f"P{to}"},
    )  # fmt: skip
    raising = to < incident.priority
    incident.priority = to
    if raising:
        _raise_impacts(incident, Impact(current_policy()[to].default_impact), by)


def pending_approval(incident: Incident, kind: ApprovalKind) -> Approval | None:
    return next((a for a in incident.approvals if a.kind == kind.value and a.is_pending), None)


def required_approver(approval: Approval) -> Role | None:
    if approval.kind_enum is ApprovalKind.DE_ESCALATION:
        return current_policy().rules.deescalation_approver
    return current_policy()[approval.incident.priority].closure_approver


def decide_approval(approval: Approval, *, approve: bool, by: User, note: str = "") -> None:
    """An approver says yes or no; a yes applies the change at once."""
    if not approval.is_pending:
        raise IncidentRuleError("This request has already been decided.")
    role = required_approver(approval)
    if role is not None and not by.can(role, approval.incident.agency_id):
        raise IncidentRuleError(f"Only a {role.label.lower()} can decide this request.")
    if refused := duties.refusal(by, [approval.requested_by_id], role, did="ask for it",
                                 decide="decide this request"):  # fmt: skip
        raise IncidentRuleError(refused)
    if not approve and not (note or "").strip():
        raise IncidentRuleError("Say why you are refusing the request.", "note")
    lock(approval.incident)
    if not approval.is_pending:
        raise IncidentRuleError("This request has already been decided.")
    _decide(approval, approve, by, (note or "").strip(), clock.now())
    decisions.approval_decided(approval)
    db.session.commit()


def _decide(approval: Approval, approve: bool, by: User | None, note: str, now: datetime) -> None:
    incident = approval.incident
    approval.status = (ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED).value
    approval.decided_by_id = by.id if by else None
    approval.decided_at = now
    approval.decision_note = note
    audit.record(
        "approval_" + approval.status, actor=by, agency_id=incident.agency_id, incident=incident,
        reason=note, request=approval.kind_enum.label,
    )  # fmt: skip
    if not approve:
        return
    if approval.kind_enum is ApprovalKind.DE_ESCALATION:
        if incident.state_enum is State.CLOSED or approval.to_priority <= incident.priority:
            raise IncidentRuleError("The incident has changed since this request; ask again.")
        _apply_priority(incident, approval.to_priority, approval.reason, by)
    else:
        _close(incident, by, now)


def close_incident(incident: Incident, *, by: User) -> str:
    """Close a resolved incident, or ask the approver the policy names. Returns "closed" or
    "requested"."""
    check_closable(incident)
    approver = current_policy()[incident.priority].closure_approver
    now = clock.now()
    approval = Approval(
        incident=incident,
        kind=ApprovalKind.CLOSURE.value,
        requested_by_id=by.id,
        requested_at=now,
    )
    db.session.add(approval)
    if approver is None or by.can(approver, incident.agency_id):
        _decide(approval, True, by, "Closed by an approver", now)
        db.session.commit()
        return "closed"
    audit.record("closure_requested", actor=by, agency_id=incident.agency_id, incident=incident)
    decisions.approval_requested(approval, approver)
    db.session.commit()
    return "requested"


def check_closable(incident: Incident) -> None:
    if incident.state_enum is State.CLOSED:
        raise IncidentRuleError("This incident is already closed.")
    if incident.state_enum is not State.RESOLVED:
        raise IncidentRuleError("Resolve the incident (post a resolved update) before closing it.")
    if pending_approval(incident, ApprovalKind.DE_ESCALATION):
        raise IncidentRuleError("A request to lower the priority is waiting; decide it first.")
    if pending_approval(incident, ApprovalKind.CLOSURE):
        raise IncidentRuleError("Closing is already waiting for approval.")


def auto_close(incident: Incident) -> str:
    """The 24-hour rule: close when nothing blocks it, else ask the approver. Returns what
    happened: "closed", "requested" or "blocked"."""
    try:
        check_closable(incident)
    except IncidentRuleError:
        return "blocked"
    approver = current_policy()[incident.priority].closure_approver
    now = clock.now()
    approval = Approval(
        incident=incident,
        kind=ApprovalKind.CLOSURE.value,
        reason="Resolved more than 24 hours ago",
        requested_at=now,
    )
    db.session.add(approval)
    if approver is None:
        _decide(approval, True, None, "Closed automatically after resolution", now)
        db.session.commit()
        return "closed"
    audit.record(
        "closure_requested", actor=None, agency_id=incident.agency_id, incident=incident,
        reason=f"Resolved more than 24 hours ago; a {approver.label.lower()} must approve",
    )  # fmt: skip
    decisions.approval_requested(approval, approver)
    db.session.commit()
    return "requested"


def _close(incident: Incident, by: User | None, now: datetime) -> None:
    """Closed (internal) after resolved (public); the policy says which priorities send the
    public page and its subscribers a short closing note."""
    incident.state = State.CLOSED.value
    incident.closed_at = now
    audit.record(
        "state_changed", actor=by, agency_id=incident.agency_id, incident=incident,
        **{"from": State.RESOLVED.value, "to": State.CLOSED.value},
    )  # fmt: skip
    if is_public(incident) and current_policy()[incident.priority].closure_notice:
        from ..communications.closing import closing_note

        note = IncidentUpdate(
            incident=incident, status=State.CLOSED.value, body=closing_note(incident),
            is_public=True, published_at=now, author_id=by.id if by else None,
        )  # fmt: skip
        db.session.add(note)
        db.session.flush()
        enqueue_update(incident, note)


def hide_from_public(incident: Incident, *, reason: str, by: User | None = None) -> None:
    """A lead takes a P3 off the public site again (it was made public by mistake)."""
    lock(incident)
    if not incident.made_public:
        raise IncidentRuleError("This incident is not marked public.")
    if not (reason or "").strip():
        raise IncidentRuleError("Say why the incident is taken off the public site.", "reason")
    incident.made_public = False
    audit.record(
        "hidden_from_public", actor=by, agency_id=incident.agency_id, incident=incident,
        reason=reason.strip(),
    )  # fmt: skip
    db.session.commit()


def note_public_moments(incident: Incident, now: datetime) -> bool:
    """When a time the public page states (the next update, the expected fix) has passed, move
    the incident's public clock: a public change, so every cached page and the static export say
    "late" within a check interval. Returns True when it moved (once per passed moment)."""
    from .cadence import public_timing

    passed = [m for m in public_timing(incident, now).moments() if m <= now]
    if not passed or (
        incident.public_clock_passed_at is not None
        and max(passed) <= incident.public_clock_passed_at
    ):
        return False
    incident.public_clock_passed_at = max(passed)
    return True


# --- scope: title, affected services and their impact -----------------------------------------


def change_scope(incident: Incident, scope: Scope, *, by: User | None) -> bool:
    """Edit the title and the affected services at any time: each change is audited and the
    public colour moves at once. Returns False when nothing changed."""
    lock(incident)
    changed = _apply_scope(incident, scope, by)
    db.session.commit()
    return changed


def check_scope(incident: Incident, scope: Scope) -> None:
    if incident.state_enum is State.CLOSED:
        raise IncidentRuleError("This incident is closed; its scope cannot change.")
    title = (scope.title or "").strip()
    if not title:
        raise IncidentRuleError("Enter a title.", "title")
    if len(title) > 200:
        raise IncidentRuleError("Keep the title to 200 characters or fewer.", "title")
    if not scope.affected:
        raise IncidentRuleError(
            "Keep at least one affected service: an incident is about a service. To end it, "
            "post a resolved update.",
            "services",
        )
    agencies = incident.agency_ids
    for service, impact in scope.affected.items():
        if service.agency_id not in agencies:
            raise IncidentRuleError(
                f"{service.name} is not a service of {incident.agency.name}.", "services"
            )
        try:
            Impact(impact)
        except ValueError:
            raise IncidentRuleError(
                f"Choose degraded performance, partial outage or major outage for {service.name}.",
                "services",
            ) from None


def _apply_scope(incident: Incident, scope: Scope, by: User | None) -> bool:
    check_scope(incident, scope)
    title = scope.title.strip()
    before = {a.service_id: a for a in incident.affected}
    after = {service.id: (service, Impact(impact)) for service, impact in scope.affected.items()}
    details: dict[str, str] = {}
    if title != incident.title:
        details.update(title_from=incident.title, title_to=title)
        incident.title = title
    added = [f"{s.name} ({i.label.lower()})" for sid, (s, i) in after.items() if sid not in before]
    removed = [a.service.name for sid, a in before.items() if sid not in after]
    eased, worsened = [], []
    for service_id, (service, impact) in after.items():
        row = before.get(service_id)
        if row is None:
            incident.affected.append(AffectedService(service_id=service_id, impact=impact.value))
        elif row.impact != impact.value:
            words = f"{service.name}: {row.impact_enum.label.lower()} → {impact.label.lower()}"
            (worsened if impact.severity > row.impact_enum.severity else eased).append(words)
            row.impact = impact.value
    for service_id, row in before.items():
        if service_id not in after:
            incident.affected.remove(row)
    for key, values in (("added", added), ("removed", removed), ("worse", worsened),
                        ("eased", eased)):  # fmt: skip
        if values:
            details[key] = "; ".join(values)
    if not details:
        return False
    audit.record("scope_changed", actor=by, agency_id=incident.agency_id, incident=incident,
                 **details)  # fmt: skip
    return True


def _raise_impacts(incident: Incident, floor: Impact, by: User | None) -> None:
    """A higher priority takes each service to at least its default impact (a P1 is a major
    outage unless the lead eases it), so the public colour follows the escalation."""
    raised = []
    for row in incident.affected:
        if row.impact_enum.severity < floor.severity:
            was, now = row.impact_enum.label.lower(), floor.label.lower()
            raised.append(f"{row.service.name}: {was} → {now}")
            row.impact = floor.value
    if raised:
        audit.record(
            "scope_changed", actor=by, agency_id=incident.agency_id, incident=incident,
            worse="; ".join(raised), reason=f"raised with the priority to P{incident.priority}",
        )  # fmt: skip


def _record_late(incident: Incident, met: dict[Kind, datetime], now: datetime) -> None:
    """Deadlines this action meets after they passed: record each miss once, with its lateness
    (the deadline clock may already have recorded it; then _mark_met fills in the lateness)."""
    from .cadence import deadlines_for
    from .reminders import record_miss

    if incident.id is None:
        return
    for deadline in pending(deadlines_for(incident)):
        met_at = met.get(deadline.kind)
        if met_at is not None and met_at > deadline.due:
            record_miss(incident.id, deadline.kind, deadline.due, now, met_at=met_at)


def _mark_met(incident: Incident, kind: Kind, at: datetime) -> None:
    """A missed deadline of this kind is met now: that fixes how late it was."""
    if incident.id is None:
        return
    db.session.execute(
        update(MissedDeadline)
        .where(
            MissedDeadline.incident_id == incident.id,
            MissedDeadline.kind == kind.value,
            MissedDeadline.met_at.is_(None),
        )
        .values(met_at=at)
    )
