"""Published reports: each incident's post-incident report, and the monthly reports."""

from __future__ import annotations

import json
import re
from datetime import date

from flask import Response, abort, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..catalog.queries import agency_by_slug
from ..characters import xml_safe_tree
from ..date_range import within
from ..extensions import db
from ..incidents import queries as incident_queries
from ..incidents.references import is_reference
from ..reports import presentation
from ..reports.models import SITE_SLUG, MonthlyReport, MonthlyReportStatus, ReportRevision
from ..reports.publishing import report_for
from ..timefmt import iso_utc
from . import public


def published_revisions(incident_id: int) -> list[ReportRevision]:
    return list(
        db.session.scalars(
            select(ReportRevision)
            .where(ReportRevision.incident_id == incident_id)
            .order_by(ReportRevision.number.desc())
        )
    )


@public.get("/incidents/<ref>/report")
def incident_report(ref: str):
    if not is_reference(ref):
        abort(404)
    incident = incident_queries.public_incident(ref) or abort(404)
    revisions = published_revisions(incident.id) or abort(404)
    return render_template(
        "public/reports/incident_report.html",
        incident=incident,
        revision=revisions[0],
        earlier=revisions[1:],
    )


MONTH_FILE = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})(?:\.(?P<format>csv|json))?$")


def published_months() -> list[MonthlyReport]:
    return list(
        db.session.scalars(
            select(MonthlyReport)
            .where(MonthlyReport.status == MonthlyReportStatus.PUBLISHED.value)
            .options(selectinload(MonthlyReport.agency))
            .order_by(MonthlyReport.month.desc(), MonthlyReport.agency_id.is_not(None),
                      MonthlyReport.scope)
        )
    )  # fmt: skip


@public.get("/reports")
def reports_index():
    by_month: dict[date, list[MonthlyReport]] = {}
    for report in published_months():
        by_month.setdefault(report.month, []).append(report)
    return render_template("public/reports/index.html", by_month=by_month)


@public.get("/reports/<slug>/<name>")
def monthly_report(slug: str, name: str):
    """/reports/<agency-slug>/<YYYY-MM>, with .csv and .json; the slug "all" is the whole site."""
    match = MONTH_FILE.match(name)
    if match is None:
        abort(404)
    try:
        month = date(int(match["year"]), int(match["month"]), 1)
    except ValueError:  # month 13, year 0
        abort(404)
    if not within(month):  # 9999-12 would overflow the month's end
        abort(404)
    agency = None
    if slug != SITE_SLUG:
        agency = agency_by_slug(slug) or abort(404)
    report = report_for(month, agency)
    if report is None or not report.is_published:
        abort(404)
    figures = report.data
    if match["format"] == "json":
        body = json.dumps(
            xml_safe_tree({**figures, "published_at": iso_utc(report.published_at),
                           "commentary": report.commentary}),
            indent=2, sort_keys=True,
        )  # fmt: skip
        return Response(body, content_type="application/json")
    if match["format"] == "csv":
        filename = f"{slug}-{month:%Y-%m}.csv"
        return Response(
            presentation.to_csv(figures),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return render_template(
        "public/reports/monthly.html",
        report=report,
        slug=slug,
        **presentation.page(figures),
    )
