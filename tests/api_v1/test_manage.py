"""The manage API v1 (Statuspage's) for an agency's page: what a script or chat bot written
against Statuspage sees and changes, through the same operations and policy as the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from statuspage import clock
from statuspage.api_keys.operations import create_key
from statuspage.api_v1.queries import _markdown
from statuspage.audit import AuditEntry
from statuspage.extensions import db
from statuspage.incidents.models import Approval, Incident, State
from statuspage.maintenance.models import MaintenanceWindow
from statuspage.reports import reviews
from statuspage.subscriptions.models import Notification
from statuspage.users.models import Role
from tests.api_v1.conftest import table_contents
from tests.factories import make_agency, make_incident, make_service, make_user


def incidents_path(page, *rest: str) -> str:
    return "/".join([f"/api/v1/pages/{page.slug}/incidents", *rest])


def create(client, page, headers=None, **incident):
    return client.post(incidents_path(page), json={"incident": incident},
                       headers=headers or page.headers())  # fmt: skip


def patch(client, page, ref, **incident):
    return client.patch(incidents_path(page, ref), json={"incident": incident},
                        headers=page.headers())  # fmt: skip


def stored(ref: str) -> Incident:
    db.session.expire_all()
    return db.session.scalars(select(Incident).where(Incident.ref == ref)).one()


# --- creating ------------------------------------------------------------------------------------


def test_a_major_incident_with_a_message_is_public_at_once_and_tells_subscribers(client, page):
    from statuspage.subscriptions.models import Subscriber, SubscriberScope

    subscriber = Subscriber(email="citizen@example.org", confirmed_at=clock.now(),
                            created_at=clock.now())  # fmt: skip
    subscriber.scopes = [SubscriberScope(agency_id=page.agency.id)]
    db.session.add(subscriber)
    db.session.commit()
    response = create(client, page, name="Online filing unavailable", status="investigating",
                      body="We are looking into errors when filing.", impact_override="major",
                      components={"tax-filing": "partial_outage"})  # fmt: skip
    assert response.status_code == 201
    shown = response.get_json()
    assert shown["id"].startswith("INC-")
    assert (shown["name"], shown["status"], shown["impact"]) == (
        "Online filing unavailable",
        "investigating",
        "major",
    )
    assert shown["page_id"] == "revenue"
    assert [c["id"] for c in shown["components"]] == ["tax-filing"]
    assert shown["components"][0]["status"] == "partial_outage"  # the public status now
    assert shown["incident_updates"][0]["body"] == "We are looking into errors when filing."
    assert shown["incident_updates"][0]["deliver_notifications"] is True
    assert shown["metadata"]["policy"]["priority"] == "P2"
    assert shown["metadata"]["policy"]["public"] is True
    assert client.get(f"/incidents/{shown['id']}").status_code == 200
    incident = stored(shown["id"])
    assert incident.first_public_at is not None  # the cadence runs from here
    assert db.session.scalars(select(Notification)).all(), "subscribers are told"
    actors = {e.actor.name for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.incident_id == incident.id))}  # fmt: skip
    assert actors == {"API key 'Chat bot' (Department of Revenue)"}


def test_without_an_override_the_matrix_sets_the_priority_from_status_and_tier(client, page):
    outage = create(client, page, name="Filing down", body="Filing is down.",
                    components={"tax-filing": "major_outage"}).get_json()  # fmt: skip
    slow = create(client, page, name="Payments slow", body="Payments are slow.",
                  components={"tax-payments": "degraded_performance"}).get_json()  # fmt: skip
    assert (outage["impact"], outage["metadata"]["policy"]["priority"]) == ("critical", "P1")
    assert (slow["impact"], slow["metadata"]["policy"]["priority"]) == ("none", "P4")
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "incident_logged")).first()  # fmt: skip
    assert "high urgency" in entry.details


def test_a_p4_stays_private_whatever_its_message(client, page):
    shown = create(client, page, name="Archive search slow", body="Searches are slow.",
                   impact_override="none", components={"records-archive": "degraded_performance"}
                   ).get_json()  # fmt: skip
    assert shown["metadata"]["policy"]["public"] is False
    assert shown["incident_updates"][0]["deliver_notifications"] is False
    assert client.get(f"/incidents/{shown['id']}").status_code == 404
    assert shown["components"][0]["status"] == "operational"  # citizens see no change
    assert db.session.scalars(select(Notification)).all() == []


def test_a_p3_is_private_until_a_lead_marks_it_public(client, page):
    shown = create(
        client,
        page,
        name="Some payments fail",
        body="A few payments fail.",
        impact_override="minor",
        component_ids=["tax-payments"],
    ).get_json()
    assert shown["metadata"]["policy"]["public"] is False
    assert client.get(f"/incidents/{shown['id']}").status_code == 404


def test_an_incident_without_a_message_is_logged_privately_and_its_clock_runs(client, page):
    shown = create(client, page, name="Filing errors", impact_override="critical",
                   component_ids=["tax-filing"]).get_json()  # fmt: skip
    assert shown["incident_updates"] == []
    assert shown["status"] == "investigating"
    assert shown["metadata"]["policy"]["state"] == "new"
    assert shown["metadata"]["policy"]["public"] is False
    assert client.get(f"/incidents/{shown['id']}").status_code == 404
    incident = stored(shown["id"])
    assert (incident.priority, incident.first_public_at) == (1, None)


@pytest.mark.parametrize(
    ("incident", "status", "says"),
    [
        (
            {"name": "X", "body": "Y", "components": {"no-such-service": "major_outage"}},
            422,
            "Unknown component 'no-such-service'",
        ),
        ({"name": "X", "body": "Y"}, 422, "at least one service"),
        ({"body": "Y", "component_ids": ["tax-filing"]}, 422, "incident[name] is required"),
        (
            {"name": "X", "status": "resolved", "component_ids": ["tax-filing"]},
            422,
            "Write incident[body]",
        ),
        ({"name": 5, "component_ids": ["tax-filing"]}, 422, "must be a string"),
        (
            {"name": "X", "component_ids": ["tax-filing"], "impact_override": "huge"},
            422,
            "impact_override",
        ),
        (
            {"name": "X", "components": {"tax-filing": "under_maintenance"}},
            422,
            "scheduled maintenance",
        ),
    ],
)
def test_a_refused_incident_says_why_in_statuspages_shape_and_changes_nothing(
    client, page, incident, status, says
):
    before = table_contents()
    response = create(client, page, **incident)
    assert response.status_code == status
    assert says in response.get_json()["error"]
    assert table_contents() == before


def test_a_body_that_is_not_json_is_a_400_and_changes_nothing(client, page):
    before = table_contents()
    response = client.post(incidents_path(page), data=b"{not json", headers={
        **page.headers(), "Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 400
    assert "JSON" in response.get_json()["error"]
    assert table_contents() == before


def test_a_key_of_another_agency_finds_no_page_and_changes_nothing(client, page):
    other = make_agency()
    make_service(other)
    _, their_key = create_key(other, "Theirs", {"read", "incidents"},
                              by=make_user(other, Role.SERVICE_OWNER))  # fmt: skip
    before = table_contents()
    response = create(client, page, page.headers(their_key), name="Hijack", body="Hijack",
                      component_ids=["tax-filing"])  # fmt: skip
    assert response.status_code == 404
    assert "error" in response.get_json()
    assert table_contents() == before


def test_a_key_without_the_incidents_scope_cannot_open_one(client, page):
    _, reader = create_key(page.agency, "Reader", {"read"}, by=page.owner)
    before = table_contents()
    response = create(client, page, page.headers(reader), name="X", body="Y",
                      component_ids=["tax-filing"])  # fmt: skip
    assert response.status_code == 403
    assert "incidents scope" in response.get_json()["error"]
    assert table_contents() == before


def test_a_retried_post_with_the_same_idempotency_key_opens_one_incident(client, page):
    body = {"incident": {"name": "Filing down", "body": "Down.", "impact_override": "major",
                         "component_ids": ["tax-filing"]}}  # fmt: skip
    headers = {**page.headers(), "Idempotency-Key": "retry-1"}
    first = client.post(incidents_path(page), json=body, headers=headers)
    second = client.post(incidents_path(page), json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] == second.get_json()["id"]
    assert len(db.session.scalars(select(Incident)).all()) == 1


def test_form_encoded_requests_and_json_suffixes_work_as_on_statuspage(client, page):
    response = client.post(f"/api/v1/pages/{page.slug}/incidents.json", data={
        "incident[name]": "Filing down", "incident[body]": "Down.",
        "incident[impact_override]": "major", "incident[components][tax-filing]": "major_outage",
    }, headers=page.headers())  # fmt: skip
    assert response.status_code == 201
    ref = response.get_json()["id"]
    assert (
        client.get(incidents_path(page, f"{ref}.json"), headers=page.headers()).status_code == 200
    )
    assert client.get(f"/api/v1/pages/{page.slug}.json", headers=page.headers()).get_json()[
        "id"] == "revenue"  # fmt: skip


def test_a_huge_body_is_a_413_in_statuspages_shape_and_changes_nothing(client, page):
    before = table_contents()
    response = create(client, page, name="X", body="y" * (2 * 1024 * 1024),
                      component_ids=["tax-filing"])  # fmt: skip
    assert response.status_code == 413
    assert "too large" in response.get_json()["error"]
    assert table_contents() == before


# --- updating ------------------------------------------------------------------------------------


@pytest.fixture
def opened(client, page) -> str:
    return create(client, page, name="Online filing unavailable", body="Looking into it.",
                  impact_override="major", components={"tax-filing": "major_outage"}
                  ).get_json()["id"]  # fmt: skip


def test_an_update_posts_a_message_and_changes_the_components(client, page, opened):
    response = patch(client, page, opened, status="identified", body="A failed disk.",
                     components={"tax-filing": "partial_outage", "tax-payments": "degraded_performance"})  # fmt: skip
    assert response.status_code == 200
    shown = response.get_json()
    assert shown["status"] == "identified"
    assert [u["status"] for u in shown["incident_updates"]] == ["identified", "investigating"]
    assert {c["id"]: c["status"] for c in shown["components"]} == {
        "tax-filing": "partial_outage",
        "tax-payments": "degraded_performance",
    }
    actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert "scope_changed" in actions


def test_deliver_notifications_false_does_not_silence_a_public_update(client, page, opened):
    from statuspage.subscriptions.models import Subscriber, SubscriberScope

    subscriber = Subscriber(email="citizen@example.org", confirmed_at=clock.now(),
                            created_at=clock.now())  # fmt: skip
    subscriber.scopes = [SubscriberScope(agency_id=page.agency.id)]
    db.session.add(subscriber)
    db.session.commit()
    response = patch(client, page, opened, status="identified", body="A failed disk.",
                     deliver_notifications=False)  # fmt: skip
    assert response.get_json()["incident_updates"][0]["deliver_notifications"] is True
    told = db.session.scalars(select(Notification)).all()
    assert [n.subscriber_id for n in told] == [subscriber.id]


def test_a_status_without_a_message_is_refused(client, page, opened):
    before = table_contents()
    response = patch(client, page, opened, status="resolved")
    assert response.status_code == 422
    assert "Write incident[body]" in response.get_json()["error"]
    assert table_contents() == before


def test_raising_the_impact_escalates_at_once(client, page, opened):
    response = patch(client, page, opened, impact_override="critical", body="Worse now.")
    assert response.status_code == 200
    assert response.get_json()["impact"] == "critical"
    assert stored(opened).priority == 1


def test_lowering_the_impact_waits_for_the_approver_the_policy_names(client, page, opened):
    response = patch(client, page, opened, impact_override="minor", body="Most can file again.")
    assert response.status_code == 202
    shown = response.get_json()
    assert shown["impact"] == "major"  # unchanged until approved
    assert shown["approval"]["approver"] == "a service manager"
    assert "service manager" in shown["approval"]["message"]
    assert shown["metadata"]["policy"]["awaiting_approval"]["approver"] == "service manager"
    assert shown["incident_updates"][0]["body"] == "Most can file again."
    assert stored(opened).priority == 2
    assert db.session.scalars(select(Approval)).one().to_priority == 3
    again = patch(client, page, opened, impact_override="none")
    assert again.status_code == 409
    assert "already waiting" in again.get_json()["error"]


def test_resolving_ends_the_incident_and_clears_the_colour(client, page, opened):
    response = patch(client, page, opened, status="resolved", body="Filing works again.",
                     components={"tax-filing": "operational"})  # fmt: skip
    shown = response.get_json()
    assert shown["status"] == "resolved"
    assert shown["resolved_at"] is not None
    assert shown["components"][0]["status"] == "operational"
    assert stored(opened).state == State.RESOLVED.value
    unresolved = client.get(incidents_path(page, "unresolved"), headers=page.headers())
    assert unresolved.get_json() == []


def test_an_incident_is_never_deleted(client, page, opened):
    response = client.delete(incidents_path(page, opened), headers=page.headers())
    assert response.status_code == 409
    assert "Resolve it" in response.get_json()["error"]
    assert stored(opened).state == State.INVESTIGATING.value


def test_a_published_update_is_never_rewritten(client, page, opened):
    update_id = client.get(incidents_path(page, opened), headers=page.headers()).get_json()[
        "incident_updates"][0]["id"]  # fmt: skip
    path = incidents_path(page, opened, "incident_updates", update_id)
    assert client.get(path, headers=page.headers()).get_json()["body"] == "Looking into it."
    same = client.patch(path, json={"incident_update": {"body": "Looking into it."}},
                        headers=page.headers())  # fmt: skip
    assert same.status_code == 200
    changed = client.patch(path, json={"incident_update": {"body": "Rewritten."}},
                           headers=page.headers())  # fmt: skip
    assert changed.status_code == 409
    assert "Post a new update" in changed.get_json()["error"]


def test_an_unknown_incident_is_a_404(client, page):
    response = client.get(incidents_path(page, "INC-2026-0101-999"), headers=page.headers())
    assert response.status_code == 404
    assert "INC-2026-0101-999" in response.get_json()["error"]


# --- components ----------------------------------------------------------------------------------


def component_path(page, slug: str) -> str:
    return f"/api/v1/pages/{page.slug}/components/{slug}"


def test_components_are_the_pages_services_with_their_public_status(client, page, opened):
    shown = client.get(f"/api/v1/pages/{page.slug}/components", headers=page.headers()).get_json()
    assert [(c["id"], c["status"]) for c in shown] == [
        ("tax-filing", "major_outage"), ("tax-payments", "operational"),
        ("records-archive", "operational")]  # fmt: skip
    assert {c["page_id"] for c in shown} == {"revenue"}


def test_a_component_status_goes_into_the_open_incident_it_is_in(client, page, opened):
    response = client.patch(component_path(page, "tax-filing"),
                            json={"component": {"status": "degraded_performance"}},
                            headers=page.headers())  # fmt: skip
    assert response.status_code == 200
    assert response.get_json()["status"] == "degraded_performance"
    assert stored(opened).affected[0].impact == "degraded_performance"


def test_a_component_in_no_incident_is_not_given_a_status_without_a_message(client, page):
    before = table_contents()
    response = client.patch(component_path(page, "tax-payments"),
                            json={"component": {"status": "major_outage"}},
                            headers=page.headers())  # fmt: skip
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert "create one" in error and "POST /pages/revenue/incidents" in error
    assert table_contents() == before


def test_the_only_component_of_an_incident_goes_operational_by_resolving(client, page, opened):
    response = client.patch(component_path(page, "tax-filing"),
                            json={"component": {"status": "operational"}},
                            headers=page.headers())  # fmt: skip
    assert response.status_code == 409
    assert "resolve the incident" in response.get_json()["error"]


def test_a_component_name_is_changed_in_the_admin_not_the_api(client, page):
    response = client.patch(
        component_path(page, "tax-filing"),
        json={"component": {"name": "Renamed"}},
        headers=page.headers(),
    )
    assert response.status_code == 422
    assert "admin" in response.get_json()["error"]


# --- scheduled maintenance -----------------------------------------------------------------------


def test_a_scheduled_incident_plans_a_maintenance_window(client, page):
    starts = clock.now() + timedelta(days=1)
    response = create(client, page, name="Database upgrade", body="Filing is off for an hour.",
                      scheduled_for=starts.isoformat(),
                      scheduled_until=(starts + timedelta(hours=1)).isoformat(),
                      component_ids=["tax-filing"])  # fmt: skip
    assert response.status_code == 201
    shown = response.get_json()
    assert (shown["status"], shown["impact"]) == ("scheduled", "maintenance")
    assert shown["scheduled_for"] is not None
    window = db.session.scalars(select(MaintenanceWindow)).one()
    assert window.title == "Database upgrade"
    for which in ("scheduled", "upcoming"):
        listed = client.get(incidents_path(page, which), headers=page.headers()).get_json()
        assert [w["id"] for w in listed] == [str(window.id)]
    assert client.get(incidents_path(page, "active_maintenance"),
                      headers=page.headers()).get_json() == []  # fmt: skip
    cancelled = client.delete(incidents_path(page, str(window.id)), headers=page.headers())
    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "completed"


def test_planning_maintenance_needs_the_maintenance_scope(client, page):
    _, key = create_key(page.agency, "Incidents only", {"read", "incidents"}, by=page.owner)
    starts = clock.now() + timedelta(days=1)
    response = create(client, page, page.headers(key), name="Upgrade",
                      scheduled_for=starts.isoformat(),
                      scheduled_until=(starts + timedelta(hours=1)).isoformat(),
                      component_ids=["tax-filing"])  # fmt: skip
    assert response.status_code == 403
    assert db.session.scalars(select(MaintenanceWindow)).all() == []


# --- postmortem ----------------------------------------------------------------------------------


def test_a_postmortem_is_drafted_but_published_only_after_the_service_owners_approval(client, page):
    lead = make_user(page.agency, Role.COMMUNICATIONS_LEAD)
    incident = make_incident([page.filing], priority=2, by=lead,
                             updates=(State.INVESTIGATING, State.RESOLVED))  # fmt: skip
    path = incidents_path(page, incident.ref, "postmortem")
    saved = client.put(path, json={"postmortem": {"body_draft": (
        "Filing was down for an hour.\n\n## Root cause\nA disk filled up.\n\n"
        "## Root cause category\nCapacity")}}, headers=page.headers())  # fmt: skip
    assert saved.status_code == 200
    draft = saved.get_json()["body_draft"]
    assert "## Executive summary\n\nFiling was down for an hour." in draft
    assert "## Root cause category\n\nCapacity" in draft
    assert "## Timeline" in draft  # prefilled from the record
    published = client.put(path + "/publish", json={"postmortem": {"notify_subscribers": True}},
                           headers=page.headers())  # fmt: skip
    assert published.status_code == 409
    assert "service owner must approve" in published.get_json()["error"]
    assert client.get(path, headers=page.headers()).get_json()["published_at"] is None


def test_a_postmortem_body_writes_the_analysis_text_and_publishes_no_internal_moment(client, page):
    lead = make_user(page.agency, Role.COMMUNICATIONS_LEAD)
    incident = make_incident([page.filing], priority=2, by=lead,
                             updates=(State.INVESTIGATING, State.RESOLVED))  # fmt: skip
    path = incidents_path(page, incident.ref, "postmortem")
    saved = client.put(path, json={"postmortem": {"body_draft": (
        "Filing was down.\n\n## Contributing factors\nA busy day.\n\n"
        "## What went well\nQuick fix.\n\n## What went wrong\nLate alert.\n\n## Timeline\n"
        "2026-11-23 09:00 EST  Alerted.\n"
        "2026-11-23 09:05 EST  [internal] [by Lee Park] Priority raised: a secret reason.")}},
        headers=page.headers())  # fmt: skip
    assert saved.status_code == 200
    draft = saved.get_json()["body_draft"]
    assert "## Contributing factors\n\nA busy day." in draft
    assert "## What went wrong\n\nLate alert." in draft
    assert "[internal] [by Lee Park] Priority raised: a secret reason." in draft  # reads back
    # The published body is what the public report shows of the same content.
    body = _markdown(reviews.content_of(reviews.report_for(incident)), public=True)
    assert "Alerted." in body and "secret reason" not in body and "Lee Park" not in body
