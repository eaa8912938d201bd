"""The talking points and Q&A are for spokespeople: none of their words reaches any public page,
feed, API answer, subscriber email or webhook, or the static export, while the statement released
with them does."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from statuspage.extensions import db
from statuspage.incidents.models import State
from statuspage.incidents.operations import publish_update
from statuspage.press import operations as press
from statuspage.public.export import export_site, public_paths
from statuspage.subscriptions.messages import render_event, webhook_body
from statuspage.subscriptions.models import Notification
from statuspage.subscriptions.operations import (
    Choice,
    add_webhook,
    confirm_subscription,
    request_subscription,
)
from statuspage.subscriptions.tokens import confirm_token
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_incident, make_service, make_user

SECRETS = ("PANGOLIN-QA-4410", "TAPIR-LINE-9921")
RELEASED = "Filing works again for everyone"


@pytest.fixture
def app_config():
    return {"WEBHOOKS_ALLOW_PRIVATE": True, "SITE_URL": "https://status.example.gov"}


def every_public_path(app, incident, statement) -> list[str]:
    """The static export's paths and every public GET rule filled with this incident's values."""
    values = {"ref": incident.ref, "format": None}
    paths = set()
    with app.test_request_context():
        paths.update(public_paths())
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(("admin.", "api_v1.")) or rule.endpoint == "static":
            continue  # the admin and the manage API (an agency's key) are staff's, not public
        if "GET" not in rule.methods or {"token", "name"} & set(rule.arguments):
            continue
        slugs = ["revenue", "tax-filing", statement.slug] if "slug" in rule.arguments else [None]
        for slug in slugs:
            for fmt in ("rss", "atom") if "format" in rule.arguments else [None]:
                filled = {**values, "slug": slug, "format": fmt}
                paths.add(rule.build({k: filled[k] for k in rule.arguments})[1])
    return sorted(paths)


def test_talking_points_never_reach_anything_public(client, app, tmp_path):
    agency = make_agency("Department of Revenue", "revenue")
    service = make_service(agency, "Tax filing", "tax-filing")
    lead = make_user(agency, Role.COMMUNICATIONS_LEAD)
    owner = make_user(agency, Role.SERVICE_OWNER)
    request_subscription("citizen@example.org", Choice(everything=True))
    subscriber = db.session.scalars(select(Notification)).first().subscriber_id
    confirm_subscription(confirm_token(subscriber, "citizen@example.org"))
    add_webhook("Partner", "http://127.0.0.1:9/hook", None)
    incident = make_incident([service], priority=1, updates=(), by=lead)
    publish_update(incident, status=State.INVESTIGATING, body="Filing is down.", by=lead)

    statement = press.start_statement(incident, by=lead)
    points = f"Q: Who decided?\nA: {SECRETS[0]}\n\n- {SECRETS[1]}\n"
    press.submit(statement, press.StatementContent(RELEASED, f"{RELEASED}.", points), by=lead)
    press.approve(statement, by=owner)
    publish_update(incident, status=State.RESOLVED, body="Filing works again.", by=lead)

    # Staff read them.
    login(client, lead)
    url = f"/admin/incidents/{incident.ref}/press/{statement.id}"
    assert all(secret in client.get(url).text for secret in SECRETS)
    assert all(secret in client.get(url + "/review").text for secret in SECRETS)
    client.post("/admin/logout")

    def leaks(text: str) -> list[str]:
        return [secret for secret in SECRETS if secret in text]

    paths = every_public_path(app, incident, statement)
    assert {
        "/press",
        f"/press/{statement.slug}",
        "/agencies/revenue/press",
        f"/incidents/{incident.ref}",
        "/api/v2/incidents.json",
        "/feed.atom",
    } <= set(paths)
    checked, shown = 0, 0
    for path in paths:
        response = client.get(path)
        if response.status_code == 200:
            checked += 1
            text = response.get_data(as_text=True)
            shown += RELEASED in text
            assert leaks(text) == [], path
    assert checked >= 20 and shown >= 3  # the statement itself is public

    rows = db.session.scalars(select(Notification).where(Notification.channel != "staff")).all()
    events = {(row.event, row.event_key) for row in rows if row.event == "incident_update"}
    assert len(events) == 2
    with app.test_request_context(base_url=app.config["SITE_URL"]):
        for event, key in events:
            rendered = render_event(event, key)
            body = webhook_body(rendered, event, key).decode()
            assert leaks(rendered.subject + rendered.text + rendered.html + body) == [], key

    # The approval emails to staff name the statement, never its talking points.
    staff = db.session.scalars(select(Notification).where(Notification.channel == "staff")).all()
    from statuspage.internal import messages

    for row in staff:
        try:
            with app.test_request_context(base_url=app.config["SITE_URL"]):
                rendered = messages.render(row.event_key)
        except messages.Skip:
            continue
        assert leaks(rendered.subject + rendered.text) == [], row.event_key

    export_site(app, tmp_path / "site")
    files = [p for p in (tmp_path / "site").rglob("*") if p.is_file() and p.suffix != ".gz"]
    assert any(RELEASED in p.read_bytes().decode("utf-8", "replace") for p in files)
    assert (tmp_path / "site" / "press" / statement.slug / "index.html").is_file()
    for path in files:
        assert leaks(path.read_bytes().decode("utf-8", "replace")) == [], path
