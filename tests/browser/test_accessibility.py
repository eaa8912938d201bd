"""WCAG 2.2 AA: axe-core on every page, public and admin, with the demo data loaded.

The pages are found from the URL map, so a new page is checked (or this test fails to say it has no
sample) without anyone remembering to add it here. Each page is checked as it first appears and,
where it has a form, with the form's error messages showing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from statuspage.api_keys.operations import create_key
from statuspage.catalog.models import Agency, Service
from statuspage.extensions import db
from statuspage.incidents.models import Incident, State
from statuspage.maintenance.models import MaintenanceWindow
from statuspage.press.models import PressStatement
from statuspage.reports.models import MonthlyReport, ReportRevision
from statuspage.subscriptions.models import Subscriber, SubscriptionAddition
from statuspage.subscriptions.operations import Choice, confirm_subscription, request_subscription
from statuspage.subscriptions.tokens import addition_token, confirm_token, manage_token
from statuspage.users import held_posts
from statuspage.users import tokens as account_tokens
from statuspage.users.models import Role, User
from statuspage.users.operations import invite_user
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Not pages: data, feeds, scripts, health checks and the sign-out action.
NOT_PAGES = {
    "static", "public.healthz", "public.feed", "public.agency_feed", "public.service_feed",
    "public.maintenance_calendar", "public.embed_script", "admin.logout",
    "public.service_embed_script",
}  # fmt: skip
ADMIN_USER = "admin@example.gov"
# Which sample token a page with a <token> in its URL takes (a subscriber's manage link otherwise).
TOKEN_KINDS = {
    "public.confirm_subscription": "confirm",
    "public.confirm_addition": "addition",
    "admin.accept_invitation_page": "invitation",
    "admin.reset_password_page": "reset",
    "admin.held_post": "held",
}
# Pages whose <slug> is a service's, not an agency's.
SERVICE_PAGES = {"public.service", "public.service_embed_frame"}
# Pages about an incident's review: shown for an incident that has a published one.
REVIEWED_PAGES = {"public.incident_report", "admin.review", "admin.review_approval"}


@pytest.fixture(scope="module")
def samples(live_server):
    """A value for every URL argument, taken from the demo data (plus one subscriber)."""
    app = live_server["app"]
    with app.app_context():
        request_subscription("reader@example.org", Choice(everything=True))
        subscriber = db.session.scalars(
            select(Subscriber).where(Subscriber.email == "reader@example.org")
        ).one()
        # A confirmed subscriber who signed up again for more: the "confirm adding" link.
        first_agency = db.session.scalars(select(Agency.id).order_by(Agency.id)).first()
        request_subscription("adder@example.org", Choice(agency_ids={first_agency}))
        adder = db.session.scalars(
            select(Subscriber).where(Subscriber.email == "adder@example.org")
        ).one()
        confirm_subscription(confirm_token(adder.id, adder.email))
        request_subscription("adder@example.org", Choice(everything=True))
        addition = db.session.scalars(
            select(SubscriptionAddition).where(SubscriptionAddition.subscriber_id == adder.id)
        ).one()
        open_ref = db.session.scalars(
            select(Incident.ref).where(Incident.state != State.CLOSED.value)
        ).first()
        reviewed_ref = db.session.scalars(
            select(Incident.ref).join(ReportRevision, ReportRevision.incident_id == Incident.id)
        ).first()
        published = db.session.scalars(
            select(MonthlyReport).where(MonthlyReport.status == "published")
            .order_by(MonthlyReport.month.desc())
        ).first()  # fmt: skip
        draft_id = db.session.scalars(
            select(MonthlyReport.id).where(MonthlyReport.status == "draft")
        ).first()
        admin = db.session.scalars(select(User).where(User.email == ADMIN_USER)).one()
        # Media statements: the open incident's waits for approval; a past one's is released.
        statement_id = db.session.scalars(
            select(PressStatement.id).join(Incident, Incident.id == PressStatement.incident_id)
            .where(Incident.ref == open_ref)
        ).first()  # fmt: skip
        statement_slug = db.session.scalars(
            select(PressStatement.slug).where(PressStatement.slug.is_not(None))
        ).first()
        lead = db.session.scalars(
            select(User).where(User.is_site_admin.is_(False)).order_by(User.id)
        ).first()
        invited = invite_user(
            admin, name="Ina Vited", email="invited@example.gov",
            agency=lead.memberships[0].agency, role=Role(lead.memberships[0].role),
        )  # fmt: skip
        invitation = account_tokens.token_for(
            account_tokens.INVITATION, account_tokens.link_data(account_tokens.INVITATION, invited)
        )
        reset = account_tokens.token_for(
            account_tokens.PASSWORD_RESET,
            account_tokens.link_data(account_tokens.PASSWORD_RESET, lead),
        )
        api_key, _ = create_key(
            db.session.get(Agency, first_agency), "Monitoring", {"read", "incidents"}, by=admin
        )
        held = held_posts.hold(admin.id, f"/admin/incidents/{open_ref}/updates", MultiDict([
            ("status", "identified"), ("action", "publish"),
            ("body", "We found the cause.\n\nPaper forms still work."),
        ]))  # what the admin typed when their session ran out  # fmt: skip
        values = {
            "held_token": held,
            "api_key_id": api_key.id,  # its revoke confirmation
            "user_id": lead.id,
            "invitation_token": invitation,
            "reset_token": reset,
            "ref": open_ref,
            "reviewed_ref": reviewed_ref,
            "name": f"{published.month:%Y-%m}",
            "report_id": draft_id,
            "slug": "revenue",
            "quarter": "2026-Q3",  # a quarterly review (the demo's history runs back to it)
            "service_slug": db.session.scalars(select(Service.slug).order_by(Service.id)).first(),
            "key": "p1_initial",
            "window_id": db.session.scalars(select(MaintenanceWindow.id)).first(),
            "agency_id": db.session.scalars(select(Agency.id).order_by(Agency.id)).first(),
            "service_id": db.session.scalars(select(Service.id).order_by(Service.id)).first(),
            "statement_id": statement_id,
            "statement_slug": statement_slug,
            "confirm_token": confirm_token(subscriber.id, subscriber.email),
            "manage_token": manage_token(subscriber.id, subscriber.email),
            "addition_token": addition_token(adder.id, adder.email, addition.id),
        }
        db.session.remove()
    return values


def page_paths(app, samples) -> list[str]:
    paths = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
            continue
        if rule.endpoint.startswith(("public.api_", "api_v1.")):  # JSON, not pages
            continue
        values = {}
        for name in rule.arguments:
            if name == "slug" and rule.endpoint in SERVICE_PAGES:
                values[name] = samples["service_slug"]
            elif name == "ref" and rule.endpoint in REVIEWED_PAGES:
                values[name] = samples["reviewed_ref"]
            elif name == "slug" and rule.endpoint == "public.press_statement":
                values[name] = samples["statement_slug"]
            elif name == "token":
                kind = TOKEN_KINDS.get(rule.endpoint, "manage")
                values[name] = samples[f"{kind}_token"]
            else:
                assert name in samples, f"no sample value for <{name}> in {rule.rule}"
                values[name] = samples[name]
        paths.append(rule.build(values)[1])
    return paths


def check(page, label: str) -> None:
    """Run axe-core on the page as it stands; fail with every violation spelled out."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    assert len(result["passes"]) >= 5, f"{label}: axe did not run its checks"
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in result["violations"]
    ]
    assert not problems, f"{label}:\n" + "\n".join(problems)


@pytest.fixture
def axe_page(browser):
    # Scripts injected by the test are not the site's own: let axe past the site's CSP.
    context = browser.new_context(bypass_csp=True, viewport={"width": 1024, "height": 800})
    yield context.new_page()
    context.close()


def sign_in(page, live_server, email: str = ADMIN_USER) -> None:
    page.goto(live_server["url"] + "/admin/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(live_server["logins"][email])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/")


def test_every_public_page_passes_axe(axe_page, live_server, samples):
    base = live_server["url"]
    paths = [p for p in page_paths(live_server["app"], samples) if not p.startswith("/admin")]
    assert {"/", "/history", "/maintenance", "/subscribe"} <= set(paths)
    extra = [
        "/history?agency=nope&month=2026-13&priority=9",
        "/no-such-page",
        f"/reports/all/{samples['name']}",
        # From an incident's "Get updates": the short form, and the page that follows.
        "/subscribe?service=income-tax-filing&agency=motor-vehicles",
        "/subscribe/check-your-email?service=income-tax-filing&agency=revenue",
    ]
    for path in paths + extra:
        axe_page.goto(base + path)
        check(axe_page, path)
    # The subscription form with its error messages showing.
    axe_page.goto(base + "/subscribe")
    axe_page.get_by_label("Email address").fill("not an address")
    axe_page.get_by_role("button", name="Subscribe").click()
    assert axe_page.locator(".error-summary").is_visible()
    check(axe_page, "/subscribe with errors")


def test_every_admin_page_passes_axe(axe_page, live_server, samples):
    base = live_server["url"]
    axe_page.goto(base + "/admin/login")
    check(axe_page, "/admin/login")
    axe_page.get_by_role("button", name="Sign in").click()  # empty: the error summary shows
    check(axe_page, "/admin/login with errors")
    sign_in(axe_page, live_server)
    paths = [p for p in page_paths(live_server["app"], samples) if p.startswith("/admin")]
    assert len(paths) >= 12
    for path in paths:
        axe_page.goto(base + path)
        check(axe_page, path)
    # Forms with their error messages showing.
    axe_page.goto(base + "/admin/incidents/new")
    axe_page.get_by_role("button", name="Log incident").click()
    check(axe_page, "/admin/incidents/new with errors")
    axe_page.goto(base + f"/admin/incidents/{samples['ref']}")
    axe_page.get_by_role("button", name="Preview and check").click()
    check(axe_page, "incident update preview")
    screenshot(axe_page, "admin-update-preview")
    axe_page.goto(base + f"/admin/incidents/{samples['ref']}/review")
    check(axe_page, "a review not started")
    axe_page.goto(base + f"/admin/incidents/{samples['reviewed_ref']}/review")
    axe_page.get_by_label("Timeline").fill("yesterday morning: it broke")
    axe_page.get_by_label("Owner").first.fill("")
    axe_page.get_by_role("button", name="Save draft").click()
    assert axe_page.locator(".error-summary").is_visible()
    check(axe_page, "review editor with errors")
    screenshot(axe_page, "admin-review-errors")
    axe_page.goto(base + "/admin/reports")
    axe_page.get_by_label("Month").fill("last month")
    axe_page.get_by_role("button", name="Prepare the draft").click()
    check(axe_page, "monthly draft form with errors")
    axe_page.goto(base + "/admin/services/new")
    axe_page.get_by_label("Availability target (%)").fill("lots")
    axe_page.get_by_role("button", name="Add service").click()
    assert axe_page.locator(".error-summary").is_visible()
    check(axe_page, "new service form with errors")
    axe_page.goto(base + "/admin/agencies/new")
    axe_page.get_by_role("button", name="Add agency").click()
    assert axe_page.locator(".error-summary").is_visible()
    check(axe_page, "new agency form with errors")
    axe_page.goto(base + f"/admin/incidents/{samples['ref']}")
    axe_page.get_by_label("Decision", exact=True).check()
    axe_page.get_by_role("button", name="Add to the log").click()
    assert axe_page.locator(".war-room .error-summary").is_visible()
    check(axe_page, "working log with errors")
    # Accounts: the forms with their errors showing.
    axe_page.goto(base + "/admin/users/invite")
    axe_page.get_by_role("button", name="Send the invitation").click()
    assert axe_page.locator(".error-summary").is_visible()
    check(axe_page, "invite form with errors")
    axe_page.goto(base + f"/admin/users/{samples['user_id']}")
    axe_page.get_by_role("button", name="Give the role").click()
    check(axe_page, "a user's page, the role form with errors")
    axe_page.goto(base + "/admin/account")
    axe_page.get_by_role("button", name="Change my password").click()
    assert axe_page.locator(".error-summary").is_visible()
    check(axe_page, "change password with errors")
    axe_page.goto(base + f"/admin/invitation/{samples['invitation_token']}")
    axe_page.get_by_label("Password", exact=True).fill("short")
    axe_page.get_by_role("button", name="Set my password").click()
    assert axe_page.locator(".error-summary").is_visible()
    check(axe_page, "choose a password with errors")
    axe_page.goto(base + "/admin/forgot-password")
    axe_page.get_by_role("button", name="Email me a link").click()
    assert axe_page.locator(".error-summary").is_visible()
    check(axe_page, "forgot password with errors")
    axe_page.goto(base + "/admin/invitation/not-a-real-link")
    check(axe_page, "a refused link")


def test_pages_read_fully_with_javascript_off(browser, live_server, samples):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    base = live_server["url"]
    page.goto(base + "/")
    assert "Planned maintenance" in page.locator("main").inner_text()
    page.goto(base + f"/incidents/{samples['ref']}")
    times = page.locator("main time[data-ago]")
    assert times.count() >= 2
    assert "EST" in times.first.inner_text() or "EDT" in times.first.inner_text()
    assert page.locator("time .ago").count() == 0  # the relative words need the script
    page.goto(base + "/history")
    page.get_by_label("Agency").select_option("revenue")
    page.get_by_role("button", name="Show incidents").click()
    assert "agency=revenue" in page.url
    context.close()


def test_the_script_adds_how_long_ago_beside_each_time(page, live_server, samples):
    page.goto(live_server["url"] + f"/incidents/{samples['ref']}")
    words = page.locator("time[data-ago] .ago").first.inner_text()
    assert words.startswith(" (") and (words.endswith(" ago)") or words == " (just now)")


def test_text_at_200_percent_loses_nothing(browser, live_server, samples):
    """WCAG 1.4.4 and 1.4.10: text twice the size, and a 1280 px screen zoomed to 200%."""
    base = live_server["url"]
    for width, font_scale in ((1280, 2), (640, 1)):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        for path in ("/", f"/incidents/{samples['ref']}", "/history", "/subscribe"):
            page.goto(base + path)
            before = page.locator("main").inner_text()
            page.evaluate(f"document.documentElement.style.fontSize = '{font_scale * 100}%'")
            assert page.locator("main").inner_text() == before
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (path, width)
            clipped = page.evaluate(
                """() => [...document.querySelectorAll('main *')].filter(el => {
                     const style = getComputedStyle(el);
                     return ['hidden', 'clip'].includes(style.overflowX)
                       && el.scrollWidth > el.clientWidth + 1
                       && el.getBoundingClientRect().width > 1;  // not screen-reader-only text
                   }).map(el => el.tagName + '.' + el.className)"""
            )
            assert clipped == [], (path, width, clipped)
        screenshot(page, f"zoom-{width}-{font_scale}x")
        context.close()


def test_every_admin_page_fits_a_390_px_width(browser, live_server, samples):
    """On a phone, no admin page scrolls sideways: a wide table reflows (each row a block, each
    cell with its column's name) or scrolls inside its own region."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, live_server)
    base = live_server["url"]
    paths = [p for p in page_paths(live_server["app"], samples) if p.startswith("/admin")]
    assert {"/admin/", "/admin/agencies", "/admin/services", "/admin/policy"} <= set(paths)
    too_wide = {}
    for path in paths:
        page.goto(base + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            too_wide[path] = width
    page.goto(base + "/admin/")
    screenshot(page, "admin-dashboard-390")
    context.close()
    assert too_wide == {}, f"wider than 390 px: {too_wide}"


def test_front_page_weight_on_a_first_visit(browser, live_server):
    """Under 60 KB transferred (HTML, CSS, JS, compressed), all from our own host."""
    context = browser.new_context()
    page = context.new_page()
    responses = []
    page.on("requestfinished", lambda request: responses.append(request))
    page.goto(live_server["url"] + "/", wait_until="networkidle")
    total = 0
    kinds = set()
    for request in responses:
        sizes = request.sizes()
        total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        kinds.add(request.resource_type)
    context.close()
    assert kinds <= {"document", "stylesheet", "script"}, kinds  # no fonts, no images
    assert total < 60 * 1024, f"{total} bytes"
    print(json.dumps({"front_page_bytes_transferred": total, "requests": len(responses)}))
