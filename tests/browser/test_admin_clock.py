"""The admin dashboard's clock in a real browser: readable without JavaScript, ticking with it."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from statuspage import clock
from statuspage.catalog.models import Service
from statuspage.extensions import db
from statuspage.incidents.models import Impact, Source
from statuspage.incidents.operations import NewIncident, acknowledge, create_incident
from statuspage.users.models import User
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def log_incident(slug: str, title: str, minutes_ago: int) -> str:
    lead = db.session.scalars(select(User).where(User.email == "lead.dmv@example.gov")).one()
    service = db.session.scalars(select(Service).where(Service.slug == slug)).one()
    detected = clock.now().replace(microsecond=0) - timedelta(minutes=minutes_ago)
    with clock.pinned(detected):
        incident = create_incident(
            NewIncident(
                agency=service.agency,
                title=title,
                priority=1,
                source=Source.STAFF,
                detected_at=detected,
                affected={service: Impact.MAJOR_OUTAGE},
            ),
            by=lead,
        )
        acknowledge(incident, by=lead)
    return incident.ref


def sign_in(page, live_server, email="admin@example.gov"):
    page.goto(live_server["url"] + "/admin/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(live_server["logins"][email])
    page.get_by_role("button", name="Sign in").click()


def test_the_dashboard_orders_incidents_by_their_clock(browser, live_server):
    with live_server["app"].app_context():
        overdue = log_incident("license-renewal", "Renewals failing", minutes_ago=25)
        due_soon = log_incident(
            "vehicle-registration", "Registration payments failing", minutes_ago=7
        )
        db.session.remove()
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.clock.install()
    sign_in(page, live_server)
    page.goto(live_server["url"] + "/admin/")
    rows = page.locator("table.dashboard tbody tr")
    first, second = (rows.nth(n).inner_text() for n in range(2))
    # Below them, the demo's open incidents: its alert's draft and its public one.
    rest = [rows.nth(n).inner_text() for n in range(2, rows.count())]
    # A few seconds pass while the page loads: allow the minute to have turned.
    assert overdue in first and re.search(r"first public update OVERDUE by (10|11) min", first)
    assert due_soon in second and re.search(r"first public update due in [78] min", second)
    assert any("next update due in" in row for row in rest)
    assert rows.nth(0).get_attribute("class") == "row-overdue"
    assert rows.nth(1).get_attribute("class") == "row-due-soon"
    screenshot(page, "admin-dashboard-clocks")

    # With JavaScript the words tick: ten minutes on, the due-soon one is overdue.
    page.clock.fast_forward("10:00")
    assert re.search(r"first public update OVERDUE by [23] min", rows.nth(1).inner_text())
    context.close()


def test_the_dashboard_clock_is_readable_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server)
    page.goto(live_server["url"] + "/admin/")
    assert "next update due in" in page.locator("table.dashboard").inner_text()
    context.close()
