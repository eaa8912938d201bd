"""The reminder that a completed preventive action's effectiveness check has fallen due, to the
people who wrote its review and the agency's communications leads (who record the result). Once
per completion: reopening and finishing an action again asks again."""

from __future__ import annotations

from flask import current_app, url_for
from sqlalchemy import select

from ..extensions import db
from ..policy import current_policy
from ..reports import reviews
from ..reports.actions import check_due
from ..reports.models import ActionStatus, PreventiveAction
from ..templating import long_date
from ..users.models import Role, User
from .messages import InternalMessage, Recipient, Skip, enqueue, renderer
from .recipients import members

EFFECTIVENESS_DUE = "action_effectiveness_due"


def _recipients(action: PreventiveAction) -> list[Recipient]:
    report = action.report
    writer_ids = reviews.authors(report) - {None}
    writers = db.session.scalars(
        select(User).where(User.id.in_(writer_ids), User.active.is_(True)).order_by(User.email)
    )
    leads = members(Role.COMMUNICATIONS_LEAD, [report.incident.agency_id])
    return [*(Recipient(user.name, user.email) for user in writers), *leads]


def remind(action: PreventiveAction) -> int:
    """Queue the reminder (in the caller's transaction); returns how many messages were new."""
    return enqueue(
        _recipients(action),
        EFFECTIVENESS_DUE,
        f"{action.id}:{action.completed_on.isoformat()}",
        incident_id=action.report.incident_id,
    )


@renderer(EFFECTIVENESS_DUE)
def render_effectiveness_due(detail: str, incident_id: int | None) -> InternalMessage:
    action_id, completed_on = detail.split(":", 1)
    action = db.session.get(PreventiveAction, int(action_id))
    if action is None:
        raise Skip("the action was removed from its review")
    if action.status != ActionStatus.DONE.value or str(action.completed_on) != completed_on:
        raise Skip("the action was reopened before this message went")
    if action.effectiveness:
        raise Skip("the effectiveness was recorded before this message went")
    incident = action.report.incident
    page = current_app.config["SITE_URL"].rstrip("/") + url_for("admin.review", ref=incident.ref)
    after = current_policy().rules.effectiveness_check_after
    text = (
        f"A preventive action from the review of {incident.ref} was done on "
        f"{long_date(action.completed_on)}; the policy checks whether an action worked {after} "
        f"after it is done, so its check is due {long_date(check_due(action))}.\n\n"
        f"Action: {action.description}\n"
        f"Owner: {action.owner}\n"
        f"Incident: {incident.title}\n\n"
        f"Record whether it was effective, partly effective or not effective (with a note): "
        f"{page}#tracking-heading"
    )
    what = " ".join(action.description.split())
    what = what if len(what) <= 60 else what[:59] + "…"
    subject = f"Effectiveness check due: {what} ({incident.ref})"
    return InternalMessage(subject, text, incident.id)
