"""Triage outcomes: an incident that turned out not to be one is closed as a duplicate (linked to
the original), a false alarm or a service request, with a note. It owes no review or public
report (deadlines.review_need) and is counted apart in the monthly reports. If it was public, a
closing update says in plain words how it ended, through the one publish path."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update

from .. import audit, clock
from ..extensions import db
from ..internal.models import Triage
from ..policy import current_policy
from ..users.models import User
from .models import Approval, ApprovalStatus, Incident, State
from .operations import IncidentRuleError, UpdateContent, _publish, lock
from .visibility import is_public

# What the public page says when a public incident is closed this way.
PUBLIC_ENDINGS = {
    Triage.FALSE_ALARM: "This turned out to be a false alarm: the service was working normally "
    "and nobody needs to do anything.",
    Triage.SERVICE_REQUEST: "This turned out not to be a problem with the service: it was a "
    "request for help, which our support team is handling directly.",
}


@dataclass(frozen=True)
class TriageDecision:
    outcome: str  # a Triage value
    note: str
    duplicate_of: str = ""  # the original's reference, for a duplicate


def label(incident: Incident) -> str:
    """How it ended, for staff: "Duplicate of INC-…", "False alarm"…"""
    if not incident.triage:
        return ""
    outcome = Triage(incident.triage)
    if outcome is Triage.DUPLICATE and incident.duplicate_of is not None:
        return f"Duplicate of {incident.duplicate_of.ref}"
    return outcome.label


def duplicates_of(incident: Incident) -> list[Incident]:
    """The incidents closed as duplicates of this one."""
    return list(
        db.session.scalars(
            select(Incident)
            .where(Incident.duplicate_of_id == incident.id)
            .order_by(Incident.detected_at)
        )
    )


def check(incident: Incident, decision: TriageDecision) -> tuple[Triage, str, Incident | None]:
    """Refuse what the rules do not allow, naming the field at fault; nothing is changed."""
    if incident.state_enum is State.CLOSED:
        raise IncidentRuleError("This incident is already closed; it cannot be triaged now.")
    try:
        outcome = Triage(decision.outcome)
    except ValueError:
        raise IncidentRuleError(
            "Choose duplicate, false alarm or service request.", "outcome"
        ) from None
    note = (decision.note or "").strip()
    if not note:
        raise IncidentRuleError("Write a note: why it ends this way.", "note")
    original = None
    if outcome is Triage.DUPLICATE:
        original = _original(incident, decision.duplicate_of)
    elif (decision.duplicate_of or "").strip():
        raise IncidentRuleError(
            "Only a duplicate links to another incident; clear the reference.", "duplicate_of"
        )
    return outcome, note, original


def _original(incident: Incident, reference: str) -> Incident:
    ref = (reference or "").strip().upper()
    if not ref:
        raise IncidentRuleError(
            "Enter the reference of the original incident, like INC-2026-1123-001.",
            "duplicate_of",
        )
    if ref == incident.ref:
        raise IncidentRuleError("An incident cannot be a duplicate of itself.", "duplicate_of")
    original = db.session.scalars(select(Incident).where(Incident.ref == ref)).first()
    if original is None:
        raise IncidentRuleError(f"There is no incident {ref}: check the reference.", "duplicate_of")
    if original.agency_id != incident.agency_id:
        raise IncidentRuleError(
            f"{ref} is not an incident of {incident.agency.name}: a duplicate links to an "
            "incident of the same agency.",
            "duplicate_of",
        )
    if original.triage == Triage.DUPLICATE.value:
        # Link to the original itself: no chains, and never a loop back to this incident.
        target = original.duplicate_of.ref if original.duplicate_of else "its original"
        raise IncidentRuleError(
            f"{ref} was itself closed as a duplicate of {target}: link to {target} instead.",
            "duplicate_of",
        )
    if original.triage:
        raise IncidentRuleError(
            f"{ref} was closed as {Triage(original.triage).label.lower()}: it cannot be the "
            "original of a duplicate.",
            "duplicate_of",
        )
    if bool(original.is_exercise) != bool(incident.is_exercise):
        raise IncidentRuleError(
            f"{ref} is {'an exercise' if original.is_exercise else 'a real incident'} and this "
            f"one is {'an exercise' if incident.is_exercise else 'a real incident'}: a duplicate "
            "links to one of its own kind.",
            "duplicate_of",
        )
    return original


def public_ending(outcome: Triage, original: Incident | None) -> str:
    """The closing public update's words (Markdown)."""
    if outcome is not Triage.DUPLICATE:
        return PUBLIC_ENDINGS[outcome]
    if original is not None and is_public(original):
        base = current_app.config["SITE_URL"].rstrip("/")
        return (
            "This was the same problem as another incident we are already reporting: "
            f"[{original.title}]({base}/incidents/{original.ref}). Follow that page for updates; "
            "we will not post here again."
        )
    return (
        "This was the same problem as another report we are already dealing with. We will not "
        "post here again."
    )


def triage(incident: Incident, decision: TriageDecision, *, by: User | None) -> None:
    """Close the incident with its triage outcome (from any state before closed): audited, and
    with a closing public update when it was public."""
    lock(incident)
    outcome, note, original = check(incident, decision)
    approver = current_policy()[incident.priority].closure_approver
    if approver is not None and by is not None and not by.can(approver, incident.agency_id):
        # Triage closes the incident: the person the policy names to approve closing decides.
        raise IncidentRuleError(
            f"Closing a P{incident.priority} takes a {approver.label.lower()}: ask one to close "
            "it this way."
        )
    now = clock.now()
    if is_public(incident):
        _publish(
            incident,
            UpdateContent(status=State.RESOLVED, body=public_ending(outcome, original)),
            by,
        )
    elif incident.resolved_at is None:
        incident.resolved_at = now
    previous = incident.state
    incident.state = State.CLOSED.value
    incident.closed_at = now
    incident.triage = outcome.value
    incident.duplicate_of_id = original.id if original else None
    # Nothing is left to decide on an incident that was not one.
    db.session.execute(
        update(Approval)
        .where(Approval.incident_id == incident.id,
               Approval.status == ApprovalStatus.PENDING.value)
        .values(status=ApprovalStatus.REJECTED.value, decided_by_id=by.id if by else None,
                decided_at=now, decision_note=f"Closed as {outcome.label.lower()}")
        .execution_options(synchronize_session="fetch")
    )  # fmt: skip
    audit.record(
        "incident_triaged", actor=by, agency_id=incident.agency_id, incident=incident,
        reason=note, outcome=outcome.label, **{"from": previous, "to": State.CLOSED.value},
        **({"duplicate_of": original.ref} if original else {}),
    )  # fmt: skip
    db.session.commit()
