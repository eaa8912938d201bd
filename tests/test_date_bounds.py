"""Every place that turns typed text into a date answers a far year with 404 or a form error
naming the years it takes, never 500."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from statuspage import clock
from statuspage.date_range import EARLIEST_YEAR, LATEST_YEAR, within
from statuspage.incidents.models import State
from tests.factories import login, make_agency, make_incident, make_service, make_user

FAR = ["9999-12-31T23:59", "0001-01-01T00:00", "2100-01-01T00:00"]
FAR_MONTHS = ["9999-12", "0001-01", "1000-01", "1999-12", "2100-01"]
YEARS = f"{EARLIEST_YEAR} and {LATEST_YEAR}"


@pytest.fixture
def site(app, client, pinned_now):
    agency = make_agency("Department of Revenue", "revenue")
    service = make_service(agency, "Tax filing", "tax-filing")
    admin = make_user(site_admin=True)
    open_incident = make_incident([service], priority=2, title="Filing slow")
    resolved = make_incident(
        [service], priority=1, title="Filing down", detected_at=clock.now() - timedelta(hours=3),
        updates=(State.INVESTIGATING, State.RESOLVED),
    )  # fmt: skip
    login(client, admin)
    assert client.post(f"/admin/incidents/{resolved.ref}/review/start").status_code == 302
    return {"agency": agency, "service": service, "open": open_incident, "resolved": resolved}


def _incident(site, **changes):
    return {
        "title": "Filing unavailable", "priority": "2", "services": [str(site["service"].id)],
        "source": "monitoring", "impact_description": "x", "detected_at": "2026-11-23T14:10",
        **changes,
    }  # fmt: skip


def _update(**changes):
    return {"status": "investigating", "body": "We are looking into it.", **changes}


def _maintenance(site, **changes):
    return {
        "title": "Upgrade", "services": [str(site["service"].id)],
        "starts_at": "2030-01-02T10:00", "ends_at": "2030-01-02T11:00", **changes,
    }  # fmt: skip


def _review(**changes):
    return {
        "summary": "Down.", "timeline": "2026-11-23 09:00 EST  Alerted.", "apology": "Sorry.",
        "root_cause_category": "configuration", **changes,
    }  # fmt: skip


def _form_cases():
    """(what, the value typed, the form's path, its data)."""
    incident, updates = "/admin/incidents/new", "/admin/incidents/{open}/updates"
    maintenance, review = "/admin/maintenance/new", "/admin/incidents/{resolved}/review"
    for v in FAR:
        for f in ("detected_at", "started_at"):
            yield f, v, incident, lambda s, f=f, v=v: _incident(s, **{f: v})
        for f in ("affected_since", "next_update_at", "expected_resolution_at"):
            yield f, v, updates, lambda s, f=f, v=v: _update(**{f: v})
        yield "resolved_at", v, updates, lambda s, v=v: _update(status="resolved", resolved_at=v)
        for f in ("starts_at", "ends_at"):
            yield f, v, maintenance, lambda s, f=f, v=v: _maintenance(s, **{f: v})
        day = v[:10]
        yield "timeline", day, review, lambda s, d=day: _review(timeline=f"{d} 09:00 EST  Alerted.")
        row = {"description": "Monitor", "owner": "Ann", "due_on": day, "status": "open"}
        yield "due_on", day, review, lambda s, r=row: _review(
            **{f"actions-0-{name}": value for name, value in r.items()}
        )
    for month in FAR_MONTHS:
        yield "month", month, "/admin/reports", lambda s, m=month: {"scope": "site", "month": m}


FORM_CASES = list(_form_cases())


@pytest.mark.parametrize(
    ("what", "value", "path", "data"), FORM_CASES, ids=[f"{c[0]} {c[1]}" for c in FORM_CASES]
)
def test_a_far_date_in_a_form_is_a_form_error(client, site, what, value, path, data):
    path = path.format(open=site["open"].ref, resolved=site["resolved"].ref)
    response = client.post(path, data=data(site))
    assert response.status_code == 400
    # 0001-01 is not even shaped like a month: the form says how to write one.
    assert YEARS in response.text or "for example 2026-10" in response.text


@pytest.mark.parametrize("month", FAR_MONTHS)
def test_a_far_month_in_the_history_filter_is_a_form_error(client, site, month):
    response = client.get(f"/history?month={month}")
    assert response.status_code == 200
    assert YEARS in response.text or "Enter a month as year-month" in response.text


@pytest.mark.parametrize("month", [*FAR_MONTHS, "0000-01", "2026-13"])
@pytest.mark.parametrize("suffix", ["", ".csv", ".json"])
@pytest.mark.parametrize("slug", ["all", "revenue"])
def test_a_far_month_of_monthly_reports_is_not_found(client, site, month, suffix, slug):
    assert client.get(f"/reports/{slug}/{month}{suffix}").status_code == 404


def test_the_jobs_command_refuses_a_far_time(app, site):
    result = app.test_cli_runner().invoke(args=["run-jobs", "--at", "9999-12-31T23:59"])
    assert result.exit_code == 2 and YEARS in result.output


def test_within_the_years():
    assert within(date(EARLIEST_YEAR, 1, 1)) and within(date(LATEST_YEAR, 12, 31))
    assert not within(date(EARLIEST_YEAR - 1, 12, 31)) and not within(date(LATEST_YEAR + 1, 1, 1))
