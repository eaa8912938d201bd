"""Triage on the incident page: close an incident as a duplicate, a false alarm or a service
request (form -> incidents.triage -> redirect), and how a triaged incident ended."""

from __future__ import annotations

from flask import g
from flask_login import current_user
from sqlalchemy import select

from ..audit import AuditEntry
from ..extensions import db
from ..incidents import triage as operations
from ..incidents.models import Incident
from ..incidents.visibility import is_public
from ..users.models import Role
from . import admin
from .forms import TriageForm
from .incidents import _render_incident, _run, incident_context
from .permissions import allow

PREFIX = "triage"  # its own field ids: the page has other forms with a "note"


@admin.app_template_global("triage_label")
def triage_label(incident: Incident) -> str:
    return operations.label(incident)


@incident_context("triage")
def triage_panel(incident: Incident, forms: dict) -> dict:
    """What admin/_triage.html shows: how it ended, its duplicates, and the form."""
    entry = None
    if incident.triage:
        entry = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.incident_id == incident.id, AuditEntry.action == "incident_triaged")
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        ).first()
    return {
        "label": operations.label(incident),
        "entry": entry,
        "duplicates": operations.duplicates_of(incident),
        "form": forms.get("triage_form") or TriageForm(formdata=None, prefix=PREFIX),
        "can_triage": not incident.triage
        and incident.state != "closed"
        and current_user.can(Role.COMMUNICATIONS_LEAD, incident.agency_id),
    }


@admin.post("/incidents/<ref>/triage")
@allow.role(Role.COMMUNICATIONS_LEAD, incident="ref")
def post_triage(ref: str):
    found = g.incident
    form = TriageForm(prefix=PREFIX)
    if not form.validate_on_submit():
        return _render_incident(found, triage_form=form, status=400)
    decision = operations.TriageDecision(
        outcome=form.outcome.data,
        note=form.note.data or "",
        duplicate_of=form.duplicate_of.data or "",
    )
    was_public = is_public(found)
    return _run(
        found,
        lambda: operations.triage(found, decision, by=current_user),
        form=form,
        form_name="triage_form",
        success=lambda _: f"{found.ref} closed: {operations.label(found)}."
        + (" The public page says how it ended." if was_public else ""),
    )
