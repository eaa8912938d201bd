"""Monthly reports: drafted after the month ends, refreshed on request, published once by the
agency's service owner (a site administrator for the whole site), then never changed."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit, clock, duties
from ..catalog.models import Agency
from ..extensions import db
from ..internal import decisions
from ..timefmt import format_absolute, site_zone
from ..users.models import Role, User
from . import monthly
from .models import MonthlyReport, MonthlyReportStatus, scope_for

PUBLISHER = Role.SERVICE_OWNER


class MonthlyReportError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def report_for(month: date, agency: Agency | None) -> MonthlyReport | None:
    return db.session.scalars(
        select(MonthlyReport).where(
            MonthlyReport.scope == scope_for(agency), MonthlyReport.month == month
        )
    ).first()


def frozen_months(agency: Agency | None, before: date) -> dict[str, dict]:
    """The published figures of the scope's earlier months, for the trend."""
    return {
        f"{report.month:%Y-%m}": report.data
        for report in db.session.scalars(
            select(MonthlyReport).where(
                MonthlyReport.scope == scope_for(agency),
                MonthlyReport.status == MonthlyReportStatus.PUBLISHED.value,
                MonthlyReport.month < before,
                MonthlyReport.month >= date(before.year - 1, before.month, 1),
            )
        )
    }


def _already_published(report: MonthlyReport) -> MonthlyReportError:
    return MonthlyReportError(
        f"The {monthly.month_label(report.month)} report for {_scope_name(report.agency)} was "
        f"already published on {format_absolute(report.published_at)}. A published report never "
        "changes."
    )


def _scope_name(agency: Agency | None) -> str:
    return agency.name if agency is not None else "the whole site"


def _figures(month: date, agency: Agency | None, now: datetime) -> str:
    data = monthly.build(month, agency, now, frozen_months(agency, month))
    return json.dumps(data, sort_keys=True)


def prepare_draft(month: date, agency: Agency | None, *, now: datetime | None = None,
                  by: User | None = None) -> MonthlyReport:  # fmt: skip
    """A draft with fresh figures (created, or refreshed when one exists). A month still running
    may be drafted to preview it; it cannot be published before it ends."""
    now = now or clock.now()
    report = report_for(month, agency)
    if report is not None and report.is_published:
        raise _already_published(report)
    figures = _figures(month, agency, now)
    if report is None:
        report = MonthlyReport(
            scope=scope_for(agency),
            agency_id=agency.id if agency else None,
            month=month,
            status=MonthlyReportStatus.DRAFT.value,
            commentary="",
            figures=figures,
            computed_at=now,
        )
        db.session.add(report)
    else:
        report.figures = figures
        report.computed_at = now
    audit.record(
        "monthly_report_drafted",
        actor=by,
        agency_id=agency.id if agency else None,
        month=f"{month:%Y-%m}",
    )
    try:
        decisions.monthly_draft_waiting(report, PUBLISHER, by=by)  # once per draft (the key)
        db.session.commit()
    except IntegrityError:  # another process drafted it at the same moment: theirs stands
        db.session.rollback()
        return report_for(month, agency)
    return report


def publish(report: MonthlyReport, commentary: str, *, by: User,
            now: datetime | None = None) -> MonthlyReport:  # fmt: skip
    """Freeze the month: its figures are computed once more, now, and kept as they are."""
    now = now or clock.now()
    # Lock the row, so two owners pressing Publish together publish once.
    db.session.refresh(report, with_for_update=True)
    if report.is_published:
        raise _already_published(report)
    drafted_by = duties.audited_actors(
        ("monthly_report_drafted",), mentioning=f'"month": "{report.month:%Y-%m}"',
        agency_id=report.agency_id,
    )  # fmt: skip
    if refused := duties.refusal(by, drafted_by, PUBLISHER, did="draft this report",
                                 decide="publish it"):  # fmt: skip
        raise MonthlyReportError(refused)
    _, end = monthly.month_window(report.month, site_zone())
    if now < end:
        raise MonthlyReportError(
            f"{monthly.month_label(report.month)} has not ended yet: its report can be published "
            f"from {format_absolute(end)}."
        )
    figures = _figures(report.month, report.agency, now)
    # One UPDATE: a published row never changes again, so it must not be written in two flushes.
    with db.session.no_autoflush:
        report.figures = figures
        report.computed_at = now
        report.commentary = commentary
        report.status = MonthlyReportStatus.PUBLISHED.value
        report.published_at = now
        report.published_by_id = by.id
    audit.record(
        "monthly_report_published",
        actor=by,
        agency_id=report.agency_id,
        month=f"{report.month:%Y-%m}",
    )
    decisions.monthly_published(report, by=by)
    db.session.commit()
    return report


def draft_last_month(now: datetime) -> list[MonthlyReport]:
    """The job: last month's draft for every agency and the whole site, once (idempotent)."""
    month = monthly.previous_month(monthly.month_of(now, site_zone()))
    drafted = []
    scopes: list[Agency | None] = [*db.session.scalars(select(Agency).order_by(Agency.id)), None]
    for agency in scopes:
        if report_for(month, agency) is None:
            drafted.append(prepare_draft(month, agency, now=now))
    return drafted
