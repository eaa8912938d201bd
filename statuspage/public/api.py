"""The Atlassian Statuspage public API v2, so tools that read Statuspage pages read ours unchanged.

Agencies are component groups and services their components; incidents and scheduled maintenances
carry Statuspage's field names and values."""

from __future__ import annotations

from flask import current_app, jsonify, url_for

from .. import clock
from ..publication import current_version
from ..catalog.queries import agencies_with_services
from ..catalog.status import ServiceStatus, worst
from ..characters import xml_safe_tree
from ..incidents import queries as incident_queries
from ..incidents.models import Incident, IncidentUpdate, State
from ..maintenance import queries as maintenance_queries
from ..maintenance.models import MaintenanceWindow, WindowStatus
from ..timefmt import iso_utc
from . import public

IMPACT_BY_PRIORITY = {1: "critical", 2: "major", 3: "minor", 4: "none"}
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
    components = []
    for position, agency in enumerate(agencies_with_services(), start=1):
        children = [service.slug for service in agency.services]
        agency_status = worst(
            statuses.get(s.id, ServiceStatus.OPERATIONAL) for s in agency.services
        )
        components.append({
            "id": f"agency-{agency.slug}", "name": agency.name, "status": agency_status.value,
            "created_at": None, "updated_at": None, "position": position,
            "description": agency.description or None, "showcase": False, "start_date": None,
            "group_id": None, "page_id": "statuspage", "group": True,
            "only_show_if_degraded": False, "components": children,
        })  # fmt: skip
        for service_position, service in enumerate(agency.services, start=1):
            components.append({
                "id": service.slug, "name": service.name,
                "status": statuses.get(service.id, ServiceStatus.OPERATIONAL).value,
                "created_at": None, "updated_at": None, "position": service_position,
                "description": service.description or None, "showcase": True,
                "start_date": None, "group_id": f"agency-{agency.slug}", "page_id": "statuspage",
                "group": False, "only_show_if_degraded": False,
            })  # fmt: skip
    return components


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


def _update(update: IncidentUpdate, incident_id: str) -> dict:
    # Statuspage has no "closed"; our closing note is the last word on a resolved incident.
    status = State.RESOLVED.value if update.status == State.CLOSED.value else update.status
    return {
        "id": str(update.id), "status": status, "body": update.body,
        "incident_id": incident_id, "created_at": _time(update.published_at),
        "updated_at": _time(update.published_at), "display_at": _time(update.published_at),
        "affected_components": None, "deliver_notifications": True,
    }  # fmt: skip


def _incident(incident: Incident) -> dict:
    state = State.RESOLVED.value if incident.state == State.CLOSED.value else incident.state
    updates = incident.public_updates
    monitoring = [u.published_at for u in updates if u.status == State.MONITORING.value]
    latest = updates[0] if updates else None
    return {
        "id": incident.ref,
        "name": incident.title,
        "status": state,
        "created_at": _time(incident.detected_at),
        "updated_at": _time(latest.published_at if latest else None),
        "monitoring_at": _time(min(monitoring) if monitoring else None),
        "resolved_at": _time(incident.resolved_at),
        "started_at": _time(incident.started_at or incident.detected_at),
        "impact": IMPACT_BY_PRIORITY[incident.priority],
        "shortlink": url_for("public.incident", ref=incident.ref, _external=True),
        "page_id": "statuspage",
        "incident_updates": [_update(u, incident.ref) for u in updates],
        # Not in Statuspage's shape (clients ignore unknown keys): the policy's "expected fix".
        "expected_resolution_at": _time(latest.expected_resolution_at)
        if latest and incident.is_open
        else None,
        "components": [
            {"id": a.service.slug, "name": a.service.name, "status": a.impact}
            for a in incident.affected
        ],
    }


def _maintenance(window: MaintenanceWindow) -> dict:
    now = clock.now()
    if window.status == WindowStatus.CANCELLED.value:
        status = "completed"
    elif window.ends_at <= now:
        status = "completed"
    elif window.starts_at <= now:
        status = "in_progress"
    else:
        status = "scheduled"
    return {
        "id": str(window.id), "name": window.title, "status": status,
        "created_at": _time(window.created_at), "updated_at": _time(window.updated_at),
        "monitoring_at": None, "resolved_at": _time(window.ends_at) if status == "completed" else None,
        "impact": "maintenance", "shortlink": url_for("public.maintenance", _external=True),
        "started_at": _time(window.starts_at), "page_id": "statuspage",
        "scheduled_for": _time(window.starts_at), "scheduled_until": _time(window.ends_at),
        "incident_updates": [],
        "components": [{"id": s.slug, "name": s.name, "status": "under_maintenance"} for s in window.services],
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
        "incidents": [_incident(i) for i in incidents],
        "scheduled_maintenances": [_maintenance(w) for w in windows],
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
    return _respond({"incidents": [_incident(i) for i in incidents]})


@public.get("/api/v2/incidents/unresolved.json")
def api_unresolved_incidents():
    return _respond({"incidents": [_incident(i) for i in incident_queries.open_public_incidents()]})


@public.get("/api/v2/scheduled-maintenances.json")
def api_maintenances():
    now = clock.now()
    windows = (
        maintenance_queries.active_windows(now)
        + maintenance_queries.upcoming_windows(now, ahead=maintenance_queries.ANNOUNCE_AHEAD * 26)
        + maintenance_queries.recent_windows(now)
    )
    return _respond({"scheduled_maintenances": [_maintenance(w) for w in windows]})


@public.get("/api/v2/scheduled-maintenances/upcoming.json")
def api_upcoming_maintenances():
    windows = maintenance_queries.upcoming_windows(
        clock.now(), ahead=maintenance_queries.ANNOUNCE_AHEAD * 26
    )
    return _respond({"scheduled_maintenances": [_maintenance(w) for w in windows]})


@public.get("/api/v2/scheduled-maintenances/active.json")
def api_active_maintenances():
    windows = maintenance_queries.active_windows(clock.now())
    return _respond({"scheduled_maintenances": [_maintenance(w) for w in windows]})
