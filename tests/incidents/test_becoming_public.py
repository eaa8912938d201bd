"""Every path to public: the first public update, an escalation with or without its message, a
P3 made public. Each tells every subscriber exactly once, starts the cadence, never shows what was
written while private, and the clock's verdict is about a message citizens could read."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from statuspage import clock
from statuspage.extensions import db
from statuspage.incidents import cadence
from statuspage.incidents.deadlines import Kind
from statuspage.incidents.models import Incident, MissedDeadline, State
from statuspage.incidents.operations import UpdateContent, change_priority, publish_update
from statuspage.subscriptions import outbox
from statuspage.subscriptions.models import Notification, Subscriber, SubscriberScope
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_incident, make_service, make_user

PRIVATE_NOTE = "Checking the web servers in rack 4."
PUBLIC_MESSAGE = "You cannot file your tax return online at the moment."


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port}


@pytest.fixture
def setting(app, pinned_now):
    agency = make_agency("Department of Revenue", "revenue")
    filing = make_service(agency, "Tax filing", "tax-filing")
    now = clock.now()
    people = [f"person{n}@example.com" for n in range(3)]
    db.session.add_all(
        Subscriber(email=email, everything=False, confirmed_at=now, created_at=now,
                   scopes=[SubscriberScope(service_id=filing.id)])  # fmt: skip
        for email in people
    )
    db.session.add(Subscriber(email="all@example.com", everything=True, confirmed_at=now,
                              created_at=now))  # fmt: skip
    db.session.commit()
    return {"filing": filing, "people": [*people, "all@example.com"],
            "lead": make_user(agency, Role.SERVICE_MANAGER)}  # fmt: skip


def private_incident(setting, priority: int) -> Incident:
    """Logged 30 minutes ago with an internal note a minute later."""
    incident = make_incident(
        {setting["filing"]: None}, priority=priority, updates=(),
        detected_at=clock.now() - timedelta(minutes=30),
    )  # fmt: skip
    with clock.pinned(incident.detected_at + timedelta(minutes=1)):
        publish_update(incident, status=State.INVESTIGATING, body=PRIVATE_NOTE, by=None)
    return incident


def by_first_update(setting):
    incident = make_incident([setting["filing"]], priority=2, updates=(),
                             detected_at=clock.now() - timedelta(minutes=30))  # fmt: skip
    publish_update(incident, status=State.INVESTIGATING, body=PUBLIC_MESSAGE, by=None)
    return incident


def by_escalation_with_its_message(setting):
    incident = private_incident(setting, priority=4)
    change_priority(
        incident, to=2, reason="Everyone is affected", by=setting["lead"],
        message=UpdateContent(status=State.INVESTIGATING, body=PUBLIC_MESSAGE),
    )  # fmt: skip
    return incident


def by_escalation_then_first_update(setting):
    incident = private_incident(setting, priority=4)
    with clock.pinned(clock.now() - timedelta(minutes=5)):
        change_priority(incident, to=2, reason="Everyone is affected", by=setting["lead"])
    assert incident.first_public_at is None
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    publish_update(incident, status=State.INVESTIGATING, body=PUBLIC_MESSAGE, by=None)
    return incident


def by_marking_a_p3_public(setting):
    incident = private_incident(setting, priority=3)
    publish_update(incident, status=State.IDENTIFIED, body=PUBLIC_MESSAGE, by=None,
                   make_public=True)  # fmt: skip
    return incident


PATHS = [by_first_update, by_escalation_with_its_message, by_escalation_then_first_update,
         by_marking_a_p3_public]  # fmt: skip


@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.__name__)
def test_each_path_to_public_tells_each_subscriber_once_and_starts_the_cadence(
    client, smtp, setting, path
):
    incident = path(setting)
    went_public = clock.now()

    assert incident.first_public_at == went_public
    outbox.dispatch()
    recipients = sorted(str(m["To"]) for m in smtp.messages)
    assert recipients == sorted(setting["people"])
    assert all(PUBLIC_MESSAGE in m.get_body(("plain",)).get_content() for m in smtp.messages)
    assert not any(PRIVATE_NOTE in m.as_string() for m in smtp.messages)

    cadence_window = {2: timedelta(hours=2), 3: timedelta(days=1)}[incident.priority]
    assert cadence.next_update_due(incident) == went_public + cadence_window

    for url in (f"/incidents/{incident.ref}", "/feed.atom", "/api/v2/incidents.json", "/"):
        page = client.get(url).get_data(as_text=True)
        assert PRIVATE_NOTE not in page, url
    assert PUBLIC_MESSAGE in client.get(f"/incidents/{incident.ref}").get_data(as_text=True)


@pytest.mark.parametrize("path", PATHS[:3], ids=lambda path: path.__name__)
def test_the_first_public_update_is_met_by_the_message_citizens_could_read(
    client, setting, path
):
    incident = path(setting)
    first = next(d for d in cadence.deadlines_for(incident) if d.kind is Kind.FIRST_COMMUNICATION)
    assert first.met_at == clock.now()
    login(client, setting["lead"])
    page = client.get(f"/admin/incidents/{incident.ref}").get_data(as_text=True)
    assert "<td>First public update</td>" in page
    assert "Met on time" in page


def test_an_escalation_without_a_message_leaves_it_private_with_the_deadline_running(
    client, smtp, setting
):
    incident = private_incident(setting, priority=4)
    escalated = clock.now()
    change_priority(incident, to=1, reason="All filing is down", by=setting["lead"])

    assert client.get(f"/incidents/{incident.ref}").status_code == 404
    assert outbox.dispatch().sent == 0
    first = next(d for d in cadence.deadlines_for(incident) if d.kind is Kind.FIRST_COMMUNICATION)
    assert (first.due, first.met_at) == (escalated + timedelta(minutes=15), None)

    # 25 minutes later the lead writes the first public update: public, but ten minutes late.
    with clock.pinned(escalated + timedelta(minutes=25)):
        publish_update(incident, status=State.INVESTIGATING, body=PUBLIC_MESSAGE, by=None)
        missed = db.session.scalars(
            select(MissedDeadline).where(MissedDeadline.kind == Kind.FIRST_COMMUNICATION.value)
        ).one()
        assert missed.lateness == timedelta(minutes=10)
        login(client, setting["lead"])
        page = client.get(f"/admin/incidents/{incident.ref}").get_data(as_text=True)
        assert "Met 10 min late" in page
        outbox.dispatch()
    assert len(smtp.messages) == len(setting["people"])


def test_a_p4_raised_to_p1_with_its_message_turns_the_colour_red(client, setting):
    incident = private_incident(setting, priority=4)
    assert incident.affected[0].impact == "degraded_performance"
    change_priority(
        incident, to=1, reason="All filing is down", by=setting["lead"],
        message=UpdateContent(status=State.INVESTIGATING, body=PUBLIC_MESSAGE),
    )  # fmt: skip
    page = client.get("/").get_data(as_text=True)
    assert "Major outage" in page
    assert incident.affected[0].impact == "major_outage"


def test_an_update_written_while_private_stays_private_after_going_public(client, setting):
    incident = by_escalation_then_first_update(setting)
    updates = sorted(incident.updates, key=lambda u: u.published_at)
    assert [(u.body, u.is_public) for u in updates] == [
        (PRIVATE_NOTE, False),
        (PUBLIC_MESSAGE, True),
    ]
    summary = client.get("/api/v2/summary.json").get_json()
    [listed] = summary["incidents"]
    assert [u["body"] for u in listed["incident_updates"]] == [PUBLIC_MESSAGE]


def test_a_p3_cannot_be_made_public_without_a_message(client, setting):
    incident = private_incident(setting, priority=3)
    login(client, setting["lead"])
    response = client.post(
        f"/admin/incidents/{incident.ref}/updates",
        data={"status": "identified", "body": "", "make_public": "y", "action": "publish"},
    )
    assert response.status_code == 400
    assert client.get(f"/incidents/{incident.ref}").status_code == 404
    assert db.session.get(Incident, incident.id).made_public is False
