"""Triage outcomes: an incident closed as a duplicate, a false alarm or a service request, with a
note, from any state before closed; audited; no review or report owed; a public one says how it
ended through the one publish path; bad references and closed incidents refused, nothing changed."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from statuspage import clock
from statuspage.audit import AuditEntry
from statuspage.extensions import db
from statuspage.incidents.models import Approval, Incident, IncidentUpdate, State
from statuspage.incidents.operations import IncidentRuleError, change_priority, publish_update
from statuspage.incidents.triage import TriageDecision, triage
from statuspage.reports import reviews
from statuspage.subscriptions.models import Notification, Subscriber
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_incident, make_service, make_user


@pytest.fixture
def team(app, pinned_now):
    agency = make_agency("Department of Revenue", "revenue")
    now = clock.now()
    db.session.add(Subscriber(email="all@example.com", everything=True, confirmed_at=now,
                              created_at=now))  # fmt: skip
    db.session.commit()
    return {
        "agency": agency,
        "service": make_service(agency, "Tax filing", "tax-filing"),
        # Triage closes the incident, so it takes the closure approver the policy names (a
        # service owner for P1, a service manager for P2); an owner can triage every priority.
        "lead": make_user(agency, Role.SERVICE_OWNER),
        "other": make_service(make_agency("Department of Roads", "roads"), "Road permits"),
    }


def subscriber_rows() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Notification).where(Notification.channel == "email")
    )


def triaged_entries(incident) -> list[AuditEntry]:
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.incident_id == incident.id,
                                 AuditEntry.action == "incident_triaged")
    ))  # fmt: skip


def test_a_public_false_alarm_says_so_on_its_page_and_to_its_subscribers(client, team):
    incident = make_incident([team["service"]], priority=2)  # public with its first update
    before = subscriber_rows()
    login(client, team["lead"])
    response = client.post(
        f"/admin/incidents/{incident.ref}/triage",
        data={"triage-outcome": "false_alarm", "triage-note": "Monitoring probe misconfigured."},
    )
    assert response.status_code == 302
    db.session.refresh(incident)
    assert incident.state == State.CLOSED.value and incident.triage == "false_alarm"
    assert incident.closed_at == clock.now() and incident.resolved_at == clock.now()
    page = client.get(f"/incidents/{incident.ref}").text
    assert "This turned out to be a false alarm" in page
    # The closing update went through the publish path: public, and to the subscriber.
    closing = incident.latest_update
    assert closing.is_public and closing.status == State.RESOLVED.value
    assert subscriber_rows() == before + 1
    (entry,) = triaged_entries(incident)
    assert entry.reason == "Monitoring probe misconfigured."
    assert ("outcome", "False alarm") in entry.detail_items
    admin_page = client.get(f"/admin/incidents/{incident.ref}").text
    assert "Closed as false alarm" in admin_page and "Monitoring probe misconfigured." in admin_page
    # A P2 owes a review; one that was not an incident owes none.
    assert not reviews.owed_by(incident).need.required
    assert reviews.outstanding_reviews([team["agency"].id], clock.now()) == []


def test_a_duplicate_links_to_its_original_both_ways(client, team):
    original = make_incident([team["service"]], priority=2, title="Filing is down")
    copy = make_incident([team["service"]], priority=2, title="Cannot file returns")
    login(client, team["lead"])
    response = client.post(
        f"/admin/incidents/{copy.ref}/triage",
        data={"triage-outcome": "duplicate", "triage-duplicate_of": original.ref.lower(),
              "triage-note": "Same outage, reported twice."},
    )  # fmt: skip
    assert response.status_code == 302
    db.session.refresh(copy)
    assert copy.duplicate_of_id == original.id and copy.state == State.CLOSED.value
    admin_copy = client.get(f"/admin/incidents/{copy.ref}").text
    assert f'href="/admin/incidents/{original.ref}"' in admin_copy
    assert "Closed as a duplicate of" in admin_copy
    assert copy.ref in client.get(f"/admin/incidents/{original.ref}").text
    # The public page of the copy sends citizens to the original's.
    public = client.get(f"/incidents/{copy.ref}").text
    assert "the same problem as another incident" in public
    assert f"/incidents/{original.ref}" in public
    assert original.state == State.INVESTIGATING.value  # the original carries on


def test_a_private_incident_closes_quietly_from_new(team):
    incident = make_incident([team["service"]], priority=4, updates=())
    before = subscriber_rows()
    triage(incident, TriageDecision("service_request", "A citizen asked for a password reset."),
           by=team["lead"])  # fmt: skip
    assert incident.state == State.CLOSED.value and incident.triage == "service_request"
    assert incident.resolved_at == clock.now()
    assert incident.updates == [] and subscriber_rows() == before


def test_a_resolved_public_incident_can_be_triaged_and_a_waiting_request_is_withdrawn(team):
    incident = make_incident([team["service"]], priority=1, updates=(State.INVESTIGATING,))
    manager_asks = make_user(team["agency"], Role.COMMUNICATIONS_LEAD)
    change_priority(incident, to=3, reason="Smaller than thought", by=manager_asks)
    with clock.pinned(clock.now() + timedelta(minutes=5)):
        publish_update(incident, status=State.RESOLVED, body="Fixed.", by=None)
    resolved_at = incident.resolved_at
    with clock.pinned(clock.now() + timedelta(minutes=10)):
        triage(incident, TriageDecision("false_alarm", "Nothing was wrong."), by=team["lead"])
    assert incident.resolved_at == resolved_at  # already resolved: the time stays
    assert db.session.scalar(select(Approval.status)) == "rejected"
    assert "false alarm" in incident.latest_update.body


BAD = {
    "itself": ("duplicate", "{self}", "An incident cannot be a duplicate of itself."),
    "another agency": ("duplicate", "{theirs}", "is not an incident of Department of Revenue"),
    "unknown": ("duplicate", "INC-2000-0101-999", "There is no incident INC-2000-0101-999"),
    "no reference": ("duplicate", "", "Enter the reference of the original incident"),
    "a chain": ("duplicate", "{copy}", "was itself closed as a duplicate of {original}"),
    "no note": ("false_alarm", "", "Write a note"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_changes(client, team, case):
    outcome, reference, message = BAD[case]
    incident = make_incident([team["service"]], priority=2)
    theirs = make_incident([team["other"]], priority=2)
    original = make_incident([team["service"]], priority=2)
    copy = make_incident([team["service"]], priority=2)
    triage(copy, TriageDecision("duplicate", "Twice.", original.ref), by=None)
    names = {"self": incident.ref, "theirs": theirs.ref, "copy": copy.ref,
             "original": original.ref}  # fmt: skip
    updates = db.session.scalar(select(func.count()).select_from(IncidentUpdate))
    login(client, team["lead"])
    response = client.post(
        f"/admin/incidents/{incident.ref}/triage",
        data={"triage-outcome": outcome, "triage-duplicate_of": reference.format(**names),
              "triage-note": "" if case == "no note" else "A note."},
    )  # fmt: skip
    assert response.status_code == 400
    assert message.format(**names) in response.text
    db.session.expire_all()
    incident = db.session.get(Incident, incident.id)
    assert incident.state == State.INVESTIGATING.value and incident.triage is None
    assert incident.duplicate_of_id is None and not triaged_entries(incident)
    assert db.session.scalar(select(func.count()).select_from(IncidentUpdate)) == updates


def test_a_closed_incident_cannot_be_triaged(client, team):
    incident = make_incident([team["service"]], priority=3, updates=(State.RESOLVED,))
    triage(incident, TriageDecision("false_alarm", "Nothing was wrong."), by=None)
    with pytest.raises(IncidentRuleError, match="already closed"):
        triage(incident, TriageDecision("service_request", "Changed my mind."), by=None)
    db.session.rollback()
    assert db.session.get(Incident, incident.id).triage == "false_alarm"
    assert len(triaged_entries(incident)) == 1
    login(client, team["lead"])
    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert "Not an incident after all?" not in page  # no form once closed
    response = client.post(
        f"/admin/incidents/{incident.ref}/triage",
        data={"triage-outcome": "service_request", "triage-note": "Changed my mind."},
    )
    assert response.status_code == 400
    assert "This incident is already closed; it cannot be triaged now." in response.text
    db.session.expire_all()
    assert db.session.get(Incident, incident.id).triage == "false_alarm"


def test_a_viewer_cannot_triage(client, team):
    incident = make_incident([team["service"]], priority=2)
    login(client, make_user(team["agency"], Role.VIEWER))
    assert "Not an incident after all?" not in client.get(f"/admin/incidents/{incident.ref}").text
    response = client.post(
        f"/admin/incidents/{incident.ref}/triage",
        data={"triage-outcome": "false_alarm", "triage-note": "x"},
    )
    assert response.status_code == 403
    assert db.session.get(Incident, incident.id).triage is None


def test_closing_a_p2_as_a_false_alarm_takes_the_closure_approver(client, team):
    incident = make_incident([team["service"]], priority=2)
    login(client, make_user(team["agency"], Role.COMMUNICATIONS_LEAD))
    response = client.post(
        f"/admin/incidents/{incident.ref}/triage",
        data={"triage-outcome": "false_alarm", "triage-note": "Probe misconfigured."},
    )
    assert response.status_code == 400
    assert "Closing a P2 takes a service manager" in response.get_data(as_text=True)
    db.session.refresh(incident)
    assert incident.state != State.CLOSED.value and triaged_entries(incident) == []
