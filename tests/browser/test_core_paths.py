"""A citizen and a communications lead in a real browser (Debian's Chromium)."""

from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from statuspage import clock
from statuspage.reports.monthly import month_of, previous_month
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_the_front_page_works_without_javascript_and_makes_no_outside_requests(
    browser, live_server
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    hosts = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname))
    page.goto(live_server["url"] + "/")
    assert page.locator("h1").inner_text() == "Current status of government services"
    assert "1 service is having problems" in page.locator(".banner").inner_text()
    assert page.locator(".service").count() == 12
    assert page.get_by_text("Partial outage").first.is_visible()
    assert hosts == {"127.0.0.1"}
    screenshot(page, "front-page-no-js")
    page.get_by_role("link", name="Some people cannot upload supporting documents").click()
    assert page.locator("ol.timeline > li").count() == 2
    assert "EST" in page.locator("ol.timeline time").first.inner_text()
    screenshot(page, "incident-page")
    context.close()


def test_a_keyboard_user_can_skip_to_the_content(page, live_server):
    page.goto(live_server["url"] + "/")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.inner_text() == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_a_narrow_phone_screen_does_not_scroll_sideways(browser, live_server):
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    last_month = previous_month(month_of(clock.now(), ZoneInfo("America/New_York")))
    for path in ("/", "/history", "/services/income-tax-filing", "/agencies/revenue",
                 "/maintenance", "/subscribe", "/admin/login", "/reports",
                 f"/reports/revenue/{last_month:%Y-%m}"):  # fmt: skip
        page.goto(live_server["url"] + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
    screenshot(page, "phone-320-monthly-report")
    context.close()


def test_a_lead_logs_an_incident_and_the_public_page_follows(page, live_server):
    base = live_server["url"]
    page.goto(base + "/admin/incidents/new")
    assert page.url.startswith(base + "/admin/login?next=")
    page.get_by_label("Email address").fill("lead.dmv@example.gov")
    page.get_by_label("Password").fill(live_server["logins"]["lead.dmv@example.gov"])
    page.get_by_role("button", name="Sign in").click()
    assert page.url == base + "/admin/incidents/new"

    # Submitting an empty form explains each problem and keeps nothing from being lost.
    page.get_by_label("Title").fill("")
    page.get_by_role("button", name="Log incident").click()
    assert page.locator(".error-summary").is_visible()
    screenshot(page, "admin-incident-form-errors")

    page.get_by_label("Title").fill("Driver license renewal unavailable")
    page.get_by_label("P1 Critical").check()
    page.get_by_label("Driver license renewal", exact=False).first.check()
    page.get_by_label("Impact on Driver license renewal").select_option("major_outage")
    page.get_by_label("Impact", exact=True).fill("Nobody can renew online.")
    page.get_by_role("button", name="Log incident").click()
    assert "/admin/incidents/INC-" in page.url
    ref = page.url.rsplit("/", 1)[1]
    assert page.get_by_text("Not yet: post the first public update").first.is_visible()

    page.get_by_label("Investigating").check()
    page.get_by_label("Message to the public").fill("We are **fixing** renewals now.")
    page.get_by_role("button", name="Publish update").click()
    assert page.get_by_text("Update published on the public site.").is_visible()
    screenshot(page, "admin-incident")

    page.goto(base + "/")
    row = page.locator(".service", has_text="Driver license renewal")
    assert "Major outage" in row.inner_text()
    assert page.get_by_role("link", name="Driver license renewal unavailable").is_visible()
    page.goto(base + f"/incidents/{ref}")
    assert page.locator("strong", has_text="fixing").is_visible()


def test_an_agency_website_shows_the_embedded_banner(page, live_server):
    url = live_server["url"]
    page.set_content(
        f'<main><p>Agency home page</p><script src="{url}/embed/revenue.js"></script></main>'
    )
    page.wait_for_selector("[role=status]")
    banner = page.locator("[role=status]").inner_text()
    assert "A service has a problem" in banner or "services have problems" in banner
    assert "Some people cannot upload supporting documents" in banner
    assert page.context.cookies() == []


def test_a_lead_widens_a_p2_to_a_second_service_and_resolves_with_the_template(
    page, live_server
):
    base = live_server["url"]
    page.goto(base + "/admin/login")
    page.get_by_label("Email address").fill("lead.dmv@example.gov")
    page.get_by_label("Password").fill(live_server["logins"]["lead.dmv@example.gov"])
    page.get_by_role("button", name="Sign in").click()
    page.goto(base + "/admin/incidents/new")
    page.get_by_label("Title").fill("Driving record searches failing")
    page.get_by_label("P2 High").check()
    page.get_by_label("Driving record requests", exact=False).first.check()
    page.get_by_role("button", name="Log incident").click()
    ref = page.url.rsplit("/", 1)[1]
    page.get_by_label("Message to the public").fill("Some searches for driving records fail.")
    page.get_by_role("button", name="Publish update").click()
    assert page.get_by_text("Update published on the public site.").is_visible()

    # The outage spreads: Vehicle registration is down for everyone.
    scope = page.locator("section", has=page.locator("#scope-heading"))
    scope.get_by_role("checkbox", name="Vehicle registration").check()
    scope.get_by_label("Impact on Vehicle registration").select_option("major_outage")
    scope.get_by_role("button", name="Save title and services").click()
    assert page.get_by_text("The public page shows them now.").is_visible()

    page.goto(base + "/")
    assert "Major outage" in page.locator(".service", has_text="Vehicle registration").inner_text()
    assert "Partial outage" in page.locator(".service", has_text="Driving record requests").inner_text()
    summary = page.request.get(base + "/api/v2/summary.json").json()
    [listed] = [i for i in summary["incidents"] if i["id"] == ref]
    assert {c["id"]: c["status"] for c in listed["components"]} == {
        "driving-records": "partial_outage", "vehicle-registration": "major_outage",
    }  # fmt: skip
    assert "Vehicle registration (major outage)" in page.request.get(base + "/feed.atom").text()
    feed = page.request.get(base + "/services/vehicle-registration/feed.rss").text()
    assert "Driving record searches failing" in feed
    screenshot(page, "front-page-widened-incident")

    # Resolve in two clicks: the Resolution template, then Publish.
    page.goto(base + f"/admin/incidents/{ref}")
    page.get_by_role("button", name="Resolution").click()
    page.get_by_role("button", name="Publish update", exact=True).click()
    assert page.get_by_text("Update published on the public site.").is_visible()
    page.goto(base + f"/incidents/{ref}")
    assert "Resolved" in page.locator(".facts").first.inner_text()
    assert page.get_by_text("You can use Vehicle registration and Driving record requests normally again.").is_visible()
    assert page.get_by_text("(was major outage)").is_visible()
    latest = page.locator("ol.timeline > li").first.inner_text()
    assert "What is affected\nVehicle registration and Driving record requests" in latest
    screenshot(page, "incident-resolved-with-template")
