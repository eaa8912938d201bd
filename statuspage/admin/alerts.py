"""Alerts on the incident page: what Alertmanager said, what monitoring says of each service,
the suggested resolution, and "Publish as drafted": the lead reads (and may edit) a message drafted
from the update templates and publishes it through the normal publish operation."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import g
from flask_login import current_user

from ..alerts import operations
from ..alerts.models import AlertGroup
from ..communications.templates import fill, template_by_key
from ..incidents import cadence
from ..incidents.models import Incident, State
from ..incidents.operations import UpdateContent, publish_update
from ..incidents.visibility import is_public
from ..policy import Visibility, current_policy
from ..users.models import Role
from . import admin
from .forms import UpdateForm
from .incidents import UPDATE_FIELDS, _render_incident, _run, incident_context
from .permissions import allow

PREFIX = "drafted"  # its own field ids: the page has the full update form too
SHOWN_ALERTS = 20


def _drafted_form(incident: Incident, group: AlertGroup) -> UpdateForm:
    """The message as drafted: the update template filled in for this incident."""
    key = operations.drafted_template_key(group, incident)
    template = template_by_key(key) or template_by_key("p1_initial")
    resolution = key == "resolution"
    next_update = None if resolution else cadence.prefilled_promise(incident)
    values = fill(template, incident, next_update) if template else {
        "status": State.RESOLVED.value if resolution else State.INVESTIGATING.value,
        "body": f"We are looking into a problem with {incident.title}.",
    }  # fmt: skip
    values.pop("status", None)  # set by what is drafted, whatever the template says
    return UpdateForm(
        formdata=None,
        prefix=PREFIX,
        status=State.RESOLVED.value if resolution else State.INVESTIGATING.value,
        affected_since=incident.started_at or incident.detected_at,
        next_update_at=next_update,
        resolved_at=_resolved_field(group, incident) if resolution else None,
        **values,
    )


def _resolved_field(group: AlertGroup, incident: Incident) -> datetime | None:
    """When the alerts ended, as the form's minutes show it: never before the detection (a late
    notification can end before we heard of it), which the publish operation would refuse."""
    if group.resolved_at is None:
        return None
    moment = group.resolved_at.replace(second=0, microsecond=0)
    if moment < incident.detected_at:
        moment = incident.detected_at.replace(second=0, microsecond=0)
        if moment < incident.detected_at:
            moment += timedelta(minutes=1)
    return moment


def _publish_words(incident: Incident, resolution: bool) -> tuple[str, str]:
    """The button and what it will do, from the policy's visibility of the priority."""
    visibility = current_policy()[incident.priority].public
    if visibility is Visibility.NEVER:
        return "Post as drafted", (
            f"A P{incident.priority} is never public: the message is kept with the incident "
            "for staff."
        )
    if resolution and is_public(incident):
        return "Publish the resolution as drafted", (
            "Resolves the incident: citizens and subscribers see this message."
        )
    if resolution:
        return "Publish the resolution as drafted", (
            "Resolves the incident and publishes this message: citizens and subscribers see it. "
            "If nobody was affected, close it as a false alarm instead (nothing is published)."
        )
    if visibility is Visibility.WHEN_MARKED and not incident.made_public:
        return "Publish as drafted", (
            f"Makes this P{incident.priority} public with this message: citizens and subscribers "
            "see it."
        )
    return "Publish as drafted", (
        "Makes the incident public with this message: citizens and subscribers see it, and the "
        "update cadence starts."
    )


@incident_context("alerts")
def alerts_panel(incident: Incident, forms: dict) -> dict | None:
    """What admin/_alerts.html shows, for an incident an alert group opened or follows."""
    group = operations.group_of(incident)
    if group is None:
        return None
    statuses = operations.monitoring_statuses(row.service for row in group.services)
    impacts = {row.service_id: row.impact_enum for row in incident.affected}
    payload = group.payload
    common = payload.get("commonLabels") or {}
    alerts = [
        {"labels": {**common, **(a.get("labels") or {})}, "status": a.get("status"),
         "annotations": a.get("annotations") or {}}
        for a in (payload.get("alerts") or [])[:SHOWN_ALERTS]
    ]  # fmt: skip
    resolution = operations.suggests_resolution(group, incident)
    offer = operations.offers_drafted_message(group, incident) and current_user.can(
        Role.COMMUNICATIONS_LEAD, incident.agency_id
    )
    button, effect = _publish_words(incident, resolution)
    return {
        "group": group,
        "services": sorted(group.services, key=lambda row: row.service.name),
        "statuses": statuses,
        "impacts": impacts,
        "alerts": alerts,
        "more_alerts": max(0, len(payload.get("alerts") or []) - SHOWN_ALERTS),
        "resolution": resolution,
        "form": (forms.get("drafted_form") or _drafted_form(incident, group)) if offer else None,
        "button": button,
        "effect": effect,
    }


@admin.post("/incidents/<ref>/alerts/publish")
@allow.role(Role.COMMUNICATIONS_LEAD, incident="ref")
def publish_drafted(ref: str):
    found = g.incident
    form = UpdateForm(prefix=PREFIX)
    if not form.validate_on_submit():
        return _render_incident(found, drafted_form=form, status=400)
    content = UpdateContent(**{name: form[name].data for name in UPDATE_FIELDS})
    # The lead pressing "Publish" is the decision a P3 needs to be public.
    content.make_public = current_policy()[found.priority].public is Visibility.WHEN_MARKED
    return _run(
        found,
        lambda: publish_update(found, content, by=current_user),
        form=form,
        form_name="drafted_form",
        success=lambda update: (
            "Published on the public site."
            if update.is_public
            else "Posted internally (not public)."
        ),
    )
