"""The monthly report counts duplicates, false alarms and service requests apart and leaves them
out of every other figure; exercises (drills) are never in it."""

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update

from statuspage import clock
from statuspage.extensions import db
from statuspage.incidents.models import Impact, MissedDeadline
from statuspage.reports import monthly
from statuspage.reports.models import MonthlyReport
from statuspage.reports.publishing import prepare_draft, publish
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_past_incident, make_service, make_user

NOVEMBER = date(2026, 11, 1)
AFTER = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
MAJOR = Impact.MAJOR_OUTAGE


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def month(app):
    revenue = make_agency("Department of Revenue", "revenue")
    filing = make_service(revenue, "Tax filing", "tax-filing", tier=1)
    real = make_past_incident(
        {filing: MAJOR}, priority=2, detected_at=utc(10, 15), acknowledged_at=utc(10, 15, 10),
        first_public_at=utc(10, 15, 20), resolved_at=utc(10, 16), title="Real",
    )  # fmt: skip

    def apart(title, priority, day, *, triage=None, exercise=False, duplicate_of=None):
        incident = make_past_incident(
            {filing: MAJOR}, priority=priority, detected_at=utc(day, 15),
            acknowledged_at=utc(day, 16), first_public_at=utc(day, 17), resolved_at=utc(day, 23),
            title=title,
        )  # fmt: skip
        incident.triage, incident.is_exercise = triage, exercise
        incident.duplicate_of_id = duplicate_of.id if duplicate_of else None
        # A late next update on each: only the real incident's breaches may count.
        db.session.add(MissedDeadline(incident_id=incident.id, kind="next_update",
                                      due_at=utc(day, 18), recorded_at=utc(day, 18),
                                      met_at=utc(day, 19)))  # fmt: skip
        db.session.commit()
        return incident

    apart("False alarm", 1, 12, triage="false_alarm")
    apart("Copy", 2, 10, triage="duplicate", duplicate_of=real)
    apart("Request", 3, 14, triage="service_request")
    apart("Second request", 3, 15, triage="service_request")
    apart("Drill", 1, 16, exercise=True)
    apart("Drill false alarm", 2, 17, exercise=True, triage="false_alarm")
    return {"revenue": revenue, "real": real}


def test_only_real_incidents_are_counted_and_the_rest_apart(month):
    figures = monthly.build(NOVEMBER, month["revenue"], AFTER, frozen={})
    assert figures["incidents"]["total"] == 1
    assert figures["incidents"]["by_priority"] == {"P1": 0, "P2": 1, "P3": 0, "P4": 0}
    assert figures["triaged"] == {"duplicate": 1, "false_alarm": 1, "service_request": 2}
    assert figures["response_times"]["resolve"] == {
        "count": 1, "mean": 60.0, "median": 60.0, "p90": 60.0,
    }  # fmt: skip
    assert figures["resolution"] == {"met": 1, "total": 1, "percent": 100.0}
    assert figures["communication"]["first_on_time"]["total"] == 1
    assert figures["communication"]["cadence_breaches"] == 0
    assert figures["reviews"]["required"] == 1  # the real P2's; none for the rest
    assert figures["review_trigger"] == {"recurring": 0}
    assert figures["recurrence"]["repeats"] == 0 and figures["recurrence"]["total"] == 1
    (filing,) = figures["availability"]
    assert filing["downtime_minutes"] == 60.0  # the real outage only
    assert [item["title"] for item in figures["notable"]] == ["Real"]
    assert figures["trend"][-1]["incidents"] == 1
    site = monthly.build(NOVEMBER, None, AFTER, frozen={})
    assert site["incidents"]["total"] == 1 and site["triaged"]["service_request"] == 2


def test_the_counts_are_on_the_page_and_in_the_downloads(client, month):
    owner = make_user(month["revenue"], Role.SERVICE_OWNER)
    with clock.pinned(AFTER):
        publish(prepare_draft(NOVEMBER, month["revenue"]), "", by=owner)
        login(client, owner)
        page = client.get("/reports/revenue/2026-11").text
        table = client.get("/reports/revenue/2026-11.csv").text
        data = client.get("/reports/revenue/2026-11.json").json
    assert "Not incidents after all" in page
    assert "4: 1 duplicate, 1 false alarm, 2 service requests" in page
    assert "Exercises (drills) are never counted." in page
    rows = list(csv.reader(io.StringIO(table)))
    assert ["triaged", "service_request", "count", "2"] in rows
    assert ["triaged", "duplicate", "count", "1"] in rows
    assert data["triaged"] == {"duplicate": 1, "false_alarm": 1, "service_request": 2}
    assert "Drill" not in page


def test_a_report_published_before_the_counts_existed_still_renders(client, month):
    owner = make_user(month["revenue"], Role.SERVICE_OWNER)
    with clock.pinned(AFTER):
        report = publish(prepare_draft(NOVEMBER, month["revenue"]), "", by=owner)
        figures = report.data
        figures.pop("triaged")
        # As an older release froze it (past the guard that keeps published reports as they are).
        db.session.execute(update(MonthlyReport).where(MonthlyReport.id == report.id)
                           .values(figures=json.dumps(figures)))  # fmt: skip
        db.session.commit()
        response = client.get("/reports/revenue/2026-11")
        table = client.get("/reports/revenue/2026-11.csv").text
    assert response.status_code == 200 and "Not incidents after all" not in response.text
    assert "triaged" not in table
