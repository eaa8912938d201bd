"""The front page rendered without the page cache: the remembered history never shows an old
page, and the front page's cheaper reads say what the general ones say."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from statuspage import clock
from statuspage.extensions import db
from statuspage.incidents import queries as incident_queries
from statuspage.incidents.history import forget_remembered_days
from statuspage.incidents.models import Impact, State
from statuspage.incidents.operations import Scope, change_scope, hide_from_public
from statuspage.maintenance import queries as maintenance_queries
from statuspage.maintenance.operations import cancel_window, save_window
from statuspage.markdown import render_markdown
from tests.factories import make_agency, make_incident, make_past_incident, make_service

NOW = datetime(2026, 11, 23, 19, 30, tzinfo=UTC)  # Monday 23 November, 2:30 PM EST


@pytest.fixture
def app_config():
    return {"PAGE_CACHE_ENABLED": False}  # every request renders


@pytest.fixture(autouse=True)
def nothing_remembered():
    forget_remembered_days()
    yield
    forget_remembered_days()


@pytest.fixture
def tax_filing(app):
    return make_service(make_agency("Department of Revenue", "revenue"), "Tax filing", "tax-filing")


def bars(html: str) -> list[str]:
    """The colour of each day's bar of the first service on the page, oldest first."""
    found = re.search(r'<ol class="bars" aria-hidden="true">(.*?)</ol>', html).group(1)
    return re.findall(r'<li class="d-(\w+)"></li>', found)


def front_page(client, at: datetime = NOW) -> str:
    with clock.pinned(at):
        return client.get("/").text


def test_the_page_is_the_same_whether_the_history_is_remembered_or_not(client, tax_filing):
    make_past_incident(
        {tax_filing: Impact.PARTIAL_OUTAGE}, priority=2,
        detected_at=datetime(2026, 11, 20, 15, tzinfo=UTC),
        first_public_at=datetime(2026, 11, 20, 15, tzinfo=UTC),
        resolved_at=datetime(2026, 11, 20, 17, 10, tzinfo=UTC),
    )  # fmt: skip
    first = front_page(client)
    assert front_page(client) == first
    forget_remembered_days()
    assert front_page(client) == first
    assert bars(first).count("yellow") == 1 and len(bars(first)) == 90


def test_a_corrected_past_incident_shows_on_the_next_render(client, tax_filing):
    incident = make_past_incident(
        {tax_filing: Impact.PARTIAL_OUTAGE}, priority=2, made_public=True,
        detected_at=datetime(2026, 11, 13, 15, tzinfo=UTC),
        first_public_at=datetime(2026, 11, 13, 15, tzinfo=UTC),
        resolved_at=datetime(2026, 11, 13, 17, tzinfo=UTC),
    )  # fmt: skip
    html = front_page(client)
    assert "13 November: partial outage for 2 h<" in html
    assert bars(html)[79] == "yellow"

    # The review finds it started an hour earlier.
    incident.started_at = datetime(2026, 11, 13, 14, tzinfo=UTC)
    db.session.commit()
    html = front_page(client)
    assert "13 November: partial outage for 3 h<" in html

    # It was in fact a major outage.
    with clock.pinned(NOW):
        change_scope(incident, Scope(incident.title, {tax_filing: Impact.MAJOR_OUTAGE}), by=None)
    html = front_page(client)
    assert "13 November: major outage for 3 h<" in html
    assert bars(html)[79] == "red" and bars(html).count("red") == 1
    assert "99.86% available" in html

    # A P2 cannot be hidden, but a lowered one can: as a P3 taken off the site it leaves the bars.
    incident.priority = 3
    db.session.commit()
    with clock.pinned(NOW):
        hide_from_public(incident, reason="Not something the public saw.")
    html = front_page(client)
    assert "13 November" not in html
    assert set(bars(html)) == {"green"}


def test_the_bars_move_on_at_midnight(client, tax_filing):
    make_past_incident(
        {tax_filing: Impact.PARTIAL_OUTAGE}, priority=2,
        detected_at=datetime(2026, 11, 20, 15, tzinfo=UTC),
        first_public_at=datetime(2026, 11, 20, 15, tzinfo=UTC),
        resolved_at=datetime(2026, 11, 20, 17, tzinfo=UTC),
    )  # fmt: skip
    today = bars(front_page(client))
    assert today.index("yellow") == 86  # 20 November; 23 November is the last bar
    before_midnight = datetime(2026, 11, 24, 4, 59, tzinfo=UTC)  # 11:59 PM EST
    assert bars(front_page(client, before_midnight)) == today
    tomorrow = bars(front_page(client, before_midnight + timedelta(minutes=2)))
    assert tomorrow.index("yellow") == 85 and len(tomorrow) == 90


def test_an_open_incident_colours_today_and_yesterday_as_time_goes_on(client, tax_filing):
    began = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # Sunday 22 November, 10 PM EST
    make_incident({tax_filing: Impact.PARTIAL_OUTAGE}, detected_at=began)
    html = front_page(client)
    assert "22 November: partial outage for 2 h<" in html
    assert "23 November: partial outage for 14 h 30 min<" in html
    html = front_page(client, NOW + timedelta(hours=1))
    assert "22 November: partial outage for 2 h<" in html
    assert "23 November: partial outage for 15 h 30 min<" in html
    # The next day, 23 November is a completed day with all of its 24 hours.
    html = front_page(client, datetime(2026, 11, 24, 15, tzinfo=UTC))
    assert "23 November: partial outage for 24 h<" in html
    assert "24 November: partial outage for 10 h<" in html


def test_statuses_from_loaded_incidents_are_the_statuses_from_the_database(app, pinned_now):
    agency = make_agency()
    services = [make_service(agency) for _ in range(5)]
    make_incident({services[0]: Impact.PARTIAL_OUTAGE, services[1]: Impact.MAJOR_OUTAGE})
    make_incident({services[0]: Impact.MAJOR_OUTAGE})
    resolved = (State.INVESTIGATING, State.RESOLVED)
    make_incident({services[2]: Impact.DEGRADED_PERFORMANCE}, updates=resolved)
    make_incident({services[3]: Impact.MAJOR_OUTAGE}, priority=4)  # never public
    with clock.pinned(NOW - timedelta(days=1)):
        for service in (services[3], services[4]):
            save_window(
                None, title="Upgrade", description="", services=[service], by=None,
                starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=1),
            )  # fmt: skip
    running, _ = maintenance_queries.running_and_upcoming_windows(NOW)
    loaded = incident_queries.statuses_of(incident_queries.open_public_incidents(), running)
    assert loaded == incident_queries.service_statuses()
    assert len(loaded) == 4  # services[2]'s incident is resolved


def test_running_and_upcoming_windows_are_the_two_lists_from_one_query(app, pinned_now):
    agency = make_agency()
    service = make_service(agency)
    hours = [(-30, -28), (-2, 1), (-1, 2), (3, 5), (24 * 13, 24 * 13 + 2), (24 * 15, 24 * 15 + 1)]
    windows = []
    with clock.pinned(NOW - timedelta(days=2)):
        for start, end in hours:
            windows.append(save_window(
                None, title=f"Window {start}", description="", services=[service], by=None,
                starts_at=NOW + timedelta(hours=start), ends_at=NOW + timedelta(hours=end),
            ))  # fmt: skip
        cancel_window(windows[2], by=None)
        scheduled_later = save_window(
            None, title="Cancelled later", description="", services=[service], by=None,
            starts_at=NOW + timedelta(hours=6), ends_at=NOW + timedelta(hours=7),
        )  # fmt: skip
        cancel_window(scheduled_later, by=None)
    running, upcoming = maintenance_queries.running_and_upcoming_windows(NOW)
    assert running == maintenance_queries.active_windows(NOW)
    assert upcoming == maintenance_queries.upcoming_windows(NOW)
    assert [w.title for w in running] == ["Window -2"]
    assert [w.title for w in upcoming] == ["Window 3", "Window 312"]


def test_remembered_markdown_is_the_markdown_rendered(app):
    html = "<p><strong>Fixed</strong></p>"
    assert render_markdown("**Fixed**") == render_markdown("**Fixed**") == html
    assert render_markdown("a < b") == "<p>a &lt; b</p>"
