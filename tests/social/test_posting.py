"""Direct posts through the outbox: a P1 update goes to the agency's Mastodon and Bluesky accounts
(loopback stand-ins) and their links are recorded on the incident; failures retry; the policy and
the accounts' state decide what goes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from statuspage import clock
from statuspage.audit import AuditEntry
from statuspage.extensions import db
from statuspage.incidents.models import State
from statuspage.incidents.operations import hide_from_public, publish_update
from statuspage.social import operations as social
from statuspage.social.models import SocialAccount, SocialPost
from statuspage.subscriptions import outbox
from statuspage.subscriptions.models import Notification
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_incident, make_service, make_user


@pytest.fixture
def agency(app):
    agency = make_agency("Department of Revenue", "revenue")
    agency.hashtags = "#Revenue #TaxDay"
    db.session.commit()
    return agency


@pytest.fixture
def service(agency):
    return make_service(agency, "Tax filing", "tax-filing")


@pytest.fixture
def accounts(agency, mastodon_server, bluesky_server):
    mastodon = social.add_account(agency, social.AccountDetails(
        "mastodon", "@revenue@social.example.gov", base_url=mastodon_server.url,
        secret=mastodon_server.token), by=None)  # fmt: skip
    bluesky = social.add_account(agency, social.AccountDetails(
        "bluesky", "@revenue.bsky.example", base_url=bluesky_server.url,
        handle=bluesky_server.handle, secret=bluesky_server.password), by=None)  # fmt: skip
    return mastodon, bluesky


def social_rows() -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(Notification.channel == "social").order_by(Notification.id)
    ))  # fmt: skip


def posts_of(incident) -> list[SocialPost]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(SocialPost).where(SocialPost.incident_id == incident.id).order_by(SocialPost.network)
    ))  # fmt: skip


def test_a_p1_update_is_posted_to_mastodon_and_bluesky_and_the_links_are_recorded(
    service, accounts, mastodon_server, bluesky_server
):
    incident = make_incident([service], priority=1, title="Online filing down",
                             updates=(State.INVESTIGATING,))  # fmt: skip

    run = outbox.dispatch_until_empty()

    assert run.sent == 2 and run.failed == 0
    link = f"https://status.example.gov/incidents/{incident.ref}"
    [toot] = mastodon_server.posts
    assert toot["visibility"] == "public"
    assert link in toot["status"] and "#Revenue #TaxDay" in toot["status"]
    assert toot["status"].startswith("Investigating a major outage: Tax filing (Department of "
                                     "Revenue)")  # fmt: skip
    assert toot["idempotency_key"]  # a retry after a lost answer posts once
    [record] = bluesky_server.posts
    assert record["repo"] == bluesky_server.handle
    assert record["collection"] == "app.bsky.feed.post"
    text = record["record"]["text"]
    [link_facet] = [f for f in record["record"]["facets"]
                    if f["features"][0]["$type"] == "app.bsky.richtext.facet#link"]  # fmt: skip
    start, end = link_facet["index"]["byteStart"], link_facet["index"]["byteEnd"]
    assert text.encode()[start:end].decode() == link == link_facet["features"][0]["uri"]
    tags = [f["features"][0]["tag"] for f in record["record"]["facets"]
            if f["features"][0]["$type"] == "app.bsky.richtext.facet#tag"]  # fmt: skip
    assert tags == ["Revenue", "TaxDay"]
    assert ("POST", "/xrpc/com.atproto.server.createSession") in bluesky_server.requests

    bluesky_post, mastodon_post = posts_of(incident)
    assert mastodon_post.url.startswith(f"{mastodon_server.url}/@revenue/")
    assert mastodon_post.remote_id == mastodon_post.url.rsplit("/", 1)[1]
    assert bluesky_post.url.startswith(f"https://bsky.app/profile/{bluesky_server.handle}/post/3l")
    assert bluesky_post.remote_id.startswith(f"at://{bluesky_server.did}/app.bsky.feed.post/")
    assert {p.text for p in (mastodon_post, bluesky_post)} == {toot["status"], text}

    # Dispatching again sends nothing more: each update goes to each account once.
    assert outbox.dispatch_until_empty().claimed == 0
    assert len(mastodon_server.posts) == len(bluesky_server.posts) == 1


def test_the_closing_note_and_each_later_update_are_posted_too(service, accounts, mastodon_server):
    incident = make_incident([service], priority=1,
                             updates=(State.INVESTIGATING, State.RESOLVED))  # fmt: skip
    outbox.dispatch_until_empty()
    assert [p["status"].split(":")[0] for p in mastodon_server.posts] == [
        "Investigating a major outage", "Resolved"]  # fmt: skip
    assert len(posts_of(incident)) == 4


def test_a_500_from_the_instance_is_retried_and_then_succeeds(
    service, accounts, mastodon_server, bluesky_server
):
    mastodon_server.answer_next = [500]
    incident = make_incident([service], priority=1)

    run = outbox.dispatch_until_empty()
    assert (run.sent, run.retried) == (1, 1)  # Bluesky went; Mastodon waits to try again
    [mastodon_row] = [r for r in social_rows() if r.recipient_key == f"social:{accounts[0].id}"]
    assert mastodon_row.status == "pending" and "500" in mastodon_row.last_error
    assert [p.network for p in posts_of(incident)] == ["bluesky"]

    with clock.pinned(clock.now() + timedelta(minutes=1)):  # past the first backoff (30 s)
        run = outbox.dispatch_until_empty()
    assert run.sent == 1
    assert [p.network for p in posts_of(incident)] == ["bluesky", "mastodon"]
    assert len(mastodon_server.posts) == 1


def test_a_refused_token_fails_at_once_with_the_reason_kept(
    client, service, agency, mastodon_server
):
    social.add_account(agency, social.AccountDetails(
        "mastodon", "@revenue", base_url=mastodon_server.url, secret="revoked-token"), by=None)
    make_incident([service], priority=1)
    run = outbox.dispatch_until_empty()
    assert run.failed == 1
    [row] = social_rows()
    assert row.status == "failed" and "refused the token" in row.last_error
    assert mastodon_server.posts == []
    login(client, make_user(site_admin=True))
    page = client.get("/admin/outbox").text
    assert "@revenue (social media)" in page and "refused the token" in page


def test_a_p3_update_is_not_posted_automatically_and_post_now_posts_it(
    app, client, service, agency, accounts, mastodon_server, bluesky_server
):
    incident = make_incident([service], priority=3, made_public=True)
    assert incident.first_public_at is not None
    assert outbox.dispatch_until_empty().claimed == 0
    assert social_rows() == []

    lead = make_user(agency, Role.COMMUNICATIONS_LEAD)
    login(client, lead)
    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert "does not post this priority automatically" in page
    assert page.count(">Post now<") == 2
    mastodon, _ = accounts
    response = client.post(f"/admin/incidents/{incident.ref}/social/{mastodon.id}")
    assert response.status_code == 302
    assert "Waiting to be posted" in client.get(f"/admin/incidents/{incident.ref}").text

    outbox.dispatch_until_empty()
    assert len(mastodon_server.posts) == 1 and bluesky_server.posts == []
    [post] = posts_of(incident)
    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert f'href="{post.url}"' in page
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "social_post_requested")
    ).one()
    assert entry.actor_id == lead.id and json.loads(entry.details)["account"] == mastodon.name

    # Posting the same update again is refused with the reason.
    again = client.post(f"/admin/incidents/{incident.ref}/social/{mastodon.id}",
                        follow_redirects=True)  # fmt: skip
    assert "already posted" in again.text
    assert len(mastodon_server.posts) == 1


def test_a_failed_post_can_be_tried_again_from_the_incident_page(
    client, service, agency, accounts, mastodon_server
):
    mastodon_server.answer_next = [500] * outbox.MAX_ATTEMPTS
    incident = make_incident([service], priority=1)
    start = clock.now()
    for hours in range(outbox.MAX_ATTEMPTS):  # every try, each past its backoff (at most 1 h)
        with clock.pinned(start + timedelta(hours=hours)):
            outbox.dispatch_until_empty()
    [row] = [r for r in social_rows() if r.recipient_key == f"social:{accounts[0].id}"]
    assert row.status == "failed"
    login(client, make_user(agency, Role.COMMUNICATIONS_LEAD))
    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert "Failed: MastodonInternalServerError" in page and ">Try again<" in page
    client.post(f"/admin/incidents/{incident.ref}/social/{accounts[0].id}")
    outbox.dispatch_until_empty()
    assert [p.network for p in posts_of(incident)] == ["bluesky", "mastodon"]


def test_a_disabled_account_gets_nothing(service, accounts, mastodon_server, bluesky_server):
    _, bluesky = accounts
    social.set_account_enabled(bluesky, False, by=None)
    make_incident([service], priority=1)
    outbox.dispatch_until_empty()
    assert len(mastodon_server.posts) == 1
    assert bluesky_server.posts == [] and bluesky_server.requests == []


def test_an_account_turned_off_after_the_update_was_queued_is_not_posted_to(
    service, accounts, mastodon_server
):
    make_incident([service], priority=1)
    social.set_account_enabled(accounts[0], False, by=None)
    outbox.dispatch_until_empty()
    assert mastodon_server.posts == []
    [row] = [r for r in social_rows() if r.recipient_key == f"social:{accounts[0].id}"]
    assert row.status == "failed" and "turned off" in row.last_error


def test_a_private_incidents_update_is_never_posted(
    client, service, agency, accounts, mastodon_server, bluesky_server
):
    incident = make_incident([service], priority=3)  # a P3 not marked public: private
    publish_update(incident, status=State.IDENTIFIED, body="Found it.", by=None)
    outbox.dispatch_until_empty()
    assert social_rows() == []
    login(client, make_user(agency, Role.COMMUNICATIONS_LEAD))
    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert "once the incident has a public update" in page and "<textarea id=\"social" not in page
    client.post(f"/admin/incidents/{incident.ref}/social/{accounts[0].id}")
    outbox.dispatch_until_empty()
    assert mastodon_server.posts == [] and bluesky_server.posts == []


def test_an_update_queued_before_the_incident_was_hidden_is_not_posted(
    service, agency, accounts, mastodon_server, bluesky_server
):
    incident = make_incident([service], priority=3, made_public=True)
    lead = make_user(agency, Role.COMMUNICATIONS_LEAD)
    social.post_now(incident, accounts[0], by=lead)
    hide_from_public(incident, reason="Made public by mistake", by=lead)
    outbox.dispatch_until_empty()
    assert mastodon_server.posts == []
    assert [r.status for r in social_rows()] == ["skipped"]


def test_an_exercise_is_never_posted(service, accounts, mastodon_server):
    incident = make_incident([service], priority=1, updates=())
    incident.is_exercise = True
    db.session.commit()
    publish_update(incident, status=State.INVESTIGATING, body="Drill.", by=None)
    outbox.dispatch_until_empty()
    assert mastodon_server.posts == [] and social_rows() == []


def test_a_removed_account_keeps_its_posts_on_the_incident(service, accounts, mastodon_server):
    incident = make_incident([service], priority=1)
    outbox.dispatch_until_empty()
    social.remove_account(accounts[0], by=None)
    assert db.session.get(SocialAccount, accounts[1].id) is not None
    mastodon_post = next(p for p in posts_of(incident) if p.network == "mastodon")
    assert mastodon_post.account_id is None and mastodon_post.url.startswith(mastodon_server.url)
