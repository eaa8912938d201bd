"""The Statuspage v2 API: Statuspage's field names and values, CORS open for GET."""

from datetime import timedelta

import pytest

from statuspage import clock
from statuspage.incidents.models import Impact, State
from statuspage.maintenance.operations import save_window
from tests.factories import make_agency, make_incident, make_service

ENDPOINTS = [
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
]


@pytest.fixture
def catalog(app, pinned_now):
    revenue = make_agency("Department of Revenue", "revenue")
    return {
        "filing": make_service(revenue, "Tax filing", "tax-filing"),
        "refunds": make_service(revenue, "Refund status", "refund-status"),
    }


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_endpoint_answers_json_with_the_page_and_open_cors(client, catalog, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    page = response.json["page"]
    assert set(page) == {"id", "name", "url", "time_zone", "updated_at"}
    assert page["time_zone"] == "America/New_York"


def test_all_operational(client, catalog):
    summary = client.get("/api/v2/summary.json").json
    assert summary["status"] == {"indicator": "none", "description": "All Systems Operational"}
    services = [c for c in summary["components"] if not c["group"]]
    assert {c["id"]: c["status"] for c in services} == {
        "tax-filing": "operational",
        "refund-status": "operational",
    }
    (group,) = [c for c in summary["components"] if c["group"]]
    assert group["components"] == ["tax-filing", "refund-status"]
    assert all(c["group_id"] == group["id"] for c in services)
    assert summary["incidents"] == [] and summary["scheduled_maintenances"] == []


@pytest.mark.parametrize(
    ("priority", "impact", "indicator", "component_status"),
    [
        (1, Impact.MAJOR_OUTAGE, "critical", "major_outage"),
        (2, Impact.MAJOR_OUTAGE, "major", "major_outage"),
        (2, Impact.PARTIAL_OUTAGE, "minor", "partial_outage"),
        (3, Impact.DEGRADED_PERFORMANCE, "minor", "degraded_performance"),
    ],
)
def test_an_open_incident(client, catalog, priority, impact, indicator, component_status):
    incident = make_incident(
        {catalog["filing"]: impact},
        priority=priority,
        made_public=True,
        updates=(State.INVESTIGATING, State.IDENTIFIED),
    )
    summary = client.get("/api/v2/summary.json").json
    assert summary["status"]["indicator"] == indicator
    assert {c["id"]: c["status"] for c in summary["components"]}["tax-filing"] == component_status
    (found,) = summary["incidents"]
    assert found["id"] == incident.ref and found["status"] == "identified"
    assert found["impact"] == {1: "critical", 2: "major", 3: "minor"}[priority]
    assert found["shortlink"] == f"http://localhost/incidents/{incident.ref}"
    assert [u["status"] for u in found["incident_updates"]] == ["identified", "investigating"]
    # Full component objects (Statuspage's shape), the same as in the component list.
    assert [{k: c[k] for k in ("id", "name", "status")} for c in found["components"]] == [
        {"id": "tax-filing", "name": "Tax filing", "status": component_status}
    ]
    listed = {c["id"]: c for c in summary["components"]}
    assert found["components"] == [listed["tax-filing"]]
    assert (
        client.get("/api/v2/incidents/unresolved.json").json["incidents"][0]["id"] == incident.ref
    )


def test_resolved_incidents_leave_unresolved_but_stay_in_incidents(client, catalog):
    incident = make_incident(
        [catalog["filing"]], priority=2, updates=(State.INVESTIGATING, State.RESOLVED)
    )
    assert client.get("/api/v2/incidents/unresolved.json").json["incidents"] == []
    (found,) = client.get("/api/v2/incidents.json").json["incidents"]
    assert found["id"] == incident.ref and found["status"] == "resolved" and found["resolved_at"]


def test_p4_never_appears(client, catalog):
    make_incident([catalog["filing"]], priority=4)
    assert client.get("/api/v2/incidents.json").json["incidents"] == []
    assert client.get("/api/v2/status.json").json["status"]["indicator"] == "none"


def test_scheduled_maintenances(client, catalog, pinned_now):
    save_window(
        None,
        title="Upgrade",
        description="",
        starts_at=pinned_now + timedelta(days=1),
        ends_at=pinned_now + timedelta(days=1, hours=2),
        services=[catalog["filing"]],
        by=None,
    )
    (upcoming,) = client.get("/api/v2/scheduled-maintenances/upcoming.json").json[
        "scheduled_maintenances"
    ]
    assert upcoming["status"] == "scheduled" and upcoming["impact"] == "maintenance"
    assert upcoming["scheduled_for"] == "2026-11-24T19:30:00Z"
    assert (
        client.get("/api/v2/scheduled-maintenances/active.json").json["scheduled_maintenances"]
        == []
    )
    with clock.pinned(pinned_now + timedelta(days=1, hours=1)):
        (active,) = client.get("/api/v2/scheduled-maintenances/active.json").json[
            "scheduled_maintenances"
        ]
        assert active["status"] == "in_progress"
        status = client.get("/api/v2/status.json").json["status"]
        assert status == {"indicator": "maintenance", "description": "Service Under Maintenance"}
