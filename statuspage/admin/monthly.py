"""Monthly reports: drafts (the job makes them on the first of the month; an owner may prepare
one), their preview, and publication by the agency's service owner."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, g, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import or_, select

from ..catalog.models import Agency
from ..extensions import db
from ..reports import presentation
from ..reports.models import SITE_SCOPE, MonthlyReport
from ..reports.publishing import PUBLISHER, MonthlyReportError, prepare_draft, publish
from ..users.models import Role
from . import admin
from .forms import ActionForm, MonthlyDraftForm, MonthlyPublishForm
from .permissions import agency_ids_for, allow

RECENT_REPORTS = 60


def _scopes_to_publish() -> dict[str, str]:
    """Scope key -> name, for the scopes the user may draft and publish."""
    agencies = db.session.scalars(
        select(Agency)
        .where(Agency.id.in_(agency_ids_for(current_user, PUBLISHER)))
        .order_by(Agency.display_order, Agency.name)
    )
    scopes = {f"agency:{agency.id}": agency.name for agency in agencies}
    if current_user.is_site_admin:
        scopes[SITE_SCOPE] = "All agencies (the whole site)"
    return scopes


def _may(report: MonthlyReport, role: Role) -> bool:
    if report.agency_id is None:
        return current_user.is_site_admin
    return current_user.can(role, report.agency_id)


def _render_list(form: MonthlyDraftForm, status: int = 200):
    visible = agency_ids_for(current_user, Role.VIEWER)
    query = select(MonthlyReport).where(
        or_(MonthlyReport.agency_id.in_(visible), MonthlyReport.agency_id.is_(None))
        if current_user.is_site_admin
        else MonthlyReport.agency_id.in_(visible)
    )
    reports = db.session.scalars(
        query.order_by(MonthlyReport.month.desc(), MonthlyReport.scope).limit(RECENT_REPORTS)
    ).all()
    return render_template("admin/monthly_reports.html", reports=reports, form=form), status


@admin.get("/reports")
@allow.signed_in
def monthly_reports():
    form = MonthlyDraftForm(formdata=None)
    form.scope.choices = _scopes_to_publish()
    return _render_list(form)


@admin.post("/reports")
@allow.role(PUBLISHER, any_agency=True)
def prepare_monthly_report():
    form = MonthlyDraftForm()
    form.scope.choices = _scopes_to_publish()
    if not form.validate_on_submit():
        return _render_list(form, 400)
    year, month = (int(part) for part in form.month.data.split("-"))
    agency = None
    if form.scope.data != SITE_SCOPE:
        agency = db.session.get(Agency, int(form.scope.data.split(":")[1]))
    try:
        report = prepare_draft(date(year, month, 1), agency, by=current_user)
    except MonthlyReportError as error:
        db.session.rollback()
        form.month.errors = [error.message]
        return _render_list(form, 400)
    flash("Draft prepared with the figures as they stand now.", "success")
    return redirect(url_for("admin.monthly_report", report_id=report.id))


def _render_report(report: MonthlyReport, form: MonthlyPublishForm | None = None, status=200):
    form = form or MonthlyPublishForm(formdata=None, commentary=report.commentary)
    return render_template(
        "admin/monthly_report.html",
        report=report,
        **presentation.page(report.data),
        form=form,
        action_form=ActionForm(formdata=None),
        can_publish=_may(report, PUBLISHER),
    ), status


@admin.get("/reports/<int:report_id>")
@allow.role(Role.VIEWER, monthly_report="report_id")
def monthly_report(report_id: int):
    return _render_report(g.monthly_report)


@admin.post("/reports/<int:report_id>/refresh")
@allow.role(PUBLISHER, monthly_report="report_id")
def refresh_monthly_report(report_id: int):
    report = g.monthly_report
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        prepare_draft(report.month, report.agency, by=current_user)
    except MonthlyReportError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash("Figures computed again.", "success")
    return redirect(url_for("admin.monthly_report", report_id=report_id))


@admin.post("/reports/<int:report_id>/publish")
@allow.role(PUBLISHER, monthly_report="report_id")
def publish_monthly_report(report_id: int):
    report = g.monthly_report
    form = MonthlyPublishForm()
    if not form.validate_on_submit():
        return _render_report(report, form, 400)
    try:
        publish(report, form.commentary.data or "", by=current_user)
    except MonthlyReportError as error:
        db.session.rollback()
        form.add_error(None, error.message)
        return _render_report(db.session.get(MonthlyReport, report_id), form, 400)
    flash("Published. The report is now public and will not change.", "success")
    return redirect(url_for("admin.monthly_report", report_id=report_id))
