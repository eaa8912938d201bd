"""Public pages: thin views over the catalog and incident queries."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, jsonify, render_template, request
from sqlalchemy import text

from .. import clock
from ..catalog.queries import agencies_with_services, agency_by_slug, service_by_slug
from ..catalog.status import ServiceStatus, overall_banner
from ..extensions import db
from ..incidents import queries as incident_queries
from ..incidents.cadence import public_timing, public_timings
from ..incidents.history import daily_history
from ..incidents.references import is_reference
from ..maintenance import queries as maintenance_queries
from ..reports.metrics import month_window
from ..timefmt import site_zone
from . import public
from .forms import HistoryFilterForm
from .reports import published_revisions


@public.get("/")
def index():
    now = clock.now()
    agencies = agencies_with_services()
    incidents = incident_queries.open_public_incidents()
    running, upcoming = maintenance_queries.running_and_upcoming_windows(now)
    statuses = incident_queries.statuses_of(incidents, running)
    all_statuses = [
        statuses.get(service.id, ServiceStatus.OPERATIONAL)
        for agency in agencies
        for service in agency.services
    ]
    histories = daily_history([s.id for a in agencies for s in a.services], now, site_zone())
    return render_template(
        "public/index.html",
        agencies=agencies,
        histories=histories,
        statuses=statuses,
        banner=overall_banner(all_statuses),
        incidents=incidents,
        timings=public_timings(incidents, now),
        active_maintenance=running,
        upcoming_maintenance=upcoming,
    )


@public.get("/maintenance")
def maintenance():
    now = clock.now()
    return render_template(
        "public/maintenance.html",
        active=maintenance_queries.active_windows(now),
        upcoming=maintenance_queries.upcoming_windows(now, ahead=timedelta(days=366)),
        recent=maintenance_queries.recent_windows(now),
    )


@public.get("/agencies/<slug>")
def agency(slug: str):
    found = agency_by_slug(slug) or abort(404)
    statuses = incident_queries.service_statuses()
    return render_template(
        "public/agency.html",
        agency=found,
        statuses=statuses,
        banner=overall_banner(
            statuses.get(service.id, ServiceStatus.OPERATIONAL) for service in found.services
        ),
        incidents=(incidents := incident_queries.open_public_incidents(agency_id=found.id)),
        timings=public_timings(incidents),
        recent=incident_queries.recent_public_incidents(agency_id=found.id),
    )


@public.get("/services/<slug>")
def service(slug: str):
    found = service_by_slug(slug) or abort(404)
    status = incident_queries.service_statuses().get(found.id, ServiceStatus.OPERATIONAL)
    return render_template(
        "public/service.html",
        service=found,
        history=daily_history([found.id], clock.now(), site_zone())[found.id],
        status=status,
        incidents=(incidents := incident_queries.open_public_incidents(service_id=found.id)),
        timings=public_timings(incidents),
        recent=incident_queries.recent_public_incidents(service_id=found.id),
    )


@public.get("/incidents/<ref>")
def incident(ref: str):
    if not is_reference(ref):
        abort(404)
    found = incident_queries.public_incident(ref) or abort(404)
    return render_template(
        "public/incident.html",
        incident=found,
        revisions=published_revisions(found.id),
        timing=public_timing(found) if found.is_open else None,
    )


@public.get("/history")
def history():
    agencies = agencies_with_services()
    form = HistoryFilterForm(request.args)
    form.agency.choices = {"": "All agencies", **{a.slug: a.name for a in agencies}}
    form.service.choices = {
        "": "All services",
        **{s.slug: s.name for a in agencies for s in a.services},
    }
    form.validate()
    page = incident_queries.history_page(
        _history_filter(form, agencies), _page_number(request.args.get("page"))
    )
    return render_template("public/history.html", form=form, page=page)


def _history_filter(form: HistoryFilterForm, agencies) -> incident_queries.HistoryFilter:
    """Apply each valid filter; an invalid one is reported on the form and ignored."""
    valid = lambda field: field.data and not field.errors  # noqa: E731
    agency_ids = {a.slug: a.id for a in agencies}
    service_ids = {s.slug: s.id for a in agencies for s in a.services}
    start = end = None
    if valid(form.month):
        year, month = (int(part) for part in form.month.data.split("-"))
        start, end = month_window(date(year, month, 1), site_zone())
    return incident_queries.HistoryFilter(
        agency_id=agency_ids.get(form.agency.data) if valid(form.agency) else None,
        service_id=service_ids.get(form.service.data) if valid(form.service) else None,
        priority=int(form.priority.data) if valid(form.priority) else None,
        start=start,
        end=end,
    )


def _page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or 1), 1_000_000))
    except ValueError:
        return 1


@public.get("/healthz")
def healthz():
    """For load balancers: 200 when the app can read its database."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
