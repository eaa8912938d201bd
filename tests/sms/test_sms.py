"""Text messages end to end: sign-up with a code, STOP and START by signed webhook, one text per
update the policy names, retries, all through the real twilio client and a loopback stand-in."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from statuspage import clock
from statuspage.extensions import db
from statuspage.incidents.models import State
from statuspage.incidents.operations import publish_update
from statuspage.sms import segments
from statuspage.sms.models import SmsScope, SmsSubscriber
from statuspage.subscriptions import outbox
from statuspage.subscriptions.models import Notification
from tests.factories import login, make_agency, make_incident, make_service, make_user

from .conftest import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, SITE_URL

ANN = "+12025550143"
BOB = "+12015550123"
CAROL = "+12125550199"
DAN = "+17875550123"


@pytest.fixture
def catalog(app):
    revenue = make_agency("Department of Revenue", "revenue")
    roads = make_agency("Department of Roads", "roads")
    return {
        "revenue": revenue,
        "roads": roads,
        "filing": make_service(revenue, "Tax filing", "tax-filing", tier=1),
        "refunds": make_service(revenue, "Refund tracker", "refunds", tier=3),
        "permits": make_service(roads, "Parking permits", "permits", tier=2),
    }


def sign_up(client, number, **choice):
    return client.post("/subscribe/sms", data={"number": number, **choice})


def last_code(twilio, number) -> str:
    return re.search(r"\b(\d{6})\b", twilio.to(number)[-1]).group(1)


def add_number(number, *, services=(), agencies=(), everything=False, stopped=False):
    now = clock.now()
    subscriber = SmsSubscriber(
        number=number, everything=everything, confirmed_at=now, created_at=now, code_attempts=0,
        stopped_at=now if stopped else None,
        scopes=[SmsScope(service_id=s.id) for s in services]
        + [SmsScope(agency_id=a.id) for a in agencies],
    )  # fmt: skip
    db.session.add(subscriber)
    db.session.commit()
    return subscriber


def publish_p1(services, title="Online filing unavailable", body="We are looking into it."):
    incident = make_incident(list(services), priority=1, updates=(), title=title)
    publish_update(incident, status=State.INVESTIGATING, body=body, by=None)
    return incident


def sms_rows():
    return db.session.scalars(select(Notification).where(Notification.channel == "sms")).all()


def inbound(client, sender, body, *, signature=None):
    params = {"From": sender, "To": FROM_NUMBER, "Body": body, "MessageSid": "SM" + "1" * 32}
    url = SITE_URL + "/sms/inbound"
    if signature is None:
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    return client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": signature})


# --- signing up --------------------------------------------------------------------------------


def test_a_code_arrives_a_wrong_code_is_refused_and_the_right_one_confirms(client, catalog, twilio):
    page = client.get("/subscribe/sms?service=tax-filing")
    assert (
        f'value="{catalog["filing"].id}" id="service-{catalog["filing"].id}" checked' in page.text
    )
    assert "P1 Critical and P2 High incidents on services of tiers 1-2" in page.text

    response = sign_up(client, "(202) 555-0143", services=catalog["filing"].id)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/subscribe/sms/confirm")
    assert outbox.dispatch().sent == 1
    (message,) = twilio.messages
    assert message["To"] == ANN and message["From"] == FROM_NUMBER
    code = last_code(twilio, ANN)
    assert segments.count(message["Body"]).segments == 1

    page = client.get("/subscribe/sms/confirm")
    assert 'value="+1 202-555-0143"' in page.text
    assert "Tax filing (Department of Revenue)" in page.text

    wrong = "000000" if code != "000000" else "111111"
    refused = client.post("/subscribe/sms/confirm", data={"number": "+1 202-555-0143",
                                                          "code": wrong})  # fmt: skip
    assert refused.status_code == 400
    assert "That code is not right" in refused.text and "4 tries left" in refused.text
    assert f'value="{wrong}"' in refused.text and 'value="+1 202-555-0143"' in refused.text
    assert db.session.scalars(select(SmsSubscriber)).one().confirmed_at is None

    done = client.post("/subscribe/sms/confirm", data={"number": "202 555 0143", "code": code})
    assert done.status_code == 200
    assert "You will get text messages" in done.text
    assert "Tax filing (Department of Revenue)" in done.text
    subscriber = db.session.scalars(select(SmsSubscriber)).one()
    assert subscriber.confirmed_at is not None and subscriber.service_ids == {catalog["filing"].id}
    assert subscriber.code_hash is None  # the code works once


def test_the_code_is_stored_only_as_a_hash(client, catalog, twilio):
    sign_up(client, ANN, everything="y")
    outbox.dispatch()
    code = last_code(twilio, ANN)
    subscriber = db.session.scalars(select(SmsSubscriber)).one()
    assert code not in subscriber.code_hash
    assert all(code not in row.event_key for row in sms_rows())


def test_a_code_stops_working_after_five_wrong_tries(client, catalog, twilio):
    sign_up(client, ANN, everything="y")
    outbox.dispatch()
    code = last_code(twilio, ANN)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        client.post("/subscribe/sms/confirm", data={"number": ANN, "code": wrong})
    response = client.post("/subscribe/sms/confirm", data={"number": ANN, "code": code})
    assert response.status_code == 400
    assert "Too many wrong codes. Ask for a new code." in response.text


def test_a_code_expires(client, catalog, twilio, pinned_now):
    sign_up(client, ANN, everything="y")
    outbox.dispatch()
    code = last_code(twilio, ANN)
    with clock.pinned(pinned_now + timedelta(minutes=16)):
        response = client.post("/subscribe/sms/confirm", data={"number": ANN, "code": code})
    assert response.status_code == 400
    assert "This code has expired. Ask for a new code." in response.text


def test_asking_again_replaces_the_code_and_the_old_text_is_not_sent(client, catalog, twilio):
    sign_up(client, ANN, everything="y")
    sign_up(client, ANN, everything="y")
    run = outbox.dispatch()
    assert (run.sent, run.skipped) == (1, 1)
    code = last_code(twilio, ANN)
    response = client.post("/subscribe/sms/confirm", data={"number": ANN, "code": code})
    assert response.status_code == 200


def test_signing_up_again_adds_the_new_choice_only_once_the_code_is_typed(client, catalog, twilio):
    add_number(ANN, services=[catalog["filing"]])
    sign_up(client, ANN, agencies=catalog["roads"].id)
    subscriber = db.session.scalars(select(SmsSubscriber)).one()
    assert subscriber.service_ids == {catalog["filing"].id} and subscriber.agency_ids == set()
    outbox.dispatch()
    done = client.post("/subscribe/sms/confirm", data={"number": ANN,
                                                       "code": last_code(twilio, ANN)})  # fmt: skip
    assert "Tax filing (Department of Revenue)" in done.text
    assert "All of Department of Roads" in done.text
    db.session.refresh(subscriber)
    assert subscriber.service_ids == {catalog["filing"].id}
    assert subscriber.agency_ids == {catalog["roads"].id}


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("202\x00555\x1b0143", "Remove the control character (U+0000) from the mobile number."),
        ("2" * 10_000, "at most 30 characters"),
        ("+44 7400 123456", "We cannot send text messages to numbers from United Kingdom (+44)"),
        ("+1 900 555 0100", "This number cannot get text messages"),
        ("+1 202 555 01", "Enter a full mobile number"),
        ("call me", "Enter a mobile number with digits only"),
        ("", "Enter your mobile number."),
    ],
)
def test_a_bad_number_is_refused_with_a_reason_and_the_form_kept(
    client, catalog, twilio, number, message
):
    response = sign_up(client, number, services=catalog["filing"].id)
    assert response.status_code == 400
    assert message in response.text
    assert f'value="{catalog["filing"].id}" id="service-{catalog["filing"].id}" checked' in (
        response.text
    )
    assert db.session.scalar(select(func.count()).select_from(SmsSubscriber)) == 0
    assert sms_rows() == []


def test_a_hostile_code_is_refused_with_a_reason(client, catalog):
    for code in ("12\x0034", "1" * 5000, "abcdef"):
        response = client.post("/subscribe/sms/confirm", data={"number": ANN, "code": code})
        assert response.status_code == 400
        assert "6-digit code" in response.text or "control" in response.text.lower()


def test_nothing_is_chosen_is_refused_with_the_number_kept(client, catalog):
    response = sign_up(client, "202 555 0143")
    assert response.status_code == 400
    assert "Choose everything, or at least one agency or service." in response.text
    assert 'value="202 555 0143"' in response.text


class TestRateLimits:
    @pytest.fixture
    def app_config(self, app_config):
        return {
            **app_config,
            "SMS_SIGNUP_LIMIT_PER_NUMBER": "2 per hour",
            "SMS_SIGNUP_LIMIT_PER_CLIENT": "4 per hour",
        }

    def test_one_number_cannot_be_flooded_with_codes(self, client, catalog):
        for n in range(2):
            assert client.post(
                "/subscribe/sms", data={"number": ANN, "everything": "y"},
                environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},
            ).status_code == 302  # fmt: skip
        response = client.post(
            "/subscribe/sms", data={"number": ANN, "everything": "y"},
            environ_base={"REMOTE_ADDR": "198.51.100.9"},
        )  # fmt: skip
        assert response.status_code == 429
        assert "Too many requests for codes" in response.text
        assert f'value="{ANN}"' in response.text
        assert len(sms_rows()) == 2

    def test_one_client_cannot_ask_for_codes_to_many_numbers(self, client, catalog):
        for number in (ANN, BOB, CAROL, DAN):
            assert sign_up(client, number, everything="y").status_code == 302
        assert sign_up(client, "+12125550188", everything="y").status_code == 429


class TestWithoutAProvider:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "SMS_PROVIDER": None}

    def test_the_page_says_text_messages_are_not_available(self, client, catalog):
        page = client.get("/subscribe/sms")
        assert page.status_code == 200
        assert "Text messages are not available on this site." in page.text
        assert sign_up(client, ANN, everything="y").status_code == 200
        assert "get text messages (SMS)" not in client.get("/subscribe").text
        assert "/subscribe/sms" not in client.get("/services/tax-filing").text

    def test_nothing_is_enqueued(self, client, catalog):
        add_number(ANN, everything=True)
        publish_p1([catalog["filing"]])
        assert sms_rows() == []

    def test_the_webhook_is_not_there(self, client, catalog):
        assert inbound(client, ANN, "STOP").status_code == 404


def test_the_email_sign_up_links_to_texts_with_the_policy_in_words(client, catalog):
    page = client.get("/subscribe?service=tax-filing")
    assert "We also send text messages about P1 Critical and P2 High incidents on services of " \
        "tiers 1-2" in page.text  # fmt: skip
    assert "/subscribe/sms?service=tax-filing" in page.text


def test_the_get_updates_box_of_a_page_offers_texts_about_its_services(client, catalog):
    incident = publish_p1([catalog["filing"]])
    box = client.get(f"/incidents/{incident.ref}").text.split('class="get-updates"')[1]
    assert 'href="/subscribe/sms?service=tax-filing"' in box
    assert "get text messages (SMS)</a> about P1 Critical and P2 High incidents" in box
    box = client.get("/agencies/revenue").text.split('class="get-updates"')[1]
    assert 'href="/subscribe/sms?agency=revenue"' in box


# --- the texts ---------------------------------------------------------------------------------


def test_a_p1_update_on_a_tier_1_service_texts_each_follower_once_within_two_segments(
    client, catalog, twilio
):
    add_number(ANN, services=[catalog["filing"]])
    add_number(BOB, agencies=[catalog["revenue"]])
    add_number(CAROL, everything=True)
    add_number(DAN, services=[catalog["permits"]])  # another agency's service
    add_number("+12125550188", services=[catalog["filing"]], stopped=True)
    incident = publish_p1(
        [catalog["filing"]],
        title=("Online filing and payment of individual income tax returns unavailable " * 3)[:200],
        body="People cannot file or pay. Use the paper form or call 1-800-555-0100. " * 5,
    )
    run = outbox.dispatch()
    assert run.sent == 3
    link = f"{SITE_URL}/incidents/{incident.ref}"
    assert sorted(m["To"] for m in twilio.messages) == sorted([ANN, BOB, CAROL])
    for message in twilio.messages:
        body = message["Body"]
        assert body.startswith("Tax filing (Department of Revenue): major outage, investigating.")
        assert body.endswith("...\n" + link)
        assert segments.count(body).segments == 2
    publish_update(incident, status=State.RESOLVED, body="Fixed.", by=None)
    outbox.dispatch()
    assert len(twilio.to(ANN)) == 2
    assert twilio.to(ANN)[-1].startswith("Tax filing (Department of Revenue): resolved.")


def test_a_p3_incident_or_a_tier_3_service_sends_no_text(client, catalog, twilio):
    add_number(ANN, everything=True)
    p3 = make_incident([catalog["filing"]], priority=3, updates=(), made_public=True)
    publish_update(p3, status=State.INVESTIGATING, body="Slow.", by=None)
    publish_p1([catalog["refunds"]])  # tier 3
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    outbox.dispatch()
    assert twilio.messages == []


def test_an_incident_on_tiers_1_and_3_names_only_the_texted_service(client, catalog, twilio):
    add_number(ANN, services=[catalog["refunds"]])  # follows the tier-3 service only
    add_number(BOB, agencies=[catalog["revenue"]])
    publish_p1([catalog["filing"], catalog["refunds"]])
    outbox.dispatch()
    assert twilio.to(ANN) == []
    (body,) = twilio.to(BOB)
    assert body.startswith("Tax filing (Department of Revenue): ")


def test_a_failed_send_is_retried_with_backoff_and_then_goes(client, catalog, twilio, pinned_now):
    add_number(ANN, everything=True)
    publish_p1([catalog["filing"]])
    twilio.fail_next = 2
    run = outbox.dispatch(pinned_now)
    assert (run.sent, run.retried) == (0, 1)
    (row,) = sms_rows()
    assert row.status == "pending" and row.attempts == 1 and "500" in row.last_error
    assert row.next_attempt_at == pinned_now + timedelta(seconds=30)
    assert outbox.dispatch(pinned_now + timedelta(seconds=10)).claimed == 0
    assert outbox.dispatch(pinned_now + timedelta(seconds=30)).retried == 1
    assert outbox.dispatch(pinned_now + timedelta(minutes=2)).sent == 1
    assert len(twilio.to(ANN)) == 1
    db.session.refresh(row)
    assert row.status == "sent" and row.attempts == 3


def test_a_number_twilio_will_never_reach_fails_at_once(client, catalog, twilio):
    add_number(ANN, everything=True)
    publish_p1([catalog["filing"]])
    twilio.refuse = (21614, 400)  # not a mobile number
    assert outbox.dispatch().failed == 1
    (row,) = sms_rows()
    assert row.status == "failed" and "21614" in row.last_error


def test_a_number_that_told_twilio_stop_is_marked_stopped_and_not_retried(client, catalog, twilio):
    add_number(ANN, everything=True)
    publish_p1([catalog["filing"]])
    twilio.refuse = (21610, 400)
    assert outbox.dispatch().skipped == 1
    (row,) = sms_rows()
    assert row.status == "skipped" and "STOP" in row.last_error
    assert db.session.scalars(select(SmsSubscriber)).one().stopped_at is not None


# --- STOP, START, HELP -------------------------------------------------------------------------


def test_stop_ends_texts_and_the_pending_one_is_never_sent_then_start_resumes(
    client, catalog, twilio
):
    add_number(ANN, everything=True)
    publish_p1([catalog["filing"]])  # a text waits in the outbox
    response = inbound(client, ANN, " Stop. ")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    assert "<Message>" in response.text and "no more texts" in response.text
    subscriber = db.session.scalars(select(SmsSubscriber)).one()
    assert subscriber.stopped_at is not None
    assert outbox.dispatch().sent == 0
    assert [row.status for row in sms_rows()] == ["skipped"]
    publish_p1([catalog["filing"]])
    assert len(sms_rows()) == 1  # nothing new for a stopped number
    assert twilio.messages == []

    response = inbound(client, ANN, "start")
    assert "you will get texts again" in response.text
    db.session.refresh(subscriber)
    assert subscriber.stopped_at is None and subscriber.restarted_at is not None
    publish_p1([catalog["filing"]])
    assert outbox.dispatch().sent == 1
    assert len(twilio.to(ANN)) == 1


@pytest.mark.parametrize("word", ["STOP", "stopall", "Unsubscribe", "CANCEL", "end", "QUIT"])
def test_every_stop_word_stops(client, catalog, word):
    add_number(ANN, everything=True)
    inbound(client, ANN, word)
    assert db.session.scalars(select(SmsSubscriber)).one().stopped_at is not None


@pytest.mark.parametrize("word", ["START", "unstop", "Yes"])
def test_every_start_word_starts(client, catalog, word):
    add_number(ANN, everything=True, stopped=True)
    inbound(client, ANN, word)
    assert db.session.scalars(select(SmsSubscriber)).one().stopped_at is None


def test_a_forged_or_unsigned_stop_is_refused(client, catalog):
    add_number(ANN, everything=True)
    assert inbound(client, ANN, "STOP", signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    assert client.post("/sms/inbound", data={"From": ANN, "Body": "STOP"}).status_code == 403
    assert db.session.scalars(select(SmsSubscriber)).one().stopped_at is None


def test_help_answers_with_the_site_address(client, catalog):
    response = inbound(client, ANN, "HELP")
    assert f"{SITE_URL}/" in response.text and "STOP" in response.text


def test_any_other_text_gets_no_answer(client, catalog):
    response = inbound(client, ANN, "is tax filing down?")
    assert response.status_code == 200 and "<Message>" not in response.text


# --- the admin ---------------------------------------------------------------------------------


def test_the_admin_outbox_and_subscriber_counts_show_text_messages(client, catalog, twilio):
    add_number(ANN, everything=True)
    add_number(BOB, everything=True, stopped=True)
    publish_p1([catalog["filing"]])
    login(client, make_user(site_admin=True))
    page = client.get("/admin/outbox")
    assert page.status_code == 200 and f"{ANN} (text message)" in page.text
    twilio.refuse = (21211, 400)
    outbox.dispatch()
    page = client.get("/admin/outbox")
    assert f"{ANN} (text message)" in page.text and "21211" in page.text
    counts = client.get("/admin/subscriptions")
    assert "Text messages (SMS): 1 number getting them; 1 texted STOP; 0 waiting" in counts.text


def test_twilio_named_without_its_settings_stops_start_up_saying_which(migrated):
    from statuspage.sms.provider import SmsNotConfigured
    from statuspage.startup import explain
    from tests.conftest import make_app

    with pytest.raises(SmsNotConfigured) as refused:
        make_app(migrated, SMS_PROVIDER="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID)
    assert explain(refused.value) == (
        "SMS_PROVIDER is 'twilio' but these are not set: TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER or "
        "TWILIO_MESSAGING_SERVICE_SID. Set them (README: Text messages (SMS)) or remove "
        "SMS_PROVIDER."
    )
