"""Logging incidents, publishing updates, changing priority: form -> operation -> redirect."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import clock
from ..catalog.models import Agency, Service
from ..extensions import db
from ..incidents.models import AffectedService, Impact, Incident, Source, State
from ..incidents.operations import (
    IncidentRuleError,
    NewIncident,
    change_priority,
    create_incident,
    publish_update,
    set_made_public,
)
from ..incidents.visibility import is_public
from ..users.models import Role
from . import admin
from .forms import ActionForm, PriorityForm, UpdateForm, incident_form
from .permissions import agency_ids_for, incident_for

RECENT_LIMIT = 25


@admin.get("/")
def dashboard():
    agency_ids = agency_ids_for(current_user, Role.VIEWER)
    incidents = db.session.scalars(
        select(Incident)
        .where(Incident.agency_id.in_(agency_ids))
        .options(
            selectinload(Incident.affected).selectinload(AffectedService.service),
            selectinload(Incident.agency),
        )
        .order_by(Incident.detected_at.desc())
        .limit(200)
    ).all()
    open_incidents = sorted(
        (i for i in incidents if i.is_open), key=lambda i: (i.priority, i.detected_at)
    )
    recent = [i for i in incidents if not i.is_open][:RECENT_LIMIT]
    can_create = bool(agency_ids_for(current_user, Role.COMMUNICATIONS_LEAD))
    return render_template(
        "admin/dashboard.html",
        open_incidents=open_incidents,
        recent=recent,
        can_create=can_create,
    )


def _reportable_services() -> list[Service]:
    agency_ids = agency_ids_for(current_user, Role.COMMUNICATIONS_LEAD)
    return list(
        db.session.scalars(
            select(Service)
            .join(Agency)
            .where(Service.agency_id.in_(agency_ids))
            .order_by(Agency.display_order, Service.display_order, Service.name)
        )
    )


@admin.route("/incidents/new", methods=["GET", "POST"])
def new_incident():
    services = _reportable_services()
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


def _render_incident(incident: Incident, *, update_form=None, priority_form=None, status=200):
    current = incident.state if incident.state != State.NEW.value else State.INVESTIGATING.value
    update_form = update_form or UpdateForm(formdata=None, status=current)
    priority_form = priority_form or PriorityForm(formdata=None, priority=str(incident.priority))
    return (
        render_template(
            "admin/incident.html",
            incident=incident,
            update_form=update_form,
            priority_form=priority_form,
            action_form=ActionForm(formdata=None),
            is_public=is_public(incident),
            can_publish=current_user.can(Role.COMMUNICATIONS_LEAD, incident.agency_id),
        ),
        status,
    )


@admin.get("/incidents/<ref>")
def incident(ref: str):
    return _render_incident(incident_for(ref, Role.VIEWER))


@admin.post("/incidents/<ref>/updates")
def post_update(ref: str):
    found = incident_for(ref, Role.COMMUNICATIONS_LEAD)
    form = UpdateForm()
    if form.validate_on_submit():
        try:
            publish_update(
                found,
                status=State(form.status.data),
                body=form.body.data,
                workaround=form.workaround.data,
                next_update_at=form.next_update_at.data,
                by=current_user,
            )
        except IncidentRuleError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            where = "on the public site" if is_public(found) else "internally (not public)"
            flash(f"Update published {where}.", "success")
            return redirect(url_for("admin.incident", ref=ref))
    return _render_incident(found, update_form=form, status=400)


@admin.post("/incidents/<ref>/priority")
def post_priority(ref: str):
    found = incident_for(ref, Role.COMMUNICATIONS_LEAD)
    form = PriorityForm()
    if form.validate_on_submit():
        to = int(form.priority.data)
        try:
            # Escalation is never held up; lowering the priority takes a service manager.
            if to > found.priority and not current_user.can(Role.SERVICE_MANAGER, found.agency_id):
                raise IncidentRuleError(
                    "Only a service manager can lower the priority; ask one to do it.", "priority"
                )
            change_priority(found, to=to, reason=form.reason.data, by=current_user)
        except IncidentRuleError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            flash(f"Priority is now P{to}.", "success")
            return redirect(url_for("admin.incident", ref=ref))
    return _render_incident(found, priority_form=form, status=400)


@admin.post("/incidents/<ref>/visibility")
def post_visibility(ref: str):
    found = incident_for(ref, Role.COMMUNICATIONS_LEAD)
    if found.priority != 3:
        flash("Only a P3 incident can be shown or hidden; P1 and P2 are always public.", "error")
    elif ActionForm().validate_on_submit():
        set_made_public(found, not found.made_public)
        flash("The incident is now " + ("public." if found.made_public else "hidden."), "success")
    return redirect(url_for("admin.incident", ref=ref))
