"""The completed days are remembered: always the days worked out afresh, never stale, bounded."""

import random
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from statuspage import clock
from statuspage.catalog.status import ServiceStatus
from statuspage.extensions import db
from statuspage.incidents import history
from statuspage.incidents.history import Day, daily_history, day_window, forget_remembered_days
from statuspage.incidents.models import Impact
from statuspage.intervals import total_minutes, union_within
from statuspage.maintenance.operations import save_window
from tests.factories import make_agency, make_past_incident, make_service

EASTERN = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 23, 19, 30, tzinfo=UTC)  # 2:30 PM EST


@pytest.fixture(autouse=True)
def nothing_remembered():
    forget_remembered_days()
    yield
    forget_remembered_days()


def history_the_long_way(spans, service_ids, now, zone, days=90):
    """The bars as first written: every day worked out from every span, nothing remembered.
    ``spans``: (service id, status, start, end or None while open)."""
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=days - 1)
    start = day_window(first_day, zone)[0]
    result = {}
    for service_id in service_ids:
        states = {}
        for sid, status, began, ended in spans:
            if sid == service_id and began < now and (ended is None or ended > start):
                states.setdefault(status, []).append((began, ended or now))
        outage = union_within(states.get(ServiceStatus.MAJOR_OUTAGE, []), (start, now))
        bars = []
        for offset in range(days):
            day = first_day + timedelta(days=offset)
            day_start, day_end = day_window(day, zone)
            window = (day_start, min(day_end, now))
            spent = {
                status: int(total_minutes(union_within(intervals, window)))
                for status, intervals in states.items()
            }
            spent = {status: count for status, count in spent.items() if count > 0}
            if not spent:
                bars.append(Day(day, ServiceStatus.OPERATIONAL, 0))
            else:
                worst = max(spent, key=lambda s: s.rank)
                bars.append(Day(day, worst, spent[worst]))
        result[service_id] = (bars, int(total_minutes(outage)))
    return result


def random_history(rng: random.Random, services, now: datetime):
    """Public incidents and maintenance over the last 100 days (some before the 90, some
    overlapping, one still open since yesterday evening), and a private one; returns the spans
    the public sees."""
    spans = []
    impacts = list(Impact)
    for _ in range(40):
        service = rng.choice(services)
        impact = rng.choice(impacts)
        detected = now - timedelta(days=rng.uniform(0.2, 100))
        earlier = timedelta(minutes=rng.choice([0, 7, 95]))
        started = detected - earlier if rng.random() < 0.5 else None
        resolved = detected + timedelta(minutes=rng.choice([3, 45, 130, 600, 1500, 4000]))
        if resolved >= now:
            continue
        make_past_incident(
            {service: impact}, priority=rng.choice([1, 2]), detected_at=detected,
            started_at=started, first_public_at=detected, resolved_at=resolved,
        )  # fmt: skip
        status = ServiceStatus.from_impact(impact)
        spans.append((service.id, status, started or detected, resolved))
    yesterday_evening = datetime(2026, 11, 23, 2, 15, tzinfo=UTC)  # 22 Nov, 9:15 PM EST
    make_past_incident(
        {services[0]: Impact.PARTIAL_OUTAGE}, priority=2, detected_at=yesterday_evening,
        first_public_at=yesterday_evening,
    )  # fmt: skip
    spans.append((services[0].id, ServiceStatus.PARTIAL_OUTAGE, yesterday_evening, None))
    # A P4 is never public: not in the bars.
    make_past_incident(
        {services[1]: Impact.MAJOR_OUTAGE}, priority=4, detected_at=now - timedelta(days=5),
        first_public_at=now - timedelta(days=5), resolved_at=now - timedelta(days=4),
    )  # fmt: skip
    for _ in range(5):
        service = rng.choice(services)
        begins = now - timedelta(days=rng.uniform(1, 95))
        ends = begins + timedelta(minutes=rng.choice([30, 240, 2000]))
        with clock.pinned(begins - timedelta(days=1)):
            save_window(
                None, title="Upgrade", description="", services=[service], by=None,
                starts_at=begins, ends_at=ends,
            )  # fmt: skip
        spans.append((service.id, ServiceStatus.UNDER_MAINTENANCE, begins, ends))
    return spans


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_remembered_days_are_the_days_worked_out_afresh(app, seed):
    agency = make_agency()
    services = [make_service(agency) for _ in range(4)]
    ids = [service.id for service in services]
    spans = random_history(random.Random(seed), services, NOW)
    # Through the day, across midnight and the next days: first call, then remembered.
    moments = [NOW, NOW + timedelta(hours=2), NOW + timedelta(hours=10), NOW + timedelta(days=3)]
    for now in moments:
        expected = history_the_long_way(spans, ids, now, EASTERN)
        for _ in range(2):
            got = daily_history(ids, now, EASTERN)
            for service_id in ids:
                bars, outage_minutes = expected[service_id]
                assert got[service_id].days == bars
                assert got[service_id].major_outage_minutes == outage_minutes
    assert any(d.status is not ServiceStatus.OPERATIONAL for d in got[ids[0]].days)


def test_a_changed_past_incident_changes_the_remembered_days(app):
    service = make_service(make_agency())
    incident = make_past_incident(
        {service: Impact.PARTIAL_OUTAGE}, priority=2,
        detected_at=datetime(2026, 11, 10, 15, tzinfo=UTC),
        first_public_at=datetime(2026, 11, 10, 15, tzinfo=UTC),
        resolved_at=datetime(2026, 11, 10, 17, tzinfo=UTC),
    )  # fmt: skip
    (day,) = daily_history([service.id], NOW, EASTERN)[service.id].problem_days
    assert (day.status, day.minutes) == (ServiceStatus.PARTIAL_OUTAGE, 120)

    incident.started_at = datetime(2026, 11, 10, 14, tzinfo=UTC)
    incident.affected[0].impact = Impact.MAJOR_OUTAGE.value
    db.session.commit()
    (day,) = daily_history([service.id], NOW, EASTERN)[service.id].problem_days
    assert (day.status, day.minutes) == (ServiceStatus.MAJOR_OUTAGE, 180)

    incident.first_public_at = None  # no longer public
    db.session.commit()
    assert daily_history([service.id], NOW, EASTERN)[service.id].problem_days == []


def test_today_is_never_remembered(app):
    service = make_service(make_agency())
    began = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 22 Nov, 10 PM EST, still open
    make_past_incident(
        {service: Impact.PARTIAL_OUTAGE}, priority=2, detected_at=began, first_public_at=began
    )
    first = daily_history([service.id], NOW, EASTERN)[service.id].days
    later = daily_history([service.id], NOW + timedelta(hours=1), EASTERN)[service.id].days
    assert (first[-2].day, first[-2].minutes) == (date(2026, 11, 22), 120)
    assert (first[-1].day, first[-1].minutes) == (date(2026, 11, 23), 14 * 60 + 30)
    assert first[:-1] == later[:-1]
    assert later[-1].minutes == first[-1].minutes + 60


def test_the_memo_is_bounded(app, monkeypatch):
    monkeypatch.setattr(history, "REMEMBERED_ENTRIES", 3)
    service = make_service(make_agency())
    began, ended = datetime(2026, 11, 1, 15, tzinfo=UTC), datetime(2026, 11, 1, 16, tzinfo=UTC)
    make_past_incident(
        {service: Impact.MAJOR_OUTAGE}, priority=1, detected_at=began, first_public_at=began,
        resolved_at=ended,
    )  # fmt: skip
    spans = [(service.id, ServiceStatus.MAJOR_OUTAGE, began, ended)]
    for offset in range(10):  # a new day each time, so a new entry each time
        now = NOW + timedelta(days=offset)
        got = daily_history([service.id], now, EASTERN)[service.id]
        assert got.days == history_the_long_way(spans, [service.id], now, EASTERN)[service.id][0]
        assert len(history._remembered) <= 3


def test_threads_share_the_memo_safely(monkeypatch):
    # A tiny bound, so threads keep evicting what others are reading.
    monkeypatch.setattr(history, "REMEMBERED_ENTRIES", 2)
    first_day = date(2026, 8, 26)
    errors = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(1000):
                hour = rng.randrange(6)
                began = datetime(2026, 11, 10, hour, tzinfo=UTC)
                states = {ServiceStatus.PARTIAL_OUTAGE: [(began, began + timedelta(hours=1))]}
                days = history._completed_days(first_day, date(2026, 11, 23), EASTERN, states)
                (problem,) = [d for d in days if d.status is not ServiceStatus.OPERATIONAL]
                assert problem.minutes == 60
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch_interval)
    assert errors == []
    assert len(history._remembered) <= 2
