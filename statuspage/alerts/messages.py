"""Staff messages about alert groups, through the outbox (internal/messages.py): the agency's
communications leads (and the assignee) hear that monitoring opened a draft, and that its alerts
resolved. The notification matrix tells the positions the policy names as for any open incident
(its job reads every open incident, drafts included)."""

from __future__ import annotations

from flask import current_app, url_for

from ..extensions import db
from ..incidents.models import Incident
from ..incidents.reminders import recipients
from ..incidents.visibility import is_public
from ..internal.messages import InternalMessage, Skip, enqueue, renderer
from ..timefmt import format_absolute
from .models import AlertGroup

DRAFT_OPENED = "alert_draft"
RESOLUTION_SUGGESTED = "alert_resolved"
MOST_ALERTS_LISTED = 10


def draft_opened(incident: Incident, group: AlertGroup) -> int:
    return enqueue(recipients(incident), DRAFT_OPENED, str(group.id), incident_id=incident.id)


def resolution_suggested(incident: Incident, group: AlertGroup) -> int:
    moment = group.resolved_at.strftime("%Y%m%dT%H%M%S") if group.resolved_at else "now"
    return enqueue(recipients(incident), RESOLUTION_SUGGESTED, f"{group.id}:{moment}",
                   incident_id=incident.id)  # fmt: skip


def _link(incident: Incident, anchor: str) -> str:
    base = current_app.config["SITE_URL"].rstrip("/")
    return f"{base}{url_for('admin.incident', ref=incident.ref)}#{anchor}"


def _found(detail: str, incident_id: int | None) -> tuple[AlertGroup, Incident]:
    group = db.session.get(AlertGroup, int(detail.split(":")[0]))
    incident = db.session.get(Incident, incident_id) if incident_id else None
    if group is None or incident is None:
        raise Skip("the alert group or its incident no longer exists")
    return group, incident


def alert_lines(group: AlertGroup) -> str:
    """The group's alerts as staff read them: name, severity, service, summary."""
    payload = group.payload
    common = payload.get("commonLabels") or {}
    lines = []
    for alert in (payload.get("alerts") or [])[:MOST_ALERTS_LISTED]:
        labels = {**common, **(alert.get("labels") or {})}
        notes = alert.get("annotations") or {}
        summary = notes.get("summary") or notes.get("description") or ""
        lines.append(
            f"- {labels.get('alertname', 'alert')} ({alert.get('status')}, "
            f"{labels.get('severity', 'no severity')}) on {labels.get('service', '?')}"
            + (f": {summary}" if summary else "")
        )
    more = len(payload.get("alerts") or []) - MOST_ALERTS_LISTED
    if more > 0:
        lines.append(f"- and {more} more")
    return "\n".join(lines)


@renderer(DRAFT_OPENED)
def render_draft_opened(detail: str, incident_id: int | None) -> InternalMessage:
    group, incident = _found(detail, incident_id)
    if is_public(incident):
        raise Skip("a lead published the incident before this message went")
    if not incident.is_open:
        raise Skip(f"the incident was {incident.state} before this message went")
    services = ", ".join(a.service.name for a in incident.affected)
    text = (
        f"Monitoring (Prometheus Alertmanager) opened a draft incident: {incident.ref}, "
        f"{incident.title}.\n\n"
        f"It is not public. Suggested priority: {group.suggestion or incident.priority_label}.\n"
        f"Services: {services}\n"
        f"Detected: {format_absolute(incident.detected_at)}\n\n"
        f"Alerts:\n{alert_lines(group)}\n\n"
        "Read it, then publish it as drafted with one click (you can edit the message first), "
        f"change it, or close it as a false alarm: {_link(incident, 'alerts-heading')}"
    )
    subject = f"[P{incident.priority}] Draft from monitoring: {incident.title} ({incident.ref})"
    return InternalMessage(subject, text, incident.id)


@renderer(RESOLUTION_SUGGESTED)
def render_resolution_suggested(detail: str, incident_id: int | None) -> InternalMessage:
    group, incident = _found(detail, incident_id)
    if not incident.is_open:
        raise Skip(f"the incident was {incident.state} before this message went")
    if group.is_firing:
        raise Skip("the alerts fired again before this message went")
    when = format_absolute(group.resolved_at) if group.resolved_at else "just now"
    public = "It is public: citizens are waiting for the resolution." if is_public(incident) \
        else "It is not public yet."  # fmt: skip
    text = (
        f"Monitoring says every alert of {incident.ref} ({incident.title}) resolved at {when}.\n"
        f"{public}\n\n"
        f"Alerts:\n{alert_lines(group)}\n\n"
        "Resolving is your decision: check the service works, then publish the drafted "
        f"resolution (you can edit it) on the incident page: {_link(incident, 'alerts-heading')}"
    )
    subject = f"[P{incident.priority}] Alerts resolved, resolve {incident.ref}? {incident.title}"
    return InternalMessage(subject, text, incident.id)
