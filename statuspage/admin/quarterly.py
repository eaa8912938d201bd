"""Quarterly reviews for the agency CIO: the recent quarters of the agencies the reader works in,
each computed when it is read (and as a CSV download)."""

from __future__ import annotations

import re

from flask import Response, abort, g, render_template
from flask_login import current_user
from sqlalchemy import select

from .. import clock
from ..catalog.models import Agency
from ..extensions import db
from ..reports import quarterly
from ..reports.quarterly import Quarter
from ..users.models import Role
from . import admin
from .permissions import agency_ids_for, allow

QUARTER_FILE = re.compile(r"(?P<quarter>[^.]+)(?:\.(?P<format>csv))?")


@admin.get("/reports/quarterly")
@allow.signed_in
def quarterly_reports():
    agencies = db.session.scalars(
        select(Agency)
        .where(Agency.id.in_(agency_ids_for(current_user, Role.VIEWER)))
        .order_by(Agency.display_order, Agency.name)
    ).all()
    now = clock.now()
    return render_template(
        "admin/quarterly/index.html",
        agencies=agencies,
        quarters=quarterly.recent_quarters(now),
        running=quarterly.quarter_of(now),
    )


@admin.get("/reports/quarterly/<slug>/<quarter>")
@allow.role(Role.VIEWER, any_agency=True)
def quarterly_report(slug: str, quarter: str):
    """/admin/reports/quarterly/<agency-slug>/<YYYY>-Q<n>, with .csv. An agency the reader has
    no role in is not found, as a quarter that is not one, or has not begun, is not."""
    match = QUARTER_FILE.fullmatch(quarter)
    period = Quarter.parse(match["quarter"]) if match else None
    agency = db.session.scalars(select(Agency).where(Agency.slug == slug)).first()
    if agency is None or agency.id not in g.agency_ids:
        abort(404)
    now = clock.now()
    if period is None or not quarterly.has_begun(period, now):
        abort(404)
    figures = quarterly.build(period, agency, now)
    if match["format"] == "csv":
        return Response(
            quarterly.to_csv(figures),
            content_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{agency.slug}-{period.name}.csv"'
            },
        )
    return render_template(
        "admin/quarterly/report.html",
        agency=agency,
        quarter=period,
        computed_at=now,
        **quarterly.page(figures),
    )
