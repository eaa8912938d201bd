"""The notification matrix as a pure function: who is told, when, for each priority, security,
escalation and de-escalation, briefings and nobody acknowledging."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from statuspage.incidents.deadlines import IncidentFacts
from statuspage.internal.matrix import BRIEFING, ESCALATION, TOLD, due_notices
from statuspage.policy import BusinessCalendar, PolicyError, build_policy

POLICY = build_policy()
CALENDAR = BusinessCalendar(ZoneInfo("America/New_York"), "US")
D = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
m = lambda n: timedelta(minutes=n)  # noqa: E731


def facts(*history, **kwargs) -> IncidentFacts:
    first, *changes = history
    priorities = ((D, first),) + tuple((D + m(at), p) for at, p in changes)
    return IncidentFacts(detected_at=D, priorities=priorities, **kwargs)


def told(notices, what=TOLD) -> list[tuple[int, str]]:
    """(minutes after detection, position) for the notices of one kind, in time order."""
    return sorted(
        (int((n.due - D).total_seconds() // 60), n.position) for n in notices if n.what == what
    )


@pytest.mark.parametrize(
    ("history", "kwargs", "at", "expected"),
    [
        ((1,), {}, 0, [(0, "agency_cio"), (0, "cdo"), (0, "on_call"), (0, "service_owner")]),
        ((2,), {}, 14, [(0, "on_call"), (0, "service_manager")]),
        ((2,), {}, 15, [(0, "on_call"), (0, "service_manager"), (15, "service_owner")]),
        # Resolved before the owner's 15 minutes: the owner hears it in the summary instead.
        ((2,), {"resolved_at": D + m(10)}, 60, [(0, "on_call"), (0, "service_manager")]),
        ((3,), {}, 59, []),
        ((3,), {}, 60, [(60, "service_owner")]),
        ((4,), {}, 600, []),  # the daily summary carries P4s
        ((2,), {"is_security": True}, 0, [(0, "ciso"), (0, "on_call"), (0, "service_manager")]),
        ((1,), {"is_security": True}, 0, [(0, "agency_cio"), (0, "cdo"), (0, "ciso"),
                                          (0, "legal"), (0, "on_call"), (0, "public_relations"),
                                          (0, "service_owner")]),
        # Raised from P3 to P1 after 20 minutes: P1's people at once, from the escalation.
        ((3, (20, 1)), {}, 20, [(20, "agency_cio"), (20, "cdo"), (20, "on_call"),
                                (20, "service_owner")]),
        # Lowered from P2 to P3 at 10 minutes: P2's owner-in-15 no longer applies.
        ((2, (10, 3)), {}, 30, [(0, "on_call"), (0, "service_manager")]),
    ],
)
def test_who_is_told_and_when(history, kwargs, at, expected):
    assert told(due_notices(facts(*history, **kwargs), D + m(at), POLICY, CALENDAR)) == expected


def test_p1_leadership_is_briefed_every_30_minutes_with_only_the_latest_briefing():
    notices = due_notices(facts(1, acknowledged_at=D + m(1)), D + m(75), POLICY, CALENDAR)
    assert told(notices, BRIEFING) == [(60, p) for p in ("agency_cio", "cdo", "on_call",
                                                          "service_owner")]  # fmt: skip
    assert told(due_notices(facts(1), D + m(29), POLICY, CALENDAR), BRIEFING) == []


def test_briefings_stop_at_resolution():
    resolved = facts(1, acknowledged_at=D + m(1), resolved_at=D + m(50))
    assert {n.due for n in due_notices(resolved, D + m(120), POLICY, CALENDAR)
            if n.what == BRIEFING} == {D + m(30)}  # fmt: skip


@pytest.mark.parametrize(
    ("acknowledged", "at", "expected"),
    [
        (None, 29, []),
        (None, 30, [(30, "service_manager")]),
        (None, 95, [(30, "service_manager"), (60, "service_owner"), (90, "agency_cio")]),
        (None, 500, [(30, "service_manager"), (60, "service_owner"), (90, "agency_cio"),
                     (120, "cdo")]),  # the ladder ends at the top
        (20, 500, []),
        (45, 500, [(30, "service_manager")]),
    ],
)
def test_nobody_acknowledging_a_p1_goes_one_level_up_each_half_hour(acknowledged, at, expected):
    incident = facts(1, acknowledged_at=D + m(acknowledged) if acknowledged else None)
    assert told(due_notices(incident, D + m(at), POLICY, CALENDAR), ESCALATION) == expected


def test_the_matrix_is_policy_data_an_override_changes_it():
    policy = build_policy({"notify": {"P2": {"service_owner": "at once", "legal": "1 hour"},
                                      "briefings": {"P2": "1 hour"}}})  # fmt: skip
    notices = due_notices(facts(2, acknowledged_at=D), D + m(60), policy, CALENDAR)
    assert told(notices) == [(0, "service_owner"), (60, "legal")]
    assert told(notices, BRIEFING) == [(60, "legal"), (60, "service_owner")]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"P1": {"janitor": "at once"}}, "notify.P1.janitor: unknown position"),
        ({"P1": {"cdo": "soon"}}, "notify.P1.cdo: 'soon' is not 'at once'"),
        ({"P9": {}}, "notify.P9: unknown table"),
        ({"briefings": {"P1": "often"}}, "notify.briefings.P1"),
        ({"ladder": ["cdo", "king"]}, "notify.ladder"),
    ],
)
def test_a_bad_matrix_stops_start_up_naming_the_key(override, message):
    with pytest.raises(PolicyError, match=message):
        build_policy({"notify": override})
