"""Logging incidents, publishing updates, priority, approvals and closure: form -> operation ->
redirect."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import clock
from ..audit import AuditEntry
from ..catalog.models import Agency
from ..communications.plain_language import advise
from ..communications.templates import all_templates, fill, jargon_list, template_by_key
from ..extensions import db
from ..incidents import cadence
from ..incidents.models import (
    AffectedService,
    Approval,
    ApprovalStatus,
    Impact,
    Incident,
    IncidentUpdate,
    Source,
    State,
)
from ..incidents.operations import (
    IncidentRuleError,
    NewIncident,
    UpdateContent,
    acknowledge,
    assign,
    change_priority,
    close_incident,
    create_incident,
    decide_approval,
    publish_update,
    required_approver,
    set_made_public,
)
from ..incidents.visibility import is_public
from ..policy import current_calendar, current_policy
from ..reports import reviews
from ..timefmt import site_zone
from ..users.models import Membership, Role, User
from . import admin
from .forms import (
    ActionForm,
    AssignForm,
    DecisionForm,
    PriorityForm,
    UpdateForm,
    incident_form,
)
from .permissions import agency_ids_for, incident_for, services_for

RECENT_LIMIT = 25
UPDATE_FIELDS = (
    "status", "body", "what_affected", "who_affected", "affected_since", "cause", "workaround",
    "help", "next_update_at", "resolved_at",
)  # fmt: skip


@admin.get("/")
def dashboard():
    agency_ids = agency_ids_for(current_user, Role.VIEWER)
    incidents = db.session.scalars(
        select(Incident)
        .where(Incident.agency_id.in_(agency_ids))
        .options(
            selectinload(Incident.affected).selectinload(AffectedService.service),
            selectinload(Incident.agency),
            selectinload(Incident.updates),
            selectinload(Incident.priority_changes),
            selectinload(Incident.approvals),
        )
        .order_by(Incident.detected_at.desc())
        .limit(200)
    ).all()
    now = clock.now()
    readings = {i.id: cadence.reading(i, now) for i in incidents if i.is_open}
    open_incidents = sorted(
        (i for i in incidents if i.is_open),
        key=lambda i: (readings[i.id].urgency, i.priority, i.detected_at),
    )
    awaiting = [
        a
        for i in incidents
        for a in i.approvals
        if a.is_pending and current_user.can(required_approver(a) or Role.VIEWER, i.agency_id)
    ]
    recent = [i for i in incidents if not i.is_open][:RECENT_LIMIT]
    return render_template(
        "admin/dashboard.html",
        open_incidents=open_incidents,
        readings=readings,
        awaiting=awaiting,
        recent=recent,
        reviews_owed=reviews.outstanding_reviews(agency_ids, now),
        actions_overdue=reviews.overdue_actions(agency_ids, now.astimezone(site_zone()).date()),
        can_create=bool(agency_ids_for(current_user, Role.COMMUNICATIONS_LEAD)),
        now=now,
    )


@admin.route("/incidents/new", methods=["GET", "POST"])
def new_incident():
    services = services_for(current_user, Role.COMMUNICATIONS_LEAD)
    if not services:
        abort(403)
    form = incident_form(services)
    if not form.is_submitted():
        form.detected_at.data = clock.now().replace(second=0, microsecond=0)
    if form.validate_on_submit():
        by_id = {service.id: service for service in services}
        chosen = [by_id[service_id] for service_id in form.services.data]
        agencies = {service.agency_id for service in chosen}
        try:
            if len(agencies) > 1:
                raise IncidentRuleError(
                    "Choose services of one agency; log a separate incident for each agency.",
                    "services",
                )
            agency = db.session.get(Agency, agencies.pop())
            incident = create_incident(
                NewIncident(
                    agency=agency,
                    title=form.title.data,
                    priority=int(form.priority.data),
                    is_security=form.is_security.data,
                    made_public=form.made_public.data,
                    source=Source(form.source.data),
                    impact_description=form.impact_description.data,
                    detected_at=form.detected_at.data,
                    started_at=form.started_at.data,
                    affected={s: Impact(form[f"impact_{s.id}"].data) for s in chosen},
                ),
                by=current_user,
            )
        except IncidentRuleError as error:
            form.add_error(error.field, error.message)
        else:
            flash(
                f"Incident {incident.ref} logged. It is not public until you post its first update.",
                "success",
            )
            return redirect(url_for("admin.incident", ref=incident.ref))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/incident_new.html", form=form, services=services), status


def _prefilled_update_form(incident: Incident) -> UpdateForm:
    """The update form as a lead first sees it: the current status, the elements known so far,
    and the next update time the cadence demands."""
    latest = incident.latest_update
    due = cadence.next_update_due(incident)
    now = clock.now()
    form = UpdateForm(
        formdata=None,
        status=incident.state if incident.state != State.NEW.value else State.INVESTIGATING.value,
        what_affected=latest.what_affected
        if latest
        else ", ".join(a.service.name for a in incident.affected),
        who_affected=latest.who_affected if latest else incident.impact_description,
        affected_since=(latest.affected_since if latest else None)
        or incident.started_at
        or incident.detected_at,
        cause=latest.cause if latest else "",
        workaround=latest.workaround if latest else "",
        help=latest.help if latest else "",
        next_update_at=_suggested_next_update(incident, due, now),
    )
    template = template_by_key(request.args.get("template", ""))
    if template is not None:
        for name, value in fill(template, incident, form.next_update_at.data).items():
            if value or name == "body":
                form[name].data = value
    return form


def _suggested_next_update(incident: Incident, due, now):
    """The cadence's next due time, or for a first update the cadence from now."""
    if due is not None and due > now:
        return due.replace(second=0, microsecond=0)
    window = current_policy()[incident.priority].update_cadence
    if window is None:
        return None
    return window.after(now, current_calendar()).replace(second=0, microsecond=0)


def _assignable(incident: Incident) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .outerjoin(Membership, Membership.user_id == User.id)
            .where(
                User.active.is_(True),
                (User.is_site_admin.is_(True))
                | (
                    (Membership.agency_id == incident.agency_id)
                    & (Membership.role >= int(Role.COMMUNICATIONS_LEAD))
                ),
            )
            .distinct()
            .order_by(User.name)
        )
    )


def _render_incident(incident: Incident, *, status=200, **forms):
    now = clock.now()
    update_form = forms.get("update_form") or _prefilled_update_form(incident)
    assign_form = forms.get("assign_form") or AssignForm(
        formdata=None, assignee=str(incident.assignee_id or "")
    )
    assign_form.assignee.choices = {
        "": "Nobody",
        **{str(u.id): u.name for u in _assignable(incident)},
    }
    can_see_audit = current_user.can(Role.SERVICE_MANAGER, incident.agency_id)
    audit_entries = (
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.incident_id == incident.id)
            .options(selectinload(AuditEntry.actor))
            .order_by(AuditEntry.at, AuditEntry.id)
        ).all()
        if can_see_audit
        else []
    )
    return (
        render_template(
            "admin/incident.html",
            incident=incident,
            update_form=update_form,
            priority_form=forms.get("priority_form")
            or PriorityForm(formdata=None, priority=str(incident.priority)),
            assign_form=assign_form,
            decision_form=forms.get("decision_form") or DecisionForm(formdata=None),
            action_form=ActionForm(formdata=None),
            preview=forms.get("preview"),
            advice=forms.get("advice"),
            deadlines=cadence.deadlines_for(incident) if incident.is_open else [],
            reading=cadence.reading(incident, now),
            templates=all_templates(),
            audit_entries=audit_entries,
            can_decide={
                a.id: current_user.can(required_approver(a) or Role.VIEWER, incident.agency_id)
                and a.requested_by_id != current_user.id
                for a in incident.approvals
            },
            is_public=is_public(incident),
            review_need=reviews.owed_by(incident).need,
            review=reviews.report_for(incident),
            can_publish=current_user.can(Role.COMMUNICATIONS_LEAD, incident.agency_id),
            now=now,
        ),
        status,
    )


@admin.get("/incidents/<ref>")
def incident(ref: str):
    return _render_incident(incident_for(ref, Role.VIEWER))


def _update_content(form: UpdateForm) -> UpdateContent:
    return UpdateContent(**{name: form[name].data for name in UPDATE_FIELDS})


@admin.post("/incidents/<ref>/updates")
def post_update(ref: str):
    found = incident_for(ref, Role.COMMUNICATIONS_LEAD)
    form = UpdateForm()
    if not form.validate_on_submit():
        return _render_incident(found, update_form=form, status=400)
    content = _update_content(form)
    if request.form.get("action") == "preview":
        advice = advise(
            {
                name: form[name].data
                for name in UPDATE_FIELDS
                if name not in ("status", "resolved_at")
            },
            jargon_list(),
            resolved=content.status == State.RESOLVED.value,
        )
        preview = IncidentUpdate(  # never added to the session: exactly what citizens would see
            published_at=clock.now(),
            **{name: getattr(content, name) for name in UPDATE_FIELDS if name != "resolved_at"},
        )
        return _render_incident(found, update_form=form, preview=preview, advice=advice)
    try:
        publish_update(found, content, by=current_user)
    except IncidentRuleError as error:
        db.session.rollback()
        form.add_error(error.field, error.message)
        return _render_incident(found, update_form=form, status=400)
    where = "on the public site" if is_public(found) else "internally (not public)"
    flash(f"Update published {where}.", "success")
    return redirect(url_for("admin.incident", ref=ref))


def _run(found: Incident, action, *, form=None, form_name=None, success=None):
    """Run an operation; a refusal is shown on the incident page and changes nothing."""
    try:
        outcome = action()
    except IncidentRuleError as error:
        db.session.rollback()
        db.session.refresh(found)
        if form is not None:
            form.add_error(error.field, error.message)
            return _render_incident(found, status=400, **{form_name: form})
        flash(error.message, "error")
        return redirect(url_for("admin.incident", ref=found.ref))
    flash(success(outcome) if callable(success) else success, "success")
    return redirect(url_for("admin.incident", ref=found.ref))


PRIORITY_OUTCOMES = {
    "escalated": "Priority raised to P{to}. The new deadlines apply now.",
    "lowered": "Priority lowered to P{to}.",
    "requested": "Your request to lower the priority to P{to} is waiting for a service manager.",
}


@admin.post("/incidents/<ref>/priority")
def post_priority(ref: str):
    found = incident_for(ref, Role.COMMUNICATIONS_LEAD)
    form = PriorityForm()
    if not form.validate_on_submit():
        return _render_incident(found, priority_form=form, status=400)
    to = int(form.priority.data)
    return _run(
        found,
        lambda: change_priority(found, to=to, reason=form.reason.data, by=current_user),
        form=form,
        form_name="priority_form",
        success=lambda outcome: PRIORITY_OUTCOMES[outcome].format(to=to),
    )


@admin.post("/incidents/<ref>/acknowledge")
def post_acknowledge(ref: str):
    found = incident_for(ref, Role.COMMUNICATIONS_LEAD)
    if not ActionForm().validate_on_submit():
        abort(400)
    return _run(found, lambda: acknowledge(found, by=current_user), success="Acknowledged.")


@admin.post("/incidents/<ref>/assign")
def post_assign(ref: str):
    found = incident_for(ref, Role.COMMUNICATIONS_LEAD)
    form = AssignForm()
    form.assignee.choices = {"": "Nobody", **{str(u.id): u.name for u in _assignable(found)}}
    if not form.validate_on_submit():
        return _render_incident(found, assign_form=form, status=400)
    assignee = db.session.get(User, int(form.assignee.data)) if form.assignee.data else None
    return _run(
        found,
        lambda: assign(found, assignee, by=current_user),
        form=form,
        form_name="assign_form",
        success=f"Assigned to {assignee.name}." if assignee else "Nobody is assigned now.",
    )


@admin.post("/incidents/<ref>/close")
def post_close(ref: str):
    found = incident_for(ref, Role.COMMUNICATIONS_LEAD)
    if not ActionForm().validate_on_submit():
        abort(400)
    return _run(
        found,
        lambda: close_incident(found, by=current_user),
        success=lambda outcome: (
            "Incident closed." if outcome == "closed" else "Closing is waiting for approval."
        ),
    )


@admin.post("/incidents/<ref>/approvals/<int:approval_id>/<any(approve, refuse):decision>")
def post_decision(ref: str, approval_id: int, decision: str):
    found = incident_for(ref, Role.VIEWER)
    approval = db.session.get(Approval, approval_id)
    if approval is None or approval.incident_id != found.id:
        abort(404)
    if approval.requested_by_id == current_user.id and approval.status == ApprovalStatus.PENDING:
        flash("Someone else must decide your own request.", "error")
        return redirect(url_for("admin.incident", ref=ref))
    form = DecisionForm()
    if not form.validate_on_submit():
        return _render_incident(found, decision_form=form, status=400)
    approve = decision == "approve"
    return _run(
        found,
        lambda: decide_approval(approval, approve=approve, by=current_user, note=form.note.data),
        form=form,
        form_name="decision_form",
        success="Approved." if approve else "Refused.",
    )


@admin.post("/incidents/<ref>/visibility")
def post_visibility(ref: str):
    found = incident_for(ref, Role.COMMUNICATIONS_LEAD)
    if found.priority != 3:
        flash("Only a P3 incident can be shown or hidden; P1 and P2 are always public.", "error")
    elif ActionForm().validate_on_submit():
        set_made_public(found, not found.made_public, by=current_user)
        flash("The incident is now " + ("public." if found.made_public else "hidden."), "success")
    return redirect(url_for("admin.incident", ref=ref))
