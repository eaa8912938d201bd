"""Scope follows the outage (title, services, impacts), one promise of the next update, the
expected fix time, the closing note, and two leads acting at once."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from statuspage import clock, jobs
from statuspage.audit import AuditEntry
from statuspage.extensions import db
from statuspage.incidents.models import Impact, Incident, IncidentUpdate, State
from statuspage.incidents.operations import (
    IncidentRuleError,
    Scope,
    change_scope,
    close_incident,
    publish_update,
)
from statuspage.publication import current_version
from statuspage.subscriptions import outbox
from statuspage.subscriptions.models import Subscriber
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_incident, make_service, make_user


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port}


@pytest.fixture
def team(app, pinned_now):
    agency = make_agency("Department of Revenue", "revenue")
    other = make_agency("Department of Transport", "transport")
    return {
        "filing": make_service(agency, "Tax filing", "tax-filing"),
        "payments": make_service(agency, "Tax payments", "tax-payments", tier=2),
        "licences": make_service(other, "Driving licences", "licences"),
        "lead": make_user(agency, Role.COMMUNICATIONS_LEAD),
        "owner": make_user(agency, Role.SERVICE_OWNER),
    }


def status_word(client, service_name: str) -> str:
    html = client.get("/").get_data(as_text=True)
    row = html[html.index(f">{service_name}<") :]
    return next(
        word
        for word in ("Operational", "Degraded performance", "Partial outage", "Major outage")
        if word in row[:600]
    )


def audit_actions(incident) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.incident_id == incident.id)
            .order_by(AuditEntry.id)
        )
    )  # fmt: skip


def test_a_p1_logged_without_an_impact_is_a_major_outage(client, team):
    incident = make_incident({team["filing"]: None}, priority=1)
    assert incident.affected[0].impact == Impact.MAJOR_OUTAGE.value
    assert status_word(client, "Tax filing") == "Major outage"


def test_widening_and_easing_the_scope_moves_the_public_colours_at_once(client, team):
    incident = make_incident({team["filing"]: Impact.PARTIAL_OUTAGE}, priority=2)
    before = current_version().number
    change_scope(
        incident,
        Scope("Tax filing and payments unavailable",
              {team["filing"]: "degraded_performance", team["payments"]: "major_outage"}),
        by=team["lead"],
    )  # fmt: skip
    assert current_version().number > before
    assert status_word(client, "Tax filing") == "Degraded performance"
    assert status_word(client, "Tax payments") == "Major outage"
    page = client.get(f"/incidents/{incident.ref}").get_data(as_text=True)
    assert "Tax filing and payments unavailable" in page
    api = client.get("/api/v2/incidents/unresolved.json").get_json()["incidents"][0]
    assert api["name"] == "Tax filing and payments unavailable"
    assert {c["id"]: c["status"] for c in api["components"]} == {
        "tax-filing": "degraded_performance", "tax-payments": "major_outage",
    }  # fmt: skip
    # The new service's feed now carries the incident.
    assert incident.title in client.get("/services/tax-payments/feed.atom").get_data(as_text=True)
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "scope_changed")
    ).one()
    details = dict(entry.detail_items)
    assert details["added"] == "Tax payments (major outage)"
    assert details["eased"] == "Tax filing: partial outage → degraded performance"
    assert details["title to"] == "Tax filing and payments unavailable"


def test_a_scope_change_with_an_update_is_one_step(client, team, smtp):
    incident = make_incident({team["filing"]: Impact.PARTIAL_OUTAGE}, priority=2)
    publish_update(
        incident, status=State.IDENTIFIED, body="Payments fail too.", by=team["lead"],
        scope=Scope(incident.title, {team["filing"]: "partial_outage",
                                     team["payments"]: "major_outage"}),
    )  # fmt: skip
    assert status_word(client, "Tax payments") == "Major outage"
    feed = client.get("/feed.atom").get_data(as_text=True)
    assert "Tax payments (major outage)" in feed


@pytest.mark.parametrize(
    ("affected", "message"),
    [
        ({}, "Keep at least one affected service"),
        ({"licences": "major_outage"}, "not a service of Department of Revenue"),
        ({"filing": "on_fire"}, "Choose degraded performance, partial outage or major outage"),
    ],
)
def test_a_bad_scope_is_refused_and_changes_nothing(team, affected, message):
    incident = make_incident({team["filing"]: Impact.PARTIAL_OUTAGE}, priority=2)
    with pytest.raises(IncidentRuleError, match=message):
        change_scope(
            incident, Scope("New title", {team[k]: v for k, v in affected.items()}),
            by=team["lead"],
        )  # fmt: skip
    db.session.rollback()
    db.session.refresh(incident)
    assert incident.title == "Online filing unavailable"
    assert [(a.service_id, a.impact) for a in incident.affected] == [
        (team["filing"].id, "partial_outage")
    ]
    assert "scope_changed" not in audit_actions(incident)


def test_the_scope_form_keeps_what_was_typed_when_refused(client, team):
    incident = make_incident({team["filing"]: Impact.PARTIAL_OUTAGE}, priority=2)
    login(client, team["lead"])
    response = client.post(
        f"/admin/incidents/{incident.ref}/scope", data={"scope-title": "Typed title"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'value="Typed title"' in html and "Keep at least one affected service" in html


def test_a_resolved_incident_shows_its_services_operational_and_what_they_were(client, team):
    incident = make_incident({team["filing"]: Impact.MAJOR_OUTAGE}, priority=2)
    publish_update(incident, status=State.RESOLVED, body="Fixed.", by=None)
    page = client.get(f"/incidents/{incident.ref}").get_data(as_text=True)
    affected = page[page.index("Affected services") :][:800]
    assert "Operational" in affected and "(was major outage)" in affected
    assert "Major outage</span>" not in affected


def test_one_next_update_time_the_earlier_of_cadence_and_promise(client, team):
    incident = make_incident([team["filing"]], priority=2, updates=())
    promise = clock.now() + timedelta(minutes=45)
    publish_update(incident, status=State.INVESTIGATING, body="Looking.", by=None,
                   next_update_at=promise)  # fmt: skip
    page = client.get(f"/incidents/{incident.ref}").get_data(as_text=True)
    assert page.count("Next update by") == 1
    assert "Next update by <time" in page and "3:15 PM EST" in page


def test_a_promise_later_than_the_cadence_is_refused_with_the_reason(team):
    incident = make_incident([team["filing"]], priority=2, updates=())
    with pytest.raises(IncidentRuleError, match=r"every 2 hours.*due by 23 Nov 2026, 4:30 PM EST"):
        publish_update(incident, status=State.INVESTIGATING, body="Looking.", by=None,
                       next_update_at=clock.now() + timedelta(hours=3))  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"next_update_at": -1}, "must be in the future"),
        ({"expected_resolution_at": -120}, "cannot be before the problem was detected"),
        ({"expected_resolution_at": -5}, "must be in the future"),
        ({"expected_resolution_at": 60 * 24 * 400}, "more than a year away"),
        ({"expected_resolution_at": 60, "status": State.RESOLVED}, "needs no expected fix"),
    ],
)
def test_bad_times_are_refused_and_nothing_is_published(team, fields, message):
    incident = make_incident([team["filing"]], priority=2, updates=())
    values = {k: clock.now() + timedelta(minutes=v) for k, v in fields.items() if k != "status"}
    with pytest.raises(IncidentRuleError, match=message):
        publish_update(incident, status=fields.get("status", State.INVESTIGATING), body="Hi.",
                       by=None, **values)  # fmt: skip
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(IncidentUpdate)) == 0


def test_a_passed_promise_and_a_passed_fix_time_are_said_plainly(client, team, smtp):
    incident = make_incident([team["filing"]], priority=2, updates=())
    publish_update(
        incident, status=State.INVESTIGATING, body="Looking.", by=None,
        next_update_at=clock.now() + timedelta(minutes=30),
        expected_resolution_at=clock.now() + timedelta(minutes=20),
    )  # fmt: skip
    page = client.get(f"/incidents/{incident.ref}").get_data(as_text=True)
    assert "Expected to be fixed by" in page and "is late" not in page
    api = client.get("/api/v2/summary.json").get_json()
    assert api["incidents"][0]["expected_resolution_at"] == "2026-11-23T19:50:00Z"
    assert "Expected to be fixed by" in client.get("/embed/revenue").get_data(as_text=True)

    later = clock.now() + timedelta(minutes=31)
    with clock.pinned(later):
        version = current_version().number
        assert jobs.run_public_clock(later) == 1
        assert jobs.run_public_clock(later) == 0  # once per passed moment
        assert current_version().number == version + 1
        page = client.get(f"/incidents/{incident.ref}").get_data(as_text=True)
        assert "and is late.</strong> The team has been reminded." in page
        assert "It is taking longer than expected." in page


def test_the_email_carries_the_expected_fix_time(team, smtp):
    db.session.add(Subscriber(email="ann@example.com", everything=True,
                              confirmed_at=clock.now(), created_at=clock.now()))  # fmt: skip
    db.session.commit()
    incident = make_incident([team["filing"]], priority=2, updates=())
    publish_update(incident, status=State.IDENTIFIED, body="Found it.", by=None,
                   expected_resolution_at=clock.now() + timedelta(hours=1))  # fmt: skip
    outbox.dispatch()
    [message] = smtp.messages
    assert "Expected to be fixed by 23 Nov 2026, 3:30 PM EST." in message.get_body(
        ("plain",)
    ).get_content()


def test_closing_posts_a_closing_note_to_the_page_and_subscribers(client, team, smtp):
    db.session.add(Subscriber(email="ann@example.com", everything=True,
                              confirmed_at=clock.now(), created_at=clock.now()))  # fmt: skip
    db.session.commit()
    incident = make_incident([team["filing"]], priority=2)
    publish_update(incident, status=State.RESOLVED, body="Fixed.", by=None)
    outbox.dispatch()
    smtp.messages.clear()
    with clock.pinned(clock.now() + timedelta(hours=2)):
        assert close_incident(incident, by=team["owner"]) == "closed"
        outbox.dispatch()
    [message] = smtp.messages
    assert str(message["Subject"]).startswith("Closed: Online filing unavailable")
    text = " ".join(message.get_body(("plain",)).get_content().split())  # wrapped at 72
    assert "We have closed this incident." in text and "report on what happened" in text
    page = client.get(f"/incidents/{incident.ref}").get_data(as_text=True)
    assert "We have closed this incident." in page


def test_a_p4_closes_without_a_note(team, smtp):
    incident = make_incident([team["filing"]], priority=4)
    publish_update(incident, status=State.RESOLVED, body="Fixed.", by=None)
    close_incident(incident, by=team["owner"])
    assert [u.status for u in incident.updates].count("closed") == 0


def test_two_leads_posting_at_once_write_one_acknowledgement_and_one_state_change(app, team):
    incident = make_incident([team["filing"]], priority=2, updates=())
    incident_id, lead_id = incident.id, team["lead"].id
    start = threading.Barrier(2)
    errors = []

    def post(text: str) -> None:
        with app.app_context():
            try:
                from statuspage.users.models import User

                start.wait()
                publish_update(db.session.get(Incident, incident_id), status=State.IDENTIFIED,
                               body=text, by=db.session.get(User, lead_id))  # fmt: skip
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=post, args=(f"Lead {n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    actions = audit_actions(db.session.get(Incident, incident_id))
    assert actions.count("acknowledged") == 1
    assert actions.count("state_changed") == 1
    assert actions.count("update_published") == 2
