"""The monthly figures on a fixture month, November 2026 in New York, computed by hand.

November 2026 starts at midnight EDT (04:00 UTC) and daylight saving ends on its first day
(2:00 AM EDT, 06:00 UTC, the clocks go back an hour), so the month lasts 30 days and 1 hour:
43,260 minutes. It ends at midnight EST on 1 December (05:00 UTC).
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from statuspage.incidents.deadlines import IncidentFacts
from statuspage.policy import BusinessCalendar, Targets, build_policy
from statuspage.reports.metrics import (
    ActionDates,
    ActionsOnTime,
    Compliance,
    Occurrence,
    Spread,
    Timing,
    acknowledgement_compliance,
    actions_on_time,
    availability,
    communication_timeliness,
    judge_targets,
    month_window,
    recurrence,
    reported_sum,
    resolution_compliance,
    response_times,
    spread,
)

EASTERN = ZoneInfo("America/New_York")
POLICY = build_policy()
CALENDAR = BusinessCalendar(EASTERN, "US")
NOVEMBER = month_window(date(2026, 11, 1), EASTERN)
m = lambda n: timedelta(minutes=n)  # noqa: E731


def utc(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_the_month_follows_the_site_zone_and_its_daylight_saving_change():
    start, end = NOVEMBER
    assert start.astimezone(UTC) == utc(1, 4) and end.astimezone(UTC) == utc(1, 5, month=12)
    assert (end - start) == timedelta(days=30, hours=1)
    december = month_window(date(2026, 12, 1), EASTERN)
    assert december[1].astimezone(UTC) == datetime(2027, 1, 1, 5, tzinfo=UTC)


def test_availability_unions_outages_clips_them_to_the_month_and_keeps_maintenance_apart():
    outages = [
        # Began on 31 October at 10:30 PM EDT, ended 1 November 1:10 AM EDT: 70 min in November.
        (utc(1, 2, 30), utc(1, 5, 10)),
        # 1:00 AM EDT to 2:00 AM EST across the change: 2 real hours, overlapping the one above.
        (utc(1, 5), utc(1, 7)),
        # 30 November 11:00 PM EST into December: 60 min in November.
        (utc(1, 4, month=12), utc(1, 6, month=12)),
    ]
    # Maintenance 06:30-08:00 UTC: its first 30 min overlap the outage and count as downtime.
    maintenance = [(utc(1, 6, 30), utc(1, 8))]
    result = availability(NOVEMBER, outages, maintenance)
    assert result.period_minutes == 43_260
    assert result.downtime_minutes == 180 + 60  # 04:00-07:00 merged, plus the December spill
    assert result.maintenance_minutes == 60
    assert result.percent == pytest.approx(100 * (1 - 240 / 43_260))  # 99.4452%
    assert round(result.percent, 4) == 99.4452


def test_a_month_without_trouble_is_fully_available():
    result = availability(NOVEMBER, [], [(utc(10, 3), utc(10, 4))])
    assert result.percent == 100.0 and result.maintenance_minutes == 60


def test_percentiles_interpolate_like_percentile_cont():
    assert spread([]) == Spread(0, None, None, None)
    assert spread([7.0]) == Spread(1, 7.0, 7.0, 7.0)
    assert spread([30.0, 10.0, 20.0]) == Spread(3, 20.0, 28.0, 20.0)  # p90: 20 + 0.8 x 10
    assert spread([12.0, 1.0, 8.0, 5.0]) == Spread(4, 6.5, pytest.approx(10.8), 6.5)


def test_the_mean_is_pulled_by_a_long_incident_where_the_median_is_not():
    # p90 at position 0.9 x 3 = 2.7: 30 + 0.7 x 270 = 219; mean 360 / 4 = 90.
    assert spread([10.0, 20.0, 30.0, 300.0]) == Spread(4, 25.0, pytest.approx(219.0), 90.0)


def test_response_times_mttd_mtta_mttr():
    incidents = [
        Timing(detected_at=utc(1, 2, 40), started_at=utc(1, 2, 30), assigned_at=utc(1, 2, 43),
               acknowledged_at=utc(1, 2, 45), resolved_at=utc(1, 5, 10)),  # 10, 3, 5, 150
        Timing(detected_at=utc(1, 5), acknowledged_at=utc(1, 5, 12),
               resolved_at=utc(1, 7)),  # start unknown; 12, 120
        Timing(detected_at=utc(9, 4, 20), started_at=utc(9, 3, 50),
               acknowledged_at=utc(9, 4, 21)),  # 30, 1, still open
        Timing(detected_at=utc(20, 15), started_at=utc(20, 14, 40),
               acknowledged_at=utc(20, 15, 8), resolved_at=utc(20, 16),
               assigned_at=utc(20, 15, 13)),  # 20, 13, 8, 60
    ]  # fmt: skip
    result = response_times(incidents)
    assert result.detect == Spread(3, 20.0, 28.0, 20.0)
    # To assignment: only two were assigned (3 and 13 min).
    assert result.assign == Spread(2, 8.0, 12.0, 8.0)
    assert result.acknowledge == Spread(4, 6.5, pytest.approx(10.8), 6.5)
    assert result.resolve == Spread(3, 120.0, 144.0, 110.0)  # (150 + 120 + 60) / 3


X = utc(23, 15)  # Monday 23 November, 10:00 AM EST


def facts(*history, resolved=None, first_public=None) -> IncidentFacts:
    first, *changes = history
    return IncidentFacts(
        detected_at=X,
        priorities=((X, first), *((X + m(at), p) for at, p in changes)),
        tier=1,
        resolved_at=X + m(resolved) if resolved is not None else None,
        first_public_at=X + m(first_public) if first_public is not None else None,
    )


FIXTURE = [
    facts(1, resolved=50, first_public=10),  # within P1's 1 h and 15 min
    # Lowered to P2 after 10 min: P2's 4 h and 30 min from detection apply, so both are met
    # (as a P1 it would have missed both).
    facts(1, (10, 2), resolved=180, first_public=25),
    facts(2, resolved=300, first_public=45),  # P2 over 4 h; first update 15 min late
    facts(1),  # still open, nothing said yet: not judged for resolution, late for communication
    facts(3, resolved=30),  # a P3 has no first-communication deadline
]


def test_resolution_within_target_judges_resolved_incidents_at_their_final_priority():
    result = resolution_compliance(FIXTURE, POLICY, CALENDAR)
    assert result == Compliance(met=3, total=4)  # the P2 at 5 h breached
    assert result.percent == 75.0


def test_communication_timeliness_first_update_and_cadence():
    cadence = [m(5), m(25), m(40)]
    result = communication_timeliness(FIXTURE, cadence, POLICY, CALENDAR)
    assert result.first_on_time == Compliance(met=2, total=4)
    assert result.late_by == Spread(1, 15.0, 15.0, 15.0)
    assert result.cadence_breaches == 3
    assert result.cadence_late_by == Spread(3, 25.0, 37.0, pytest.approx(70 / 3))


def acknowledged(priority: int, after: int | None) -> IncidentFacts:
    return IncidentFacts(
        detected_at=X, priorities=((X, priority),), tier=1,
        acknowledged_at=X + m(after) if after is not None else None,
    )  # fmt: skip


def test_acknowledgement_compliance_judges_the_unacknowledged_only_once_late():
    assert str(POLICY[1].acknowledge) == "5 minutes"  # the seed policy
    incidents = [
        acknowledged(1, 5),  # on the deadline: met
        acknowledged(1, 6),  # a minute late
        acknowledged(1, None),  # not acknowledged, deadline passed at `now`: missed
    ]
    assert acknowledgement_compliance(incidents, X + m(30), POLICY, CALENDAR) == Compliance(1, 3)
    # Three minutes in, the unacknowledged one still has time: not judged.
    assert acknowledgement_compliance(incidents, X + m(3), POLICY, CALENDAR) == Compliance(1, 2)


def seen(incident_id: int, day: int, services: set[int], cause: str | None) -> Occurrence:
    return Occurrence(incident_id, utc(day, 15), frozenset(services), cause)


def test_a_repeat_is_the_same_service_and_cause_within_the_window():
    history = [
        seen(1, 1, {10}, "capacity"),  # before the period
        seen(2, 20, {10, 11}, "capacity"),  # repeats 1: service 10, capacity, 19 days later
        seen(3, 21, {11}, "network"),  # service 11 again, another cause: not a repeat
        seen(4, 22, {12}, "capacity"),  # capacity again, another service: not a repeat
        seen(5, 23, {11}, "unknown"),  # unknown never matches
        seen(6, 24, {11}, "unknown"),
        seen(7, 25, {11}, None),  # no published review
    ]
    found = recurrence(history[1:], history, POLICY, CALENDAR)
    assert (found.repeats, found.total, found.causes_known) == (1, 6, 3)
    assert found.percent == pytest.approx(100 / 6)


def test_a_repeat_outside_the_window_does_not_count():
    first = Occurrence(1, utc(1, 15), frozenset({10}), "data")
    exactly = Occurrence(2, utc(1, 15) + timedelta(days=30), frozenset({10}), "data")
    later = Occurrence(3, utc(1, 15) + timedelta(days=30, minutes=1), frozenset({10}), "data")
    assert recurrence([exactly], [first, exactly], POLICY, CALENDAR).repeats == 1
    assert recurrence([later], [first, later], POLICY, CALENDAR).repeats == 0
    assert recurrence([], [], POLICY, CALENDAR).percent is None


def test_actions_done_by_their_day_are_on_time():
    day = date(2026, 11, 20)
    actions = [
        ActionDates(day, day, True),  # on the day: on time
        ActionDates(day, date(2026, 11, 21), True),  # a day late
        ActionDates(day, None, False),  # still open after its day: overdue
        ActionDates(date(2026, 11, 30), None, False),  # open, not yet due: not judged
        ActionDates(day, None, True),  # done before dates were kept: not judged
    ]
    result = actions_on_time(actions, today=date(2026, 11, 25))
    assert result == ActionsOnTime(due=5, on_time=1, late=1, open_overdue=1)
    assert result.percent == pytest.approx(100 / 3)
    assert actions_on_time([], date(2026, 11, 25)).percent is None


def test_sums_of_reported_numbers_are_none_when_nothing_was_reported():
    assert reported_sum([1200, None, 300]) == (1500, 2)
    assert reported_sum([None, None]) == (None, 0)
    assert reported_sum([0]) == (0, 1)


TARGETS = Targets(mttr_reduction_per_year=20.0, recurrence_rate_below=10.0,
                  sla_compliance_at_least=95.0)  # fmt: skip


def _figures(mttr, recurrence, resolution, acknowledgement) -> dict:
    return {
        "response_times": {"resolve": {"count": 1, "mean": mttr, "median": mttr, "p90": mttr}},
        "recurrence": {"percent": recurrence},
        "resolution": {"percent": resolution},
        "acknowledgement": {"percent": acknowledgement},
    }


def test_targets_are_judged_met_or_not_met_in_the_policys_words():
    # MTTR 79 against a year earlier's 100: at most 80 (20% down) -> met.
    judged = judge_targets(_figures(79.0, 12.5, 95.0, 94.99), {"mttr_mean": 100.0}, TARGETS)
    by_figure = {row["figure"]: row for row in judged}
    assert by_figure["mttr_mean"]["met"] is True
    assert "20%" in by_figure["mttr_mean"]["target"] and "80" in by_figure["mttr_mean"]["target"]
    assert by_figure["recurrence_percent"] == {
        "figure": "recurrence_percent", "label": "Recurrence (same service and cause)",
        "target": "Below 10%", "value": 12.5, "met": False,
    }  # fmt: skip
    assert by_figure["resolution_percent"]["met"] is True  # 95 is at least 95
    assert by_figure["acknowledgement_percent"]["met"] is False


def test_a_target_with_nothing_to_measure_is_neither_met_nor_missed():
    # No year earlier: the MTTR reduction cannot be judged; an empty month judges nothing.
    judged = judge_targets(_figures(None, None, None, None), None, TARGETS)
    assert [row["met"] for row in judged] == [None, None, None, None]
    assert judge_targets(_figures(50.0, 0.0, 100.0, 100.0), {"mttr_mean": None}, TARGETS)[0][
        "met"
    ] is None


def test_mttr_only_a_little_down_on_the_year_misses_the_target():
    judged = judge_targets(_figures(81.0, 0.0, 100.0, 100.0), {"mttr_mean": 100.0}, TARGETS)
    assert judged[0]["met"] is False
