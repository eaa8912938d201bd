"""The admin's API keys page: an agency's service owners (and site administrators) create keys,
see each one once, see when they were last used, and revoke them after a confirmation."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from statuspage.api_keys.models import ApiKey
from statuspage.api_keys.operations import create_key
from statuspage.audit import AuditEntry
from statuspage.extensions import db
from statuspage.users.models import Role
from tests.factories import PASSWORD, make_agency, make_user


@pytest.fixture
def revenue(app):
    return make_agency("Department of Revenue", slug="revenue")


@pytest.fixture
def owner(revenue):
    return make_user(revenue, Role.SERVICE_OWNER, email="owner@revenue.example.gov")


def signed_in(client, user):
    response = client.post("/admin/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def shown_key(page: str) -> str:
    found = re.search(r'<textarea id="new-api-key"[^>]*>(sp_[^<]+)</textarea>', page)
    assert found, "no key on the page"
    return found.group(1)


def test_an_owner_creates_a_key_sees_it_once_and_it_works(client, revenue, owner):
    signed_in(client, owner)
    response = client.post(
        f"/admin/agencies/{revenue.id}/api-keys",
        data={"name": "Grafana", "scopes": ["read", "incidents"]},
    )
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    key = shown_key(page)
    assert "This is the only time the key is shown" in page
    assert 'data-copy="new-api-key"' in page and "copy.js" in page
    assert "<script>" not in page  # the copy button's script is a static file
    assert "http://127.0.0.1:5000/api/v1" in page
    assert client.get("/api/v1/pages", headers={"Authorization": f"OAuth {key}"}).status_code == 200

    listing = client.get(f"/admin/agencies/{revenue.id}/api-keys").get_data(as_text=True)
    assert "Grafana" in listing and "read, incidents" in listing
    assert key not in listing and key[:9] in listing  # only the first characters
    assert owner.name in listing
    assert "Never" not in listing  # it was used just now
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "api_key_created")
    ).one()
    assert entry.actor_id == owner.id and key not in entry.details


def test_the_form_says_what_is_missing_and_keeps_what_was_typed(client, revenue, owner):
    signed_in(client, owner)
    response = client.post(f"/admin/agencies/{revenue.id}/api-keys", data={"name": "Grafana"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose at least one thing the key may do." in page
    assert 'value="Grafana"' in page
    response = client.post(
        f"/admin/agencies/{revenue.id}/api-keys", data={"name": " ", "scopes": ["read"]}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter a name" in page
    assert 'value="read" id="scopes-read" checked' in page
    response = client.post(
        f"/admin/agencies/{revenue.id}/api-keys", data={"name": "x", "scopes": ["admin"]}
    )
    assert response.status_code == 400 and "Choose from the list." in response.get_data(
        as_text=True
    )
    assert db.session.scalars(select(ApiKey)).all() == []


def test_revoking_asks_first_then_the_key_stops_working(client, revenue, owner):
    key, plaintext = create_key(revenue, "Incident bot", {"incidents"}, by=owner)
    signed_in(client, owner)
    listing = client.get(f"/admin/agencies/{revenue.id}/api-keys").get_data(as_text=True)
    confirm_url = f"/admin/agencies/{revenue.id}/api-keys/{key.id}/revoke"
    assert confirm_url in listing
    confirm = client.get(confirm_url)
    assert confirm.status_code == 200
    assert "stops working at once" in confirm.get_data(as_text=True)
    assert db.session.get(ApiKey, key.id).revoked_at is None  # asking changes nothing
    done = client.post(confirm_url, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "is revoked: it stops working at once" in page
    assert "Revoked" in page and owner.name in page
    api = client.get("/api/v1/pages", headers={"Authorization": f"OAuth {plaintext}"})
    assert api.status_code == 401
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "api_key_revoked")
    ).one()
    assert json.loads(entry.details)["key"] == "API key 'Incident bot' (Department of Revenue)"
    again = client.get(confirm_url, follow_redirects=True)
    assert "revoked already" in again.get_data(as_text=True)


def test_only_owners_and_site_administrators_manage_keys(client, revenue, owner):
    key, _ = create_key(revenue, "Grafana", {"read"}, by=owner)
    manager = make_user(revenue, Role.SERVICE_MANAGER)
    signed_in(client, manager)
    assert client.get("/admin/api-keys").status_code == 403
    assert client.get(f"/admin/agencies/{revenue.id}/api-keys").status_code == 403
    refused = client.post(f"/admin/agencies/{revenue.id}/api-keys/{key.id}/revoke")
    assert refused.status_code == 403
    assert db.session.get(ApiKey, key.id).revoked_at is None


def test_a_key_is_found_only_under_its_own_agency(client, revenue, owner):
    parks = make_agency("Department of Parks", slug="parks")
    parks_key, _ = create_key(parks, "Parks bot", {"read"}, by=None)
    both = make_user(revenue, Role.SERVICE_OWNER)
    from statuspage.users.operations import set_role

    set_role(make_user(site_admin=True), both, parks, Role.SERVICE_OWNER)
    signed_in(client, both)
    wrong = client.get(f"/admin/agencies/{revenue.id}/api-keys/{parks_key.id}/revoke")
    assert wrong.status_code == 404


def test_site_administrators_choose_the_agency_first(app, client, revenue, owner):
    make_agency("Department of Parks", slug="parks")
    create_key(revenue, "Grafana", {"read"}, by=owner)
    signed_in(client, make_user(site_admin=True))
    page = client.get("/admin/api-keys").get_data(as_text=True)
    assert "Department of Revenue</a> (1 key in use)" in page
    assert "Department of Parks</a> (0 keys in use)" in page
    one = signed_in(app.test_client(), owner).get("/admin/api-keys")
    assert one.status_code == 302 and one.headers["Location"].endswith(
        f"/admin/agencies/{revenue.id}/api-keys"
    )


def test_a_key_made_on_the_command_line_says_so(client, revenue, owner):
    create_key(revenue, "Deploy script", {"components"}, by=None)
    signed_in(client, owner)
    page = client.get(f"/admin/agencies/{revenue.id}/api-keys").get_data(as_text=True)
    assert "by the command line" in page
