"""Every deadline, table-driven: four priorities, two tier groups, escalation, de-escalation,
weekends and a public holiday (Thanksgiving, Thursday 26 November 2026)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from statuspage.incidents.deadlines import (
    IncidentFacts,
    Kind,
    acknowledge_by,
    check_security_priority,
    deadlines,
    first_communication_by,
    next_update_due,
    pending,
    prefilled_promise,
    public_timing,
    reminder_at,
    report_due,
    review_need,
    target_resolution_by,
)
from statuspage.policy import DEFAULT_TABLE, BusinessCalendar, build_policy

EASTERN = ZoneInfo("America/New_York")
POLICY = build_policy()
CALENDAR = BusinessCalendar(EASTERN, "US")
# Monday 23 November 2026, 10:00 AM EST: a business day, three days before Thanksgiving.
D = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
m = lambda n: timedelta(minutes=n)  # noqa: E731
h = lambda n: timedelta(hours=n)  # noqa: E731


def eastern(*args) -> datetime:
    return datetime(*args, tzinfo=EASTERN).astimezone(UTC)


def facts(*history, **kwargs) -> IncidentFacts:
    """history: the first priority, then (minutes after detection, new priority) pairs."""
    first, *changes = history
    detected = kwargs.pop("detected_at", D)
    priorities = ((detected, first),) + tuple((detected + m(at), p) for at, p in changes)
    return IncidentFacts(detected_at=detected, priorities=priorities, **kwargs)


@pytest.mark.parametrize(
    ("priority", "ack", "first", "target_tier1", "target_tier2"),
    [
        (1, D + m(5), D + m(15), D + h(1), D + h(4)),
        (2, D + m(15), D + m(30), D + h(4), D + h(8)),
        (3, D + h(1), None, D + h(8), D + h(24)),
        (4, D + h(4), None, D + h(24), D + h(72)),  # 4 business hours from 10 AM: 2 PM
    ],
)
def test_deadlines_for_each_priority_and_tier_group(
    priority, ack, first, target_tier1, target_tier2
):
    tier1 = facts(priority, tier=1)
    assert acknowledge_by(tier1, POLICY, CALENDAR) == ack
    assert first_communication_by(tier1, POLICY, CALENDAR) == first
    assert target_resolution_by(tier1, POLICY, CALENDAR) == target_tier1
    for tier in (2, 3, 4):
        assert target_resolution_by(facts(priority, tier=tier), POLICY, CALENDAR) == target_tier2


@pytest.mark.parametrize(
    ("detected", "ack"),
    [
        (eastern(2026, 11, 27, 15, 0), eastern(2026, 11, 30, 11, 0)),  # Friday afternoon -> Monday
        (eastern(2026, 11, 25, 16, 0), eastern(2026, 11, 27, 12, 0)),  # over Thanksgiving
        (eastern(2026, 11, 28, 22, 0), eastern(2026, 11, 30, 13, 0)),  # Saturday night
    ],
)
def test_a_p4_is_acknowledged_within_four_business_hours(detected, ack):
    assert acknowledge_by(facts(4, detected_at=detected), POLICY, CALENDAR) == ack


@pytest.mark.parametrize(
    ("history", "ack", "first", "target"),
    [
        # P3 escalated to P1 after 50 minutes: the P1 windows run from the escalation.
        ((3, (50, 1)), D + m(55), D + m(65), D + m(110)),
        # P2 escalated to P1 after 25 minutes: escalation never gives more time than before.
        ((2, (25, 1)), D + m(15), D + m(30), D + m(85)),
        # P4 escalated to P2 an hour in.
        ((4, (60, 2)), D + m(75), D + m(90), D + m(300)),
        # P1 de-escalated to P3 after 3 minutes: the P3 windows from detection.
        ((1, (3, 3)), D + h(1), None, D + h(8)),
        # P1 de-escalated to P2.
        ((1, (10, 2)), D + m(15), D + m(30), D + h(4)),
        # P3 escalated to P1 at 50 min, then lowered to P2 at 52 min: P2 windows from 50 min.
        ((3, (50, 1), (52, 2)), D + m(65), D + m(80), D + m(290)),
    ],
)
def test_deadlines_after_escalation_and_de_escalation(history, ack, first, target):
    f = facts(*history, tier=1)
    assert acknowledge_by(f, POLICY, CALENDAR) == ack
    assert first_communication_by(f, POLICY, CALENDAR) == first
    assert target_resolution_by(f, POLICY, CALENDAR) == target


@pytest.mark.parametrize(
    ("history", "last", "promised", "resolved", "due"),
    [
        ((1,), 10, None, None, D + m(40)),
        ((2,), 10, None, None, D + m(130)),
        ((3,), 10, None, None, D + m(10) + h(24)),
        ((4,), 10, None, None, None),  # P4: update when the status changes
        ((1,), 10, 20, None, D + m(20)),  # a sooner promise to the public counts
        ((1,), 10, 90, None, D + m(40)),  # a later promise does not stretch the cadence
        ((1,), 10, None, 30, None),  # resolved: no more updates due
        ((2, (60, 1)), 10, None, None, D + m(75)),  # escalated after the last update
        ((2, (5, 1)), 10, None, None, D + m(40)),  # escalated before it: the P1 cadence
        ((1, (20, 2)), 10, None, None, D + m(130)),  # lowered after the last update
        ((1, (20, 4)), 10, None, None, None),
    ],
)
def test_next_update_due(history, last, promised, resolved, due):
    f = facts(
        *history,
        first_public_at=D + m(10),
        last_public_update_at=D + m(last),
        promised_next_update_at=D + m(promised) if promised else None,
        resolved_at=D + m(resolved) if resolved else None,
    )
    assert next_update_due(f, POLICY, CALENDAR) == due


def test_no_update_is_due_before_the_first_public_one():
    assert next_update_due(facts(1), POLICY, CALENDAR) is None


@pytest.mark.parametrize(
    ("history", "kwargs", "due", "reason"),
    [
        ((1,), {}, D + h(2) + h(48), "mandatory for P1"),
        (
            (2,),
            {},
            eastern(2026, 12, 1, 12, 0),
            "mandatory for P2",
        ),  # 5 business days, holiday skipped
        ((2,), {"is_security": True}, eastern(2026, 12, 1, 12, 0), "security incident"),
        (
            (3,),
            {"recent_on_same_service": 3},
            eastern(2026, 12, 1, 12, 0),
            "recurring: 3 incidents",
        ),
        (
            (3,),
            {"tier": 1, "resolved_at": D + h(9)},
            eastern(2026, 12, 1, 19, 0),
            "breached its target",
        ),
        (
            (4,),
            {"tier": 1, "resolved_at": D + h(25)},
            eastern(2026, 12, 2, 11, 0),
            "breached its target",
        ),
        # Every P1 has one: lowered before resolution, it still owes P1's review, within 48 h.
        ((1, (30, 3)), {}, D + h(2) + h(48), "mandatory: it was P1 from 23 Nov 2026, 10:00 AM EST"),
        ((1, (30, 2)), {}, D + h(2) + h(48), "mandatory: it was P1 from 23 Nov 2026, 10:00 AM EST"),
        (
            (3, (30, 1), (60, 3)),
            {},
            D + h(50),
            "mandatory: it was P1 from 23 Nov 2026, 10:30 AM EST",
        ),  # escalated to P1 for half an hour
        ((2, (30, 3)), {}, None, None),  # a P2 lowered to P3, resolved in time: no review
        ((3,), {"recent_on_same_service": 2}, None, None),
        ((4,), {}, None, None),
    ],
)
def test_review_need_and_due(history, kwargs, due, reason):
    kwargs = {"resolved_at": D + h(2), **kwargs}
    need = review_need(facts(*history, **kwargs), POLICY, CALENDAR)
    assert need.due == due
    if reason:
        assert any(r.startswith(reason) for r in need.reasons)
    else:
        assert not need.required


def test_a_review_has_no_due_date_until_resolution():
    need = review_need(facts(1), POLICY, CALENDAR)
    assert need.required and need.due is None


def test_pending_deadlines_are_the_unmet_ones_most_urgent_first():
    f = facts(
        1, acknowledged_at=D + m(2), first_public_at=D + m(12), last_public_update_at=D + m(12)
    )
    found = deadlines(f, POLICY, CALENDAR)
    assert [d.kind for d in found] == [
        Kind.ACKNOWLEDGE,
        Kind.FIRST_COMMUNICATION,
        Kind.NEXT_UPDATE,
        Kind.TARGET_RESOLUTION,
    ]
    assert [(d.kind, d.due) for d in pending(found)] == [
        (Kind.NEXT_UPDATE, D + m(42)),
        (Kind.TARGET_RESOLUTION, D + h(1)),
    ]
    late = deadlines(facts(1, acknowledged_at=D + m(12)), POLICY, CALENDAR)[0]
    assert late.lateness(D) == m(7)


@pytest.mark.parametrize(("priority", "refused"), [(1, False), (2, False), (3, True), (4, True)])
def test_a_security_incident_is_never_below_p2(priority, refused):
    message = check_security_priority(priority, True, POLICY)
    assert (message is not None) is refused
    assert check_security_priority(priority, False, POLICY) is None


@pytest.mark.parametrize(
    ("review_if_ever", "history", "due", "reasons"),
    [
        ("P2", (2, (30, 3)), eastern(2026, 12, 1, 12, 0),
         ["mandatory: it was P2 from 23 Nov 2026, 10:00 AM EST"]),  # P2's row: 5 business days
        ("P2", (1, (30, 3)), D + h(50), ["mandatory: it was P1 from 23 Nov 2026, 10:00 AM EST"]),
        ("P2", (3, (30, 2), (60, 1), (90, 3)), D + h(50),
         ["mandatory: it was P1 from 23 Nov 2026, 11:00 AM EST"]),  # the highest it held decides
        ("P1", (2, (30, 3)), None, []),
        ("P1", (1,), D + h(50), ["mandatory for P1", "breached its target resolution time"]),
    ],
)  # fmt: skip
def test_an_incident_that_ever_held_the_policys_review_priority_owes_that_rows_review(
    review_if_ever, history, due, reasons
):
    policy = build_policy({"rules": {"review_if_ever": review_if_ever}})
    need = review_need(facts(*history, resolved_at=D + h(2)), policy, CALENDAR)
    assert (need.due, need.reasons) == (due, reasons)


@pytest.mark.parametrize(
    ("history", "due"),
    [
        ((1, (30, 3)), eastern(2026, 12, 1, 12, 0)),  # P1's public report: 5 business days
        ((3,), None),  # no review, so no report
    ],
)
def test_a_lowered_p1_owes_the_public_report_p1_demands(history, due):
    assert report_due(facts(*history, resolved_at=D + h(2)), POLICY, CALENDAR) == due


@pytest.mark.parametrize(
    ("reminder_before", "due", "expected"),
    [
        ("5 minutes", eastern(2026, 11, 23, 14, 0), eastern(2026, 11, 23, 13, 55)),
        ("2 business hours", eastern(2026, 11, 23, 14, 0), eastern(2026, 11, 23, 12, 0)),
        ("2 business hours", eastern(2026, 11, 23, 10, 0), eastern(2026, 11, 20, 16, 0)),  # weekend
        ("2 business hours", eastern(2026, 11, 28, 3, 0), eastern(2026, 11, 27, 15, 0)),  # Sat
        ("1 business day", eastern(2026, 11, 27, 10, 0), eastern(2026, 11, 25, 10, 0)),  # holiday
    ],
)
def test_the_reminder_before_a_deadline_goes_the_policys_reminder_before_earlier(
    reminder_before, due, expected
):
    policy = build_policy({"rules": {"reminder_before": reminder_before}})
    assert reminder_at(due, policy, CALENDAR) == expected


BUSINESS_CADENCE = build_policy({"P2": {**DEFAULT_TABLE["P2"], "update_cadence": "2 business hours"}})


@pytest.mark.parametrize(
    ("history", "now", "policy", "expected"),
    [
        ((1,), D + m(10) + timedelta(seconds=42), POLICY, D + m(40)),  # cadence from now, to the minute
        ((2,), D + m(10), POLICY, D + m(10) + h(2)),
        ((3,), D + m(10), POLICY, D + m(10) + timedelta(days=1)),
        ((4,), D + m(10), POLICY, None),  # no cadence: nothing prefilled
        ((4, (5, 2)), D + m(10), POLICY, D + m(10) + h(2)),  # the priority now decides
        ((2, (5, 1)), D + m(10), POLICY, D + m(40)),
        # 4:30 PM EST on Monday plus 2 business hours: half an hour on Monday, 10:30 on Tuesday.
        ((2,), eastern(2026, 11, 23, 16, 30), BUSINESS_CADENCE, eastern(2026, 11, 24, 10, 30)),
        # Wednesday 4 PM before Thanksgiving: one hour on Wednesday, then Friday 9:00 to 10:00.
        ((2,), eastern(2026, 11, 25, 16, 0), BUSINESS_CADENCE, eastern(2026, 11, 27, 10, 0)),
    ],
)
def test_the_form_prefills_the_latest_next_update_the_cadence_allows(
    history, now, policy, expected
):
    assert prefilled_promise(facts(*history), now, policy, CALENDAR) == expected


@pytest.mark.parametrize(
    ("promise", "eta", "at", "next_by", "update_late", "fix_late"),
    [
        (None, None, m(30), D + m(1) + h(2), False, False),  # the cadence alone
        (m(45), None, m(30), D + m(45), False, False),  # a sooner promise wins
        (m(45), m(60), m(50), D + m(45), True, False),  # the promise passed
        (None, m(60), m(61), D + m(1) + h(2), False, True),  # the expected fix passed
    ],
)
def test_the_public_sees_one_next_update_and_whether_it_is_late(
    promise, eta, at, next_by, update_late, fix_late
):
    published = D + m(1)
    incident = facts(2, first_public_at=published, last_public_update_at=published,
                     promised_next_update_at=D + promise if promise else None)  # fmt: skip
    timing = public_timing(incident, D + eta if eta else None, D + at, POLICY, CALENDAR)
    assert (timing.next_update_by, timing.update_late, timing.resolution_late) == (
        next_by, update_late, fix_late
    )


def test_a_resolved_incident_promises_nothing():
    assert prefilled_promise(facts(2, resolved_at=D + m(5)), D + m(10), POLICY, CALENDAR) is None
    resolved = facts(2, first_public_at=D, last_public_update_at=D, resolved_at=D + m(5))
    timing = public_timing(resolved, D + h(1), D + h(2), POLICY, CALENDAR)
    assert (timing.next_update_by, timing.expected_resolution_at, timing.moments()) == (
        None, None, []
    )
