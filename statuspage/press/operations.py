"""Media statements from draft to release. Each operation takes the incident's lock, checks the
rules (refusing with PressError, nothing changed), writes the change and its audit entry, and
commits where you can see it.

Who approves: the policy row's closure approver for the incident's priority (a service owner for
a P1, a service manager for a P2 by default): the person who signs off the end of an incident of
that gravity also signs off what the agency tells the press about it. A priority whose row names
no closure approver (a P3 a lead chose to give a statement) falls back to the policy's
de-escalation approver, so a statement is never released without someone else's approval. The
author never approves their own statement (duties.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from .. import audit, clock, duties
from ..extensions import db
from ..incidents.models import Incident
from ..incidents.operations import lock
from ..incidents.visibility import is_public
from ..policy import Policy, current_policy
from ..users.models import Role, User
from . import messages
from .models import PressStatement, StatementStatus, TalkingPoints
from .templates import fill, gaps

HEADLINE_LIMIT = 200
BODY_LIMIT = 10_000
POINTS_LIMIT = 20_000
# Saving, starting and submitting make someone an author (who may not approve).
AUTHOR_ACTIONS = ("press_statement_started", "press_statement_saved", "press_statement_submitted")


class PressError(ValueError):
    """A change the rules refuse; ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class StatementContent:
    headline: str
    body: str
    talking_points: str = ""


# --- what the policy asks -----------------------------------------------------------------------


def owes_statement(incident: Incident, policy: Policy | None = None) -> bool:
    """The policy asks for a media statement at this priority (never for a drill)."""
    policy = policy or current_policy()
    return policy[incident.priority].media_statement and not incident.is_exercise


def approver_for(incident: Incident, policy: Policy | None = None) -> Role:
    policy = policy or current_policy()
    return policy[incident.priority].closure_approver or policy.rules.deescalation_approver


def may_prepare(incident: Incident) -> bool:
    """Owed by the policy, or chosen by a lead for any incident already on the public site."""
    return not incident.is_exercise and (owes_statement(incident) or is_public(incident))


def statements_of(incident: Incident) -> list[PressStatement]:
    return list(db.session.scalars(
        select(PressStatement).where(PressStatement.incident_id == incident.id)
        .order_by(PressStatement.number)
    ))  # fmt: skip


def unreleased(incident: Incident) -> PressStatement | None:
    return next((s for s in statements_of(incident) if not s.is_released), None)


def superseded_by(statement: PressStatement) -> PressStatement | None:
    """The released correction that replaces this statement, if any."""
    return db.session.scalars(
        select(PressStatement).where(
            PressStatement.supersedes_id == statement.id,
            PressStatement.status == StatementStatus.RELEASED.value,
        )
    ).first()


def authors(statement: PressStatement) -> set[int]:
    """Everyone who started, wrote or submitted the statement: none of them may approve it."""
    found = duties.audited_actors(
        AUTHOR_ACTIONS, mentioning=_mention(statement), incident_id=statement.incident_id
    )
    return found | {i for i in (statement.created_by_id, statement.updated_by_id,
                                statement.submitted_by_id) if i is not None}  # fmt: skip


def _mention(statement: PressStatement) -> str:
    return f'"statement": "{_label(statement)}"'


def _label(statement: PressStatement) -> str:
    return f"#{statement.id}"


# --- writing ------------------------------------------------------------------------------------


def start_statement(
    incident: Incident, *, by: User, corrects: PressStatement | None = None
) -> PressStatement:
    """A draft from the template (or, for a correction, from the statement it corrects)."""
    lock(incident)
    if incident.is_exercise:
        raise PressError("This is an exercise: it never gets a media statement.")
    if not may_prepare(incident):
        raise PressError(
            f"The policy asks for no media statement at P{incident.priority}. You can prepare one "
            "once the incident is on the public site."
        )
    if unreleased(incident) is not None:
        raise PressError("A statement for this incident is already being written: open it.")
    if corrects is not None:
        if not corrects.is_released or corrects.incident_id != incident.id:
            raise PressError("Only a released statement of this incident can be corrected.")
        if superseded_by(corrects) is not None:
            raise PressError("This statement has already been corrected: correct the latest one.")
    now = clock.now()
    number = (db.session.scalar(
        select(func.max(PressStatement.number)).where(PressStatement.incident_id == incident.id)
    ) or 0) + 1  # fmt: skip
    if corrects is not None:
        points = corrects.talking_points.text if corrects.talking_points else ""
        draft = StatementContent(corrects.headline, corrects.body, points)
    else:
        filled = fill(incident)
        draft = StatementContent(filled.headline, filled.body, filled.talking_points)
    statement = PressStatement(
        incident=incident, agency_id=incident.agency_id, number=number,
        status=StatementStatus.DRAFT.value, headline=draft.headline.strip(),
        body=draft.body.strip() + "\n",
        supersedes_id=corrects.id if corrects else None, chosen=not owes_statement(incident),
        created_by_id=by.id, created_at=now, updated_by_id=by.id, updated_at=now,
        talking_points=TalkingPoints(text=draft.talking_points.strip()),
    )  # fmt: skip
    db.session.add(statement)
    db.session.flush()
    audit.record(
        "press_statement_started", actor=by, agency_id=incident.agency_id, incident=incident,
        statement=_label(statement), priority=f"P{incident.priority}",
        owed="yes (the policy)" if owes_statement(incident) else "no: chosen by a lead",
        **({"corrects": _label(corrects)} if corrects else {}),
    )  # fmt: skip
    db.session.commit()
    return statement


def check_content(content: StatementContent) -> None:
    if not (content.headline or "").strip():
        raise PressError("Write a headline.", "headline")
    if len(content.headline.strip()) > HEADLINE_LIMIT:
        raise PressError(f"Keep the headline to {HEADLINE_LIMIT} characters or fewer.", "headline")
    if not (content.body or "").strip():
        raise PressError("Write the statement.", "body")
    if len(content.body.strip()) > BODY_LIMIT:
        raise PressError(f"Keep the statement to {BODY_LIMIT:,} characters or fewer.", "body")
    if len((content.talking_points or "").strip()) > POINTS_LIMIT:
        raise PressError(
            f"Keep the talking points to {POINTS_LIMIT:,} characters or fewer.", "talking_points"
        )


def _check_editable(statement: PressStatement) -> None:
    status = statement.status_enum
    if status is StatementStatus.RELEASED:
        raise PressError("A released statement never changes. Write a correction instead.")
    if status is StatementStatus.SUBMITTED:
        raise PressError(
            "This statement is waiting for approval; the approver can send it back for changes."
        )


def _apply(statement: PressStatement, content: StatementContent, by: User) -> list[str]:
    check_content(content)
    values = {"headline": content.headline.strip(), "body": content.body.strip() + "\n",
              "talking_points": (content.talking_points or "").strip()}  # fmt: skip
    points = statement.talking_points or TalkingPoints(statement=statement, text="")
    before = {"headline": statement.headline, "body": statement.body,
              "talking_points": points.text}  # fmt: skip
    changed = [name for name, value in values.items() if before[name] != value]
    if not changed:
        return []
    statement.headline, statement.body = values["headline"], values["body"]
    points.text = values["talking_points"]
    statement.updated_by_id, statement.updated_at = by.id, clock.now()
    audit.record(
        "press_statement_saved", actor=by, agency_id=statement.agency_id,
        incident=statement.incident, statement=_label(statement),
        changed=[name.replace("_", " ") for name in changed],
    )  # fmt: skip
    return changed


def save_draft(statement: PressStatement, content: StatementContent, *, by: User) -> list[str]:
    """Save what the author wrote; returns the parts that changed ([] when none did)."""
    lock(statement.incident)
    _check_editable(statement)
    changed = _apply(statement, content, by)
    db.session.commit()
    return changed


def submit(statement: PressStatement, content: StatementContent, *, by: User) -> Role:
    """Save and ask the policy's approver; returns the role asked."""
    incident = statement.incident
    lock(incident)
    _check_editable(statement)
    _apply(statement, content, by)
    for name, text in (("headline", statement.headline), ("body", statement.body),
                       ("talking_points", statement.talking_points.text)):  # fmt: skip
        if left := gaps(text):
            raise PressError(
                "Fill the gaps marked “[to fill: …]” before asking for approval: "
                + "; ".join(left)
                + ".",
                name,
            )
    approver = approver_for(incident)
    statement.status = StatementStatus.SUBMITTED.value
    statement.round += 1
    statement.submitted_by_id, statement.submitted_at = by.id, clock.now()
    audit.record(
        "press_statement_submitted", actor=by, agency_id=statement.agency_id, incident=incident,
        statement=_label(statement), approver=approver.label,
    )  # fmt: skip
    messages.approval_requested(statement, approver, authors(statement))
    db.session.commit()
    return approver


# --- deciding -----------------------------------------------------------------------------------


def decision_refusal(statement: PressStatement, by: User) -> str | None:
    """Why ``by`` may not decide this statement (None when they may)."""
    role = approver_for(statement.incident)
    if not by.can(role, statement.incident.agency_id):
        return f"Only a {role.label.lower()} can approve this statement."
    return duties.refusal(by, authors(statement), role, did="write this statement",
                          decide="approve it")  # fmt: skip


def _check_decision(statement: PressStatement, by: User) -> None:
    lock(statement.incident)
    if statement.status_enum is not StatementStatus.SUBMITTED:
        raise PressError(
            "This statement is not waiting for approval"
            f" (it is {statement.status_enum.label.lower()})."
        )
    if refused := decision_refusal(statement, by):
        raise PressError(refused)


def approve(statement: PressStatement, *, by: User, note: str = "") -> None:
    """The approver's yes releases the statement on the public press page at once."""
    _check_decision(statement, by)
    incident = statement.incident
    if not is_public(incident):
        raise PressError(
            "The incident is not on the public site yet: publish its first public update, then "
            "approve the statement (it links to the incident's page)."
        )
    now = clock.now()
    statement.status = StatementStatus.RELEASED.value
    statement.slug = f"{incident.ref.lower()}-statement-{statement.number}"
    statement.released_at = now
    statement.decided_by_id, statement.decided_at = by.id, now
    statement.decision_note = (note or "").strip()
    audit.record(
        "press_statement_released", actor=by, agency_id=statement.agency_id, incident=incident,
        reason=statement.decision_note, statement=_label(statement),
        page=f"/press/{statement.slug}",
        **({"supersedes": _label(statement.supersedes)} if statement.supersedes else {}),
    )  # fmt: skip
    messages.decided(statement, by)
    db.session.commit()


def request_changes(statement: PressStatement, *, by: User, note: str) -> None:
    """Send the statement back to its author with a note saying what to change."""
    if not (note or "").strip():
        raise PressError("Say what should change, for the author.", "note")
    _check_decision(statement, by)
    now = clock.now()
    statement.status = StatementStatus.CHANGES_REQUESTED.value
    statement.decided_by_id, statement.decided_at = by.id, now
    statement.decision_note = note.strip()
    audit.record(
        "press_changes_requested", actor=by, agency_id=statement.agency_id,
        incident=statement.incident, reason=statement.decision_note, statement=_label(statement),
    )  # fmt: skip
    messages.decided(statement, by)
    db.session.commit()
