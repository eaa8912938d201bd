"""The monthly report read from the database, on a fixture month computed by hand: November 2026 in
New York. It has the daylight-saving change (1 November, 43,260 minutes), an outage coming in from
October and one going out into December, a P1 lowered to P2, a maintenance window overlapping an
outage, a recurring service, a published review, and incidents of another agency.

The whole-site and agency reports, their publication (once, after the month ends, frozen), the
job that drafts them, and the public pages and downloads are tested here too.
"""

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from statuspage import clock
from statuspage.extensions import db
from statuspage.incidents.models import Impact, Incident, MissedDeadline
from statuspage.jobs import run_monthly_drafts
from statuspage.maintenance.models import MaintenanceWindow, WindowStatus
from statuspage.reports import monthly
from statuspage.reports.models import MonthlyReport, PostIncidentReport, ReportRevision
from statuspage.reports.publishing import MonthlyReportError, prepare_draft, publish
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_past_incident, make_service, make_user

NOVEMBER = date(2026, 11, 1)
OCTOBER = date(2026, 10, 1)
# When the report is computed: 2 December, after the month and before E's review is due.
AFTER = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
MAJOR, PARTIAL, DEGRADED = Impact.MAJOR_OUTAGE, Impact.PARTIAL_OUTAGE, Impact.DEGRADED_PERFORMANCE


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def miss(incident, kind: str, due: datetime, met: datetime | None) -> None:
    db.session.add(
        MissedDeadline(incident_id=incident.id, kind=kind, due_at=due, recorded_at=due, met_at=met)
    )


def published_review(incident, category: str, lessons: str, at: datetime) -> None:
    report = PostIncidentReport(
        incident_id=incident.id, status="published", created_at=at, updated_at=at
    )
    db.session.add(report)
    db.session.flush()
    content = {"summary": "s", "lessons": lessons, "timeline": [], "actions": []}
    db.session.add(
        ReportRevision(
            report_id=report.id, number=1, incident_id=incident.id,
            root_cause_category=category, content=json.dumps(content), published_at=at,
        )
    )  # fmt: skip
    db.session.commit()


@pytest.fixture
def history(app):
    revenue = make_agency("Department of Revenue", "revenue")
    roads = make_agency("Department of Roads", "roads")
    filing = make_service(revenue, "Tax filing", "tax-filing", tier=1)  # target 99.9%
    refunds = make_service(revenue, "Refund status", "refund-status", tier=2)  # target 99.5%
    permits = make_service(roads, "Road permits", "road-permits", tier=2)
    made = {}
    # A (October): began 10:30 PM EDT on 31 October, resolved 1:10 AM EDT on 1 November.
    made["A"] = make_past_incident(
        {filing: MAJOR}, priority=2, started_at=utc(11, 1, 2, 30), detected_at=utc(11, 1, 2, 40),
        acknowledged_at=utc(11, 1, 2, 50), first_public_at=utc(11, 1, 3), resolved_at=utc(11, 1, 5, 10),
        made_public=True, title="A",
    )  # fmt: skip
    # D1 (October): the first of three incidents on refunds within 30 days.
    made["D1"] = make_past_incident(
        {refunds: DEGRADED}, priority=3, detected_at=utc(10, 28, 15),
        acknowledged_at=utc(10, 28, 15, 10), resolved_at=utc(10, 28, 16), title="D1",
    )  # fmt: skip
    # B: P1 across the clock change (1:00 AM EDT to 2:00 AM EST); 5 min to detect, 7 to
    # acknowledge, first update on time, resolved after 115 min (over P1's 1 h for tier 1).
    made["B"] = make_past_incident(
        {filing: MAJOR}, priority=1, started_at=utc(11, 1, 5), detected_at=utc(11, 1, 5, 5),
        acknowledged_at=utc(11, 1, 5, 12), first_public_at=utc(11, 1, 5, 15),
        resolved_at=utc(11, 1, 7), title="B",
    )  # fmt: skip
    # C: P1 lowered to P2 after 10 min on a tier-2 service. First update at 25 min (late for P1,
    # on time for P2) and resolved after 5 h (over P1's 4 h, within P2's 8 h).
    made["C"] = make_past_incident(
        {refunds: PARTIAL}, priority=1, lowered=(utc(11, 9, 15, 10), 2),
        detected_at=utc(11, 9, 15), acknowledged_at=utc(11, 9, 15, 4),
        first_public_at=utc(11, 9, 15, 25), resolved_at=utc(11, 9, 20), title="C",
    )  # fmt: skip
    made["D2"] = make_past_incident(
        {refunds: DEGRADED}, priority=3, detected_at=utc(11, 5, 15),
        acknowledged_at=utc(11, 5, 15, 30), resolved_at=utc(11, 5, 16), title="D2",
    )  # fmt: skip
    made["D3"] = make_past_incident(
        {refunds: DEGRADED}, priority=3, detected_at=utc(11, 20, 15),
        acknowledged_at=utc(11, 20, 15, 20), title="D3",
    )  # fmt: skip
    # E: 11:00 PM EST on 30 November into December; first update 15 min late.
    made["E"] = make_past_incident(
        {filing: MAJOR}, priority=2, started_at=utc(12, 1, 4), detected_at=utc(12, 1, 4),
        acknowledged_at=utc(12, 1, 4, 10), first_public_at=utc(12, 1, 4, 45),
        resolved_at=utc(12, 1, 6), title="E",
    )  # fmt: skip
    made["G"] = make_past_incident(
        {permits: DEGRADED}, priority=4, detected_at=utc(11, 15, 15),
        acknowledged_at=utc(11, 15, 16), resolved_at=utc(11, 15, 18), title="G",
    )  # fmt: skip
    miss(made["C"], "next_update", utc(11, 9, 17, 25), utc(11, 9, 17, 40))  # 15 min late
    miss(made["B"], "next_update", utc(11, 1, 5, 45), utc(11, 1, 6, 10))  # 25 min late
    miss(made["A"], "next_update", utc(11, 1, 3, 0), utc(11, 1, 3, 20))  # due in October
    miss(made["D3"], "acknowledge", utc(11, 20, 16), None)  # not a cadence breach
    for starts, ends, status in (
        (utc(11, 1, 6, 30), utc(11, 1, 8), WindowStatus.COMPLETED),  # 30 min inside B's outage
        (utc(11, 10, 6), utc(11, 10, 8), WindowStatus.CANCELLED),
    ):
        window = MaintenanceWindow(
            agency_id=revenue.id, title="Upgrade", starts_at=starts, ends_at=ends,
            status=status.value, created_at=starts, updated_at=starts,
        )  # fmt: skip
        window.services = [filing]
        db.session.add(window)
    db.session.commit()
    published_review(made["B"], "configuration", "Watch certificate expiry.", utc(11, 3, 15))
    return {"revenue": revenue, "roads": roads, "incidents": made}


@pytest.fixture
def november(history):
    return monthly.build(NOVEMBER, history["revenue"], AFTER, frozen={})


def test_the_period_is_the_site_months_real_length(november):
    assert november["period"] == {
        "start": "2026-11-01T04:00:00Z",
        "end": "2026-12-01T05:00:00Z",
        "minutes": 43_260.0,
        "time_zone": "America/New_York",
    }


def test_incidents_count_in_the_month_they_were_detected(november):
    # B, C, D2, D3, E; A and D1 were detected in October (local time), G is another agency's.
    assert november["incidents"] == {
        "total": 5,
        "by_priority": {"P1": 1, "P2": 2, "P3": 2, "P4": 0},  # C counts at its final P2
        "security": 0,
        "shared": 0,  # no shared platform incident (see tests/internal/test_shared_incidents.py)
    }


def test_response_times_median_and_90th_percentile(november):
    assert november["response_times"] == {
        "detect": {"count": 2, "mean": 2.5, "median": 2.5, "p90": 4.5},  # B 5, E 0
        "assign": {"count": 0, "mean": None, "median": None, "p90": None},  # none assigned
        "acknowledge": {"count": 5, "mean": 14.2, "median": 10.0, "p90": 26.0},  # 4 7 10 20 30
        # 60 115 120 300 (D3 open): mean 595 / 4
        "resolve": {"count": 4, "mean": 148.75, "median": 117.5, "p90": 246.0},
    }


def test_resolved_within_target_after_the_de_escalation(november):
    # B breached (115 min > 1 h); C met at P2 (5 h < 8 h); D2 and E met; D3 is not resolved.
    assert november["resolution"] == {"met": 3, "total": 4, "percent": 75.0}


def test_communication_timeliness(november):
    communication = november["communication"]
    # B, C (on time as a P2) and E (15 min late) are judged; P3s have no deadline.
    assert communication["first_on_time"] == {"met": 2, "total": 3, "percent": 66.67}
    assert communication["first_late_by"] == {"count": 1, "mean": 15.0, "median": 15.0, "p90": 15.0}
    # C 15 min and B 25 min late; A's miss was due in October, D3's was an acknowledgement.
    assert communication["cadence_breaches"] == 2
    assert communication["cadence_late_by"] == {
        "count": 2, "mean": 20.0, "median": 20.0, "p90": 24.0,
    }  # fmt: skip


def test_reviews_published_on_time(november):
    # Owed by B (published on 3 November, on time), C (due mid-November, not published) and E
    # (due in December: not judged yet). D3 is still open; D2 is a single P3.
    assert november["reviews"] == {
        "required": 3,
        "published": 1,
        "on_time": {"met": 1, "total": 2, "percent": 50.0},
    }


def test_recurrence_rate_and_the_review_trigger_apart(november):
    # Refunds: D1 (28 Oct), D2 (5 Nov), C (9 Nov), D3 (20 Nov). C is the third within 30 days,
    # D3 the fourth; B and E have one other filing incident each within 30 days: the "3 in 30
    # days" review trigger counts C and D3.
    assert november["review_trigger"] == {"recurring": 2}
    # Only B has a published cause (configuration) and nothing before it shares one: no repeat.
    assert november["recurrence"] == {"repeats": 0, "total": 5, "percent": 0.0, "causes_known": 1}


def test_root_cause_distribution(november):
    counts = {item["category"]: item["count"] for item in november["root_causes"]}
    assert counts["configuration"] == 1
    assert counts["not_reviewed"] == 4
    assert sum(counts.values()) == 5


def test_availability_per_service_against_its_target(november):
    filing, refunds = november["availability"]
    # Filing: A's last 70 min and B merge into 04:00-07:00 UTC (180 min), plus E's first 60 min;
    # maintenance 06:30-08:00 is 90 min, of which 30 were already down.
    assert filing == {
        "service": "tax-filing", "name": "Tax filing", "tier": 1, "target": 99.9,
        "percent": 99.4452, "downtime_minutes": 240.0, "maintenance_minutes": 60.0,
        "met_target": False,
    }  # fmt: skip
    assert refunds["percent"] == 100.0 and refunds["met_target"] and refunds["target"] == 99.5
    assert november["availability_overall"] == 99.7226  # 1 - 240 / (2 x 43,260)


def test_notable_incidents_link_to_their_reviews(november):
    assert [(item["ref"][-3:] and item["title"], item["has_report"]) for item in november["notable"]] == [
        ("B", True), ("C", False), ("E", False),
    ]  # fmt: skip
    assert november["notable"][0]["lessons"] == "Watch certificate expiry."
    assert november["notable"][0]["root_cause"] == "Configuration"


def test_the_trend_compares_with_the_months_before(november):
    assert [item["month"] for item in november["trend"]] == [
        "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11",
    ]  # fmt: skip
    october = november["trend"][4]
    # A (150 min, within P2's 4 h) and D1 (60 min); A's first 90 min of outage were in October.
    assert october == {
        "month": "2026-10", "incidents": 2, "resolution_percent": 100.0, "mttr_median": 105.0,
        "mttr_mean": 105.0, "first_on_time_percent": 100.0, "availability": 99.8992,
        "acknowledgement_percent": 100.0, "recurrence_percent": 0.0,
    }  # fmt: skip
    assert november["trend"][0]["incidents"] == 0 and november["trend"][0]["availability"] == 100.0


def test_the_whole_site_report_adds_every_agency(history):
    site = monthly.build(NOVEMBER, None, AFTER, frozen={})
    assert site["incidents"]["by_priority"] == {"P1": 1, "P2": 2, "P3": 2, "P4": 1}
    assert [item["service"] for item in site["availability"]] == [
        "tax-filing", "refund-status", "road-permits",
    ]  # fmt: skip
    assert site["scope"] == {"kind": "site", "slug": "all", "name": "All agencies"}


# --- publication --------------------------------------------------------------------------------


@pytest.fixture
def owner(history):
    return make_user(history["revenue"], Role.SERVICE_OWNER)


def test_a_month_that_has_not_ended_is_not_published(history, owner):
    with clock.pinned(utc(11, 30, 12)):
        draft = prepare_draft(NOVEMBER, history["revenue"])
        with pytest.raises(MonthlyReportError, match="November 2026 has not ended yet"):
            publish(draft, "", by=owner)
    db.session.rollback()
    assert not db.session.get(MonthlyReport, draft.id).is_published


def test_a_published_month_is_frozen_and_not_published_twice(history, owner):
    with clock.pinned(AFTER):
        report = publish(prepare_draft(NOVEMBER, history["revenue"]), "Notes", by=owner)
        frozen = report.figures
        # Later edits to the history do not reach the published figures.
        incident = history["incidents"]["B"]
        incident.resolved_at = incident.detected_at + timedelta(minutes=30)
        db.session.commit()
        with pytest.raises(MonthlyReportError, match="already published on 2 Dec 2026"):
            publish(report, "again", by=owner)
        db.session.rollback()
        with pytest.raises(MonthlyReportError, match="A published report never changes"):
            prepare_draft(NOVEMBER, history["revenue"])
    db.session.rollback()
    assert db.session.get(MonthlyReport, report.id).figures == frozen


def test_the_trend_reads_earlier_months_as_they_were_published(history, owner):
    with clock.pinned(AFTER):
        publish(prepare_draft(OCTOBER, history["revenue"]), "", by=owner)
        db.session.delete(db.session.get(Incident, history["incidents"]["D1"].id))
        db.session.commit()
        figures = monthly.build(
            NOVEMBER, history["revenue"], AFTER,
            frozen={"2026-10": db.session.scalars(select(MonthlyReport)).one().data},
        )  # fmt: skip
    assert figures["trend"][4]["incidents"] == 2  # as published, though D1 is gone now


def test_the_job_drafts_last_month_once_for_each_agency_and_the_site(history):
    with clock.pinned(utc(12, 1, 6)):
        assert run_monthly_drafts(utc(12, 1, 6)) == 3
        assert run_monthly_drafts(utc(12, 1, 7)) == 0
    scopes = db.session.scalars(select(MonthlyReport.scope).order_by(MonthlyReport.scope))
    months = set(db.session.scalars(select(MonthlyReport.month)))
    assert len(list(scopes)) == 3 and months == {NOVEMBER}


# --- the public pages and downloads ------------------------------------------------------------


def test_the_owner_publishes_and_the_report_is_public_with_its_downloads(client, history, owner):
    with clock.pinned(AFTER):
        draft = prepare_draft(NOVEMBER, history["revenue"])
        assert client.get("/reports/revenue/2026-11").status_code == 404  # a draft is not public
        login(client, owner)
        response = client.post(
            f"/admin/reports/{draft.id}/publish", data={"commentary": "We are fixing **alerts**."}
        )
        assert response.status_code == 302
        page = client.get("/reports/revenue/2026-11").text
        listing = client.get("/reports").text
        table = client.get("/reports/revenue/2026-11.csv")
        data = client.get("/reports/revenue/2026-11.json").json
    assert "Department of Revenue: November 2026" in page
    assert "3 of 4 resolved incidents (75.0%)" in page
    assert "<strong>alerts</strong>" in page
    assert 'role="img"' in page and '<th scope="row">Tax filing</th>' in page
    assert "1 service missed the availability target: Tax filing." in page
    assert "/reports/revenue/2026-11" in listing
    rows = list(csv.reader(io.StringIO(table.text)))
    assert rows[0] == ["section", "item", "measure", "value"]
    assert ["resolution_within_target", "all", "percent", "75.0"] in rows
    assert ["availability", "tax-filing", "percent", "99.4452"] in rows
    assert table.headers["Content-Disposition"] == 'attachment; filename="revenue-2026-11.csv"'
    assert data["resolution"] == {"met": 3, "total": 4, "percent": 75.0}
    assert data["commentary"] == "We are fixing **alerts**."


def test_only_the_agencys_owner_publishes_and_the_site_report_is_the_admins(client, history):
    lead = make_user(history["revenue"], Role.COMMUNICATIONS_LEAD)
    stranger = make_user(history["roads"], Role.SERVICE_OWNER)
    with clock.pinned(AFTER):
        draft = prepare_draft(NOVEMBER, history["revenue"])
        site = prepare_draft(NOVEMBER, None)
        login(client, lead)
        assert client.get(f"/admin/reports/{draft.id}").status_code == 200
        assert client.post(f"/admin/reports/{draft.id}/publish").status_code == 403
        client.post("/admin/logout")
        login(client, stranger)
        assert client.get(f"/admin/reports/{draft.id}").status_code == 403
        assert client.post(f"/admin/reports/{site.id}/publish").status_code == 403
        response = client.post("/admin/reports", data={"scope": "site", "month": "2026-11"})
        assert response.status_code == 400  # not a choice for an agency's owner


def test_preparing_a_draft_of_a_published_month_or_a_bad_month_explains_why(client, history, owner):
    with clock.pinned(AFTER):
        publish(prepare_draft(NOVEMBER, history["revenue"]), "", by=owner)
        login(client, owner)
        scope = f"agency:{history['revenue'].id}"
        response = client.post("/admin/reports", data={"scope": scope, "month": "2026-11"})
        assert response.status_code == 400
        assert "was already published on 2 Dec 2026" in response.text
        for typed in ("Nov 2026", "0000-01", "2026-13"):
            response = client.post("/admin/reports", data={"scope": scope, "month": typed})
            assert response.status_code == 400
            assert "Enter the month as year and month, for example 2026-10." in response.text
            assert f'value="{typed}"' in response.text


def test_the_history_filter_explains_a_month_that_cannot_exist(client, history):
    response = client.get("/history?month=0000-01")
    assert response.status_code == 200  # was a 500 before the month pattern was shared
    assert "Enter a month as year-month, for example 2026-03." in response.text


@pytest.mark.parametrize(
    "path",
    ["/reports/revenue/2026-13", "/reports/revenue/0000-01", "/reports/nope/2026-11",
     "/reports/revenue/2026-11.xml", "/reports/revenue/november", "/reports/all/2026-11"],
)  # fmt: skip
def test_a_month_that_is_not_published_or_not_a_month_is_not_found(client, history, path):
    with clock.pinned(AFTER):
        prepare_draft(NOVEMBER, None)  # a draft of the site's report: still not public
        assert client.get(path).status_code == 404
