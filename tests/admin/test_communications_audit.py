"""Update templates, the jargon list and webhooks change through operations that audit who changed
what, with before and after, shown on /admin/audit."""

import json
from html import unescape

import pytest
from sqlalchemy import select

from statuspage.audit import AuditEntry
from statuspage.communications.models import JargonTerm
from statuspage.communications.templates import template_by_key
from statuspage.extensions import db
from statuspage.subscriptions.models import Webhook
from tests.factories import login, make_agency, make_user


@pytest.fixture
def app_config():
    return {"WEBHOOKS_ALLOW_PRIVATE": True}  # the partner here listens on loopback


@pytest.fixture
def admin(app, client):
    user = make_user(site_admin=True)
    login(client, user)
    return user


def entries(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def audit_page(client) -> str:
    return unescape(client.get("/admin/audit").get_data(as_text=True))


def template_form(template, **overrides) -> dict:
    names = ("name", "status", "body", "what_affected", "who_affected", "cause", "workaround",
             "help")  # fmt: skip
    data = {name: getattr(template, name) or "" for name in names}
    data.update(overrides)
    return data


def test_editing_a_template_records_the_fields_changed_before_and_after(client, admin):
    template = template_by_key("p1_initial")
    old_name, old_body = template.name, template.body
    response = client.post(
        "/admin/templates/p1_initial",
        data=template_form(template, name="P1 first message", body="We know $services is down."),
    )
    assert response.status_code == 302
    [entry] = entries("template_changed")
    assert entry.actor_id == admin.id and entry.agency_id is None
    details = json.loads(entry.details)
    assert details == {
        "template": "p1_initial",
        "changes": {"name": [old_name, "P1 first message"],
                    "body": [old_body, "We know $services is down."]},
    }  # fmt: skip
    html = audit_page(client)
    assert "Template changed" in html and f"name: {old_name} → P1 first message" in html
    # A long text is shown whole, before and after, in a disclosure.
    assert "<summary>body changed</summary>" in html and "We know $services is down." in html


def test_saving_a_template_unchanged_records_nothing(client, admin):
    template = template_by_key("p1_initial")
    response = client.post(
        "/admin/templates/p1_initial", data=template_form(template), follow_redirects=True
    )
    assert "Nothing changed." in response.get_data(as_text=True)
    assert entries("template_changed") == []


def test_a_template_with_a_control_character_is_refused_and_nothing_recorded(client, admin):
    template = template_by_key("p1_initial")
    response = client.post(
        "/admin/templates/p1_initial", data=template_form(template, help="Call\x0b us")
    )
    assert response.status_code == 400
    assert "Remove the control character (U+000B) from “How to get help”." in unescape(
        response.get_data(as_text=True)
    )
    assert entries("template_changed") == []


def test_adding_and_removing_jargon_is_audited(client, admin):
    response = client.post("/admin/jargon", data={"term": "Bandwidth", "plainer": "capacity"})
    assert response.status_code == 302
    term = db.session.scalars(select(JargonTerm).where(JargonTerm.term == "bandwidth")).one()
    client.post(f"/admin/jargon/{term.id}/delete")
    assert db.session.scalar(select(JargonTerm).where(JargonTerm.term == "bandwidth")) is None
    [added], [removed] = entries("jargon_added"), entries("jargon_removed")
    assert json.loads(added.details) == {"term": "bandwidth", "plainer": "capacity"}
    assert json.loads(removed.details) == {"term": "bandwidth", "plainer": "capacity"}
    assert removed.actor_id == admin.id
    html = audit_page(client)
    assert "Jargon added" in html and "Jargon removed" in html and "plainer: capacity" in html


def test_a_term_already_listed_is_refused_keeping_what_was_typed(client, admin):
    response = client.post("/admin/jargon", data={"term": "Outage", "plainer": "not working"})
    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    assert '<a href="#term">“outage” is already on the list.</a>' in html
    assert 'value="Outage"' in html and 'value="not working"' in html
    assert entries("jargon_added") == []


def test_adding_and_switching_a_webhook_is_audited_without_its_secret(client, admin):
    agency = make_agency("Department of Revenue", "revenue")
    response = client.post(
        "/admin/webhooks",
        data={"name": "Revenue partner", "url": "http://127.0.0.1:9/hook", "agency": agency.id},
    )
    assert response.status_code == 302
    webhook = db.session.scalars(select(Webhook)).one()
    client.post(f"/admin/webhooks/{webhook.id}/toggle")
    db.session.refresh(webhook)
    assert webhook.active is False
    [added], [switched] = entries("webhook_added"), entries("webhook_changed")
    assert added.agency_id == agency.id and added.actor_id == admin.id
    assert json.loads(added.details) == {
        "name": "Revenue partner", "url": "http://127.0.0.1:9/hook", "webhook": webhook.id,
    }  # fmt: skip
    assert json.loads(switched.details)["changes"] == {"state": ["on", "off"]}
    assert webhook.secret not in added.details + switched.details
    html = audit_page(client)
    assert "Webhook added" in html and "state: on → off" in html
