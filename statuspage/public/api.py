"""The Atlassian Statuspage public API v2, so tools that read Statuspage pages read ours unchanged.

Agencies are component groups and services their components; incidents and scheduled maintenances
carry Statuspage's field names and values."""

from __future__ import annotations

import json
from datetime import datetime

from flask import current_app, jsonify, url_for
from sqlalchemy import func, select

from .. import clock
from ..api_v1.statuspage_shapes import IMPACT_BY_PRIORITY  # the one mapping, v1 and v2
from ..audit import AuditEntry
from ..catalog.models import Service
from ..catalog.queries import agencies_with_services
from ..catalog.status import ServiceStatus, worst
from ..characters import xml_safe_tree
from ..extensions import db
from ..incidents import queries as incident_queries
from ..incidents.models import AffectedService, Incident, IncidentUpdate, State
from ..incidents.visibility import public_clause
from ..maintenance import queries as maintenance_queries
from ..maintenance.models import MaintenanceWindow, WindowStatus, window_services
from ..publication import current_version
from ..reports.models import ReportRevision
from ..timefmt import format_absolute, iso_utc
from . import public

INDICATOR_DESCRIPTIONS = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major Service Outage",
    "maintenance": "Service Under Maintenance",
}
RECENT_INCIDENTS = 50


def _time(moment):
    return iso_utc(moment) if moment else None


def _page() -> dict:
    return {
        "id": "statuspage",
        "name": current_app.config["SITE_NAME"],
        "url": url_for("public.index", _external=True),
        "time_zone": current_app.config["SITE_TIMEZONE"],
        "updated_at": _time(_last_change()),
    }


def _last_change():
    """When what the public sees last changed (Statuspage's page.updated_at)."""
    version = current_version()
    return version.changed_at if version else clock.now()


def _components() -> list[dict]:
    statuses = incident_queries.service_statuses()
    created, updated = _component_times()
    fallback = _last_change()
    components = []
    for position, agency in enumerate(agencies_with_services(), start=1):
        children = [service.slug for service in agency.services]
        agency_status = worst(
            statuses.get(s.id, ServiceStatus.OPERATIONAL) for s in agency.services
        )
        group_id = f"agency-{agency.slug}"
        service_created = [created.get(s.id) for s in agency.services]
        agency_created = min(
            (t for t in [created.get(("agency", agency.id)), *service_created] if t),
            default=fallback,
        )
        agency_updated = max(
            (t for t in [updated.get(("agency", agency.id)), agency_created,
                         *(updated.get(s.id) for s in agency.services)] if t),
        )  # fmt: skip
        components.append({
            "id": group_id, "name": agency.name, "status": agency_status.value,
            "created_at": _time(agency_created), "updated_at": _time(agency_updated),
            "position": position, "description": agency.description or None,
            "showcase": False, "start_date": None, "group_id": None, "page_id": "statuspage",
            "group": True, "only_show_if_degraded": False, "components": children,
        })  # fmt: skip
        for service_position, service in enumerate(agency.services, start=1):
            service_created = created.get(service.id) or agency_created
            service_updated = max(updated.get(service.id) or service_created, service_created)
            components.append({
                "id": service.slug, "name": service.name,
                "status": statuses.get(service.id, ServiceStatus.OPERATIONAL).value,
                "created_at": _time(service_created), "updated_at": _time(service_updated),
                "position": service_position, "description": service.description or None,
                "showcase": True, "start_date": _date(service_created), "group_id": group_id,
                "page_id": "statuspage", "group": False, "only_show_if_degraded": False,
            })  # fmt: skip
    return components


def _date(moment: datetime | None) -> str | None:
    """Statuspage's start_date: the day (in the site's zone) since when data is shown."""
    from ..timefmt import to_local

    return to_local(moment).date().isoformat() if moment else None


def _component_times() -> tuple[dict, dict]:
    """When each service (by id) and agency (by ("agency", id)) was created and last changed,
    from what is kept: the catalog's audit entries, the public updates of the incidents that
    affected it and its maintenance windows. Never empty for a service with any history."""
    created: dict = {}
    updated: dict = {}
    now = clock.now()

    def seen(key, moment, *, first: bool = False):
        if moment is None or moment > now:
            return
        if first:
            created[key] = min(created.get(key, moment), moment)
        updated[key] = max(updated.get(key, moment), moment)

    slugs = {slug: service_id for service_id, slug in db.session.execute(
        select(Service.id, Service.slug))}  # fmt: skip
    entries = db.session.execute(
        select(AuditEntry.action, AuditEntry.at, AuditEntry.agency_id, AuditEntry.details).where(
            AuditEntry.action.in_(
                ("agency_created", "agency_changed", "service_created", "service_changed")
            )
        )
    )
    for action, at, agency_id, details in entries:
        if action.startswith("agency_"):
            seen(("agency", agency_id), at, first=action == "agency_created")
            continue
        values = json.loads(details or "{}")
        service_id = slugs.get(values.get("slug") or values.get("service"))
        if service_id is not None:
            seen(service_id, at, first=action == "service_created")
    rows = db.session.execute(
        select(AffectedService.service_id, func.min(Incident.detected_at),
               func.max(IncidentUpdate.published_at))
        .join(Incident, Incident.id == AffectedService.incident_id)
        .join(IncidentUpdate, IncidentUpdate.incident_id == Incident.id)
        .where(public_clause(), IncidentUpdate.is_public.is_(True))
        .group_by(AffectedService.service_id)
    )  # fmt: skip
    for service_id, detected, last_update in rows:
        seen(service_id, detected, first=True)
        seen(service_id, last_update)
    windows = db.session.execute(
        select(window_services.c.service_id, MaintenanceWindow.created_at,
               MaintenanceWindow.updated_at, MaintenanceWindow.starts_at,
               MaintenanceWindow.ends_at)
        .join(MaintenanceWindow, MaintenanceWindow.id == window_services.c.window_id)
    )  # fmt: skip
    for service_id, made, changed, starts, ends in windows:
        seen(service_id, made, first=True)
        for moment in (changed, starts, ends):
            seen(service_id, moment)
    return created, updated


def _status(components: list[dict], incidents: list[Incident]) -> dict:
    services = [c for c in components if not c["group"]]
    top = worst(ServiceStatus(c["status"]) for c in services)
    if any(i.priority == 1 for i in incidents):
        indicator = "critical"
    elif top is ServiceStatus.MAJOR_OUTAGE:
        indicator = "major"
    elif top in (ServiceStatus.PARTIAL_OUTAGE, ServiceStatus.DEGRADED_PERFORMANCE) or incidents:
        indicator = "minor"
    elif top is ServiceStatus.UNDER_MAINTENANCE:
        indicator = "maintenance"
    else:
        indicator = "none"
    return {"indicator": indicator, "description": INDICATOR_DESCRIPTIONS[indicator]}


def _update(update: IncidentUpdate, incident: Incident, affected: list[dict] | None) -> dict:
    # Statuspage has no "closed"; our closing note is the last word on a resolved incident.
    status = State.RESOLVED.value if update.status == State.CLOSED.value else update.status
    return {
        "id": str(update.id), "status": status, "body": update.body,
        "incident_id": incident.ref, "created_at": _time(update.published_at),
        "updated_at": _time(update.published_at), "display_at": _time(update.published_at),
        "affected_components": affected, "deliver_notifications": True,
        "custom_tweet": None, "tweet_id": None,
    }  # fmt: skip


def _affected_components(incident: Incident, updates: list[IncidentUpdate]) -> list:
    """Statuspage's affected_components per update, oldest first: each service goes from
    operational to its impact with the first public update and back with the resolution. Only
    the current impact of each service is kept, so an impact changed on the way is shown as it
    now is."""
    shown = []
    before = "operational"
    for index, update in enumerate(reversed(updates)):  # oldest first
        resolved = update.status in (State.RESOLVED.value, State.CLOSED.value)
        entries = []
        for item in incident.affected:
            old = "operational" if index == 0 else (
                "operational" if before == "resolved" else item.impact
            )  # fmt: skip
            new = "operational" if resolved else item.impact
            entries.append({"code": item.service.slug, "name": item.service.name,
                            "old_status": old, "new_status": new})  # fmt: skip
        before = "resolved" if resolved else update.status
        shown.append(entries or None)
    return list(reversed(shown))


def _incident(incident: Incident, components: dict[str, dict], reviewed: set[int]) -> dict:
    state = State.RESOLVED.value if incident.state == State.CLOSED.value else incident.state
    if state == State.RESOLVED.value and incident.id in reviewed:
        state = "postmortem"  # Statuspage's status once the post-incident report is published
    updates = incident.public_updates
    monitoring = [u.published_at for u in updates if u.status == State.MONITORING.value]
    latest = updates[0] if updates else None
    affected = _affected_components(incident, updates)
    return {
        "id": incident.ref,
        "name": incident.title,
        "status": state,
        "created_at": _time(incident.detected_at),
        "updated_at": _time(latest.published_at if latest else incident.detected_at),
        "monitoring_at": _time(min(monitoring) if monitoring else None),
        "resolved_at": _time(incident.resolved_at),
        "started_at": _time(incident.started_at or incident.detected_at),
        "impact": IMPACT_BY_PRIORITY[incident.priority],
        "shortlink": url_for("public.incident", ref=incident.ref, _external=True),
        "page_id": "statuspage",
        "incident_updates": [_update(u, incident, a) for u, a in zip(updates, affected)],
        # Not in Statuspage's shape (clients ignore unknown keys): the policy's "expected fix".
        "expected_resolution_at": _time(latest.expected_resolution_at)
        if latest and incident.is_open
        else None,
        # The full component objects, as they are now (Statuspage's shape).
        "components": [
            components.get(a.service.slug)
            or {"id": a.service.slug, "name": a.service.name, "status": a.impact}
            for a in incident.affected
        ],
        "reminder_intervals": None,
    }


def _reviewed(incidents: list[Incident]) -> set[int]:
    """Ids of the incidents among these with a published post-incident report."""
    ids = [incident.id for incident in incidents]
    if not ids:
        return set()
    return set(db.session.scalars(
        select(ReportRevision.incident_id).where(ReportRevision.incident_id.in_(ids)).distinct()
    ))  # fmt: skip


def _incidents(incidents: list[Incident], components: list[dict] | None = None) -> list[dict]:
    by_id = {c["id"]: c for c in (components if components is not None else _components())}
    reviewed = _reviewed(incidents)
    return [_incident(incident, by_id, reviewed) for incident in incidents]


def _maintenance_status(window: MaintenanceWindow, now: datetime) -> str:
    if window.status == WindowStatus.CANCELLED.value or window.ends_at <= now:
        return "completed"
    if window.starts_at <= now:
        return "in_progress"
    return "scheduled"


def _notices() -> dict[int, list[tuple[str, datetime]]]:
    """Window id -> the notices sent about it (planned, changed, cancelled), oldest first."""
    notices: dict[int, list] = {}
    entries = db.session.execute(
        select(AuditEntry.action, AuditEntry.at, AuditEntry.details)
        .where(AuditEntry.action.in_(
            ("maintenance_planned", "maintenance_changed", "maintenance_cancelled")
        ))
        .order_by(AuditEntry.at, AuditEntry.id)
    )  # fmt: skip
    for action, at, details in entries:
        window_id = json.loads(details or "{}").get("window")
        if window_id is not None:
            notices.setdefault(int(window_id), []).append((action, at))
    return notices


def _maintenance_updates(window: MaintenanceWindow, notices: list, now: datetime) -> list[dict]:
    """The window's notices as Statuspage's incident_updates, newest first: each notice sent
    (planned, changed, cancelled), then its start and its end as the clock reaches them."""
    when = f"from {format_absolute(window.starts_at)} to {format_absolute(window.ends_at)}"
    words = {
        "maintenance_planned": ("scheduled", f"Planned maintenance {when}. {window.description}"),
        "maintenance_changed": ("scheduled", f"The plan changed: now {when}. {window.description}"),
        "maintenance_cancelled": ("completed", "Cancelled: this maintenance will not happen."),
    }
    updates = [(at, *words[action], f"{window.id}-{index}")
               for index, (action, at) in enumerate(notices, start=1)]  # fmt: skip
    if not notices:  # older windows, planned before notices were recorded
        updates.append((window.created_at, *words["maintenance_planned"], f"{window.id}-1"))
    if window.status != WindowStatus.CANCELLED.value:
        if window.starts_at <= now:
            updates.append((window.starts_at, "in_progress", "Maintenance is in progress.",
                            f"{window.id}-started"))  # fmt: skip
        if window.ends_at <= now:
            updates.append((window.ends_at, "completed", "The maintenance has been completed.",
                            f"{window.id}-completed"))  # fmt: skip
    return [
        {
            "id": update_id,
            "status": status,
            "body": body.strip(),
            "incident_id": str(window.id),
            "created_at": _time(at),
            "updated_at": _time(at),
            "display_at": _time(at),
            "affected_components": [
                {
                    "code": s.slug,
                    "name": s.name,
                    "old_status": "operational",
                    "new_status": "under_maintenance" if status == "in_progress" else "operational",
                }
                for s in window.services
            ],
            "deliver_notifications": not update_id.endswith(("-started", "-completed")),
            "custom_tweet": None,
            "tweet_id": None,
        }
        for at, status, body, update_id in sorted(updates, key=lambda u: u[0], reverse=True)
    ]


def _maintenances(windows: list[MaintenanceWindow], components: list[dict] | None = None):
    by_id = {c["id"]: c for c in (components if components is not None else _components())}
    notices = _notices()
    now = clock.now()
    return [_maintenance(w, by_id, notices.get(w.id, []), now) for w in windows]


def _maintenance(window: MaintenanceWindow, components: dict, notices: list, now) -> dict:
    status = _maintenance_status(window, now)
    updates = _maintenance_updates(window, notices, now)
    return {
        "id": str(window.id), "name": window.title, "status": status,
        "created_at": _time(window.created_at), "updated_at": _time(window.updated_at),
        "monitoring_at": None, "resolved_at": _time(window.ends_at) if status == "completed" else None,
        "impact": "maintenance", "shortlink": url_for("public.maintenance", _external=True),
        "started_at": _time(window.starts_at), "page_id": "statuspage",
        "scheduled_for": _time(window.starts_at), "scheduled_until": _time(window.ends_at),
        "incident_updates": updates,
        "components": [
            {**components.get(s.slug, {"id": s.slug, "name": s.name}),
             **({"status": "under_maintenance"} if status == "in_progress" else {})}
            for s in window.services
        ],
        "reminder_intervals": None,
    }  # fmt: skip


def _respond(payload: dict):
    response = jsonify(xml_safe_tree({"page": _page(), **payload}))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@public.get("/api/v2/summary.json")
def api_summary():
    components = _components()
    incidents = incident_queries.open_public_incidents()
    now = clock.now()
    windows = maintenance_queries.active_windows(now) + maintenance_queries.upcoming_windows(now)
    return _respond({
        "status": _status(components, incidents), "components": components,
        "incidents": _incidents(incidents, components),
        "scheduled_maintenances": _maintenances(windows, components),
    })  # fmt: skip


@public.get("/api/v2/status.json")
def api_status():
    return _respond({"status": _status(_components(), incident_queries.open_public_incidents())})


@public.get("/api/v2/components.json")
def api_components():
    return _respond({"components": _components()})


@public.get("/api/v2/incidents.json")
def api_incidents():
    incidents = incident_queries.recent_public_incidents(limit=RECENT_INCIDENTS)
    return _respond({"incidents": _incidents(incidents)})


@public.get("/api/v2/incidents/unresolved.json")
def api_unresolved_incidents():
    return _respond({"incidents": _incidents(incident_queries.open_public_incidents())})


@public.get("/api/v2/scheduled-maintenances.json")
def api_maintenances():
    now = clock.now()
    windows = (
        maintenance_queries.active_windows(now)
        + maintenance_queries.upcoming_windows(now, ahead=maintenance_queries.ANNOUNCE_AHEAD * 26)
        + maintenance_queries.recent_windows(now)
    )
    return _respond({"scheduled_maintenances": _maintenances(windows)})


@public.get("/api/v2/scheduled-maintenances/upcoming.json")
def api_upcoming_maintenances():
    windows = maintenance_queries.upcoming_windows(
        clock.now(), ahead=maintenance_queries.ANNOUNCE_AHEAD * 26
    )
    return _respond({"scheduled_maintenances": _maintenances(windows)})


@public.get("/api/v2/scheduled-maintenances/active.json")
def api_active_maintenances():
    windows = maintenance_queries.active_windows(clock.now())
    return _respond({"scheduled_maintenances": _maintenances(windows)})
