"""Post-incident reviews: start, write, approve (service owner), publish, correct, track actions."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..communications.templates import jargon_list
from ..date_range import YEARS, within
from ..extensions import db
from ..incidents.models import Incident
from ..policy import current_policy
from ..reports import actions as preventive
from ..reports import meetings, reviews
from ..reports.models import ActionStatus, PostIncidentReport
from ..reports.reviews import ActionDraft, Contributor, ReviewContent, ReviewError
from ..reports.timeline import TimelineError, parse_lines
from ..timefmt import site_zone
from ..users.models import Role
from . import admin
from .forms import ActionForm, EffectivenessForm, ReviewForm
from .permissions import allow
from .review_forms import ChangesForm, MeetingForm

BLANK_ACTION_ROWS = 2
BLANK_CONTRIBUTOR_ROWS = 2
TEXT_FIELDS = (
    "summary", "people_affected", "duration", "transactions_lost", "root_cause",
    "root_cause_category", "resolution", "lessons", "apology", "correction_note",
    "contributing_factors", "went_well", "went_wrong",
)  # fmt: skip


def _number_text(number: int | None) -> str:
    return "" if number is None else str(number)


def _form_for(report: PostIncidentReport) -> ReviewForm:
    whys = report.whys
    form = ReviewForm(
        formdata=None,
        **{name: getattr(report, name) for name in TEXT_FIELDS},
        timeline=reviews.timeline_text(report),
        **{f"why_{number}": why for number, why in enumerate(whys, start=1)},
        **{f"fishbone_{key}": text for key, text in report.bones.items()},
        people_affected_count=_number_text(report.people_affected_count),
        downtime_cost=_number_text(report.downtime_cost),
    )
    for contributor in report.contributor_list:
        form.contributors.append_entry(contributor)
    for action in report.actions:
        form.actions.append_entry(
            {
                "description": action.description,
                "owner": action.owner,
                "due_on": action.due_on.isoformat(),
                "status": action.status,
                "category": action.category,
                "impact": action.impact,
                "effort": action.effort,
                "id": str(action.id),
            }
        )
    return form


def _check_form(action_id: int, formdata=None) -> EffectivenessForm:
    """One completed action's check; the prefix keeps each action's fields apart on the page."""
    return EffectivenessForm(formdata=formdata, prefix=f"check-{action_id}")


def _with_blank_rows(form: ReviewForm) -> ReviewForm:
    for _ in range(BLANK_ACTION_ROWS):
        form.actions.append_entry()
    for _ in range(BLANK_CONTRIBUTOR_ROWS):
        form.contributors.append_entry()
    return form


def _meeting_form(incident: Incident, report: PostIncidentReport | None, form=None):
    """The meeting form with the agency's staff to choose from; a new one prefilled with the
    people a review needs (a scheduled one with its own choices)."""
    people = meetings.staff(incident.agency_id)
    if form is None:
        if report is not None and report.meeting_at is not None:
            form = MeetingForm(
                formdata=None,
                at=report.meeting_at,
                minutes=report.meeting_minutes,
                place=report.meeting_place,
                facilitator=report.facilitator_id,
                invitees=[u.id for u in meetings.invitees(report)],
            )
        else:
            leaders = meetings.commanders(incident)
            other = next((u.id for u in people if u.id not in leaders), 0)
            form = MeetingForm(formdata=None, facilitator=other,
                               invitees=meetings.suggested_invitees(incident))  # fmt: skip
    form.facilitator.choices = {0: "Choose a facilitator", **{u.id: u.name for u in people}}
    form.invitees.choices = {u.id: u.name for u in people}
    return form


def _render(
    incident: Incident,
    report: PostIncidentReport | None,
    form=None,
    status=200,
    meeting_form=None,
    checks=None,
):
    owed = reviews.owed_by(incident)
    if report is not None and form is None:
        form = _with_blank_rows(_form_for(report))
    checks = checks or {}
    completed = [a for a in report.actions if a.completed_on is not None] if report else []
    for action in completed:
        if action.id not in checks and not action.effectiveness:
            checks[action.id] = _check_form(action.id)
    return (
        render_template(
            "admin/review.html",
            incident=incident,
            report=report,
            form=form,
            need=owed.need,
            report_due=owed.report_due,
            missing=reviews.missing_sections(report) if report else [],
            can_write=current_user.can(reviews.WRITER, incident.agency_id),
            can_approve=current_user.can(reviews.APPROVER, incident.agency_id),
            action_form=ActionForm(formdata=None),
            action_statuses={status.value: status.label for status in ActionStatus},
            checks=checks,
            check_after=current_policy().rules.effectiveness_check_after,
            effectiveness_labels=preventive.EFFECTIVENESS_LABELS,
            check_due={action.id: preventive.check_due(action) for action in completed},
            today=preventive.site_today(),
            meeting_form=_meeting_form(incident, report, meeting_form),
            meeting_due=meetings.deadline(incident),
            meeting_policy=current_policy().rules.review_meeting_within,
            late_reason=meetings.late_reason(report) if report else "",
            place_link=meetings.place_link(report.meeting_place) if report else None,
            is_scheduled=report is not None and meetings.is_scheduled(report),
        ),
        status,
    )


@admin.get("/incidents/<ref>/review")
@allow.role(Role.VIEWER, incident="ref")
def review(ref: str):
    incident = g.incident
    return _render(incident, reviews.report_for(incident))


@admin.post("/incidents/<ref>/review/start")
@allow.role(reviews.WRITER, incident="ref")
def start_review(ref: str):
    incident = g.incident
    if not ActionForm().validate_on_submit():
        abort(400)
    reviews.start_review(incident, by=current_user)
    flash("Review started, prefilled from the incident's record.", "success")
    return redirect(url_for("admin.review", ref=ref))


def _action_drafts(form: ReviewForm) -> list[ActionDraft]:
    """The filled rows; a date that cannot be read is refused with the row's number."""
    drafts = []
    for number, entry in enumerate(form.actions, start=1):
        row = entry.form
        description = (row.description.data or "").strip()
        owner = (row.owner.data or "").strip()
        raw_due = (row.due_on.data or "").strip()
        if not (description or owner or raw_due):
            continue
        try:
            due_on = date.fromisoformat(raw_due) if raw_due else None
        except ValueError:
            raise ReviewError(
                f"Preventive action {number}: “{raw_due}” is not a date; use YYYY-MM-DD.",
                f"actions-{number - 1}-due_on",
            ) from None
        if due_on is not None and not within(due_on):
            raise ReviewError(
                f"Preventive action {number}: the due date “{raw_due}” is not {YEARS}.",
                f"actions-{number - 1}-due_on",
            )
        drafts.append(
            ActionDraft(description, owner, due_on, row.status.data, row.category.data or "",
                        row.impact.data or "", row.effort.data or "", _row_id(row.id.data))
        )  # fmt: skip
    return drafts


def _contributors(form: ReviewForm) -> list[Contributor]:
    """Every row as typed (blank ones are left out when saved), so a message names its row."""
    return [
        Contributor((entry.form.name.data or "").strip(), (entry.form.role.data or "").strip())
        for entry in form.contributors
    ]


def _number(field) -> int | None:
    """A number field's value, already checked by the form."""
    return reviews.whole_number(field.data or "", reviews.NUMBERS[field.name])


def _row_id(value: str | None) -> int | None:
    """The hidden id of a row; one that is not a number names no action of this review."""
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdecimal() or len(value) > 18:
        abort(404)
    return int(value)


def _add_error(form: ReviewForm, error: ReviewError) -> None:
    """A rule's message on its field; an action's or a contributor's field lives in its row."""
    if error.field and error.field.startswith(("actions-", "contributors-")):
        rows, index, name = error.field.split("-", 2)
        row = form[rows][int(index)].form
        row[name].errors = [*row[name].errors, error.message]
    else:
        form.add_error(error.field, error.message)


@admin.post("/incidents/<ref>/review")
@allow.role(reviews.WRITER, incident="ref")
def save_review(ref: str):
    incident = g.incident
    report = reviews.report_for(incident) or abort(404)
    form = ReviewForm()
    if not form.validate_on_submit():
        return _render(incident, report, form, status=400)
    # Every problem at once: the timeline, the actions and the contributors are read apart.
    timeline = actions = None
    try:
        timeline = parse_lines(form.timeline.data or "", site_zone())
    except TimelineError as error:
        form.timeline.errors = [str(error)]
    try:
        actions = _action_drafts(form)
        reviews.check_actions(actions)
    except ReviewError as error:
        _add_error(form, error)
    contributors = _contributors(form)
    try:
        reviews.check_contributors(contributors)
    except ReviewError as error:
        _add_error(form, error)
    if timeline is None or form.errors_in_actions() or form.errors_in_contributors():
        return _render(incident, report, form, status=400)
    try:
        content = ReviewContent(
            **{name: form[name].data or "" for name in TEXT_FIELDS},
            timeline=timeline,
            actions=actions,
            five_whys=[field.data or "" for field in form.whys],
            fishbone={key: field.data or "" for key, field in form.bones.items()},
            contributors=contributors,
            people_affected_count=_number(form.people_affected_count),
            downtime_cost=_number(form.downtime_cost),
        )
        reviews.save_draft(report, content, by=current_user)
    except preventive.UnknownAction:
        db.session.rollback()
        abort(404)
    except ReviewError as error:
        db.session.rollback()
        _add_error(form, error)
        return _render(incident, report, form, status=400)
    flash("Review saved as a draft. The service owner approves it before it is published.",
          "success")  # fmt: skip
    return redirect(url_for("admin.review", ref=ref))


def _decide(ref: str, operation, success: str):
    report = reviews.report_for(g.incident) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        operation(report, by=current_user)
    except ReviewError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("admin.review", ref=ref))
    flash(success, "success")
    return redirect(url_for("admin.review", ref=ref))


def _approval_page(incident: Incident, report: PostIncidentReport, changes_form=None, status=200):
    return (
        render_template(
            "admin/review_approval.html",
            incident=incident,
            report=report,
            preview=reviews.preview(report),
            advice=reviews.plain_language(report, jargon_list()),
            missing=reviews.missing_sections(report),
            authors=reviews.authors(report),
            action_form=ActionForm(formdata=None),
            changes_form=changes_form or ChangesForm(formdata=None),
        ),
        status,
    )


@admin.get("/incidents/<ref>/review/approve")
@allow.role(reviews.APPROVER, incident="ref")
def review_approval(ref: str):
    """The approver's page: the plain-language check and the report as citizens will read it."""
    incident = g.incident
    report = reviews.report_for(incident) or abort(404)
    return _approval_page(incident, report)


@admin.post("/incidents/<ref>/review/approve")
@allow.role(reviews.APPROVER, incident="ref")
def approve_review(ref: str):
    return _decide(ref, reviews.approve, "Approved. It can now be published.")


@admin.post("/incidents/<ref>/review/changes")
@allow.role(reviews.APPROVER, incident="ref")
def request_review_changes(ref: str):
    incident = g.incident
    report = reviews.report_for(incident) or abort(404)
    form = ChangesForm()
    if not form.validate_on_submit():
        return _approval_page(incident, report, form, status=400)
    try:
        reviews.request_changes(report, form.note.data, by=current_user)
    except ReviewError as error:
        db.session.rollback()
        form.add_error(error.field, error.message)
        return _approval_page(incident, report, form, status=400)
    flash("Changes asked for. The writers have your note by email and on the review page.",
          "success")  # fmt: skip
    return redirect(url_for("admin.review", ref=ref))


@admin.post("/incidents/<ref>/review/meeting")
@allow.role(meetings.SCHEDULER, incident="ref")
def schedule_meeting(ref: str):
    incident = g.incident
    report = reviews.report_for(incident) or abort(404)
    form = _meeting_form(incident, report, MeetingForm())
    if not form.validate_on_submit():
        return _render(incident, report, meeting_form=form, status=400)
    plan = meetings.MeetingPlan(
        at=form.at.data,
        minutes=form.minutes.data,
        place=form.place.data,
        facilitator_id=form.facilitator.data,
        invitee_ids=form.invitees.data,
        late_reason=form.late_reason.data or "",
    )
    try:
        rescheduled = meetings.schedule(report, plan, by=current_user)
    except ReviewError as error:
        db.session.rollback()
        form.add_error(error.field, error.message)
        return _render(incident, report, meeting_form=form, status=400)
    flash(("Meeting moved: everyone invited gets the new time." if rescheduled
           else "Meeting scheduled: the invitations are on their way."), "success")  # fmt: skip
    return redirect(url_for("admin.review", ref=ref, _anchor="meeting-heading"))


@admin.post("/incidents/<ref>/review/meeting/cancel")
@allow.role(meetings.SCHEDULER, incident="ref")
def cancel_meeting(ref: str):
    return _decide(ref, meetings.cancel, "Meeting cancelled: everyone invited is told.")


@admin.post("/incidents/<ref>/review/publish")
@allow.role(reviews.WRITER, incident="ref")
def publish_review(ref: str):
    return _decide(
        ref,
        reviews.publish,
        "Published on the incident's page, in the feeds and to its subscribers.",
    )


@admin.post("/incidents/<ref>/review/actions")
@allow.role(reviews.WRITER, incident="ref")
def track_actions(ref: str):
    incident = g.incident
    report = reviews.report_for(incident) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    statuses = {
        action.id: request.form.get(f"status-{action.id}", action.status)
        for action in report.actions
    }
    try:
        changed = reviews.update_action_statuses(report, statuses, by=current_user)
    except ReviewError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(f"{changed} action{'' if changed == 1 else 's'} updated.", "success")
    return redirect(url_for("admin.review", ref=ref))


@admin.post("/incidents/<ref>/review/effectiveness")
@allow.role(reviews.WRITER, incident="ref")
def record_effectiveness(ref: str):
    incident = g.incident
    report = reviews.report_for(incident) or abort(404)
    action_id = _row_id(request.form.get("action")) or abort(404)
    form = _check_form(action_id, request.form)
    if form.validate_on_submit():
        try:
            preventive.record_effectiveness(
                report, action_id, form.result.data, form.note.data or "", by=current_user
            )
        except preventive.UnknownAction:
            db.session.rollback()
            abort(404)
        except preventive.ActionError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            flash("Effectiveness check recorded.", "success")
            return redirect(url_for("admin.review", ref=ref, _anchor="tracking-heading"))
    if action_id not in {action.id for action in report.actions}:
        abort(404)
    return _render(incident, report, status=400, checks={action_id: form})
