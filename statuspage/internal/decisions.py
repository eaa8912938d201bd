"""Decisions reach the deciders: a request that needs approval (lowering the priority, closing,
a post-incident review, a monthly report) is emailed to everyone who may decide it, the decision
goes back to whoever asked, and an assignment to the new assignee.

Each helper writes internal messages (messages.py) in the caller's transaction, so a request and
its messages are committed together; each renderer says what is asked or decided, by whom, why,
and links to the page where it is decided. A message whose question was settled before it went
is skipped, not sent."""

from __future__ import annotations

import json
from datetime import datetime

from flask import current_app, url_for
from sqlalchemy import func, select

from ..audit import AuditEntry
from ..extensions import db
from ..incidents.models import Approval, ApprovalKind, Incident
from ..reports import monthly
from ..reports.models import MonthlyReport, PostIncidentReport, ReviewStatus
from ..timefmt import format_absolute, site_zone
from ..users.models import Role, User
from .messages import InternalMessage, Recipient, Skip, enqueue, renderer
from .recipients import deciders

APPROVAL_REQUEST = "approval_request"
APPROVAL_DECIDED = "approval_decided"
ASSIGNED = "assigned"
REVIEW_REQUEST = "review_request"
REVIEW_APPROVED = "review_approved"
REVIEW_CHANGES = "review_changes"
MONTHLY_REQUEST = "monthly_request"
MONTHLY_PUBLISHED = "monthly_published"


def _link(endpoint: str, anchor: str = "", **values) -> str:
    base = current_app.config["SITE_URL"].rstrip("/")
    return base + url_for(endpoint, **values) + (f"#{anchor}" if anchor else "")


def _person(user: User | None) -> list[Recipient]:
    return [Recipient(user.name, user.email)] if user is not None and user.active else []


def _name(user: User | None, nobody: str) -> str:
    return user.name if user is not None else nobody


def _existing(model, key, what: str):
    """The row a message is about; when it is gone, the message is no longer needed."""
    row = db.session.get(model, int(str(key).split(":")[0])) if key else None
    if row is None:
        raise Skip(f"the {what} no longer exists")
    return row


def _incident(incident_id: int | None) -> Incident:
    return _existing(Incident, incident_id, "incident")


def _asked(approval: Approval) -> str:
    if approval.kind_enum is ApprovalKind.DE_ESCALATION:
        return f"lower the priority of {approval.incident.ref} to P{approval.to_priority}"
    return f"close {approval.incident.ref}"


# --- lowering the priority and closing --------------------------------------------------------


def approval_requested(approval: Approval, approver: Role) -> int:
    """Ask everyone who may decide (the role the policy names, or higher), not the requester."""
    db.session.flush()  # the request's id names the message
    incident = approval.incident
    return enqueue(
        deciders(approver, incident.agency_id, besides=approval.requested_by_id),
        APPROVAL_REQUEST,
        f"{approval.id}:{approver.key}",
        incident_id=incident.id,
    )


def approval_decided(approval: Approval) -> int:
    """Tell the requester what was decided (nobody when the job asked, or the asker decided)."""
    if approval.requested_by_id is None or approval.requested_by_id == approval.decided_by_id:
        return 0
    return enqueue(
        _person(approval.requested_by), APPROVAL_DECIDED, str(approval.id),
        incident_id=approval.incident_id,
    )  # fmt: skip


def _approval(detail: str) -> Approval:
    return _existing(Approval, detail, "request")


@renderer(APPROVAL_REQUEST)
def render_approval_request(detail: str, incident_id: int | None) -> InternalMessage:
    approval = _approval(detail)
    incident = _incident(incident_id)
    if not approval.is_pending:
        raise Skip(f"the request was {approval.status} before this message went")
    role = Role.from_key(detail.split(":")[1])
    who = _name(approval.requested_by, "The 24-hour rule")
    if approval.kind_enum is ApprovalKind.DE_ESCALATION:
        asked = (
            f"{who} asks to lower the priority of {incident.ref} from P{incident.priority} to "
            f"P{approval.to_priority}."
        )
    else:
        resolved = f", resolved {format_absolute(incident.resolved_at)}" \
            if incident.resolved_at else ""  # fmt: skip
        asked = f"{who} asks to close {incident.ref}{resolved}."
    text = (
        f"{asked}\n\n"
        f"Incident: {incident.title}\n"
        f"Why: {approval.reason or 'no reason given'}\n"
        f"Asked: {format_absolute(approval.requested_at)}\n\n"
        f"A {role.label.lower()} (or a higher role) decides. You can approve or refuse it, with "
        f"a note, on the incident page: "
        f"{_link('admin.incident', 'approvals-heading', ref=incident.ref)}"
    )
    subject = f"[P{incident.priority}] Approval needed: {_asked(approval)}"
    return InternalMessage(subject, text, incident.id)


@renderer(APPROVAL_DECIDED)
def render_approval_decided(detail: str, incident_id: int | None) -> InternalMessage:
    approval = _approval(detail)
    incident = _incident(incident_id)
    if approval.is_pending:
        raise Skip("the request has not been decided")
    approved = approval.status == "approved"
    verb = "approved" if approved else "refused"
    who = _name(approval.decided_by, "The system")
    text = (
        f"{who} {verb} your request to {_asked(approval)}"
        f" ({format_absolute(approval.decided_at)}).\n\n"
        f"Incident: {incident.title}\n"
        f"Your reason: {approval.reason or 'none given'}\n"
        f"{'Note' if approved else 'Why refused'}: {approval.decision_note or 'none given'}\n\n"
        f"See the incident: {_link('admin.incident', ref=incident.ref)}"
    )
    subject = f"[P{incident.priority}] {verb.capitalize()}: {_asked(approval)}"
    return InternalMessage(subject, text, incident.id)


# --- assignment -------------------------------------------------------------------------------


def assigned(incident: Incident, assignee: User | None, *, by: User, at: datetime) -> int:
    """Tell the new assignee (not someone who takes the incident themselves)."""
    if assignee is None or assignee.id == by.id:
        return 0
    return enqueue(
        _person(assignee), ASSIGNED, f"{assignee.id}:{by.id}:{at.isoformat()}",
        incident_id=incident.id,
    )  # fmt: skip


@renderer(ASSIGNED)
def render_assigned(detail: str, incident_id: int | None) -> InternalMessage:
    assignee_id, by_id, at = detail.split(":", 2)
    incident = _incident(incident_id)
    if incident.assignee_id != int(assignee_id):
        raise Skip("the incident was given to someone else before this message went")
    if incident.state == "closed":
        raise Skip("the incident was closed before this message went")
    by = db.session.get(User, int(by_id))
    text = (
        f"{_name(by, 'Someone')} assigned {incident.ref} to you "
        f"({format_absolute(datetime.fromisoformat(at))}).\n\n"
        f"Incident: {incident.title}\n"
        f"Priority: {incident.priority_label}\n\n"
        f"You now get its deadline reminders. Work it on the incident page: "
        f"{_link('admin.incident', ref=incident.ref)}"
    )
    subject = f"[P{incident.priority}] Assigned to you: {incident.title} ({incident.ref})"
    return InternalMessage(subject, text, incident.id)


# --- post-incident reviews --------------------------------------------------------------------


def _approval_round(report: PostIncidentReport) -> int:
    """How many times the review was approved or sent back so far: one request per round."""
    return db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(
            AuditEntry.incident_id == report.incident_id,
            AuditEntry.action.in_(("review_approved", "review_changes_requested")),
        )
    )  # fmt: skip


def review_waiting(report: PostIncidentReport, approver: Role, *, by: User) -> int:
    """A complete draft waits for the service owner: ask them (once per round of approval)."""
    db.session.flush()
    incident = report.incident
    return enqueue(
        deciders(approver, incident.agency_id, besides=by.id),
        REVIEW_REQUEST,
        f"{report.id}:{_approval_round(report)}",
        incident_id=incident.id,
    )


def _writers(authors: set[int | None], by: User) -> list[Recipient]:
    people = [db.session.get(User, author) for author in sorted(a for a in authors if a)]
    return [r for person in people if person.id != by.id for r in _person(person)]


def review_approved(report: PostIncidentReport, authors: set[int | None], *, by: User) -> int:
    """Tell the review's writers that it is approved and can be published."""
    return enqueue(
        _writers(authors, by), REVIEW_APPROVED, f"{report.id}:{report.approved_at.isoformat()}",
        incident_id=report.incident_id,
    )  # fmt: skip


def review_changes_requested(
    report: PostIncidentReport, authors: set[int | None], *, by: User
) -> int:
    """Send the approver's note back to the review's writers."""
    return enqueue(
        _writers(authors, by), REVIEW_CHANGES,
        f"{report.id}:{report.changes_requested_at.isoformat()}", incident_id=report.incident_id,
    )  # fmt: skip


def _report(detail: str) -> PostIncidentReport:
    return _existing(PostIncidentReport, detail, "review")


@renderer(REVIEW_REQUEST)
def render_review_request(detail: str, incident_id: int | None) -> InternalMessage:
    report = _report(detail)
    incident = _incident(incident_id)
    if report.status != ReviewStatus.DRAFT.value:
        raise Skip(f"the review was {report.status} before this message went")
    correction = (
        f"It corrects the published review: {report.correction_note}\n"
        if report.revisions and report.correction_note else ""
    )  # fmt: skip
    summary = " ".join(report.summary.split())
    summary = summary if len(summary) <= 300 else summary[:299] + "…"
    text = (
        f"{_name(report.updated_by, 'The writer')} has written the post-incident review of "
        f"{incident.ref} and asks a service owner to approve it; it is published only after "
        f"approval.\n\n"
        f"Incident: {incident.title}\n"
        f"{correction}"
        f"Summary: {summary}\n\n"
        f"Read and approve it: {_link('admin.review', ref=incident.ref)}"
    )
    subject = f"Review waiting for your approval: {incident.title} ({incident.ref})"
    return InternalMessage(subject, text, incident.id)


@renderer(REVIEW_APPROVED)
def render_review_approved(detail: str, incident_id: int | None) -> InternalMessage:
    report = _report(detail)
    incident = _incident(incident_id)
    approved_at = datetime.fromisoformat(detail.split(":", 1)[1])
    text = (
        f"{_name(report.approved_by, 'A service owner')} approved the post-incident review of "
        f"{incident.ref} ({format_absolute(approved_at)}). It can now be published.\n\n"
        f"Incident: {incident.title}\n\n"
        f"Publish it: {_link('admin.review', ref=incident.ref)}"
    )
    subject = f"Review approved: {incident.title} ({incident.ref})"
    return InternalMessage(subject, text, incident.id)


@renderer(REVIEW_CHANGES)
def render_review_changes(detail: str, incident_id: int | None) -> InternalMessage:
    report = _report(detail)
    incident = _incident(incident_id)
    asked_at = datetime.fromisoformat(detail.split(":", 1)[1])
    latest = report.changes_requested_at
    if latest is None or latest.replace(microsecond=0) != asked_at.replace(microsecond=0):
        raise Skip("a later decision replaces this request for changes")
    text = (
        f"{_name(report.changes_requested_by, 'A service owner')} read the post-incident review "
        f"of {incident.ref} and asks for changes before approving it "
        f"({format_absolute(asked_at)}).\n\n"
        f"What needs to change:\n{report.changes_note}\n\n"
        f"Incident: {incident.title}\n\n"
        f"Make the changes and save: the service owner is asked to approve it again. "
        f"{_link('admin.review', ref=incident.ref)}"
    )
    subject = f"Changes asked for: review of {incident.title} ({incident.ref})"
    return InternalMessage(subject, text, incident.id)


# --- monthly reports --------------------------------------------------------------------------


def monthly_draft_waiting(report: MonthlyReport, publisher: Role, *, by: User | None) -> int:
    """A draft waits to be published: ask the agency's service owners (site administrators for
    the whole site's report). Refreshing the draft asks nobody again."""
    db.session.flush()
    return enqueue(
        deciders(publisher, report.agency_id, besides=by.id if by else None),
        MONTHLY_REQUEST,
        str(report.id),
    )


def _drafted_by(report: MonthlyReport) -> User | None:
    """Whoever first prepared the draft by hand (None when the monthly job did)."""
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "monthly_report_drafted",
               AuditEntry.agency_id.is_(None) if report.agency_id is None
               else AuditEntry.agency_id == report.agency_id)  # fmt: skip
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    month = f"{report.month:%Y-%m}"
    first = next((e for e in entries if json.loads(e.details).get("month") == month), None)
    return first.actor if first is not None else None


def monthly_published(report: MonthlyReport, *, by: User) -> int:
    """Tell whoever prepared the draft that it is published."""
    drafter = _drafted_by(report)
    if drafter is None or drafter.id == by.id:
        return 0
    return enqueue(_person(drafter), MONTHLY_PUBLISHED, str(report.id))


def _monthly(detail: str) -> MonthlyReport:
    return _existing(MonthlyReport, detail, "report")


@renderer(MONTHLY_REQUEST)
def render_monthly_request(detail: str, incident_id: int | None) -> InternalMessage:
    report = _monthly(detail)
    if report.is_published:
        raise Skip("the report was published before this message went")
    month = monthly.month_label(report.month)
    _, end = monthly.month_window(report.month, site_zone())
    drafter = _drafted_by(report)
    text = (
        f"The {month} report for {report.scope_name} is drafted"
        f"{f' by {drafter.name}' if drafter else ' by the monthly job'} and waits for a "
        f"{'site administrator' if report.agency_id is None else 'service owner'} to read the "
        f"figures, add the commentary and publish it. The policy asks for a public report each "
        f"month; once published it never changes.\n\n"
        f"It can be published from {format_absolute(end)}.\n\n"
        f"Read and publish it: {_link('admin.monthly_report', report_id=report.id)}"
    )
    subject = f"Monthly report waiting to be published: {report.scope_name}, {month}"
    return InternalMessage(subject, text)


@renderer(MONTHLY_PUBLISHED)
def render_monthly_published(detail: str, incident_id: int | None) -> InternalMessage:
    report = _monthly(detail)
    if not report.is_published:
        raise Skip("the report is not published")
    month = monthly.month_label(report.month)
    commentary = " ".join(report.commentary.split()) or "none"
    text = (
        f"{_name(report.published_by, 'A service owner')} published the {month} report for "
        f"{report.scope_name} ({format_absolute(report.published_at)}).\n\n"
        f"Commentary: {commentary}\n\n"
        f"See it: {_link('admin.monthly_report', report_id=report.id)}"
    )
    subject = f"Monthly report published: {report.scope_name}, {month}"
    return InternalMessage(subject, text)
