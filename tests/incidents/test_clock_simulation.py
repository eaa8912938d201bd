"""A P1 incident through a simulated two hours: the deadline clock and the outbox dispatcher run
every minute on a pinned clock; we check the exact reminders, the missed deadlines and the
dashboard at each minute that matters."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from statuspage import clock, jobs
from statuspage.extensions import db
from statuspage.incidents import cadence
from statuspage.incidents.models import Impact, Incident, MissedDeadline, State
from statuspage.incidents.operations import acknowledge, assign, publish_update
from statuspage.subscriptions import outbox
from statuspage.subscriptions.models import Notification
from statuspage.users.models import Role
from tests.factories import make_agency, make_incident, make_service, make_user

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 10:00 AM EST


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "MAIL_FROM": "status@example.gov"}


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def run_clock(moment: datetime) -> outbox.DispatchRun:
    """The deadline clock queues the reminders, the dispatcher sends them."""
    jobs.run_deadline_clock(moment)
    return outbox.dispatch(moment)


def reminder_rows() -> list[Notification]:
    return db.session.scalars(
        select(Notification).where(Notification.event_key.like("reminder:%"))
    ).all()


def reminder_ref(row: Notification) -> str:
    return db.session.get(Incident, row.incident_id).ref


def test_a_p1_through_two_hours(app, smtp):
    agency = make_agency("Department of Revenue", "revenue")
    service = make_service(agency, "Tax filing", "tax-filing", tier=1)
    lead = make_user(agency, Role.COMMUNICATIONS_LEAD, email="lead@example.gov")
    make_user(agency, Role.COMMUNICATIONS_LEAD, email="second.lead@example.gov")
    manager = make_user(agency, Role.SERVICE_MANAGER, email="manager@example.gov")
    make_user(make_agency(), Role.COMMUNICATIONS_LEAD, email="other.agency@example.gov")
    with clock.pinned(at(0)):
        incident = make_incident(
            {service: Impact.MAJOR_OUTAGE}, priority=1, detected_at=at(0), updates=(), by=lead
        )
        assign(incident, manager, by=lead)

    def post(status: State, body: str):
        publish_update(incident, status=status, body=body, by=lead)

    actions = {
        3: lambda: acknowledge(incident, by=lead),
        18: lambda: post(State.INVESTIGATING, "Tax filing is down. We are investigating."),
        50: lambda: post(State.IDENTIFIED, "We found the cause."),
        78: lambda: post(State.MONITORING, "A fix is in place; we are watching it."),
        105: lambda: post(State.RESOLVED, "Tax filing works again."),
    }
    dashboard = {}
    sent_at = {}
    for minute in range(0, 121):
        with clock.pinned(at(minute)):
            if minute in actions:
                actions[minute]()
            before = len(smtp.messages)
            run_clock(at(minute))
            for message in smtp.messages[before:]:
                sent_at.setdefault(minute, []).append(str(message["Subject"]))
            db.session.expire_all()
            dashboard[minute] = cadence.reading(incident, at(minute)).text

    ref = incident.ref
    # Each reminder once to each of the three people (the assignment once, to the assignee).
    assigned = f"[P1] Assigned to you: {incident.title} ({ref})"
    assert sent_at[0].count(assigned) == 1
    sent_at[0].remove(assigned)
    assert all(len(subjects) == 3 * len(set(subjects)) for subjects in sent_at.values())
    assert {minute: sorted(set(subjects)) for minute, subjects in sent_at.items()} == {
        0: [f"[P1] Acknowledge due in 5 min: {ref}"],
        10: [f"[P1] First public update due in 5 min: {ref}"],
        15: [f"[P1] OVERDUE: first public update for {ref}"],
        43: [f"[P1] Next update due in 5 min: {ref}"],
        48: [f"[P1] OVERDUE: next update for {ref}"],
        55: [f"[P1] Target resolution due in 5 min: {ref}"],
        60: [f"[P1] OVERDUE: target resolution for {ref}"],
        75: [f"[P1] Next update due in 5 min: {ref}"],
        103: [f"[P1] Next update due in 5 min: {ref}"],
    }
    # To the assignee and the agency's communications leads; never to another agency.
    first = [m for m in smtp.messages if m["Subject"] == f"[P1] Acknowledge due in 5 min: {ref}"]
    assert sorted(str(m["To"]) for m in first) == [
        "lead@example.gov",
        "manager@example.gov",
        "second.lead@example.gov",
    ]
    assert f"http://127.0.0.1:5000/admin/incidents/{ref}" in first[0].get_body(
        ("plain",)
    ).get_content()

    assert {
        minute: dashboard[minute]
        for minute in (0, 2, 4, 11, 16, 20, 44, 49, 51, 56, 61, 79, 104, 106)
    } == {
        0: "acknowledge now (due in 5 min)",
        2: "acknowledge now (due in 3 min)",
        4: "first public update due in 11 min",
        11: "first public update due in 4 min",
        16: "first public update OVERDUE by 1 min",
        20: "next update due in 28 min",
        44: "next update due in 4 min",
        49: "next update OVERDUE by 1 min",
        51: "target resolution due in 9 min",
        56: "target resolution due in 4 min",
        61: "target resolution OVERDUE by 1 min",
        79: "target resolution OVERDUE by 19 min",
        104: "target resolution OVERDUE by 44 min",
        106: "no deadline running",
    }

    misses = db.session.scalars(select(MissedDeadline).order_by(MissedDeadline.due_at)).all()
    assert [(m.kind, m.due_at, m.recorded_at, m.lateness) for m in misses] == [
        ("first_communication", at(15), at(15), timedelta(minutes=3)),
        ("next_update", at(48), at(48), timedelta(minutes=2)),
        ("target_resolution", at(60), at(60), timedelta(minutes=45)),
    ]
    assert [row.status for row in reminder_rows()] == ["sent"] * 9 * 3


def test_running_the_clock_twice_at_the_same_minute_sends_nothing_more(app, smtp):
    service = make_service(make_agency())
    lead = make_user(db.session.get(type(service.agency), service.agency_id))
    with clock.pinned(at(0)):
        incident = make_incident([service], priority=1, detected_at=at(0), updates=(), by=lead)
    for _ in range(3):
        with clock.pinned(at(16)):
            run_clock(at(16))
    assert len(smtp.messages) == 2  # acknowledge and first update, both overdue
    assert db.session.scalars(select(MissedDeadline)).all().__len__() == 2
    assert incident.ref in smtp.subjects()[0]


def test_a_failed_send_is_kept_and_retried_with_backoff(app, smtp):
    service = make_service(make_agency())
    make_user(service.agency)
    with clock.pinned(at(0)):
        make_incident([service], priority=2, detected_at=at(0), updates=())
    smtp.refuse_with = "451 4.3.0 Try again later"
    with clock.pinned(at(1)):
        run = run_clock(at(1))
    assert run.claimed == 0  # acknowledge is due at 15: not yet in the window
    with clock.pinned(at(10)):
        run = run_clock(at(10))
    assert run.retried == 1
    [reminder] = reminder_rows()
    assert reminder.status == "pending" and reminder.attempts == 1
    assert "451" in reminder.last_error

    smtp.refuse_with = None
    with clock.pinned(at(10)):
        assert run_clock(at(10)).sent == 0  # backing off
    with clock.pinned(at(11)):
        assert run_clock(at(11)).sent == 1
    db.session.refresh(reminder)
    assert reminder.status == "sent" and reminder.attempts == 2
    assert smtp.subjects() == [f"[P2] Acknowledge due in 4 min: {reminder_ref(reminder)}"]


def test_a_reminder_for_a_deadline_already_met_is_not_sent(app, smtp):
    service = make_service(make_agency())
    lead = make_user(service.agency)
    with clock.pinned(at(0)):
        incident = make_incident([service], priority=3, detected_at=at(0), updates=())
    smtp.refuse_with = "451 later"
    with clock.pinned(at(56)):
        run_clock(at(56))  # the acknowledge reminder fails once
    with clock.pinned(at(57)):
        acknowledge(incident, by=lead)
    smtp.refuse_with = None
    with clock.pinned(at(59)):
        run = run_clock(at(59))
    assert run.skipped == 1 and smtp.messages == []
    [reminder] = reminder_rows()
    assert reminder.status == "skipped"
    assert reminder.last_error == "the acknowledge deadline was met before the reminder went"
