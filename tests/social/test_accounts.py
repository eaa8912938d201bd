"""An agency's social media accounts and hashtags, managed by its service owners (and site
administrators); the secrets never shown back, never audited, encrypted at rest; the ready posts
on the incident page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from statuspage import create_app
from statuspage.audit import AuditEntry
from statuspage.extensions import db
from statuspage.social import secrets
from statuspage.social.models import SocialAccount
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_incident, make_service, make_user

TOKEN = "tok-9f8e7d6c5b4a-secret"


@pytest.fixture
def agency(app):
    return make_agency("Department of Revenue", "revenue")


@pytest.fixture
def owner(agency):
    return make_user(agency, Role.SERVICE_OWNER)


def add_mastodon(client, agency, server, **changes):
    data = {"network": "mastodon", "name": "@revenue@social.example.gov", "base_url": server,
            "secret": TOKEN, **changes}  # fmt: skip
    return client.post(f"/admin/agencies/{agency.id}/social", data=data)


def test_an_owner_adds_a_mastodon_account_whose_token_is_never_shown_again(
    client, agency, owner, mastodon_server
):
    login(client, owner)
    response = add_mastodon(client, agency, mastodon_server.url)
    assert response.status_code == 302
    page = client.get(f"/admin/agencies/{agency.id}/social").text
    assert "@revenue@social.example.gov" in page and "Direct (token saved, encrypted)" in page
    assert TOKEN not in page

    account = db.session.scalars(select(SocialAccount)).one()
    stored = db.session.execute(text("SELECT secret FROM social_accounts")).scalar_one()
    assert TOKEN not in stored and secrets.decrypt(stored) == TOKEN
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "social_account_added")
    ).all()
    assert TOKEN not in entry.details and entry.actor_id == owner.id
    assert "not recorded" in entry.details and account.base_url == mastodon_server.url


def test_a_new_secret_key_makes_saved_tokens_unreadable_not_wrong(app, agency, mastodon_server):
    stored = secrets.encrypt(TOKEN)
    other = create_app({**app.config, "SECRET_KEY": "another-secret-key"})
    with other.app_context(), pytest.raises(secrets.UnreadableSecret, match="add it again"):
        secrets.decrypt(stored)


def test_a_bluesky_account_takes_the_default_server_and_needs_a_handle(client, agency, owner):
    login(client, owner)
    response = client.post(f"/admin/agencies/{agency.id}/social", data={
        "network": "bluesky", "name": "Revenue on Bluesky", "secret": "abcd-efgh"})
    assert response.status_code == 400
    assert "Enter the Bluesky handle" in response.text
    assert 'value="Revenue on Bluesky"' in response.text  # what was typed stays...
    assert "abcd-efgh" not in response.text  # ...but never the password


def test_a_copy_only_account_keeps_no_secret(client, agency, owner):
    login(client, owner)
    response = client.post(f"/admin/agencies/{agency.id}/social", data={
        "network": "x", "name": "@RevenueAgency", "secret": "ignored"})
    assert response.status_code == 302
    account = db.session.scalars(select(SocialAccount)).one()
    assert (account.network, account.secret, account.by_api) == ("x", "", False)
    assert "Copy-only" in client.get(f"/admin/agencies/{agency.id}/social").text


@pytest.mark.parametrize(("changes", "message"), [
    ({"network": "myspace"}, "Choose a network from the list."),
    ({"secret": ""}, "Enter the account&#39;s access token"),
    ({"base_url": "ftp://social.example.gov"}, "starts with https://"),
    ({"name": ""}, "Enter the account&#39;s name"),
])  # fmt: skip
def test_a_mistake_is_refused_with_the_reason(client, agency, owner, changes, message):
    login(client, owner)
    response = add_mastodon(client, agency, "https://social.example.gov", **changes)
    assert response.status_code == 400 and message in response.text
    assert db.session.scalars(select(SocialAccount)).all() == []


def test_an_owner_turns_an_account_off_and_on_and_removes_it_each_audited(
    client, agency, owner, mastodon_server
):
    login(client, owner)
    add_mastodon(client, agency, mastodon_server.url)
    account = db.session.scalars(select(SocialAccount)).one()
    account_id = account.id
    base = f"/admin/agencies/{agency.id}/social/{account_id}"
    client.post(f"{base}/toggle")
    db.session.expire_all()
    assert account.enabled is False
    assert "Off: turn on" in client.get(f"/admin/agencies/{agency.id}/social").text
    client.post(f"{base}/toggle")
    client.post(f"{base}/remove")
    db.session.expire_all()
    assert db.session.get(SocialAccount, account_id) is None
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("social_account%"))
        .order_by(AuditEntry.id)
    ).all()  # fmt: skip
    assert actions == ["social_account_added", "social_account_changed",
                       "social_account_changed", "social_account_removed"]  # fmt: skip


def test_another_agencys_owner_cannot_manage_this_agencys_accounts(
    app, client, agency, mastodon_server
):
    other = make_agency("Department of Transport", "transport")
    login(client, make_user(other, Role.SERVICE_OWNER))
    assert client.get(f"/admin/agencies/{agency.id}/social").status_code == 403
    assert add_mastodon(client, agency, mastodon_server.url).status_code == 403
    assert client.post(f"/admin/agencies/{agency.id}/social/hashtags",
                       data={"hashtags": "#hijack"}).status_code == 403  # fmt: skip
    from statuspage.social import operations as social

    account = social.add_account(agency, social.AccountDetails(
        "mastodon", "@revenue", base_url=mastodon_server.url, secret=TOKEN), by=None)
    for action in ("toggle", "remove"):
        url = f"/admin/agencies/{agency.id}/social/{account.id}/{action}"
        assert client.post(url).status_code == 403
    # Their own agency's page does not reach this agency's account either.
    url = f"/admin/agencies/{other.id}/social/{account.id}/remove"
    assert client.post(url).status_code == 404
    db.session.expire_all()
    assert db.session.get(SocialAccount, account.id).enabled is True
    assert db.session.scalars(select(SocialAccount)).all() == [account]


def test_a_communications_lead_is_not_an_owner(client, agency):
    login(client, make_user(agency, Role.COMMUNICATIONS_LEAD))
    assert client.get(f"/admin/agencies/{agency.id}/social").status_code == 403
    assert client.get("/admin/social").status_code == 403


def test_a_site_administrator_manages_every_agencys_accounts(client, agency):
    make_agency("Department of Transport", "transport")
    login(client, make_user(site_admin=True))
    listing = client.get("/admin/social").text
    assert "Department of Revenue" in listing and "Department of Transport" in listing
    assert client.get(f"/admin/agencies/{agency.id}/social").status_code == 200


def test_owners_set_hashtags_on_the_social_page_checked_and_audited(client, agency, owner):
    login(client, owner)
    response = client.post(f"/admin/agencies/{agency.id}/social/hashtags",
                           data={"hashtags": "Revenue, #TaxDay"})  # fmt: skip
    assert response.status_code == 302
    db.session.expire_all()
    assert agency.hashtags == "#Revenue #TaxDay"
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "agency_changed")
    ).one()
    assert '"hashtags": ["", "#Revenue #TaxDay"]' in entry.details
    refused = client.post(f"/admin/agencies/{agency.id}/social/hashtags",
                          data={"hashtags": "#tax-day"})  # fmt: skip
    assert refused.status_code == 400 and "cannot be a hashtag" in refused.text
    assert 'value="#tax-day"' in refused.text


def test_site_administrators_set_hashtags_in_the_agency_form(client, agency):
    login(client, make_user(site_admin=True))
    form = client.get(f"/admin/agencies/{agency.id}").text
    assert 'name="hashtags"' in form
    response = client.post(f"/admin/agencies/{agency.id}", data={
        "name": agency.name, "slug": agency.slug, "description": "", "display_order": "1",
        "hashtags": "#Revenue"})  # fmt: skip
    assert response.status_code == 302
    db.session.expire_all()
    assert agency.hashtags == "#Revenue"


# --- the ready posts on the incident page --------------------------------------------------------


def test_the_incident_page_shows_a_ready_post_per_network_with_its_count_and_copy_button(
    client, agency
):
    agency.hashtags = "#Revenue"
    db.session.commit()
    service = make_service(agency, "Tax filing", "tax-filing")
    incident = make_incident([service], priority=2, title="Online filing down")
    login(client, make_user(agency, Role.VIEWER))
    response = client.get(f"/admin/incidents/{incident.ref}")
    page = response.text
    link = f"https://status.example.gov/incidents/{incident.ref}"
    for key, limit in (("mastodon", 500), ("bluesky", 300), ("x", 280), ("threads", 500)):
        box = re.search(rf'<textarea id="social-post-{key}" readonly[^>]*>(.*?)</textarea>', page,
                        re.DOTALL)  # fmt: skip
        assert box and link in box.group(1) and "#Revenue" in box.group(1)
        assert re.search(rf'id="social-count-{key}">\d+ of {limit} ', page)
        assert f'data-copy="social-post-{key}" hidden' in page  # shown by the script only
    assert "Investigating a major outage: Tax filing (Department of Revenue)" in page
    assert 'src="/static/copy.js"' in page
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "has no Mastodon or Bluesky account" in page
    assert ">Post now<" not in page  # a viewer posts nothing


@pytest.fixture
def app_config(smtp):
    return {"WEBHOOKS_ALLOW_PRIVATE": True, "SITE_URL": "https://status.example.gov/"}
