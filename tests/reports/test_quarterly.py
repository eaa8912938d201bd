"""The quarterly review: quarters in the site's zone (New York in the tests), whose counts are the
sums of their months', with the months as published, the same quarter a year earlier, and the
policy's targets judged."""

from datetime import UTC, date, datetime

import pytest

from statuspage import clock
from statuspage.incidents.models import Impact
from statuspage.reports import monthly, quarterly
from statuspage.reports.publishing import prepare_draft, publish
from statuspage.reports.quarterly import Quarter
from statuspage.users.models import Role
from tests.factories import make_agency, make_past_incident, make_service, make_user

# After Q4 2026 has ended (midnight of 1 January 2027 in New York is 05:00 UTC).
AFTER_Q4 = datetime(2027, 1, 2, 17, 0, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- quarters ------------------------------------------------------------------------------------


def test_a_quarter_runs_from_midnight_to_midnight_in_the_site_zone_across_daylight_saving(app):
    # Q4 2026: 1 October is in EDT, 1 January in EST, and November gives back an hour.
    start, end = quarterly.quarter_window(Quarter(2026, 4))
    assert (start, end) == (utc(2026, 10, 1, 4), utc(2027, 1, 1, 5))
    assert (end - start).total_seconds() / 60 == 92 * 1440 + 60
    # Q1 2027: clocks go forward on 14 March, so the quarter is an hour short of 90 days.
    start, end = quarterly.quarter_window(Quarter(2027, 1))
    assert (start, end) == (utc(2027, 1, 1, 5), utc(2027, 4, 1, 4))
    assert (end - start).total_seconds() / 60 == 90 * 1440 - 60


def test_quarters_follow_one_another_across_the_new_year(app):
    assert Quarter(2027, 1).previous() == Quarter(2026, 4)
    assert Quarter(2026, 4).previous() == Quarter(2026, 3)
    assert Quarter(2027, 1).year_earlier() == Quarter(2026, 1)
    assert Quarter(2026, 4).months == [date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)]
    assert Quarter(2026, 4).spoken == "October to December 2026"
    # 11 PM on New Year's Eve in New York is already 1 January in UTC: still Q4 here.
    assert quarterly.quarter_of(utc(2027, 1, 1, 4, 59)) == Quarter(2026, 4)
    assert quarterly.quarter_of(utc(2027, 1, 1, 5)) == Quarter(2027, 1)
    recent = quarterly.recent_quarters(utc(2027, 1, 1, 5))
    assert [q.name for q in recent[:3]] == ["2027-Q1", "2026-Q4", "2026-Q3"]
    assert len(recent) == quarterly.RECENT_QUARTERS


@pytest.mark.parametrize("text", ["2026-Q1", "2000-Q4", "2099-Q2"])
def test_a_quarter_is_read_from_its_name(text):
    assert Quarter.parse(text).name == text


@pytest.mark.parametrize(
    "text",
    ["2026-Q5", "2026-Q0", "0000-Q1", "9999-Q4", "1999-Q4", "2100-Q1", "2026-q1", "26-Q1",
     "2026-Q1x", "2026-Q10", "2026-11", "", "２０２６-Q1", "2026-Q1\n"],
)  # fmt: skip
def test_anything_else_is_not_a_quarter(text):
    assert Quarter.parse(text) is None


# --- figures -------------------------------------------------------------------------------------


@pytest.fixture
def revenue(app):
    revenue = make_agency("Department of Revenue", "revenue")
    roads = make_agency("Department of Roads", "roads")
    filing = make_service(revenue, "Tax filing", "tax-filing", tier=1)
    permits = make_service(roads, "Road permits", "road-permits", tier=2)
    major = Impact.MAJOR_OUTAGE
    # Two in October, one in November (a security one), none in December: Q4 2026.
    make_past_incident({filing: major}, priority=1, detected_at=utc(2026, 10, 5, 14),
                       acknowledged_at=utc(2026, 10, 5, 14, 3),
                       resolved_at=utc(2026, 10, 5, 14, 40),
                       title="October P1")  # fmt: skip
    make_past_incident({filing: major}, priority=2, detected_at=utc(2026, 10, 20, 14),
                       acknowledged_at=utc(2026, 10, 20, 14, 5),
                       resolved_at=utc(2026, 10, 20, 20), title="October P2")  # fmt: skip
    security = make_past_incident({filing: major}, priority=2, detected_at=utc(2026, 11, 9, 15),
                                  acknowledged_at=utc(2026, 11, 9, 15, 10),
                                  resolved_at=utc(2026, 11, 9, 17), title="November")  # fmt: skip
    security.is_security = True
    # Just before the quarter: 11:30 PM EDT on 30 September.
    make_past_incident({filing: major}, priority=3, detected_at=utc(2026, 10, 1, 3, 30),
                       resolved_at=utc(2026, 10, 1, 5), title="September")  # fmt: skip
    # The same quarter a year earlier, and another agency's incident.
    make_past_incident({filing: major}, priority=2, detected_at=utc(2025, 11, 3, 15),
                       acknowledged_at=utc(2025, 11, 3, 15, 5), resolved_at=utc(2025, 11, 3, 18),
                       title="A year before")  # fmt: skip
    make_past_incident({permits: major}, priority=1, detected_at=utc(2026, 11, 2, 15),
                       title="Roads")  # fmt: skip
    return revenue


def test_a_quarters_counts_are_the_sums_of_its_months(revenue):
    figures = quarterly.compute(Quarter(2026, 4), revenue, AFTER_Q4)
    months = [monthly.compute(month, revenue, AFTER_Q4) for month in Quarter(2026, 4).months]
    assert figures["quarter"] == "2026-Q4"
    assert figures["incidents"]["total"] == 3 == sum(m["incidents"]["total"] for m in months)
    assert [m["incidents"]["total"] for m in months] == [2, 1, 0]
    for priority, number in figures["incidents"]["by_priority"].items():
        assert number == sum(m["incidents"]["by_priority"][priority] for m in months)
    assert figures["incidents"]["by_priority"] == {"P1": 1, "P2": 2, "P3": 0, "P4": 0}
    assert figures["incidents"]["security"] == 1 == sum(m["incidents"]["security"] for m in months)
    for key in ("met", "total"):
        assert figures["resolution"][key] == sum(m["resolution"][key] for m in months)
    # Downtime is the months' downtime joined.
    (service,) = figures["availability"]
    assert service["downtime_minutes"] == pytest.approx(
        sum(m["availability"][0]["downtime_minutes"] for m in months)
    )


def test_the_review_has_each_month_the_year_earlier_and_the_targets(revenue):
    review = quarterly.build(Quarter(2026, 4), revenue, AFTER_Q4)
    assert [item["month"] for item in review["months"]] == ["2026-10", "2026-11", "2026-12"]
    assert [item["incidents"] for item in review["months"]] == [2, 1, 0]
    assert review["year_earlier"]["month"] == "2025-Q4"  # the headline's name of its period
    assert review["year_earlier"]["incidents"] == 1
    assert review["complete"] is True
    assert review["computed_at"] == "2027-01-02T17:00:00Z"
    judged = {row["figure"]: row for row in review["targets"]}
    # Resolved within target: the P1 in 40 min (within 1 h), the P2s in 6 h and 2 h (within
    # 4 h for tier 1: one of two) -> 2 of 3, not the policy's 95%.
    assert judged["resolution_percent"]["value"] == pytest.approx(66.67)
    assert judged["resolution_percent"]["met"] is False
    assert judged["resolution_percent"]["target"] == "At least 95%"
    table = quarterly.targets(review)
    assert table.headers == ["Figure", "Target", "This quarter", "Judged"]
    assert ["Resolved within the target time", "At least 95%", "66.7%", "Not met"] in table.rows


def test_the_earliest_quarter_a_reader_may_ask_for_compares_with_the_year_before_it(revenue):
    review = quarterly.build(Quarter(2000, 1), revenue, AFTER_Q4)
    table = quarterly.comparison(review)
    assert table.headers == ["Figure", "Q1 2000", "Q1 1999"]
    assert table.rows[0] == ["Incidents", "0", "0"]


def test_a_quarter_still_running_shows_the_months_begun_so_far(revenue):
    review = quarterly.build(Quarter(2026, 4), revenue, utc(2026, 11, 20, 12))
    assert review["complete"] is False
    assert [item["month"] for item in review["months"]] == ["2026-10", "2026-11"]


def test_a_published_month_is_read_as_it_was_published(revenue):
    owner = make_user(revenue, Role.SERVICE_OWNER)
    with clock.pinned(utc(2026, 11, 2, 17)):
        publish(prepare_draft(date(2026, 10, 1), revenue), "", by=owner)
    # An incident logged afterwards in October: the quarter counts it; October's report does not.
    filing = revenue.services[0]
    make_past_incident({filing: Impact.DEGRADED_PERFORMANCE}, priority=4,
                       detected_at=utc(2026, 10, 28, 15), title="Late entry")  # fmt: skip
    review = quarterly.build(Quarter(2026, 4), revenue, AFTER_Q4)
    october, november, december = review["months"]
    assert (october["incidents"], october["published"]) == (2, True)
    assert november["published"] is False
    assert review["incidents"]["total"] == 4
    table = quarterly.month_table(review)
    assert table.headers[:2] == ["Month", "Incidents"]
    assert table.rows[0][:2] == ["October 2026", "2"]
    assert table.rows[1][:2] == ["November 2026 (not published)", "1"]
    assert table.summary.startswith("The quarter's months: 1 of 3 published, shown as published")


def test_the_csv_holds_the_quarter_its_months_the_year_earlier_and_the_targets(revenue):
    text = quarterly.to_csv(quarterly.build(Quarter(2026, 4), revenue, AFTER_Q4))
    lines = text.splitlines()
    assert lines[0] == "section,item,measure,value"
    assert lines[1] == "report,Department of Revenue,quarter,2026-Q4"
    assert "incidents,P2,count,2" in lines
    assert "month,2026-10,incidents,2" in lines
    assert "year_earlier,2025-Q4,incidents,1" in lines
    assert "targets,resolution_percent,met,False" in lines
