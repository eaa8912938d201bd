"""The 90-day bars: the worst state each local day, how long, and availability."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from statuspage import clock
from statuspage.catalog.status import ServiceStatus
from statuspage.incidents.history import daily_history, day_window
from statuspage.intervals import total_minutes
from statuspage.incidents.models import Impact, State
from statuspage.incidents.operations import publish_update
from statuspage.maintenance.operations import save_window
from tests.factories import make_agency, make_incident, make_service

EASTERN = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 23, 19, 30, tzinfo=UTC)  # 2:30 PM EST


def incident(service, impact, start, minutes, priority=2):
    with clock.pinned(start):
        found = make_incident({service: impact}, priority=priority, detected_at=start, updates=())
        publish_update(found, status=State.INVESTIGATING, body="Down.", by=None)
    with clock.pinned(start + timedelta(minutes=minutes)):
        publish_update(found, status=State.RESOLVED, body="Fixed.", by=None)
    return found


def test_days_take_their_worst_state_and_its_duration(app):
    service = make_service(make_agency())
    # 20 Nov 10:00-12:10 EST partial outage; 21 Nov 23:00 EST to 22 Nov 01:30 EST major outage.
    incident(service, Impact.PARTIAL_OUTAGE, datetime(2026, 11, 20, 15, 0, tzinfo=UTC), 130)
    incident(service, Impact.DEGRADED_PERFORMANCE, datetime(2026, 11, 20, 17, 0, tzinfo=UTC), 300)
    incident(
        service, Impact.MAJOR_OUTAGE, datetime(2026, 11, 22, 4, 0, tzinfo=UTC), 150, priority=1
    )
    make_incident(
        [service], priority=4, detected_at=datetime(2026, 11, 19, 15, tzinfo=UTC)
    )  # private
    with clock.pinned(NOW):
        history = daily_history([service.id], NOW, EASTERN)[service.id]
    assert len(history.days) == 90 and history.days[-1].day.isoformat() == "2026-11-23"
    assert [d.description for d in history.problem_days] == [
        "20 November: partial outage for 2 h 10 min",
        "21 November: major outage for 1 h",
        "22 November: major outage for 1 h 30 min",
    ]
    # 89 days and 14.5 hours, one of them the 25-hour day when daylight saving ended (1 Nov).
    assert history.period_minutes == 89 * 1440 + 60 + 870 == 129_090
    assert round(history.availability, 4) == round(100 * (1 - 150 / 129_090), 4) == 99.8838


def test_maintenance_shows_blue_and_is_not_downtime(app):
    service = make_service(make_agency())
    with clock.pinned(datetime(2026, 11, 1, tzinfo=UTC)):
        save_window(
            None,
            title="Upgrade",
            description="",
            services=[service],
            by=None,
            starts_at=datetime(2026, 11, 10, 7, 0, tzinfo=UTC),
            ends_at=datetime(2026, 11, 10, 9, 0, tzinfo=UTC),
        )
    history = daily_history([service.id], NOW, EASTERN)[service.id]
    (day,) = history.problem_days
    assert (day.status, day.minutes) == (ServiceStatus.UNDER_MAINTENANCE, 120)
    assert day.description == "10 November: under maintenance for 2 h"
    assert history.availability == 100.0


def test_the_front_page_has_bars_and_their_text(client, app):
    service = make_service(
        make_agency("Department of Revenue", "revenue"), "Tax filing", "tax-filing"
    )
    incident(service, Impact.PARTIAL_OUTAGE, datetime(2026, 11, 20, 15, 0, tzinfo=UTC), 130)
    with clock.pinned(NOW):
        html = client.get("/").text
        assert html.count('<li class="d-') == 90
        assert html.count('<li class="d-yellow">') == 1
        assert '<ol class="bars" aria-hidden="true">' in html
        assert "<summary>Last 90 days as text" in html
        assert "20 November: partial outage for 2 h 10 min" in html
        assert "100.00% available" in html
        service_page = client.get("/services/tax-filing").text
        assert "20 November: partial outage for 2 h 10 min" in service_page


def test_a_day_with_a_daylight_saving_change_counts_its_real_minutes():
    # 1 November 2026: the clocks go back at 2:00 AM EDT, so the day lasts 25 hours.
    start, end = day_window(date(2026, 11, 1), ZoneInfo("America/New_York"))
    assert start == datetime(2026, 11, 1, 4, tzinfo=UTC)  # midnight EDT
    assert end == datetime(2026, 11, 2, 5, tzinfo=UTC)  # midnight EST
    assert total_minutes([(start, end)]) == 25 * 60


def test_overlapping_outages_count_once(app):
    service = make_service(make_agency())
    # 15:00-17:00 and 15:30-17:30 UTC on 23 November: one outage of 2 h 30 min, not 4 h.
    for start in (
        datetime(2026, 11, 23, 15, tzinfo=UTC),
        datetime(2026, 11, 23, 15, 30, tzinfo=UTC),
    ):
        incident(service, Impact.MAJOR_OUTAGE, start, 120, priority=1)
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    history = daily_history([service.id], now, ZoneInfo("America/New_York"))[service.id]
    assert history.major_outage_minutes == 150
    assert history.days[-2].description == "23 November: major outage for 2 h 30 min"
