"""Subscribing from the page one is on (issue 15): "Get updates" preselects the page's services, the
pages and emails name what was chosen, and signing up again adds to what an address gets, by
email to that address, with the same answer on screen whether or not it was known."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from statuspage import clock
from statuspage.extensions import db
from statuspage.incidents.models import State
from statuspage.incidents.operations import publish_update
from statuspage.subscriptions import outbox
from statuspage.subscriptions.models import Subscriber
from statuspage.subscriptions.operations import Choice, still_to_add
from tests.factories import csrf_token, make_agency, make_incident, make_service


@pytest.fixture
def catalog(app, pinned_now):
    revenue = make_agency("Department of Revenue", "revenue")
    roads = make_agency("Department of Roads", "roads")
    return {
        "revenue": revenue,
        "roads": roads,
        "filing": make_service(revenue, "Tax filing", "tax-filing"),
        "refunds": make_service(revenue, "Refund status", "refund-status"),
        "permits": make_service(roads, "Road permits", "road-permits"),
    }


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def link(message, pattern: str) -> str:
    return re.search(rf"https://status\.example\.gov({pattern})", text_of(message)).group(1)


def checked(page: str) -> set[str]:
    """The ids of the ticked boxes on a subscription form."""
    return set(re.findall(r'id="((?:service|agency)-\d+)" checked', page)) | (
        {"everything"} if re.search(r'<input checked id="everything"', page) else set()
    )


def sign_up(client, smtp, email: str, **choice):
    """Post the form; the email it sends (dispatched through the outbox to the SMTP sink)."""
    response = client.post("/subscribe", data={"email": email, **choice})
    assert response.status_code == 302, response.text
    assert outbox.dispatch().sent == 1
    return response, smtp.messages[-1]


def confirm_new(client, smtp, email: str, **choice):
    _, message = sign_up(client, smtp, email, **choice)
    confirm = link(message, r"/subscribe/confirm/[^\s]+")
    return client.post(confirm)


def subscriber(email: str) -> Subscriber:
    db.session.expire_all()
    return db.session.scalars(select(Subscriber).where(Subscriber.email == email)).one()


def test_each_page_links_to_updates_about_itself_by_email_and_by_feed(client, catalog):
    incident = make_incident([catalog["filing"], catalog["refunds"]], priority=2)
    page = client.get(f"/incidents/{incident.ref}").text
    assert (
        '<a href="/subscribe?service=tax-filing&amp;service=refund-status">'
        "Get updates about this incident by email</a>"
    ) in page or (
        '<a href="/subscribe?service=refund-status&amp;service=tax-filing">'
        "Get updates about this incident by email</a>"
    ) in page
    for feed in ("/agencies/revenue/feed.atom", "/services/tax-filing/feed.rss",
                 "/services/refund-status/feed.atom"):  # fmt: skip
        assert f'<a href="{feed}">' in page, feed

    page = client.get("/services/tax-filing").text
    assert (
        '<a href="/subscribe?service=tax-filing">Get updates about Tax filing by email</a>'
    ) in page
    assert '<a href="/services/tax-filing/feed.atom">Atom feed' in page
    assert '<a href="/services/tax-filing/feed.rss">RSS feed' in page

    page = client.get("/agencies/roads").text
    assert (
        '<a href="/subscribe?agency=roads">'
        "Get updates about all of Department of Roads by email</a>"
    ) in page
    assert '<a href="/agencies/roads/feed.atom">Atom feed' in page


def test_every_public_page_names_the_site_feeds_and_its_own_for_feed_readers(client, catalog):
    incident = make_incident([catalog["permits"]], priority=2)

    def alternates(path: str) -> list[tuple[str, str]]:
        head = client.get(path).text.split("</head>")[0]
        link = r'<link rel="alternate" type="([^"]+)" title="[^"]+" href="([^"]+)"'
        return re.findall(link, head)

    site = [("application/atom+xml", "/feed.atom"), ("application/rss+xml", "/feed.rss")]
    for path in ("/", "/history", "/maintenance", "/subscribe", "/reports"):
        assert alternates(path) == site, path
    assert alternates("/services/road-permits") == site + [
        ("application/atom+xml", "/services/road-permits/feed.atom"),
        ("application/rss+xml", "/services/road-permits/feed.rss"),
    ]
    assert alternates("/agencies/revenue") == site + [
        ("application/atom+xml", "/agencies/revenue/feed.atom"),
        ("application/rss+xml", "/agencies/revenue/feed.rss"),
    ]
    assert alternates(f"/incidents/{incident.ref}") == site + [
        ("application/atom+xml", "/agencies/roads/feed.atom"),
        ("application/rss+xml", "/agencies/roads/feed.rss"),
        ("application/atom+xml", "/services/road-permits/feed.atom"),
        ("application/rss+xml", "/services/road-permits/feed.rss"),
    ]
    head = client.get("/").text.split("</head>")[0]
    assert 'title="Government Service Status: all services (Atom)"' in head


def test_the_form_ticks_the_services_and_agencies_named_in_its_address(client, catalog):
    filing, permits, roads = catalog["filing"], catalog["permits"], catalog["roads"]
    response = client.get(
        "/subscribe?service=tax-filing&service=road-permits&agency=roads&service=no-such&agency=x"
    )
    assert response.status_code == 200
    assert checked(response.text) == {
        f"service-{filing.id}", f"service-{permits.id}", f"agency-{roads.id}"
    }
    page = response.text
    # The short form: what was chosen, then the address, then the button; the rest folded away.
    assert re.search(
        r'<ul class="chosen"><li>All of Department of Roads</li>'
        r"<li>Tax filing \(Department of Revenue\)</li>"
        r"<li>Road permits \(Department of Roads\)</li>",
        page,
    )
    assert page.index('id="email"') < page.index(">Subscribe</button>") < page.index("<details")
    # Nothing known in the address: the whole form, nothing ticked, no 500.
    for query in ("service=nope", "agency=&service=", "service=%00%ff", "everything=&agency=nope",
                  "agency=" + "a" * 5000, "service=Tax-Filing", "service=tax-filing%0a"):
        response = client.get(f"/subscribe?{query}")
        assert response.status_code == 200, query
        assert checked(response.text) == set() and "<details" not in response.text
    assert checked(client.get("/subscribe?everything=1").text) == {"everything"}


def test_a_problem_keeps_the_short_form_and_what_was_chosen(client, catalog):
    response = client.post(
        "/subscribe", data={"email": "not an address", "services": [str(catalog["filing"].id)]}
    )
    assert response.status_code == 400
    assert "Enter an email address in the right format" in response.text
    assert '<ul class="chosen"><li>Tax filing (Department of Revenue)</li></ul>' in response.text
    assert checked(response.text) == {f"service-{catalog['filing'].id}"}


def test_the_pages_and_the_email_say_what_was_chosen(client, smtp, catalog):
    response, message = sign_up(
        client, smtp, "ann@example.com",
        services=[str(catalog["filing"].id)], agencies=[str(catalog["roads"].id)],
    )  # fmt: skip
    assert response.headers["Location"] == (
        "/subscribe/check-your-email?agency=roads&service=tax-filing"
    )
    page = client.get(response.headers["Location"]).text
    assert "Check your email" in page
    assert (
        '<ul class="chosen"><li>All of Department of Roads</li>'
        "<li>Tax filing (Department of Revenue)</li></ul>"
    ) in page
    # "Try again" comes back to the same choice.
    assert 'href="/subscribe?agency=roads&amp;service=tax-filing">try again</a>' in page

    assert message["Subject"] == "Confirm your subscription to service status updates"
    assert "\n- All of Department of Roads\n- Tax filing (Department of Revenue)\n" in text_of(
        message
    )
    html = message.get_body(("html",)).get_content()
    assert "<li>Tax filing (Department of Revenue)</li>" in html

    confirm = link(message, r"/subscribe/confirm/[^\s]+")
    assert "<li>Tax filing (Department of Revenue)</li>" in client.get(confirm).text
    page = client.post(confirm).text
    assert "You are subscribed" in page
    assert (
        '<ul class="chosen"><li>All of Department of Roads</li>'
        "<li>Tax filing (Department of Revenue)</li></ul>"
    ) in page


class TestWithCsrfOn:
    @pytest.fixture
    def app_config(self, smtp):
        return {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp.port,
            "WTF_CSRF_ENABLED": True,
            "SITE_URL": "https://status.example.gov",
        }

    def test_the_answer_is_the_same_whether_or_not_the_address_is_known(
        self, app, client, smtp, catalog
    ):
        from statuspage.subscriptions.operations import request_subscription

        request_subscription("known@example.com", Choice(service_ids={catalog["filing"].id}))
        outbox.dispatch()
        client.post(link(smtp.messages[-1], r"/subscribe/confirm/[^\s]+"),
                    data={"csrf_token": csrf_token(client, "/subscribe")})  # fmt: skip
        assert subscriber("known@example.com").confirmed_at is not None

        def answer(email: str):
            form = client.get("/subscribe?service=road-permits")
            token = csrf_token(client, "/subscribe?service=road-permits")
            response = client.post(
                "/subscribe",
                data={"email": email, "services": [str(catalog["permits"].id)],
                      "csrf_token": token},
            )  # fmt: skip
            page = client.get(response.headers["Location"])
            headers = sorted(
                (name, value) for name, value in response.headers.items()
                if name not in ("Date", "Set-Cookie")
            )  # fmt: skip
            return (
                re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", form.text),
                response.status_code, headers, response.get_data(),
                page.status_code, page.get_data(),
            )  # fmt: skip

        assert answer("known@example.com") == answer("unknown@example.com")
        outbox.dispatch()
        subjects = {m["To"]: m["Subject"] for m in smtp.messages[-2:]}
        assert subjects == {
            "known@example.com": "Confirm adding to your service status updates",
            "unknown@example.com": "Confirm your subscription to service status updates",
        }


def test_signing_up_again_adds_the_new_choices_once_confirmed_and_keeps_the_old(
    client, smtp, catalog
):
    filing, permits, roads = catalog["filing"], catalog["permits"], catalog["roads"]
    assert "You are subscribed" in confirm_new(
        client, smtp, "ann@example.com", services=[str(filing.id)]
    ).text

    # Signing up again for a service already followed and one that is not: only the new one is
    # asked about.
    _, message = sign_up(
        client, smtp, "ann@example.com", services=[str(filing.id), str(permits.id)]
    )
    text = text_of(message)
    assert message["Subject"] == "Confirm adding to your service status updates"
    assert text.startswith("Confirm adding Road permits (Department of Roads) to your updates\n")
    assert "You keep everything you get now:\n- Tax filing (Department of Revenue)\n" in text
    # Nothing changes until the owner of the address follows the link.
    assert subscriber("ann@example.com").service_ids == {filing.id}

    add = link(message, r"/subscribe/add/[^\s]+")
    page = client.get(add).text
    assert "Confirm adding to your updates" in page
    assert "<li>Road permits (Department of Roads)</li>" in page
    assert subscriber("ann@example.com").service_ids == {filing.id}  # a GET changes nothing
    response = client.post(add)
    assert response.status_code == 200
    assert (
        '<ul class="chosen"><li>Tax filing (Department of Revenue)</li>'
        "<li>Road permits (Department of Roads)</li></ul>"
    ) in response.text
    assert subscriber("ann@example.com").service_ids == {filing.id, permits.id}
    # The link again (a double click, a mail scanner): nothing more, nothing less.
    assert client.post(add).status_code == 200
    assert subscriber("ann@example.com").service_ids == {filing.id, permits.id}

    # A whole agency joins the services; the services already followed stay.
    _, message = sign_up(client, smtp, "ann@example.com", agencies=[str(roads.id)])
    client.post(link(message, r"/subscribe/add/[^\s]+"))
    ann = subscriber("ann@example.com")
    assert (ann.everything, ann.agency_ids, ann.service_ids) == (
        False, {roads.id}, {filing.id, permits.id}
    )  # fmt: skip

    # And the subscriber now hears about all of it.
    smtp.messages.clear()
    for service in (filing, permits):
        incident = make_incident([service], priority=1, title=f"{service.name} down", updates=())
        publish_update(incident, status=State.INVESTIGATING, body="Down.", by=None)
    assert outbox.dispatch().sent == 2


def test_everything_stays_everything_and_nothing_new_needs_no_confirming(client, smtp, catalog):
    confirm_new(client, smtp, "all@example.com", everything="y")
    _, message = sign_up(client, smtp, "all@example.com", services=[str(catalog["filing"].id)])
    assert message["Subject"] == "Your subscription to service status updates"
    assert "about:\n- Everything: all agencies and services\n" in text_of(message)
    assert subscriber("all@example.com").everything is True
    assert subscriber("all@example.com").service_ids == set()

    # Services followed, then everything: everything, and the services are still there beneath it.
    confirm_new(client, smtp, "bob@example.com", services=[str(catalog["filing"].id)])
    _, message = sign_up(client, smtp, "bob@example.com", everything="y")
    assert "Confirm adding Everything: all agencies and services to your updates" in text_of(
        message
    )
    client.post(link(message, r"/subscribe/add/[^\s]+"))
    bob = subscriber("bob@example.com")
    assert (bob.everything, bob.service_ids) == (True, {catalog["filing"].id})


def test_an_unconfirmed_address_signing_up_again_confirms_both_choices(client, smtp, catalog):
    sign_up(client, smtp, "ann@example.com", services=[str(catalog["filing"].id)])
    _, message = sign_up(client, smtp, "ann@example.com", services=[str(catalog["permits"].id)])
    assert message["Subject"] == "Confirm your subscription to service status updates"
    assert (
        "- Tax filing (Department of Revenue)\n- Road permits (Department of Roads)\n"
        in text_of(message)
    )
    client.post(link(message, r"/subscribe/confirm/[^\s]+"))
    ann = subscriber("ann@example.com")
    assert ann.confirmed_at is not None
    assert ann.service_ids == {catalog["filing"].id, catalog["permits"].id}


def test_an_add_link_that_is_tampered_with_expired_or_for_a_gone_address_is_refused(
    client, smtp, catalog, pinned_now
):
    confirm_new(client, smtp, "ann@example.com", services=[str(catalog["filing"].id)])
    _, message = sign_up(client, smtp, "ann@example.com", services=[str(catalog["permits"].id)])
    add = link(message, r"/subscribe/add/[^\s]+")
    tampered = add[:-3] + ("aaa" if not add.endswith("aaa") else "bbb")
    for method in (client.get, client.post):
        response = method(tampered)
        assert response.status_code == 400 and "This link is not valid" in response.text
    with clock.pinned(pinned_now + timedelta(hours=49)):
        response = client.post(add)
    assert response.status_code == 400 and "has expired" in response.text
    assert subscriber("ann@example.com").service_ids == {catalog["filing"].id}

    client.post(link(message, r"/unsubscribe/[^\s]+"))
    response = client.post(add)
    assert response.status_code == 400 and "not subscribed any more" in response.text


def test_still_to_add_leaves_out_what_is_already_covered():
    have = Choice(agency_ids={1}, service_ids={10})
    agency_of = {10: 2, 11: 1, 12: 2}
    assert still_to_add(have, Choice(service_ids={10, 11, 12}), agency_of) == Choice(
        service_ids={12}
    )
    assert still_to_add(have, Choice(agency_ids={1, 2}), agency_of) == Choice(agency_ids={2})
    assert still_to_add(have, Choice(everything=True), agency_of) == Choice(everything=True)
    assert still_to_add(Choice(everything=True), Choice(agency_ids={3}), agency_of).is_empty
