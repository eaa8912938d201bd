"""Writing an update: structured fields, cadence prefill, templates, preview and plain-language
advice, and the admin-edited templates and jargon list."""

import re

import pytest
from sqlalchemy import func, select

from statuspage.extensions import db
from statuspage.incidents.models import IncidentUpdate, State
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_incident, make_service, make_user


@pytest.fixture
def setting(app, client, pinned_now):
    agency = make_agency("Department of Revenue", "revenue")
    service = make_service(agency, "Tax filing", "tax-filing", tier=1)
    lead = make_user(agency, Role.COMMUNICATIONS_LEAD)
    login(client, lead)
    return {"agency": agency, "service": service, "lead": lead}


def value_of(html: str, field: str) -> str:
    """What an input or textarea named ``field`` shows."""
    tag = re.search(rf'<(input|textarea)[^>]*name="{field}"[^>]*>', html)
    if tag.group(1) == "input":
        value = re.search(r'value="([^"]*)"', tag.group(0))
        return value.group(1) if value else ""
    return html[tag.end() :].split("</textarea>", 1)[0].strip()


def test_the_form_is_prefilled_with_what_is_known_and_the_next_update_the_cadence_demands(
    client, setting
):
    incident = make_incident([setting["service"]], priority=1, updates=())  # detected 1:30 PM EST
    html = client.get(f"/admin/incidents/{incident.ref}").text
    assert value_of(html, "what_affected") == "Tax filing"
    assert value_of(html, "affected_since") == "2026-11-23T13:30"
    # A first update of a P1: the cadence (30 min) from now, 2:30 PM EST.
    assert value_of(html, "next_update_at") == "2026-11-23T15:00"


def test_a_template_fills_the_form_from_the_incident(client, setting):
    incident = make_incident([setting["service"]], priority=1, updates=())
    html = client.get(f"/admin/incidents/{incident.ref}?template=p1_initial").text
    assert "You cannot use Tax filing at the moment. We know about the problem" in html
    assert "If your need is urgent, call the Department of Revenue helpline." in html


def test_preview_shows_what_citizens_will_see_with_advice_and_publishes_nothing(client, setting):
    incident = make_incident([setting["service"]], priority=1, updates=())
    response = client.post(
        f"/admin/incidents/{incident.ref}/updates",
        data={
            "status": "investigating",
            "action": "preview",
            "body": "We will fix the outage ASAP, prior to midnight.",
            "what_affected": "Tax filing",
        },
    )
    html = response.text
    assert response.status_code == 200
    assert "Preview: what citizens will see" in html
    assert "We will fix the outage ASAP, prior to midnight." in html
    assert "“outage” is jargon: try “the service is not working”." in html
    assert "“prior to” is jargon: try “before”." in html
    assert "“midnight” is an unclear time" in html and "“ASAP” is an unclear time" in html
    assert "Not said yet: who is affected." in html and "Not said yet: how to get help." in html
    assert "This is advice: you can publish as it is." in html
    assert db.session.scalar(select(func.count()).select_from(IncidentUpdate)) == 0
    # What was typed is still in the form, ready to publish.
    assert re.search(r">\s*We will fix the outage ASAP, prior to midnight.</textarea>", html)


def test_structured_elements_appear_on_the_public_page(client, setting):
    incident = make_incident([setting["service"]], priority=1, updates=())
    client.post(
        f"/admin/incidents/{incident.ref}/updates",
        data={
            "status": "identified",
            "action": "publish",
            "body": "We found the cause.",
            "what_affected": "Online filing",
            "who_affected": "Everyone filing today",
            "affected_since": "2026-11-23T13:20",
            "cause": "A failed disk",
            "workaround": "File on paper",
            "help": "Call 555-0100",
            "next_update_at": "2026-11-23T15:00",
        },
    )
    html = client.get(f"/incidents/{incident.ref}").text
    for text in (
        "Online filing",
        "Everyone filing today",
        "A failed disk",
        "File on paper",
        "Call 555-0100",
        "23 Nov 2026, 1:20 PM EST",
    ):
        assert text in html
    assert (
        '<p class="next-update">Next update by <time datetime="2026-11-23T20:00:00Z">'
        "23 Nov 2026, 3:00 PM EST</time>.</p>" in html
    )


def test_a_next_update_time_in_the_past_is_refused(client, setting):
    incident = make_incident([setting["service"]], priority=1, updates=())
    response = client.post(
        f"/admin/incidents/{incident.ref}/updates",
        data={
            "status": "identified",
            "action": "publish",
            "body": "Kept",
            "next_update_at": "2026-11-23T14:00",
        },
    )
    assert response.status_code == 400 and "must be in the future" in response.text
    db.session.refresh(incident)
    assert incident.state == State.NEW.value


class TestSiteAdministration:
    @pytest.fixture
    def admin_client(self, client, setting):
        client.post("/admin/logout")
        login(client, make_user(site_admin=True))
        return client

    def test_an_admin_edits_a_template_and_leads_use_the_new_words(self, admin_client, setting):
        response = admin_client.post(
            "/admin/templates/p1_initial",
            data={
                "name": "P1 first notice",
                "status": "investigating",
                "body": "$services at $agency is down. Reference $ref.",
                "help": "Call us",
            },
        )
        assert response.status_code == 302
        incident = make_incident([setting["service"]], priority=1, updates=())
        html = admin_client.get(f"/admin/incidents/{incident.ref}?template=p1_initial").text
        assert f"Tax filing at Department of Revenue is down. Reference {incident.ref}." in html

    def test_a_template_needs_a_message(self, admin_client, setting):
        response = admin_client.post(
            "/admin/templates/resolution",
            data={"name": "Resolution", "status": "resolved", "body": ""},
        )
        assert response.status_code == 400 and "Write the message." in response.text

    def test_an_admin_edits_the_jargon_list(self, admin_client, setting):
        admin_client.post("/admin/jargon", data={"term": "Synergy", "plainer": "working together"})
        again = admin_client.post("/admin/jargon", data={"term": "synergy", "plainer": "x"})
        assert again.status_code == 400 and "already on the list" in again.text
        incident = make_incident([setting["service"]], priority=1, updates=())
        html = admin_client.post(
            f"/admin/incidents/{incident.ref}/updates",
            data={"status": "investigating", "action": "preview", "body": "Synergy is down."},
        ).text
        assert "“synergy” is jargon: try “working together”." in html
