"""A communications lead logs an incident, publishes updates and resolves it."""

import re

import pytest
from sqlalchemy import func, select

from statuspage.extensions import db
from statuspage.incidents.models import Incident, IncidentUpdate
from statuspage.users.models import Role
from tests.factories import csrf_token, login, make_agency, make_incident, make_service, make_user


@pytest.fixture
def setting(app, client, pinned_now):
    agency = make_agency("Department of Revenue", "revenue")
    filing = make_service(agency, "Tax filing", "tax-filing")
    refunds = make_service(agency, "Refund status", "refund-status", tier=3)
    lead = make_user(agency, Role.COMMUNICATIONS_LEAD)
    login(client, lead)
    return {"agency": agency, "filing": filing, "refunds": refunds, "lead": lead}


def incident_form(setting, **overrides):
    data = {
        "title": "Online tax filing unavailable",
        "priority": "1",
        "services": [str(setting["filing"].id)],
        f"impact_{setting['filing'].id}": "major_outage",
        f"impact_{setting['refunds'].id}": "partial_outage",
        "source": "monitoring",
        "impact_description": "Nobody can file online.",
        "detected_at": "2026-11-23T14:10",  # 7:10 PM UTC, 20 minutes before the pinned now
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_form_defaults_detection_to_now_in_the_site_zone(client, setting):
    html = client.get("/admin/incidents/new").get_data(as_text=True)
    assert 'value="2026-11-23T14:30"' in html
    assert "Times are in EST." in html


def test_a_lead_logs_an_incident_which_stays_private_until_its_first_update(client, setting):
    response = client.post("/admin/incidents/new", data=incident_form(setting))
    assert response.status_code == 302
    incident = db.session.scalars(select(Incident)).one()
    assert incident.ref == "INC-2026-1123-001"
    assert response.headers["Location"] == f"/admin/incidents/{incident.ref}"
    assert incident.detected_at.isoformat() == "2026-11-23T19:10:00+00:00"
    assert [(a.service.name, a.impact) for a in incident.affected] == [
        ("Tax filing", "major_outage")
    ]
    assert incident.priority_changes[0].to_priority == 1
    assert client.get(f"/incidents/{incident.ref}").status_code == 404

    response = client.post(
        f"/admin/incidents/{incident.ref}/updates",
        data={
            "status": "investigating",
            "body": "We are looking into it.",
            "workaround": "File on paper.",
            "next_update_at": "2026-11-23T15:00",
        },
    )
    assert response.status_code == 302
    page = client.get(f"/incidents/{incident.ref}").get_data(as_text=True)
    assert "We are looking into it." in page and "File on paper." in page
    assert "Next update by" in page and "3:00 PM EST" in page
    front = client.get("/").get_data(as_text=True)
    assert "Major outage" in front and incident.title in front

    client.post(
        f"/admin/incidents/{incident.ref}/updates",
        data={"status": "resolved", "body": "Filing works again."},
    )
    front = client.get("/").get_data(as_text=True)
    assert "All services are operating normally" in front
    db.session.refresh(incident)
    assert incident.state == "resolved" and incident.resolved_at is not None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": "   "}, "title", "Enter a title."),
        ({"priority": "7"}, "priority", "Choose a priority from P1 to P4."),
        ({"priority": None}, "priority", "Choose a priority, or an urgency and an impact"),
        ({"services": None}, "services", "Choose at least one affected service."),
        ({"services": ["99999"]}, "services", "Unknown service"),
        ({"services": ["tax-filing"]}, "services", "Unknown service"),
        ({"detected_at": "2026-11-23T18:00"}, "detected_at", "cannot be in the future"),
        ({"detected_at": "yesterday"}, "detected_at", "Not a valid datetime value."),
        (
            {"priority": "3", "is_security": "y"},
            "priority",
            "A security incident is never below P2",
        ),
        ({"started_at": "2026-11-23T14:20"}, "started_at", "at or before the detected time"),
    ],
)
def test_bad_input_is_explained_next_to_the_field_and_keeps_what_was_typed(
    client, setting, overrides, field, message
):
    data = incident_form(setting, impact_description="Typed with care <b>&</b> detail", **overrides)
    response = client.post("/admin/incidents/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    error = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', html, re.S)
    assert error and message in error.group(1)
    assert f'href="#{field}"' in html  # the summary links to the field
    assert "Typed with care &lt;b&gt;&amp;&lt;/b&gt; detail" in html
    if overrides.get("title") is None:
        assert 'value="Online tax filing unavailable"' in html
    if overrides.get("detected_at"):
        assert f'value="{overrides["detected_at"]}"' in html
    assert count(Incident) == 0


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"status": "investigating", "body": ""}, "body", "Write what is happening"),
        ({"status": "fixed", "body": "Kept text"}, "status", "Choose investigating, identified"),
        (
            {"status": "monitoring", "body": "Kept text", "next_update_at": "2026-11-23T14:00"},
            "next_update_at",
            "must be in the future",
        ),
    ],
)
def test_update_errors_keep_the_message_typed(client, setting, data, field, message):
    incident = make_incident([setting["filing"]], priority=1, updates=())
    response = client.post(f"/admin/incidents/{incident.ref}/updates", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(rf'id="{field}-error">[^<]*<span[^>]*>Error:</span>[^<]*{message}', html)
    if data["body"]:
        assert re.search(r">\s*Kept text</textarea>", html)
    assert count(IncidentUpdate) == 0


def test_a_p3_is_shown_publicly_only_when_a_lead_makes_it_public_with_a_message(
    client, setting
):
    incident = make_incident([setting["filing"]], priority=3)
    assert client.get(f"/incidents/{incident.ref}").status_code == 404
    client.post(
        f"/admin/incidents/{incident.ref}/updates",
        data={"status": "identified", "body": "Some people cannot file.", "make_public": "y",
              "action": "publish"},
    )  # fmt: skip
    page = client.get(f"/incidents/{incident.ref}").get_data(as_text=True)
    assert "Some people cannot file." in page and "Update: investigating." not in page
    refused = client.post(f"/admin/incidents/{incident.ref}/hide", data={"reason": ""})
    assert refused.status_code == 400
    client.post(f"/admin/incidents/{incident.ref}/hide", data={"reason": "One report only"})
    assert client.get(f"/incidents/{incident.ref}").status_code == 404


def test_the_incident_page_tells_the_lead_whether_it_is_public(client, setting):
    p4 = make_incident([setting["filing"]], priority=4)
    html = client.get(f"/admin/incidents/{p4.ref}").get_data(as_text=True)
    assert "a P4 is never public" in html


class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_a_post_without_the_token_is_refused_and_changes_nothing(self, client, setting):
        response = client.post("/admin/incidents/new", data=incident_form(setting))
        assert response.status_code == 400
        assert "The form could not be sent" in response.get_data(as_text=True)
        assert count(Incident) == 0

    def test_a_post_with_the_token_from_the_form_works(self, client, setting):
        token = csrf_token(client, "/admin/incidents/new")
        response = client.post(
            "/admin/incidents/new", data=incident_form(setting, csrf_token=token)
        )
        assert response.status_code == 302
        assert count(Incident) == 1

    def test_a_forged_token_is_refused(self, client, setting):
        data = incident_form(setting, csrf_token="forged")
        assert client.post("/admin/incidents/new", data=data).status_code == 400
        assert count(Incident) == 0
