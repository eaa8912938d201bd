"""One adapter puts an incident's facts together from plain values, for the dashboard and jobs
(facts_for) and for the monthly report (its rows read in bulk), so the two cannot drift."""

from datetime import UTC, date, datetime, timedelta

import pytest

from statuspage.extensions import db
from statuspage.incidents.cadence import facts_for, incident_facts
from statuspage.incidents.models import Impact, Incident
from statuspage.policy import current_calendar, current_policy
from statuspage.reports.metrics import month_window
from statuspage.reports.monthly import gather_incidents
from statuspage.timefmt import site_zone
from tests.factories import make_agency, make_past_incident, make_service

D = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
m = lambda n: timedelta(minutes=n)  # noqa: E731
ROW = dict(
    detected_at=D, priority=3, is_security=False, acknowledged_at=None, first_public_at=None,
    resolved_at=None,
)  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "priorities"),
    [
        ([], ((D, 3),)),  # no history recorded: the row's priority since detection
        ([(D, 1)], ((D, 1),)),
        ([(D + m(30), 3), (D, 1)], ((D, 1), (D + m(30), 3))),  # put in time order
        ([(D, 2), (D, 1)], ((D, 2), (D, 1))),  # at the same moment: the order recorded
    ],
)
def test_the_priority_history_is_in_time_order_or_the_rows_priority(changes, priorities):
    assert incident_facts(**ROW, priority_changes=changes, tiers=[]).priorities == priorities


@pytest.mark.parametrize(("tiers", "tier"), [([], 4), ([3, 1, 2], 1), ((t for t in [2, 3]), 2)])
def test_the_tier_is_the_most_critical_affected_services(tiers, tier):
    assert incident_facts(**ROW, priority_changes=[], tiers=tiers).tier == tier


@pytest.mark.parametrize(
    ("updates", "last", "promised"),
    [
        ([], None, None),
        ([(D + m(10), D + m(40))], D + m(10), D + m(40)),
        ([(D + m(50), None), (D + m(10), D + m(40))], D + m(50), None),  # the latest's promise
        ([(D + m(10), D + m(40)), (D + m(50), D + m(70))], D + m(50), D + m(70)),
    ],
)
def test_the_cadence_runs_from_the_latest_public_update_and_its_promise(updates, last, promised):
    facts = incident_facts(**ROW, priority_changes=[], tiers=[], public_updates=updates)
    assert (facts.last_public_update_at, facts.promised_next_update_at) == (last, promised)


@pytest.mark.parametrize(
    ("priority", "lowered", "tiers"),
    [
        (1, (D + m(30), 3), (2, 1)),
        (2, None, (3,)),
        (4, None, (4,)),
    ],
)
def test_the_monthly_report_and_the_dashboard_read_the_same_facts(app, priority, lowered, tiers):
    agency = make_agency()
    services = {make_service(agency, tier=tier): Impact.MAJOR_OUTAGE for tier in tiers}
    made = make_past_incident(
        services, priority=priority, detected_at=D, acknowledged_at=D + m(3),
        first_public_at=D + m(12), resolved_at=D + m(90), lowered=lowered,
    )  # fmt: skip
    _, month = gather_incidents(
        month_window(date(2026, 11, 1), site_zone()), agency, current_policy(), current_calendar()
    )
    from_rows = {incident.id: incident.facts for incident in month}[made.id]
    # The report reads no updates (it has no cadence to run); these incidents have none.
    assert from_rows == facts_for(db.session.get(Incident, made.id), with_recurrence=True)
