"""Our Statuspage v2 payloads carry every key a real Statuspage sends (issue 15).

The fixtures are GitHub's status page API as it answered (tests/public/fixtures/README.md says
where they come from). For each kind of object (page, component, incident, incident update,
affected component) every key in theirs must be in each of ours; our scheduled maintenances are
incidents with scheduled_for and scheduled_until, as Statuspage's are."""

import json
from datetime import timedelta
from pathlib import Path

import pytest

from statuspage import clock
from statuspage.incidents.models import Impact, State
from statuspage.maintenance.operations import save_window
from statuspage.users.models import Role
from tests.factories import make_agency, make_incident, make_service, make_user
from tests.reports.test_reviews import publish_review

FIXTURES = Path(__file__).parent / "fixtures"
MAINTENANCE_KEYS = {"scheduled_for", "scheduled_until"}


def objects_by_kind(payload: dict) -> dict[str, list[dict]]:
    """Every object in a v2 payload, by kind, walking the nesting Statuspage uses."""
    kinds: dict[str, list[dict]] = {k: [] for k in
                                    ("page", "component", "incident", "maintenance",
                                     "incident_update", "affected_component")}  # fmt: skip
    if "page" in payload:
        kinds["page"].append(payload["page"])
    kinds["component"] += payload.get("components", [])
    for kind, key in (("incident", "incidents"), ("maintenance", "scheduled_maintenances")):
        for incident in payload.get(key, []):
            kinds[kind].append(incident)
            kinds["component"] += incident.get("components") or []
            for update in incident.get("incident_updates") or []:
                kinds["incident_update"].append(update)
                kinds["affected_component"] += update.get("affected_components") or []
    return kinds


def key_sets(payloads) -> dict[str, set[str]]:
    """The union of the keys of each kind across payloads."""
    keys: dict[str, set[str]] = {}
    for payload in payloads:
        for kind, objects in objects_by_kind(payload).items():
            for item in objects:
                keys.setdefault(kind, set()).update(item)
    return keys


@pytest.fixture
def theirs() -> dict[str, set[str]]:
    payloads = [json.loads(path.read_text()) for path in sorted(FIXTURES.glob("*.json"))]
    keys = key_sets(payloads)
    assert {"page", "component", "incident", "incident_update", "affected_component"} <= set(keys)
    keys["maintenance"] = keys["incident"] | MAINTENANCE_KEYS
    return keys


@pytest.fixture
def team(app, pinned_now):
    agency = make_agency("Department of Revenue", "revenue")
    return {
        "agency": agency,
        "service": make_service(agency, "Tax filing", "tax-filing"),
        "refunds": make_service(agency, "Refund status", "refund-status"),
        "lead": make_user(agency, Role.COMMUNICATIONS_LEAD),
        "owner": make_user(agency, Role.SERVICE_OWNER),
    }


@pytest.fixture
def history(client, team, pinned_now):
    """An open incident, a resolved one with a published review, maintenance running and
    planned."""
    make_incident({team["refunds"]: Impact.PARTIAL_OUTAGE}, priority=2,
                  updates=(State.INVESTIGATING, State.MONITORING))  # fmt: skip
    reviewed = make_incident(
        [team["service"]], priority=1, title="Tax filing unavailable",
        detected_at=clock.now() - timedelta(hours=3),
        updates=(State.INVESTIGATING, State.IDENTIFIED, State.RESOLVED),
    )  # fmt: skip
    publish_review(client, team, reviewed)
    for start, title in ((-timedelta(hours=1), "Database upgrade"), (timedelta(days=2), "Move")):
        with clock.pinned(pinned_now - timedelta(days=1)):  # planned the day before
            save_window(None, title=title, description="Filing will be off.",
                        starts_at=pinned_now + start, ends_at=pinned_now + start + timedelta(hours=2),
                        services=[team["service"]], by=team["lead"])  # fmt: skip
    return reviewed


PATHS = [
    "/api/v2/summary.json", "/api/v2/components.json", "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json", "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json", "/api/v2/scheduled-maintenances/active.json",
]  # fmt: skip


def test_every_key_of_a_real_statuspage_payload_is_in_ours(client, history, theirs):
    payloads = [client.get(path).json for path in PATHS]
    for kind, expected in theirs.items():
        ours = [item for payload in payloads for item in objects_by_kind(payload)[kind]]
        assert ours, f"none of our payloads has a {kind}"
        for item in ours:
            assert expected <= set(item), f"{kind} lacks {sorted(expected - set(item))}: {item}"


def test_components_have_their_times_and_incidents_carry_them_whole(client, history):
    summary = client.get("/api/v2/summary.json").json
    for component in summary["components"]:
        assert component["created_at"] and component["updated_at"], component
        assert component["created_at"] <= component["updated_at"]
    listed = {c["id"]: c for c in summary["components"]}
    (open_incident,) = summary["incidents"]
    assert open_incident["components"] == [listed["refund-status"]]
    assert open_incident["components"][0]["status"] == "partial_outage"
    assert open_incident["monitoring_at"] and open_incident["started_at"]
    newest, oldest = open_incident["incident_updates"]
    assert oldest["affected_components"] == [{
        "code": "refund-status", "name": "Refund status",
        "old_status": "operational", "new_status": "partial_outage",
    }]  # fmt: skip
    assert newest["affected_components"][0]["old_status"] == "partial_outage"


def test_a_published_review_makes_the_status_postmortem(client, history):
    incidents = client.get("/api/v2/incidents.json").json["incidents"]
    reviewed = next(i for i in incidents if i["id"] == history.ref)
    assert reviewed["status"] == "postmortem"
    assert reviewed["resolved_at"] is not None
    resolution = reviewed["incident_updates"][0]
    assert resolution["status"] == "resolved"
    assert resolution["affected_components"][0]["new_status"] == "operational"


def test_scheduled_maintenances_carry_their_notices_as_updates(client, history, pinned_now):
    active = client.get("/api/v2/scheduled-maintenances/active.json").json
    (running,) = active["scheduled_maintenances"]
    assert running["status"] == "in_progress"
    assert [u["status"] for u in running["incident_updates"]] == ["in_progress", "scheduled"]
    planned = running["incident_updates"][1]
    assert planned["body"].startswith("Planned maintenance from 23 Nov 2026, 1:30 PM EST")
    assert running["components"][0]["status"] == "under_maintenance"
    upcoming = client.get("/api/v2/scheduled-maintenances/upcoming.json").json
    (coming,) = upcoming["scheduled_maintenances"]
    assert [u["status"] for u in coming["incident_updates"]] == ["scheduled"]
    assert coming["components"][0]["id"] == "tax-filing" and coming["status"] == "scheduled"
