"""Escalation at once, de-escalation and closure by approval, acknowledgement, assignment, and
the audit log that keeps it all."""

import pytest
from sqlalchemy import func, select

from statuspage.audit import AuditEntry
from statuspage.extensions import db
from statuspage.incidents.models import Approval, State
from statuspage.incidents.operations import publish_update
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_incident, make_service, make_user


@pytest.fixture
def team(app, pinned_now):
    agency = make_agency("Department of Revenue", "revenue")
    return {
        "agency": agency,
        "service": make_service(agency, "Tax filing", "tax-filing"),
        "lead": make_user(agency, Role.COMMUNICATIONS_LEAD),
        "manager": make_user(agency, Role.SERVICE_MANAGER),
        "owner": make_user(agency, Role.SERVICE_OWNER),
    }


def switch(client, user):
    client.post("/admin/logout")
    login(client, user)


def priority_of(incident) -> int:
    db.session.refresh(incident)
    return incident.priority


def test_a_lead_escalates_at_once(client, team):
    incident = make_incident([team["service"]], priority=3, made_public=True)
    login(client, team["lead"])
    response = client.post(
        f"/admin/incidents/{incident.ref}/priority",
        data={"priority": "1", "reason": "Hundreds of calls"},
    )
    assert response.status_code == 302
    assert priority_of(incident) == 1
    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert "Priority raised to P1. The new deadlines apply now." in page


def test_lowering_the_priority_waits_for_a_service_managers_approval(client, team):
    incident = make_incident([team["service"]], priority=1)
    login(client, team["lead"])
    client.post(
        f"/admin/incidents/{incident.ref}/priority",
        data={"priority": "3", "reason": "Only one office affected"},
    )
    assert priority_of(incident) == 1
    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert "waiting for a service manager" in page
    assert "asks to lower the priority to P3" in page

    # The person who asked cannot approve; a second request is refused while one waits.
    approval = db.session.scalars(select(Approval)).one()
    url = f"/admin/incidents/{incident.ref}/approvals/{approval.id}"
    client.post(f"{url}/approve", data={"note": ""})
    assert priority_of(incident) == 1
    response = client.post(
        f"/admin/incidents/{incident.ref}/priority", data={"priority": "2", "reason": "again"}
    )
    assert "already waiting for approval" in response.text and response.status_code == 400

    switch(client, team["manager"])
    assert "Waiting for your approval" in client.get("/admin/").text
    response = client.post(f"{url}/refuse", data={"note": ""})
    assert response.status_code == 400 and "Say why you are refusing" in response.text
    client.post(f"{url}/approve", data={"note": "Agreed, one office only"})
    assert priority_of(incident) == 3
    history = [(c.from_priority, c.to_priority, c.reason) for c in incident.priority_changes]
    assert history[-1] == (1, 3, "Only one office affected")


def test_a_manager_lowers_the_priority_directly(client, team):
    incident = make_incident([team["service"]], priority=2)
    login(client, team["manager"])
    client.post(
        f"/admin/incidents/{incident.ref}/priority",
        data={"priority": "3", "reason": "Workaround works for everyone"},
    )
    assert priority_of(incident) == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"priority": "3", "reason": ""}, "Say why the priority changes."),
        ({"priority": "2", "reason": "same"}, "The incident is already P2."),
        ({"priority": "9", "reason": "x"}, "Choose a priority from P1 to P4."),
    ],
)
def test_bad_priority_changes_are_refused_and_change_nothing(client, team, data, message):
    incident = make_incident([team["service"]], priority=2)
    login(client, team["manager"])
    response = client.post(f"/admin/incidents/{incident.ref}/priority", data=data)
    assert response.status_code == 400 and message in response.text
    assert priority_of(incident) == 2
    assert db.session.scalar(select(func.count()).select_from(Approval)) == 0


def test_a_security_incident_cannot_be_set_to_p3(client, team):
    incident = make_incident([team["service"]], priority=2, is_security=True)
    login(client, team["owner"])
    response = client.post(
        f"/admin/incidents/{incident.ref}/priority", data={"priority": "3", "reason": "Contained"}
    )
    assert response.status_code == 400
    assert "A security incident is never below P2" in response.text
    assert priority_of(incident) == 2


def test_a_closed_incident_keeps_its_priority(client, team):
    incident = make_incident(
        [team["service"]], priority=3, updates=(State.INVESTIGATING, State.RESOLVED)
    )
    login(client, team["lead"])
    client.post(f"/admin/incidents/{incident.ref}/close")
    db.session.refresh(incident)
    assert incident.state == "closed"
    response = client.post(
        f"/admin/incidents/{incident.ref}/priority", data={"priority": "1", "reason": "late news"}
    )
    assert "closed; its priority cannot change" in response.text
    assert priority_of(incident) == 3


def test_closing_a_p1_needs_the_service_owner(client, team):
    incident = make_incident(
        [team["service"]], priority=1, updates=(State.INVESTIGATING, State.RESOLVED)
    )
    login(client, team["manager"])
    client.post(f"/admin/incidents/{incident.ref}/close")
    db.session.refresh(incident)
    assert incident.state == "resolved"
    approval = db.session.scalars(select(Approval)).one()
    assert approval.kind == "closure" and approval.is_pending

    switch(client, team["owner"])
    client.post(
        f"/admin/incidents/{incident.ref}/approvals/{approval.id}/approve", data={"note": ""}
    )
    db.session.refresh(incident)
    assert incident.state == "closed" and incident.closed_at is not None


def test_an_open_incident_cannot_be_closed(client, team):
    incident = make_incident([team["service"]], priority=3)
    login(client, team["owner"])
    client.post(f"/admin/incidents/{incident.ref}/close")
    assert "Resolve the incident" in client.get(f"/admin/incidents/{incident.ref}").text
    db.session.refresh(incident)
    assert incident.state == "investigating"


def test_acknowledge_and_assign(client, team):
    incident = make_incident([team["service"]], priority=2, updates=())
    login(client, team["lead"])
    client.post(f"/admin/incidents/{incident.ref}/acknowledge")
    db.session.refresh(incident)
    assert incident.acknowledged_by_id == team["lead"].id
    assert (
        "Already acknowledged"
        in client.post(f"/admin/incidents/{incident.ref}/acknowledge", follow_redirects=True).text
    )
    client.post(
        f"/admin/incidents/{incident.ref}/assign", data={"assignee": str(team["manager"].id)}
    )
    db.session.refresh(incident)
    assert incident.assignee_id == team["manager"].id
    stranger = make_user(make_agency(), Role.SERVICE_OWNER)
    response = client.post(
        f"/admin/incidents/{incident.ref}/assign", data={"assignee": str(stranger.id)}
    )
    assert response.status_code == 400 and "Choose someone from the list." in response.text


def test_a_resolution_time_before_detection_is_refused(client, team, pinned_now):
    incident = make_incident([team["service"]], priority=2)
    login(client, team["lead"])
    response = client.post(
        f"/admin/incidents/{incident.ref}/updates",
        data={
            "status": "resolved",
            "body": "Fixed",
            "resolved_at": "2026-11-20T10:00",
            "action": "publish",
        },
    )
    assert response.status_code == 400
    assert "cannot be before the problem was detected" in response.text
    db.session.refresh(incident)
    assert incident.state == "investigating"


def test_every_change_is_in_the_audit_log_for_managers_only(client, team):
    incident = make_incident([team["service"]], priority=3, by=team["lead"])
    login(client, team["lead"])
    client.post(
        f"/admin/incidents/{incident.ref}/priority", data={"priority": "2", "reason": "Spreading"}
    )
    client.post(f"/admin/incidents/{incident.ref}/assign", data={"assignee": str(team["lead"].id)})
    assert "Audit log" not in client.get(f"/admin/incidents/{incident.ref}").text

    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == [
        "incident_logged",
        "state_changed",
        "acknowledged",
        "update_published",
        "priority_escalated",
        "assigned",
    ]
    escalation = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "priority_escalated")
    ).one()
    assert escalation.reason == "Spreading" and escalation.actor_id == team["lead"].id
    assert escalation.address == "127.0.0.1"

    switch(client, team["manager"])
    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert "Audit log" in page and "Priority escalated" in page and "Spreading" in page
    assert "Audit log" in client.get("/admin/audit").text


def test_the_audit_log_is_append_only(app, team):
    from statuspage.audit import AuditLogIsAppendOnly

    make_incident([team["service"]], priority=2)
    entry = db.session.scalars(select(AuditEntry)).first()
    entry.reason = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.scalars(select(AuditEntry)).first())
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()


def test_a_reopened_incident_is_public_again_and_not_resolved(app, team):
    incident = make_incident(
        [team["service"]], priority=2, updates=(State.INVESTIGATING, State.RESOLVED)
    )
    publish_update(incident, status=State.INVESTIGATING, body="It is back", by=None)
    assert incident.resolved_at is None and incident.state == "investigating"
