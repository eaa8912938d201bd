"""'I have seen this': every internal message carries a signed link. Opening it records nothing
(mail scanners open links); the button records the time once; a forged or altered link is refused
with a clear sentence; the incident page shows who has seen what. And a reminder whose deadline
was met before it went is skipped, not sent."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from statuspage import clock, jobs
from statuspage.extensions import db
from statuspage.incidents.operations import acknowledge, assign
from statuspage.internal.ack import token_for
from statuspage.subscriptions import outbox
from statuspage.subscriptions.models import Notification
from statuspage.timefmt import format_absolute
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_incident, make_service, make_user

SITE = "https://status.example.gov"
INVALID = "This link is not valid. Open the link from the message itself."


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "SITE_URL": SITE}


@pytest.fixture
def assigned(app, pinned_now, smtp):
    """An incident assigned to a manager, the message sent; returns (incident, lead, manager,
    the path of the "I have seen this" link in the email)."""
    agency = make_agency("Department of Revenue", "revenue")
    service = make_service(agency, "Tax filing", "tax-filing")
    lead = make_user(agency, Role.COMMUNICATIONS_LEAD, email="lead@revenue.gov")
    manager = make_user(agency, Role.SERVICE_MANAGER, email="manager@revenue.gov")
    incident = make_incident([service], priority=2, by=lead)
    assign(incident, manager, by=lead)
    assert outbox.dispatch().sent == 1
    text = smtp.messages[0].get_body(("plain",)).get_content()
    link = re.search(r"I have seen this: (\S+)", text).group(1)
    assert link.startswith(f"{SITE}/acknowledge/")
    return incident, lead, manager, link.removeprefix(SITE)


def seen_at():
    db.session.expire_all()
    return db.session.scalars(select(Notification.acknowledged_at)).one()


def test_opening_the_link_shows_a_button_and_records_nothing(client, assigned):
    *_, path = assigned
    page = client.get(path)
    assert page.status_code == 200
    assert "<button type=\"submit\">I have seen this</button>" in page.text
    assert "Assigned to you" in page.text and "manager@revenue.gov" in page.text
    assert seen_at() is None


def test_the_button_records_the_time_once(client, assigned):
    *_, path = assigned
    first = clock.now()
    page = client.post(path)
    assert page.status_code == 200
    assert "Thank you: recorded as seen at" in page.text
    assert seen_at() == first

    with clock.pinned(first + timedelta(minutes=10)):
        again = client.post(path)
    assert again.status_code == 200
    assert "Already recorded as seen at" in again.text
    assert format_absolute(first) in again.text
    assert seen_at() == first  # the time does not change
    assert "I have seen this</button>" not in client.get(path).text


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_link_is_refused_clearly(client, assigned, method):
    response = getattr(client, method)("/acknowledge/not-a-token-we-made")
    assert response.status_code == 404
    assert INVALID in response.text
    assert seen_at() is None


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_altered_link_is_refused_clearly(client, assigned, method):
    *_, path = assigned
    token = path.rsplit("/", 1)[1]
    # The signature's first character: every one of its bits counts (the last character's low
    # bits may be base64 padding, so changing it can leave the signature as it was).
    payload, signature = token.rsplit(".", 1)
    altered = f"{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"
    response = getattr(client, method)(f"/acknowledge/{altered}")
    assert response.status_code == 404
    assert INVALID in response.text
    assert seen_at() is None


def test_a_link_to_another_row_signed_by_us_but_not_an_internal_message_is_refused(
    client, assigned
):
    row = db.session.scalars(select(Notification)).one()
    response = client.post(f"/acknowledge/{token_for(row.id + 1000)}")
    assert response.status_code == 404
    assert "This message no longer exists." in response.text


def test_the_incident_page_shows_who_has_seen_each_message(client, assigned):
    incident, lead, _manager, path = assigned
    login(client, lead)
    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert "Internal messages" in page
    assert f"[P2] Assigned to you: {incident.title} ({incident.ref})" in page
    assert "manager@revenue.gov" in page
    assert "Not yet" in page

    seen = clock.now() + timedelta(minutes=3)
    with clock.pinned(seen):
        client.post(path)
    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert "Not yet" not in page
    assert "Seen at" in page and format_absolute(seen) in page


def test_a_reminder_whose_deadline_was_met_before_it_went_is_skipped(client, app, smtp):
    agency = make_agency()
    service = make_service(agency)
    lead = make_user(agency, Role.COMMUNICATIONS_LEAD)
    detected = clock.now()
    with clock.pinned(detected):
        incident = make_incident([service], priority=1, detected_at=detected, updates=(), by=lead)
    with clock.pinned(detected + timedelta(minutes=1)):
        jobs.run_deadline_clock(clock.now())  # "acknowledge due in 4 min" queued
        acknowledge(incident, by=lead)  # met before the dispatcher ran
        run = outbox.dispatch()
    assert (run.sent, run.skipped) == (0, 1)
    assert smtp.messages == []
    row = db.session.scalars(
        select(Notification).where(Notification.status == "skipped")
    ).one()
    assert row.event_key.startswith(f"reminder:{incident.id}:acknowledge:")
    assert row.last_error == "the acknowledge deadline was met before the reminder went"

    login(client, lead)
    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert "Skipped" in page and "the acknowledge deadline was met before the reminder went" in page
