"""Webhooks to a real HTTP server on 127.0.0.1; feeds read by feedparser; the .ics by icalendar."""

from datetime import timedelta

import feedparser
import pytest
from icalendar import Calendar
from sqlalchemy import select

from statuspage import clock
from statuspage.extensions import db
from statuspage.incidents.models import State
from statuspage.incidents.operations import publish_update
from statuspage.maintenance.operations import cancel_window, save_window
from statuspage.subscriptions import outbox
from statuspage.subscriptions.models import Notification, Subscriber, SubscriberScope
from statuspage.subscriptions.operations import SubscriptionError, add_webhook, check_webhook_url
from tests.factories import login, make_agency, make_incident, make_service, make_user


@pytest.fixture
def catalog(app):
    revenue = make_agency("Department of Revenue", "revenue")
    return {
        "revenue": revenue,
        "filing": make_service(revenue, "Tax filing", "tax-filing"),
        "permits": make_service(
            make_agency("Department of Roads", "roads"), "Road permits", "road-permits"
        ),
    }


def test_a_webhook_gets_a_signed_post_for_each_public_update(catalog, webhook_receiver):
    webhook = add_webhook("Partner", webhook_receiver.url, catalog["revenue"].id)
    webhook_receiver.secret = webhook.secret
    incident = make_incident([catalog["filing"]], priority=2, updates=())
    publish_update(incident, status=State.INVESTIGATING, body="Down.", by=None)
    make_incident([catalog["permits"]], priority=1)  # another agency: not in its scope
    assert outbox.dispatch().sent == 1
    (post,) = webhook_receiver.received
    assert post["valid"] and post["content_type"] == "application/json"
    assert abs(post["timestamp"] - clock.now().timestamp()) < 60
    body = post["json"]
    assert body["type"] == "incident.update"
    assert body["incident"]["id"] == incident.ref
    assert body["incident"]["shortlink"] == f"https://status.example.gov/incidents/{incident.ref}"
    assert body["incident_update"]["status"] == "investigating"
    assert body["incident"]["components"] == [
        {"id": "tax-filing", "name": "Tax filing", "status": "major_outage"}
    ]


def test_a_non_2xx_answer_is_retried(catalog, webhook_receiver):
    webhook = add_webhook("Partner", webhook_receiver.url, None)
    webhook_receiver.secret = webhook.secret
    webhook_receiver.answer = 503
    publish_update(
        make_incident([catalog["filing"]], priority=1, updates=()),
        status=State.INVESTIGATING,
        body="Down.",
        by=None,
    )
    assert outbox.dispatch().retried == 1
    row = db.session.scalars(select(Notification)).one()
    assert row.status == "pending" and "503" in row.last_error
    webhook_receiver.answer = 200
    assert outbox.dispatch(clock.now() + timedelta(minutes=1)).sent == 1
    assert all(post["valid"] for post in webhook_receiver.received)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://partner.example/hook", "starts with https:// or http://"),
        ("javascript:alert(1)", "starts with https:// or http://"),
        ("http://127.0.0.1:8080/hook", "not a public internet address"),
        ("http://10.1.2.3/hook", "not a public internet address"),
        ("http://169.254.169.254/latest/meta-data", "not a public internet address"),
        ("https://[::1]/hook", "not a public internet address"),
    ],
)
def test_webhook_urls_must_be_public_http(app, url, message):
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False
    with pytest.raises(SubscriptionError, match=message.replace("(", r"\(")):
        check_webhook_url(url)


def test_the_admin_adds_a_webhook_and_sees_a_refusal_explained(client, catalog, app):
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False
    login(client, make_user(site_admin=True))
    response = client.post(
        "/admin/webhooks", data={"name": "Partner", "url": "http://192.168.1.5/x", "agency": ""}
    )
    assert response.status_code == 400
    assert "192.168.1.5 is not a public internet address" in response.text
    assert 'value="http://192.168.1.5/x"' in response.text


FEEDS = [
    ("/feed.rss", "application/rss+xml"),
    ("/feed.atom", "application/atom+xml"),
    ("/agencies/revenue/feed.rss", "application/rss+xml"),
    ("/agencies/revenue/feed.atom", "application/atom+xml"),
    ("/services/tax-filing/feed.rss", "application/rss+xml"),
    ("/services/tax-filing/feed.atom", "application/atom+xml"),
]


@pytest.mark.parametrize(("path", "content_type"), FEEDS)
def test_feeds_are_valid_with_one_entry_per_public_update(client, catalog, path, content_type):
    incident = make_incident(
        [catalog["filing"]],
        priority=1,
        title="Filing down & out",
        updates=(State.INVESTIGATING, State.RESOLVED),
    )
    make_incident([catalog["filing"]], priority=4, title="Private P4")
    make_incident([catalog["permits"]], priority=1, title="Roads incident")
    response = client.get(path)
    assert response.headers["Content-Type"].startswith(content_type)
    parsed = feedparser.parse(response.data)
    assert parsed.bozo is False, parsed.get("bozo_exception")
    titles = [entry.title for entry in parsed.entries if "Roads" not in entry.title]
    assert titles == ["Resolved: Filing down & out", "Investigating: Filing down & out"]
    roads = [entry for entry in parsed.entries if "Roads" in entry.title]
    assert len(roads) == (1 if path.startswith("/feed") else 0)  # only the site-wide feed
    filing = [entry for entry in parsed.entries if "Filing" in entry.title]
    assert filing[0].link.startswith(f"http://localhost/incidents/{incident.ref}#update-")
    # Ids are stable: the same on every request.
    again = feedparser.parse(client.get(path).data)
    assert [e.id for e in again.entries] == [e.id for e in parsed.entries]


def test_an_unknown_feed_is_a_404(client, catalog):
    assert client.get("/services/nope/feed.rss").status_code == 404
    assert client.get("/feed.json").status_code == 404


def test_maintenance_is_notified_and_in_the_calendar_through_changes_and_cancellation(
    client, catalog, smtp
):
    now = clock.now().replace(microsecond=0)
    subscriber = Subscriber(
        email="ann@example.com",
        everything=False,
        confirmed_at=now,
        created_at=now,
        scopes=[SubscriberScope(service_id=catalog["filing"].id)],
    )
    db.session.add(subscriber)
    db.session.commit()
    start = now + timedelta(days=2)
    window = save_window(
        None,
        title="Database upgrade",
        description="Filing is off.",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        services=[catalog["filing"]],
        by=None,
    )
    save_window(
        window,
        title="Database upgrade",
        description="Filing is off, longer.",
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        services=[catalog["filing"]],
        by=None,
    )
    outbox.dispatch()
    assert [m["Subject"] for m in smtp.messages] == [
        "Planned maintenance: Database upgrade (Department of Revenue)"
    ] * 2

    calendar = Calendar.from_ical(client.get("/maintenance.ics").data)
    (event,) = calendar.walk("VEVENT")
    assert event["SEQUENCE"] == 1 and event["STATUS"] == "CONFIRMED"
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(hours=3)

    cancel_window(window, by=None)
    outbox.dispatch()
    assert smtp.messages[-1]["Subject"] == "Cancelled: Database upgrade (Department of Revenue)"
    response = client.get("/maintenance.ics")
    assert response.headers["Content-Type"].startswith("text/calendar")
    (event,) = Calendar.from_ical(response.data).walk("VEVENT")
    assert event["SEQUENCE"] == 2 and event["STATUS"] == "CANCELLED"
    assert str(event["SUMMARY"]) == "Cancelled: Database upgrade"


def test_maintenance_form_refuses_an_end_before_the_start(client, catalog):
    login(client, make_user(catalog["revenue"]))
    response = client.post(
        "/admin/maintenance/new",
        data={
            "title": "Upgrade",
            "services": [str(catalog["filing"].id)],
            "starts_at": "2030-01-02T10:00",
            "ends_at": "2030-01-02T09:00",
            "description": "Kept",
        },
    )
    assert response.status_code == 400 and "The end must be after the start." in response.text
    assert "Kept</textarea>" in response.text
