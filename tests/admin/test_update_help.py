"""Help for the lead: templates that keep what was typed, the priority matrix, hints derived from
the policy table (an override changes the words), and errors always in view."""

import re
from html import unescape

import pytest
from sqlalchemy import select

from statuspage.audit import AuditEntry
from statuspage.communications.defaults import TEMPLATES
from statuspage.extensions import db
from statuspage.incidents.models import Incident, State
from statuspage.incidents.operations import publish_update
from statuspage.policy import DEFAULT_TABLE
from statuspage.users.models import Role
from tests.conftest import make_app
from tests.factories import login, make_agency, make_incident, make_service, make_user


@pytest.fixture
def setting(app, client, pinned_now):
    agency = make_agency("Department of Revenue", "revenue")
    filing = make_service(agency, "Tax filing", "tax-filing", tier=1)
    payments = make_service(agency, "Tax payments", "tax-payments", tier=1)
    lead = make_user(agency, Role.COMMUNICATIONS_LEAD)
    login(client, lead)
    return {"agency": agency, "filing": filing, "payments": payments, "lead": lead}


def value_of(html: str, field: str) -> str:
    tag = re.search(rf'<(input|textarea)[^>]*name="{field}"[^>]*>', html)
    if tag.group(1) == "input":
        value = re.search(r'value="([^"]*)"', tag.group(0))
        return value.group(1) if value else ""
    return html[tag.end() :].split("</textarea>", 1)[0].strip()


def test_choosing_a_template_keeps_what_was_typed_and_fills_the_rest(client, setting):
    incident = make_incident([setting["filing"]], priority=1, updates=())
    response = client.post(
        f"/admin/incidents/{incident.ref}/updates",
        data={"status": "investigating", "body": "My own words.", "cause": "",
              "template": "p1_initial", "next_update_at": "2026-11-23T14:50"},
    )  # fmt: skip
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert value_of(html, "body") == "My own words."
    assert value_of(html, "cause") == "We do not know the cause yet."
    assert value_of(html, "next_update_at") == "2026-11-23T14:50"
    assert "There is a problem" not in html


def test_the_resolution_template_resolves_in_two_clicks(client, setting):
    incident = make_incident([setting["filing"], setting["payments"]], priority=1)
    page = client.get(f"/admin/incidents/{incident.ref}").get_data(as_text=True)
    form = {
        name: value_of(page, name)
        for name in ("status", "body", "what_affected", "who_affected", "affected_since",
                     "cause", "workaround", "help", "next_update_at", "expected_resolution_at")
    }  # fmt: skip
    form["status"] = "investigating"
    chosen = client.post(f"/admin/incidents/{incident.ref}/updates",
                         data={**form, "template": "resolution"})  # fmt: skip
    html = chosen.get_data(as_text=True)
    assert value_of(html, "next_update_at") == ""
    assert "You can use Tax filing and Tax payments normally again." in html
    form = {name: value_of(html, name) for name in form}
    form["status"] = "resolved"
    published = client.post(f"/admin/incidents/{incident.ref}/updates",
                            data={**form, "action": "publish"})  # fmt: skip
    assert published.status_code == 302
    db.session.refresh(incident)
    assert incident.state == State.RESOLVED.value


@pytest.mark.parametrize("names", [["Tax payments"], ["Tax filing", "Tax payments"]])
def test_built_in_templates_read_right_for_plural_names_and_several_services(
    app, setting, names
):
    services = [s for s in (setting["filing"], setting["payments"]) if s.name in names]
    incident = make_incident(services, priority=1, updates=())
    from statuspage.communications.templates import fill, template_by_key

    with app.test_request_context():
        for template in TEMPLATES:
            text = " ".join(fill(template_by_key(template["key"]), incident).values())
            assert not re.search(r"(payments|filing) (is|was|has)\b", text), text
            assert " and ".join(names) in text


def test_the_form_does_not_carry_the_last_cause_or_workaround(client, setting):
    incident = make_incident([setting["filing"]], priority=2, updates=())
    publish_update(incident, status=State.IDENTIFIED, body="Found it.", cause="A failed disk",
                   workaround="File on paper", by=None)  # fmt: skip
    html = client.get(f"/admin/incidents/{incident.ref}").get_data(as_text=True)
    assert value_of(html, "cause") == "" and value_of(html, "workaround") == ""
    assert "The last update said: “A failed disk”" in html


def test_a_failed_publish_shows_its_errors_in_the_update_section(client, setting):
    incident = make_incident([setting["filing"]], priority=2)
    response = client.post(
        f"/admin/incidents/{incident.ref}/updates",
        data={"status": "resolved", "body": "Fixed.", "next_update_at": "2026-11-23T15:00",
              "action": "publish"},
    )  # fmt: skip
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    section = html[html.index('id="post-update"') :]
    assert section.index("There is a problem") < section.index("<form")
    assert "A resolved incident has no next update" in section


def test_the_matrix_suggests_a_priority_and_the_choice_is_audited(client, setting):
    data = {
        "title": "Tax filing unavailable", "urgency": "high", "reach": "medium",
        "services": [str(setting["filing"].id)], "source": "monitoring",
        "detected_at": "2026-11-23T14:10", "action": "suggest",
    }  # fmt: skip
    suggested = client.post("/admin/incidents/new", data=data).get_data(as_text=True)
    assert "Suggested: P2 from high urgency and medium impact" in suggested
    assert re.search(r'<input checked[^>]*value="2"|value="2"[^>]*checked', suggested)
    assert value_of(suggested, "title") == "Tax filing unavailable"

    client.post("/admin/incidents/new", data={**data, "action": "", "priority": "1"})
    incident = db.session.scalars(select(Incident)).one()
    assert incident.priority == 1
    logged = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "incident_logged")
    ).one()
    assert dict(logged.detail_items) == {
        "priority": "P1", "suggested": "P2 from high urgency and medium impact",
        "title": "Tax filing unavailable",
    }  # fmt: skip


def test_the_urgency_and_impact_criteria_are_on_the_form(client, setting):
    html = client.get("/admin/incidents/new").get_data(as_text=True)
    assert "More than 20% of citizens" in html and "a workaround exists" in html


def test_a_policy_override_changes_the_words_on_the_forms(
    migrated, tmp_path, monkeypatch, pinned_now
):
    row = dict(DEFAULT_TABLE["P2"], acknowledge="10 minutes", first_communication="20 minutes",
               update_cadence="1 hour", closure_approver="service_owner")  # fmt: skip
    del row["default_impact"], row["closure_notice"]  # an override written before these keys
    (tmp_path / "policy.toml").write_text(
        "[P2]\n" + "\n".join(f'{k} = "{v}"' for k, v in row.items())
        + '\n[rules]\ndeescalation_approver = "service_owner"\n'
    )
    monkeypatch.setenv("STATUSPAGE_INSTANCE_PATH", str(tmp_path))
    app = make_app(migrated)
    from tests.conftest import FreshContextClient, _empty_tables

    app.test_client_class = FreshContextClient
    client = app.test_client()
    with app.app_context():
        try:
            agency = make_agency("Department of Revenue", "revenue")
            service = make_service(agency, "Tax filing", "tax-filing")
            login(client, make_user(agency, Role.COMMUNICATIONS_LEAD))
            new = client.get("/admin/incidents/new").get_data(as_text=True)
            assert ("P2: acknowledge within 10 minutes; first public update within 20 minutes; "
                    "then an update every 1 hour") in new  # fmt: skip
            incident = make_incident([service], priority=2)
            publish_update(incident, status=State.RESOLVED, body="Fixed.", by=None)
            page = unescape(client.get(f"/admin/incidents/{incident.ref}").get_data(as_text=True))
            assert "Lowering it needs a service owner's approval" in page
            assert "Closing a P2 needs a service owner's approval." in page
            assert "service manager" not in page.lower()
            other = make_incident([service], priority=2, updates=())
            page = client.get(f"/admin/incidents/{other.ref}").get_data(as_text=True)
            assert "every 1 hour on a P2" in page
            # The latest promise allowed: the overridden cadence (1 hour) from 2:30 PM EST.
            assert value_of(page, "next_update_at") == "2026-11-23T15:30"
        finally:
            db.session.remove()
            _empty_tables()
            db.engine.dispose()
