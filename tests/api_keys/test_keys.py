"""API keys: stored hashed, scoped, revocable, per agency, rate limited, acting as a service
account that can never sign in and is not listed among people."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from statuspage import clock
from statuspage.admin.permissions import people_with
from statuspage.api_keys.models import ApiKey
from statuspage.api_keys.operations import ApiKeyError, create_key, revoke_key
from statuspage.audit import AuditEntry
from statuspage.extensions import db
from statuspage.internal.recipients import deciders, members
from statuspage.subscriptions.models import Notification
from statuspage.users import emails, tokens
from statuspage.users import operations as users
from statuspage.users.models import Role, User
from tests.factories import make_agency, make_user

ALL = {"read", "incidents", "maintenance", "components"}


@pytest.fixture
def revenue(app):
    return make_agency("Department of Revenue", slug="revenue")


@pytest.fixture
def owner(revenue):
    return make_user(revenue, Role.SERVICE_OWNER, email="owner@revenue.example.gov")


def oauth(key: str) -> dict:
    return {"Authorization": f"OAuth {key}"}


def every_stored_value() -> str:
    db.session.rollback()
    return json.dumps(
        {
            t.name: [list(map(str, row)) for row in db.session.execute(select(t))]
            for t in db.metadata.sorted_tables
        }
    )


# --- the key and what is kept -----------------------------------------------------------------


def test_the_database_keeps_only_the_keys_hash(revenue, owner):
    key, plaintext = create_key(revenue, "Grafana", {"read", "incidents"}, by=owner)
    assert plaintext.startswith("sp_") and len(plaintext) > 40
    assert key.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in every_stored_value()
    assert plaintext[3:] not in every_stored_value()


def test_two_keys_differ(revenue, owner):
    _, first = create_key(revenue, "Grafana", {"read"}, by=owner)
    _, second = create_key(revenue, "Grafana", {"read"}, by=owner)
    assert first != second


def test_creating_and_revoking_are_audited_naming_the_key_and_scopes_never_the_key(revenue, owner):
    key, plaintext = create_key(revenue, "Grafana", {"incidents", "read"}, by=owner)
    revoke_key(key, by=owner)
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor_id, e.agency_id) for e in entries] == [
        ("api_key_created", owner.id, revenue.id),
        ("api_key_revoked", owner.id, revenue.id),
    ]
    for entry in entries:
        details = json.loads(entry.details)
        assert details["key"] == "API key 'Grafana' (Department of Revenue)"
        assert details["scopes"] == ["read", "incidents"]
        assert plaintext not in entry.details


def test_a_key_needs_a_name_and_known_scopes(revenue, owner):
    with pytest.raises(ApiKeyError, match="Enter a name"):
        create_key(revenue, "   ", {"read"}, by=owner)
    with pytest.raises(ApiKeyError, match="Unknown scope admin"):
        create_key(revenue, "Grafana", {"read", "admin"}, by=owner)
    with pytest.raises(ApiKeyError, match="at least one scope"):
        create_key(revenue, "Grafana", set(), by=owner)
    assert db.session.scalars(select(ApiKey)).all() == []


def test_only_the_agencys_service_owners_create_its_keys(revenue):
    lead = make_user(revenue, Role.SERVICE_MANAGER)
    with pytest.raises(ApiKeyError, match="service owners"):
        create_key(revenue, "Grafana", {"read"}, by=lead)
    elsewhere = make_user(make_agency(), Role.SERVICE_OWNER)
    with pytest.raises(ApiKeyError, match="service owners"):
        create_key(revenue, "Grafana", {"read"}, by=elsewhere)


# --- the service account the key acts as -------------------------------------------------------


def test_the_key_acts_as_a_communications_lead_of_its_agency_only(revenue, owner):
    key, _ = create_key(revenue, "Grafana", ALL, by=owner)
    other = make_agency()
    account = key.user
    assert account.name == "API key 'Grafana' (Department of Revenue)"
    assert account.role_in(revenue.id) == Role.COMMUNICATIONS_LEAD
    assert account.role_in(other.id) is None
    assert not account.is_site_admin


def test_the_keys_account_can_never_sign_in(app, revenue, owner):
    key, plaintext = create_key(revenue, "Grafana", ALL, by=owner)
    account = key.user
    assert not account.is_active  # what password, single sign-on and passkey sign-in check
    assert not users.sign_in(account.email, plaintext, "127.0.0.1").ok
    assert not users.sign_in(account.email, "!api-key", "127.0.0.1").ok
    client = app.test_client()
    response = client.post("/admin/login", data={"email": account.email, "password": plaintext})
    assert response.status_code != 302


def test_the_keys_account_gets_no_reset_link(app, revenue, owner):
    key, _ = create_key(revenue, "Grafana", ALL, by=owner)
    users.request_password_reset(key.user.email)
    sent = db.session.scalars(select(Notification)).all()
    assert len(sent) == 1 and sent[0].event_key.startswith(emails.NO_ACCOUNT)  # "no account here"
    link = tokens.token_for(
        tokens.PASSWORD_RESET, tokens.link_data(tokens.PASSWORD_RESET, key.user)
    )
    with pytest.raises(tokens.TokenError):
        tokens.read(tokens.PASSWORD_RESET, link)


def test_the_keys_account_is_not_listed_told_or_managed_as_a_person(app, revenue, owner):
    key, _ = create_key(revenue, "Grafana", ALL, by=owner)
    lead = make_user(revenue, Role.COMMUNICATIONS_LEAD, email="lead@revenue.example.gov")
    assert key.user not in people_with(Role.COMMUNICATIONS_LEAD, revenue.id)
    assert lead in people_with(Role.COMMUNICATIONS_LEAD, revenue.id)
    assert [r.email for r in members(Role.COMMUNICATIONS_LEAD, [revenue.id])] == [lead.email]
    assert key.user.email not in [r.email for r in deciders(Role.COMMUNICATIONS_LEAD, revenue.id)]
    client = app.test_client()
    client.post(
        "/admin/login", data={"email": owner.email, "password": "correct horse battery staple"}
    )
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "lead@revenue.example.gov" in listing
    assert "Grafana" not in listing and key.user.email not in listing
    assert client.get(f"/admin/users/{key.user.id}").status_code == 404


def test_a_service_accounts_address_cannot_be_invited(revenue, owner):
    key, _ = create_key(revenue, "Grafana", ALL, by=owner)
    with pytest.raises(users.UserError, match="already uses"):
        users.invite_user(owner, name="Someone", email=key.user.email, agency=revenue,
                          role=Role.VIEWER)  # fmt: skip
    assert db.session.scalars(select(User).where(User.is_service_account.is_(False))).all() == [
        owner
    ]


# --- the API: keys, scopes, agencies ----------------------------------------------------------


def test_a_key_reads_its_agencys_page_in_statuspages_shape(client, revenue, owner):
    _, plaintext = create_key(revenue, "Grafana", {"read"}, by=owner)
    for request in (
        {"headers": oauth(plaintext)},
        {"headers": {"Authorization": f"Bearer {plaintext}"}},
        {"query_string": {"api_key": plaintext}},
    ):
        response = client.get("/api/v1/pages", **request)
        assert response.status_code == 200, request
        assert response.headers["Cache-Control"] == "no-store"
        [page] = response.get_json()
        assert page["id"] == "revenue"
        assert page["name"] == "Department of Revenue"
        assert page["subdomain"] == "revenue"
        assert page["url"].endswith("/agencies/revenue")
        assert page["time_zone"] == "America/New_York"
        assert page["created_at"].endswith("Z") and page["updated_at"].endswith("Z")
    one = client.get("/api/v1/pages/revenue", headers=oauth(plaintext))
    assert one.status_code == 200 and one.get_json()["id"] == "revenue"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "OAuth "}, {"Authorization": "OAuth sp_not-a-real-key"},
     {"Authorization": "Basic dXNlcjpwYXNz"}],
)  # fmt: skip
def test_no_key_or_an_unknown_one_is_401_in_statuspages_shape(client, revenue, headers):
    response = client.get("/api/v1/pages/revenue", headers=headers)
    assert response.status_code == 401
    assert response.is_json and "API key" in response.get_json()["error"]


def test_a_revoked_key_is_401_at_once(client, revenue, owner):
    key, plaintext = create_key(revenue, "Grafana", {"read"}, by=owner)
    assert client.get("/api/v1/pages", headers=oauth(plaintext)).status_code == 200
    assert revoke_key(key, by=owner) is True
    assert revoke_key(key, by=owner) is False  # once
    response = client.get("/api/v1/pages", headers=oauth(plaintext))
    assert response.status_code == 401
    assert "revoked" in response.get_json()["error"]


def test_a_key_without_the_scope_is_403(client, revenue, owner):
    _, plaintext = create_key(revenue, "Paging", {"incidents"}, by=owner)
    response = client.get("/api/v1/pages/revenue", headers=oauth(plaintext))
    assert response.status_code == 403
    assert response.get_json() == {"error": "This API key lacks the read scope."}


def test_another_agencys_page_is_as_unknown_as_a_missing_one(client, revenue, owner):
    make_agency("Department of Parks", slug="parks")
    _, plaintext = create_key(revenue, "Grafana", ALL, by=owner)
    theirs = client.get("/api/v1/pages/parks", headers=oauth(plaintext))
    missing = client.get("/api/v1/pages/no-such-page", headers=oauth(plaintext))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.get_json() == missing.get_json()
    assert "Parks" not in theirs.get_data(as_text=True)
    listed = client.get("/api/v1/pages", headers=oauth(plaintext)).get_json()
    assert [page["id"] for page in listed] == ["revenue"]


def test_errors_under_the_api_are_json_never_html(client, revenue, owner):
    _, plaintext = create_key(revenue, "Grafana", ALL, by=owner)
    unknown = client.get("/api/v1/no/such/thing", headers=oauth(plaintext))
    assert unknown.status_code == 404 and unknown.get_json() == {
        "error": "The requested resource could not be found."
    }
    wrong_method = client.delete("/api/v1/pages", headers=oauth(plaintext))
    assert wrong_method.status_code == 405 and "error" in wrong_method.get_json()
    assert "GET" in wrong_method.headers["Allow"]
    # Outside the API, the HTML pages as before.
    assert "text/html" in client.get("/no/such/page").content_type


def test_the_api_needs_no_csrf_token_and_sets_no_cookie(app, revenue, owner):
    app.config["WTF_CSRF_ENABLED"] = True
    _, plaintext = create_key(revenue, "Grafana", ALL, by=owner)
    client = app.test_client()
    response = client.get("/api/v1/pages", headers=oauth(plaintext))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


# --- last use and rate limits -----------------------------------------------------------------


def test_last_use_is_noted_at_most_once_a_minute(client, revenue, owner):
    key, plaintext = create_key(revenue, "Grafana", {"read"}, by=owner)
    assert key.last_used_at is None
    start = clock.now().replace(microsecond=0)
    with clock.pinned(start):
        client.get("/api/v1/pages", headers=oauth(plaintext))
    db.session.refresh(key)
    assert key.last_used_at == start
    with clock.pinned(start + timedelta(seconds=50)):
        client.get("/api/v1/pages", headers=oauth(plaintext))
    db.session.refresh(key)
    assert key.last_used_at == start
    with clock.pinned(start + timedelta(minutes=2)):
        client.get("/api/v1/pages", headers=oauth(plaintext))
    db.session.refresh(key)
    assert key.last_used_at == start + timedelta(minutes=2)


def test_a_refused_request_is_not_a_use(client, revenue, owner):
    key, plaintext = create_key(revenue, "Paging", {"incidents"}, by=owner)
    assert client.get("/api/v1/pages", headers=oauth(plaintext)).status_code == 403
    db.session.refresh(key)
    assert key.last_used_at is None


@pytest.mark.parametrize("app_config", [{"API_RATE_LIMIT": "3 per minute"}])
def test_each_key_has_its_own_rate_limit(client, revenue, owner):
    _, busy = create_key(revenue, "Busy script", {"read"}, by=owner)
    _, calm = create_key(revenue, "Grafana", {"read"}, by=owner)
    codes = [client.get("/api/v1/pages", headers=oauth(busy)).status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    refused = client.get("/api/v1/pages", headers=oauth(busy))
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many requests" in refused.get_json()["error"]
    assert client.get("/api/v1/pages", headers=oauth(calm)).status_code == 200
