"""Subscribing by email, end to end through a real SMTP server on 127.0.0.1."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from statuspage import clock
from statuspage.extensions import db
from statuspage.incidents.models import Impact, State
from statuspage.incidents.operations import publish_update
from statuspage.subscriptions import outbox
from statuspage.subscriptions.models import Notification, Subscriber
from tests.factories import make_agency, make_incident, make_service


@pytest.fixture
def catalog(app, pinned_now):
    revenue = make_agency("Department of Revenue", "revenue")
    roads = make_agency("Department of Roads", "roads")
    return {
        "revenue": revenue,
        "filing": make_service(revenue, "Tax filing", "tax-filing"),
        "refunds": make_service(revenue, "Refund status", "refund-status"),
        "permits": make_service(roads, "Road permits", "road-permits"),
    }


def link(message, pattern: str) -> str:
    return re.search(
        rf"https://status\.example\.gov({pattern})", message.get_body(("plain",)).get_content()
    ).group(1)


def subscribe(client, smtp, email: str, **choice) -> None:
    response = client.post("/subscribe", data={"email": email, **choice})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/subscribe/check-your-email?")
    run = outbox.dispatch()
    assert run.sent == 1, db.session.scalars(select(Notification.last_error)).all()
    confirm = link(smtp.messages[-1], r"/subscribe/confirm/[^\s]+")
    assert "Yes, send me updates" in client.get(confirm).text
    assert "You are subscribed" in client.post(confirm).text


def test_a_subscriber_hears_about_their_services_only(client, smtp, catalog):
    subscribe(client, smtp, "Ann@Example.com", services=[str(catalog["filing"].id)])
    subscribe(client, smtp, "roads@example.com", agencies=[str(catalog["permits"].agency_id)])
    subscribe(client, smtp, "all@example.com", everything="y")
    smtp.messages.clear()

    incident = make_incident({catalog["filing"]: Impact.MAJOR_OUTAGE}, priority=1, updates=())
    publish_update(
        incident,
        status=State.INVESTIGATING,
        body="Filing is **down**.",
        workaround="File on paper.",
        by=None,
    )
    assert outbox.dispatch().sent == 2
    assert sorted(m["To"] for m in smtp.messages) == ["all@example.com", "ann@example.com"]

    message = next(m for m in smtp.messages if m["To"] == "ann@example.com")
    assert message["Subject"] == "Investigating: Online filing unavailable (Department of Revenue)"
    assert message.is_multipart()
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(("html",)).get_content()
    assert "Filing is down." in text and "**" not in text and "<strong>down</strong>" in html
    assert "\n\nWhat you can do meanwhile:\nFile on paper.\n" in text
    assert "\n\nNext update by 23 Nov 2026, 3:00 PM EST.\n" in text  # the P1 cadence: 30 min
    assert f"https://status.example.gov/incidents/{incident.ref}" in text
    unsubscribe = link(message, r"/unsubscribe/[^\s]+")
    assert message["List-Unsubscribe"] == f"<https://status.example.gov{unsubscribe}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Unsubscribe" in html and unsubscribe in html


def test_p4_and_private_p3_incidents_send_nothing_until_public(client, smtp, catalog):
    subscribe(client, smtp, "ann@example.com", everything="y")
    smtp.messages.clear()
    make_incident([catalog["filing"]], priority=4)
    p3 = make_incident([catalog["filing"]], priority=3)
    assert outbox.dispatch().sent == 0
    publish_update(p3, status=State.IDENTIFIED, body="Found it.", by=None, make_public=True)
    outbox.dispatch()
    assert [m["Subject"] for m in smtp.messages] == [
        "Identified: Online filing unavailable (Department of Revenue)"
    ]


def test_the_same_answer_whether_or_not_the_address_is_known(client, smtp, catalog):
    subscribe(client, smtp, "ann@example.com", everything="y")
    first = client.post("/subscribe", data={"email": "new@example.com", "everything": "y"})
    again = client.post("/subscribe", data={"email": "ann@example.com", "everything": "y"})
    assert (first.status_code, first.headers["Location"]) == (
        again.status_code,
        again.headers["Location"],
    )
    outbox.dispatch()
    subjects = {m["To"]: m["Subject"] for m in smtp.messages[-2:]}
    assert subjects == {
        "new@example.com": "Confirm your subscription to service status updates",
        "ann@example.com": "Your subscription to service status updates",
    }


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("not-an-address", "Enter an email address in the right format"),
        ("ann@example.com\r\nBcc: victim@example.com", "without line breaks"),
        ("", "Enter your email address."),
    ],
)
def test_bad_addresses_are_explained_and_the_form_keeps_the_choices(
    client, catalog, email, message
):
    response = client.post(
        "/subscribe", data={"email": email, "services": [str(catalog["filing"].id)]}
    )
    assert response.status_code == 400 and message in response.text
    assert re.search(
        rf'value="{catalog["filing"].id}" id="service-{catalog["filing"].id}" checked',
        response.text,
    )
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_a_bad_address_and_no_choice_are_both_explained(client, catalog):
    response = client.post("/subscribe", data={"email": "nope"})
    assert response.status_code == 400
    assert "Enter an email address in the right format" in response.text
    assert "Choose everything, or at least one agency or service." in response.text


def test_a_choice_is_needed(client, catalog):
    response = client.post("/subscribe", data={"email": "ann@example.com"})
    assert response.status_code == 400
    assert "Choose everything, or at least one agency or service." in response.text
    assert 'value="ann@example.com"' in response.text


def test_an_expired_or_tampered_confirmation_link_is_refused(client, smtp, catalog, pinned_now):
    client.post("/subscribe", data={"email": "ann@example.com", "everything": "y"})
    outbox.dispatch()
    confirm = link(smtp.messages[-1], r"/subscribe/confirm/[^\s]+")
    tampered = confirm[:-3] + ("aaa" if not confirm.endswith("aaa") else "bbb")
    response = client.post(tampered)
    assert response.status_code == 400 and "This link is not valid" in response.text
    with clock.pinned(pinned_now + timedelta(hours=49)):
        response = client.post(confirm)
    assert response.status_code == 400 and "has expired. Subscribe again" in response.text
    assert db.session.scalars(select(Subscriber.confirmed_at)).one() is None


def test_the_manage_page_changes_choices_and_one_click_unsubscribe_deletes_the_address(
    client, smtp, catalog
):
    subscribe(client, smtp, "ann@example.com", everything="y")
    publish_update(
        make_incident([catalog["filing"]], priority=1, updates=()),
        status=State.INVESTIGATING,
        body="Down.",
        by=None,
    )
    outbox.dispatch()
    message = smtp.messages[-1]
    manage = link(message, r"/subscriptions/[^\s]+")
    page = client.get(manage).text
    assert "Updates go to <strong>ann@example.com</strong>" in page
    response = client.post(manage, data={"services": [str(catalog["permits"].id)]})
    assert "Saved." in response.text
    subscriber = db.session.scalars(select(Subscriber)).one()
    db.session.refresh(subscriber)
    assert (subscriber.everything, subscriber.service_ids) == (False, {catalog["permits"].id})

    unsubscribe = link(message, r"/unsubscribe/[^\s]+")
    response = client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and "You have unsubscribed" in response.text
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    # The old link now leads nowhere, politely.
    assert client.get(manage).status_code == 404


class TestOneClickWithCsrfOn:
    @pytest.fixture
    def app_config(self, smtp):
        return {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp.port,
            "WTF_CSRF_ENABLED": True,
            "SITE_URL": "https://status.example.gov",
        }

    def test_mail_clients_can_unsubscribe_without_a_form_token(self, client, smtp, catalog, app):
        from statuspage.subscriptions.operations import Choice, request_subscription

        request_subscription("ann@example.com", Choice(everything=True))
        outbox.dispatch()
        subscriber = db.session.scalars(select(Subscriber)).one()
        subscriber.confirmed_at = clock.now()
        db.session.commit()
        from statuspage.subscriptions.tokens import manage_token

        token = manage_token(subscriber.id, subscriber.email)
        response = client.post(
            f"/unsubscribe/{token}",
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200
        assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0


class TestRateLimits:
    @pytest.fixture
    def app_config(self, smtp):
        return {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp.port,
            "SUBSCRIBE_LIMIT_PER_ADDRESS": "3 per hour",
            "SUBSCRIBE_LIMIT_PER_CLIENT": "5 per hour",
        }

    def test_one_address_cannot_be_flooded(self, client, catalog):
        for n in range(3):
            client.post(
                "/subscribe",
                data={"email": "ann@example.com", "everything": "y"},
                environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},
            )
        response = client.post(
            "/subscribe",
            data={"email": "ann@example.com", "everything": "y"},
            environ_base={"REMOTE_ADDR": "198.51.100.9"},
        )
        assert response.status_code == 429
        assert "Too many subscription requests" in response.text
        assert 'value="ann@example.com"' in response.text

    def test_one_client_cannot_flood(self, client, catalog):
        for n in range(5):
            client.post("/subscribe", data={"email": f"x{n}@example.com", "everything": "y"})
        assert (
            client.post(
                "/subscribe", data={"email": "y@example.com", "everything": "y"}
            ).status_code
            == 429
        )


def test_a_line_break_in_a_title_cannot_inject_headers(client, smtp, catalog):
    subscribe(client, smtp, "ann@example.com", everything="y")
    smtp.messages.clear()
    incident = make_incident(
        [catalog["filing"]],
        priority=1,
        updates=(),
        title="Filing down\r\nBcc: attacker@example.com",
    )
    publish_update(incident, status=State.INVESTIGATING, body="Down.", by=None)
    assert outbox.dispatch().sent == 1
    (message,) = smtp.messages
    assert message["Bcc"] is None
    assert (
        message["Subject"]
        == "Investigating: Filing down Bcc: attacker@example.com (Department of Revenue)"
    )


class TestRateLimitsInRedis:
    """With RATELIMIT_STORAGE_URI set, processes share the limits through Redis."""

    @pytest.fixture
    def app_config(self, smtp):
        return {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp.port,
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
            "SUBSCRIBE_LIMIT_PER_ADDRESS": "2 per hour",
        }

    def test_limits_are_kept_in_redis(self, client, catalog):
        import redis

        try:
            for _ in range(2):
                client.post("/subscribe", data={"email": "ann@example.com", "everything": "y"})
            assert (
                client.post(
                    "/subscribe", data={"email": "ann@example.com", "everything": "y"}
                ).status_code
                == 429
            )
            keys = redis.Redis(host="127.0.0.1", port=6379, db=15).keys("*address:ann@example.com*")
            assert keys
        finally:  # leave Redis as we found it
            server = redis.Redis(host="127.0.0.1", port=6379, db=15)
            for key in server.scan_iter("*public.subscribe*"):
                server.delete(key)


class TestRateLimitsWhenRedisIsDown:
    """Redis down: the limits fall back to this process's memory, with one warning, never a 500."""

    @pytest.fixture
    def app_config(self, smtp):
        return {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp.port,
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "SUBSCRIBE_LIMIT_PER_ADDRESS": "2 per hour",
        }

    @pytest.fixture(autouse=True)
    def _storage_alive_again_after(self):
        from statuspage.extensions import limiter

        yield
        limiter._storage_dead = False  # the singleton outlives this test's app

    def test_subscribing_still_works_and_the_limits_apply_in_memory(self, client, catalog, caplog):
        form = {"email": "ann@example.com", "everything": "y"}
        answers = [client.post("/subscribe", data=form).status_code for _ in range(3)]
        assert answers == [302, 302, 429]
        warnings = [r for r in caplog.records if r.name == "flask-limiter" and r.levelname == "WARNING"]
        assert len(warnings) == 1 and "in-memory" in warnings[0].getMessage()
