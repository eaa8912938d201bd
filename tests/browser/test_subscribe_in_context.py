"""A citizen on a phone (390 px wide) reads an incident and gets its updates in one step: the
form comes with the incident's services ticked, the address field and the button in view, and
the page and the email that follow say what was chosen (issue 15). And a feed opened in the
browser reads as a page."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from statuspage.extensions import db
from statuspage.incidents.models import Incident, State
from statuspage.incidents.visibility import public_clause
from statuspage.subscriptions import outbox
from tests.browser.conftest import screenshot
from tests.browser.test_accessibility import AXE, WCAG_TAGS, check
from tests.conftest import make_app

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
READER = "phone.reader@example.org"


@pytest.fixture(scope="module")
def mailing_site(live_server, _smtp_controller):
    """The demo site again (same database), sending its email to the SMTP sink, with SITE_URL
    its own address so the emailed links open it."""
    app = make_app(
        live_server["app"].config["SQLALCHEMY_DATABASE_URI"],
        WTF_CSRF_ENABLED=True,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=_smtp_controller.port,
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["SITE_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": base, "app": app, "sink": _smtp_controller.handler}
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


def open_incident(app) -> tuple[str, str, list[tuple[int, str]]]:
    """An open public incident of the demo: reference, title, affected (service id, name)."""
    with app.app_context():
        incident = db.session.scalars(
            select(Incident)
            .where(public_clause(), Incident.state != State.RESOLVED.value,
                   Incident.state != State.CLOSED.value)
            .order_by(Incident.id)
        ).first()  # fmt: skip
        found = (
            incident.ref,
            incident.title,
            [(a.service.id, a.service.name) for a in incident.affected],
        )
        db.session.remove()
    return found


def test_a_citizen_on_a_phone_subscribes_to_an_incident_in_one_step(browser, mailing_site):
    base, app, sink = mailing_site["url"], mailing_site["app"], mailing_site["sink"]
    ref, title, services = open_incident(app)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()

    # Reading the incident: its title, its status, and nothing wider than the screen.
    page.goto(f"{base}/incidents/{ref}")
    assert page.locator("h1").inner_text() == title
    status = page.locator("dl.facts dd").first
    assert status.is_visible() and status.inner_text() in {
        "Investigating", "Identified", "Monitoring"
    }  # fmt: skip
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "incident-390")

    # "Get updates": the incident's services come ticked.
    page.locator("main").get_by_role("link", name="Get updates about this incident").click()
    page.wait_for_url("**/subscribe?*")
    for service_id, _ in services:
        assert page.locator(f"#service-{service_id}").is_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The address comes first and the button is on the screen without scrolling.
    email = page.get_by_label("Email address")
    assert page.locator("form input:not([type=hidden])").first.get_attribute("id") == "email"
    button = page.get_by_role("button", name="Subscribe", exact=True)
    box = button.bounding_box()
    assert page.evaluate("window.scrollY") == 0
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box
    screenshot(page, "subscribe-preselected-390")

    sink.messages.clear()
    email.fill(READER)
    button.click()
    page.wait_for_url("**/subscribe/check-your-email*")
    assert page.locator("h1").inner_text() == "Check your email"
    chosen = page.locator("ul.chosen").inner_text()
    for _, name in services:
        assert name in chosen
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "subscribe-sent-390")

    # The confirmation email lists them too; its link confirms, and the page says what follows.
    with app.app_context():
        outbox.dispatch_until_empty()
        db.session.remove()
    [message] = [m for m in sink.messages if m["To"] == READER]
    text = message.get_body(("plain",)).get_content()
    for _, name in services:
        assert f"- {name} (" in text, text
    confirm = re.search(r"http://\S+/subscribe/confirm/\S+", text).group(0)
    page.goto(confirm)
    page.get_by_role("button", name="Yes, send me updates").click()
    assert page.locator("h1").inner_text() == "You are subscribed"
    for _, name in services:
        assert name in page.locator("ul.chosen").inner_text()
    context.close()


def test_the_pages_of_getting_updates_pass_axe(browser, mailing_site):
    base, app = mailing_site["url"], mailing_site["app"]
    ref, _, services = open_incident(app)
    context = browser.new_context(bypass_csp=True, viewport=PHONE)
    page = context.new_page()
    page.goto(f"{base}/incidents/{ref}")
    page.locator("main").get_by_role("link", name="Get updates about this incident").click()
    page.wait_for_url("**/subscribe?*")
    check(page, "the preselected form")
    page.get_by_text("Change what you get updates about").click()
    check(page, "the preselected form, opened")
    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Subscribe", exact=True).click()
    assert page.locator(".error-summary").is_visible()
    check(page, "the preselected form with an error")
    page.goto(f"{base}/subscribe/check-your-email?service=income-tax-filing&agency=revenue")
    check(page, "check your email, with the choice")
    context.close()


def axe_without_the_browsers_banner(page, label: str) -> None:
    """axe on the page the stylesheet made, less the banner Chromium adds above any XSLT result
    (its notice that XSLT is going away: the browser's text, not ours)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """tags => axe.run({exclude: [['xslt-warning-banner']]},
                           {runOnly: {type: 'tag', values: tags}})""",
        WCAG_TAGS,
    )
    assert len(result["passes"]) >= 5, f"{label}: axe did not run its checks"
    problems = [f"{v['id']}: {v['help']} at {v['nodes'][0]['html']}" for v in result["violations"]]
    assert not problems, f"{label}:\n" + "\n".join(problems)


def test_a_feed_opened_in_the_browser_reads_as_a_page(browser, mailing_site):
    base = mailing_site["url"]
    context = browser.new_context(bypass_csp=True, viewport=PHONE)
    page = context.new_page()
    for path in ("/agencies/revenue/feed.atom", "/feed.rss"):
        page.goto(base + path)
        assert page.locator("h1").is_visible(), path
        text = page.locator("main").inner_text()
        assert "This is a news feed" in text and "feed reader" in text, text
        assert base + path in text
        assert page.locator("main li a").count() >= 1
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
        axe_without_the_browsers_banner(page, f"{path} in a browser")
    screenshot(page, "feed-as-page-390")
    context.close()
