"""Exercises (drills): logged with a tick, run through the same forms, clock and internal messages,
marked EXERCISE wherever staff see them, and never public: no page, feed entry, API entry, export
file, subscriber email or webhook, whatever happens to them."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from statuspage import clock, jobs
from statuspage.extensions import db
from statuspage.incidents import cadence
from statuspage.incidents.deadlines import Kind
from statuspage.incidents.models import Incident, State
from statuspage.internal.models import Contact
from statuspage.public.export import export_site
from statuspage.subscriptions.models import Notification, Subscriber
from statuspage.subscriptions.operations import add_webhook
from statuspage.users.models import Role
from tests.conftest import NOW
from tests.factories import login, make_agency, make_service, make_user
from tests.subscriptions.conftest import webhook_receiver  # noqa: F401 (a fixture)

TITLE = "Payments cannot be taken"
PUBLIC_WORDS = "You cannot pay your tax bill online at the moment."
MINUTE = timedelta(minutes=1)


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "WEBHOOKS_ALLOW_PRIVATE": True,
            "SITE_URL": "https://status.example.gov"}  # fmt: skip


@pytest.fixture
def team(app, pinned_now, webhook_receiver):  # noqa: F811
    agency = make_agency("Department of Revenue", "revenue")
    payments = make_service(agency, "Tax payments", "tax-payments")
    db.session.add(Subscriber(email="citizen@example.com", everything=True, confirmed_at=NOW,
                              created_at=NOW))  # fmt: skip
    db.session.add(Contact(agency_id=agency.id, position="agency_cio", name="CIO",
                           email="cio@revenue.gov", created_at=NOW))  # fmt: skip
    db.session.commit()
    webhook_receiver.secret = add_webhook("Partner", webhook_receiver.url, None).secret
    return {
        "agency": agency,
        "payments": payments,
        "lead": make_user(agency, Role.SERVICE_MANAGER, email="lead@revenue.gov"),
        "owner": make_user(agency, Role.SERVICE_OWNER, email="owner@revenue.gov"),
        "comms": make_user(agency, Role.COMMUNICATIONS_LEAD, email="comms@revenue.gov"),
    }


def at(minutes: int):
    return clock.pinned(NOW + minutes * MINUTE)


def run_jobs(minutes: int) -> None:
    with at(minutes):
        jobs.run_deadline_clock()
        jobs.run_notification_matrix()
        jobs.run_public_clock()
        jobs.run_dispatcher()


def log_drill(client, team) -> Incident:
    payments = team["payments"]
    response = client.post("/admin/incidents/new", data={
        "title": TITLE, "priority": "2", "services": [str(payments.id)],
        f"impact_{payments.id}": "major_outage", "source": "staff",
        "detected_at": "2026-11-23T14:30", "is_exercise": "y",
    })  # fmt: skip
    assert response.status_code == 302, response.text
    incident = db.session.scalars(select(Incident)).one()
    assert incident.is_exercise
    return incident


def test_a_drill_runs_like_an_incident_and_never_reaches_the_public(
    client, team, smtp, webhook_receiver, tmp_path  # noqa: F811
):
    login(client, team["lead"])
    incident = log_drill(client, team)
    ref = incident.ref
    # The same forms: a first "public" update, an escalation with a message, a resolution.
    with at(5):
        assert client.post(f"/admin/incidents/{ref}/updates", data={
            "status": "investigating", "body": PUBLIC_WORDS, "action": "publish",
        }).status_code == 302  # fmt: skip
    run_jobs(10)
    with at(20):
        assert client.post(f"/admin/incidents/{ref}/priority", data={
            "priority": "1", "reason": "Every payment fails", "message": PUBLIC_WORDS,
        }).status_code == 302  # fmt: skip
    run_jobs(21)
    run_jobs(60)  # the P1's next update is late: the clock says so, as for a real incident
    db.session.expire_all()
    incident = db.session.get(Incident, incident.id)
    assert cadence.reading(incident, NOW + 60 * MINUTE).state == "overdue"
    with at(70):
        login(client, team["lead"])  # 50 minutes away: the session ended when idle
        assert client.post(f"/admin/incidents/{ref}/updates", data={
            "status": "resolved", "body": "Payments work again.", "action": "publish",
        }).status_code == 302  # fmt: skip
    run_jobs(71)
    db.session.expire_all()
    incident = db.session.get(Incident, incident.id)
    assert incident.state == State.RESOLVED.value and incident.priority == 1
    # Its clock ran on its messages: the first update met the first-communication deadline.
    first = next(d for d in cadence.deadlines_for(incident) if d.kind is Kind.FIRST_COMMUNICATION)
    assert first.met_at == NOW + 5 * MINUTE

    # Internal messages went, marked; nothing went to subscribers or webhooks.
    assert smtp.messages and all(s.startswith("[EXERCISE]") for s in smtp.subjects())
    told = {str(m["To"]) for m in smtp.messages}
    # The matrix told the owner and the CIO; the deadline clock reminded the communications lead.
    assert {"owner@revenue.gov", "cio@revenue.gov", "comms@revenue.gov"} <= told
    assert "citizen@example.com" not in told
    assert webhook_receiver.received == []
    channels = set(db.session.scalars(select(Notification.channel)))
    assert channels == {"staff"}

    # No public page, feed entry or API entry.
    assert client.get(f"/incidents/{ref}").status_code == 404
    for path in ("/", "/history", "/agencies/revenue", "/services/tax-payments", "/feed.rss",
                 "/feed.atom", "/agencies/revenue/feed.atom", "/services/tax-payments/feed.rss",
                 "/api/v2/summary.json", "/api/v2/incidents.json",
                 "/api/v2/incidents/unresolved.json"):  # fmt: skip
        body = client.get(path).text
        assert ref not in body and TITLE not in body and PUBLIC_WORDS not in body, path
    assert client.get("/api/v2/components.json").json["components"][1]["status"] == "operational"
    # No export file, and no word of it in any file exported.
    folder = tmp_path / "export"
    export_site(client.application, folder)
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix != ".gz":
            assert ref not in path.name
            text = path.read_bytes()
            assert TITLE.encode() not in text and ref.encode() not in text, path

    # Staff see it marked as an exercise.
    page = client.get(f"/admin/incidents/{ref}").text
    assert '<span class="exercise-mark">EXERCISE</span>' in page
    assert "Never: this is an exercise" in page
    dashboard = client.get("/admin/").text
    assert '<span class="exercise-mark">EXERCISE</span> <a href="/admin/incidents/' in dashboard


def test_the_form_offers_the_exercise_tick(client, team):
    login(client, team["lead"])
    page = client.get("/admin/incidents/new").text
    assert "This is an exercise (drill)" in page


def test_a_drill_says_so_when_logged_and_when_updated(client, team):
    login(client, team["lead"])
    incident = log_drill(client, team)
    assert f"Exercise {incident.ref} logged." in client.get("/admin/").text
    client.post(f"/admin/incidents/{incident.ref}/updates",
                data={"status": "investigating", "body": "Drill.", "action": "publish"})
    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert "Update published in the exercise (never public)." in page
    assert "exercise, never shown to the public" in page
