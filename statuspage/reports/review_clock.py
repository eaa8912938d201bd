"""The review's deadlines on the clock: the meeting's invitations, the review's approval and the
public report each get a reminder before they are due (to the assignee, the report's writers and
the agency's communications leads) and, once passed undone, an escalation to the agency's service
owners, then one position further up the policy's ladder at each step (deadlines.review_notices).

Each notice is an internal message keyed by the step, its due time, its stage and its position, so
several processes running the job (or one running it twice) write it once; a message whose step
was done before it went is skipped, not sent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..catalog.models import Agency
from ..extensions import db
from ..incidents import cadence
from ..incidents.deadlines import BEFORE, ReviewStep, review_deadlines, review_notices
from ..incidents.models import Incident
from ..internal.messages import InternalMessage, Recipient, Skip, enqueue, renderer
from ..internal.models import Position
from ..internal.recipients import holders, members
from ..policy import current_calendar, current_policy
from ..timefmt import format_absolute
from ..users.models import Role, User
from . import meetings, reviews
from .models import PostIncidentReport, ReviewStatus

KIND = "review_clock"


def done_steps(report: PostIncidentReport | None) -> set[ReviewStep]:
    """What is done: the meeting's invitations sent, the review approved, the report published."""
    if report is None:
        return set()
    done = set()
    if meetings.is_scheduled(report) or report.revisions:
        done.add(ReviewStep.MEETING)
    # Waiting for approval, or sent back with changes asked for, is not done.
    if report.status in (ReviewStatus.APPROVED, ReviewStatus.PUBLISHED) or report.revisions:
        done.add(ReviewStep.REVIEW)
    if report.revisions:
        done.add(ReviewStep.REPORT)
    return done


def review_people(incident: Incident, report: PostIncidentReport | None) -> list[Recipient]:
    """The assignee, the report's writers and the agency's communications leads."""
    people = [incident.assignee] if incident.assignee is not None else []
    if report is not None:
        people += [db.session.get(User, author) for author in reviews.authors(report) if author]
    found = [Recipient(p.name, p.email) for p in people if p is not None and p.active]
    return found + members(Role.COMMUNICATIONS_LEAD, [incident.agency_id])


def check_review_deadlines(now: datetime) -> int:
    """Queue the review notices due for every review still owed; returns how many rows were
    new (the dispatcher sends them)."""
    policy, calendar = current_policy(), current_calendar()
    agency_ids = list(db.session.scalars(select(Agency.id)))
    written = 0
    for owed in reviews.outstanding_reviews(agency_ids, now):
        incident = owed.incident
        # The recurrence counted once for every owed review, not a query per incident.
        facts = cadence.facts_for(incident, recurrence=owed.recurrence)
        for notice in review_notices(facts, done_steps(owed.report), now, policy, calendar):
            people = (
                review_people(incident, owed.report)
                if notice.stage == BEFORE
                else holders(Position(notice.position), [incident.agency_id])
            )
            written += enqueue(people, KIND, notice.detail, incident_id=incident.id)
        db.session.commit()
    return written


@renderer(KIND)
def render(detail: str, incident_id: int | None) -> InternalMessage:
    step_value, due_text, stage, position = detail.split("|")
    step = ReviewStep(step_value)
    incident = db.session.get(Incident, incident_id) if incident_id else None
    if incident is None:
        raise Skip("the incident no longer exists")
    report = reviews.report_for(incident)
    if step in done_steps(report):
        raise Skip(f"the {step.label} was done before this message went")
    facts = cadence.facts_for(incident, with_recurrence=True)
    due = review_deadlines(facts, current_policy(), current_calendar()).get(step)
    if due is None or due.strftime("%Y%m%dT%H%M%S") != due_text:
        raise Skip(f"the {step.label} deadline moved before this message went")
    what = step.label
    link = meetings.review_link(incident)
    if stage == BEFORE:
        subject = f"Due {format_absolute(due)}: {what} for {incident.ref}"
        opening = f"The {what} for {incident.ref} is due by {format_absolute(due)}. {_how(step)}"
    else:
        role = Position(position).label.lower()
        subject = f"OVERDUE: {what} for {incident.ref}"
        opening = (
            f"The {what} for {incident.ref} was due by {format_absolute(due)} and is not done. "
            f"The policy tells the next level up: you, as {role}. Make sure someone takes it in "
            f"hand. {_how(step)}"
        )
    text = f"{opening}\n\nIncident: {incident.title}\nThe review: {link}"
    return InternalMessage(subject, text, incident.id)


def _how(step: ReviewStep) -> str:
    return {
        ReviewStep.MEETING: "Schedule the review meeting and send its invitations on the "
        "review page.",
        ReviewStep.REVIEW: "Write the review and ask a service owner to approve it.",
        ReviewStep.REPORT: "Publish the approved report on the incident's public page.",
    }[step]
