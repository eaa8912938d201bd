"""State changes to incidents. Each operation validates, writes and commits where you can see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from .. import clock
from ..catalog.models import Agency, Service
from ..extensions import db
from ..users.models import User
from .models import (
    UPDATE_STATUSES,
    AffectedService,
    Impact,
    Incident,
    IncidentUpdate,
    PriorityChange,
    Source,
    State,
)
from .references import next_reference
from .visibility import priority_allows_public

# Clocks drift; a detected time a little ahead of ours is not "in the future".
CLOCK_SKEW = timedelta(minutes=1)
REFERENCE_ATTEMPTS = 10
LOWEST_SECURITY_PRIORITY = 2


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


def check_priority(priority: int, is_security: bool) -> None:
    if priority not in (1, 2, 3, 4):
        raise IncidentRuleError("Choose a priority from P1 to P4.", "priority")
    if is_security and priority > LOWEST_SECURITY_PRIORITY:
        raise IncidentRuleError(
            "A security incident is never below P2: choose P1 or P2.", "priority"
        )


def check_new_incident(data: NewIncident) -> None:
    """Refuse an incident the rules do not allow, naming the field at fault."""
    if not (data.title or "").strip():
        raise IncidentRuleError("Enter a title.", "title")
    check_priority(data.priority, data.is_security)
    now = clock.now()
    if data.detected_at > now + CLOCK_SKEW:
        raise IncidentRuleError("The detected time cannot be in the future.", "detected_at")
    if data.started_at is not None:
        if data.started_at > data.detected_at:
            raise IncidentRuleError(
                "The start time must be at or before the detected time.", "started_at"
            )
    if not data.affected:
        raise IncidentRuleError("Choose at least one affected service.", "services")
    for service in data.affected:
        if service.agency_id != data.agency.id:
            raise IncidentRuleError(
                f"{service.name} is not a service of {data.agency.name}.", "services"
            )


def create_incident(data: NewIncident, *, by: User | None) -> Incident:
    """Log a new incident with a fresh reference; retries when another took the same one."""
    check_new_incident(data)
    for _ in range(REFERENCE_ATTEMPTS):
        incident = _build_incident(data, by)
        db.session.add(incident)
        try:
            db.session.commit()
        except IntegrityError:
            # Someone else took this reference between our read and our write; read again.
            db.session.rollback()
            continue
        return incident
    raise RuntimeError("could not allocate an incident reference after several attempts")


def _build_incident(data: NewIncident, by: User | None) -> Incident:
    now = clock.now()
    incident = Incident(
        ref=next_reference(data.detected_at),
        agency_id=data.agency.id,
        title=data.title.strip(),
        priority=data.priority,
        is_security=data.is_security,
        made_public=data.made_public,
        state=State.NEW.value,
        source=Source(data.source).value,
        impact_description=(data.impact_description or "").strip(),
        detected_at=data.detected_at,
        started_at=data.started_at,
        created_by_id=by.id if by else None,
        created_at=now,
    )
    incident.affected = [
        AffectedService(service_id=service.id, impact=Impact(impact).value)
        for service, impact in data.affected.items()
    ]
    incident.priority_changes = [
        PriorityChange(
            from_priority=None,
            to_priority=data.priority,
            reason="Incident logged",
            changed_by_id=by.id if by else None,
            changed_at=now,
        )
    ]
    return incident


def publish_update(
    incident: Incident,
    *,
    status: State,
    body: str,
    by: User | None,
    workaround: str = "",
    next_update_at: datetime | None = None,
) -> IncidentUpdate:
    """Post an update; it is public at once when the incident's priority allows."""
    status = State(status)
    if status not in UPDATE_STATUSES:
        raise IncidentRuleError(
            "Choose investigating, identified, monitoring or resolved.", "status"
        )
    if incident.state_enum is State.CLOSED:
        raise IncidentRuleError("This incident is closed; it takes no more updates.")
    if not (body or "").strip():
        raise IncidentRuleError("Write what is happening for the public.", "body")
    now = clock.now()
    if next_update_at is not None and next_update_at <= now:
        raise IncidentRuleError("The next update time must be in the future.", "next_update_at")
    if status is State.RESOLVED and next_update_at is not None:
        raise IncidentRuleError(
            "A resolved incident has no next update; clear that time.", "next_update_at"
        )

    update = IncidentUpdate(
        incident=incident,
        status=status.value,
        body=body.strip(),
        workaround=(workaround or "").strip(),
        next_update_at=next_update_at,
        published_at=now,
        author_id=by.id if by else None,
    )
    db.session.add(update)
    incident.state = status.value
    if incident.acknowledged_at is None:
        incident.acknowledged_at = now
    incident.resolved_at = now if status is State.RESOLVED else None
    _mark_public_if_allowed(incident, now)
    db.session.commit()
    return update


def change_priority(incident: Incident, *, to: int, reason: str, by: User | None) -> None:
    """Record a new priority with who and why; the public view follows at once."""
    if incident.state_enum is State.CLOSED:
        raise IncidentRuleError("This incident is closed; its priority cannot change.", "priority")
    check_priority(to, incident.is_security)
    if to == incident.priority:
        raise IncidentRuleError(f"The incident is already P{to}.", "priority")
    if not reason.strip():
        raise IncidentRuleError("Say why the priority changes.", "reason")
    now = clock.now()
    db.session.add(
        PriorityChange(
            incident=incident,
            from_priority=incident.priority,
            to_priority=to,
            reason=reason.strip(),
            changed_by_id=by.id if by else None,
            changed_at=now,
        )
    )
    incident.priority = to
    _mark_public_if_allowed(incident, now)
    db.session.commit()


def set_made_public(incident: Incident, made_public: bool) -> None:
    """A lead decides whether a P3 is shown to the public (it has had several reports)."""
    incident.made_public = made_public
    _mark_public_if_allowed(incident, clock.now())
    db.session.commit()


def _mark_public_if_allowed(incident: Incident, now: datetime) -> None:
    """Stamp the first public communication once an update exists and the priority allows it."""
    if incident.first_public_at is not None or not incident.updates:
        return
    if priority_allows_public(incident.priority, incident.made_public):
        incident.first_public_at = now
