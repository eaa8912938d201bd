"""The quarterly review pages: staff of an agency read its quarters (and download them); another
agency's, a quarter that is not one or has not begun, are not found."""

from datetime import UTC, datetime

import pytest
from flask import current_app
from flask import url_for as flask_url_for

from statuspage import clock
from statuspage.incidents.models import Impact
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_past_incident, make_service, make_user

# Thursday 14 January 2027, 10 AM EST: Q4 2026 has ended, Q1 2027 is running.
NOW = datetime(2027, 1, 14, 15, 0, tzinfo=UTC)


@pytest.fixture
def agencies(app):
    with clock.pinned(NOW):
        revenue = make_agency("Department of Revenue", "revenue")
        roads = make_agency("Department of Roads", "roads")
        filing = make_service(revenue, "Tax filing", "tax-filing")
        permits = make_service(roads, "Road permits", "road-permits")
        for day in (5, 19):
            make_past_incident(
                {filing: Impact.MAJOR_OUTAGE}, priority=2,
                detected_at=datetime(2026, 10, day, 14, tzinfo=UTC),
                acknowledged_at=datetime(2026, 10, day, 14, 5, tzinfo=UTC),
                resolved_at=datetime(2026, 10, day, 15, tzinfo=UTC), title="Filing down",
            )  # fmt: skip
        make_past_incident({permits: Impact.MAJOR_OUTAGE}, priority=1,
                           detected_at=datetime(2026, 11, 2, 15, tzinfo=UTC),
                           title="Permits down")  # fmt: skip
    return {"revenue": revenue, "roads": roads}


@pytest.fixture
def viewer(agencies):
    return make_user(agencies["revenue"], Role.VIEWER, email="viewer@revenue.gov")


@pytest.fixture(autouse=True)
def pinned():
    with clock.pinned(NOW):
        yield


def url_for(endpoint: str, **values) -> str:
    with current_app.test_request_context():
        return flask_url_for(endpoint, **values)


def page(client, slug: str, quarter: str):
    return client.get(url_for("admin.quarterly_report", slug=slug, quarter=quarter))


def test_the_list_shows_the_readers_agencies_and_the_recent_quarters(client, agencies, viewer):
    login(client, viewer)
    html = client.get(url_for("admin.quarterly_reports")).get_data(as_text=True)
    assert "Department of Revenue" in html and "Department of Roads" not in html
    assert url_for("admin.quarterly_report", slug="revenue", quarter="2027-Q1") in html
    assert url_for("admin.quarterly_report", slug="revenue", quarter="2026-Q4") in html
    assert "Q1 2027<span" in html and "(January to March 2027), so far" in html


def test_the_monthly_reports_page_links_to_the_quarterly_reviews(client, agencies, viewer):
    login(client, viewer)
    html = client.get(url_for("admin.monthly_reports")).get_data(as_text=True)
    assert url_for("admin.quarterly_reports") in html


def test_a_viewer_reads_their_agencys_quarter(client, agencies, viewer):
    login(client, viewer)
    response = page(client, "revenue", "2026-Q4")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Department of Revenue: Q4 2026</h1>" in html
    assert "so far" not in html.split("<h1")[1].split("</h1>")[0]
    assert "October to December 2026" in html
    # The three months, the year earlier, the targets in words.
    assert '<th scope="row">October 2026 (not published)</th><td>2</td>' in html
    assert '<th scope="row">December 2026 (not published)</th><td>0</td>' in html
    assert '<caption id="year-earlier-caption">Q4 2026 and Q4 2025</caption>' in html
    assert '<th scope="row">Incidents</th><td>2</td><td>0</td>' in html
    assert "<p>3 of 4 targets met.</p>" in html
    assert ("Resolved within the target time</th><td>At least 95%</td><td>100.0%</td>"
            "<td>Met</td>") in html  # fmt: skip
    assert ("Mean time to resolve</th><td>Down by at least 20% on a year earlier</td>"
            "<td>1\u00a0h</td><td>Not measurable</td>") in html  # fmt: skip
    assert "Permits down" not in html
    # The sections it shares with the monthly report speak of the quarter.
    assert "The quarter runs from midnight to midnight" in html
    assert "2 incidents in the quarter" in html and "this month" not in html


def test_a_quarter_not_yet_ended_says_so_far_with_the_time_it_was_computed(
    client, agencies, viewer
):
    login(client, viewer)
    html = page(client, "revenue", "2027-Q1").get_data(as_text=True)
    assert "Department of Revenue: Q1 2027 so far</h1>" in html
    assert '<time datetime="2027-01-14T15:00:00Z">14 Jan 2027, 10:00 AM EST</time>' in html


def test_the_quarter_downloads_as_csv(client, agencies, viewer):
    login(client, viewer)
    response = page(client, "revenue", "2026-Q4.csv")
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert 'filename="revenue-2026-Q4.csv"' in response.headers["Content-Disposition"]
    assert "report,Department of Revenue,quarter,2026-Q4" in response.get_data(as_text=True)


def test_another_agencys_quarter_is_not_found(client, agencies, viewer):
    login(client, viewer)
    assert page(client, "roads", "2026-Q4").status_code == 404
    assert page(client, "roads", "2026-Q4.csv").status_code == 404
    assert page(client, "no-such-agency", "2026-Q4").status_code == 404


def test_a_site_administrator_reads_every_agencys_quarter(client, agencies):
    login(client, make_user(site_admin=True))
    response = page(client, "roads", "2026-Q4")
    assert response.status_code == 200
    assert "Department of Roads: Q4 2026</h1>" in response.get_data(as_text=True)


def test_someone_without_a_role_in_any_agency_is_refused(client, agencies):
    login(client, make_user())
    assert page(client, "revenue", "2026-Q4").status_code == 403


def test_a_stranger_is_sent_to_sign_in(client, agencies):
    response = page(client, "revenue", "2026-Q4")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "quarter",
    ["2026-Q5", "2026-Q0", "0000-Q1", "9999-Q4", "1999-Q1", "2026-q4", "2026-Q4.pdf",
     "2026-Q4.csv.csv", "2026-10", "Q4-2026", "2027-Q2", "2099-Q4", "%00", "2026-Q4%0A"],
)  # fmt: skip
def test_a_quarter_that_is_not_one_or_has_not_begun_is_not_found(client, agencies, viewer, quarter):
    login(client, viewer)
    response = client.get(f"/admin/reports/quarterly/revenue/{quarter}")
    assert response.status_code == 404
