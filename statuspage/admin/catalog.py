"""Agencies (site administrators) and services (site administrators, and each agency's service
owners for their own agency): form -> catalog operation (checked, audited) -> flash -> redirect."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from ..alerts.operations import monitoring_statuses
from ..catalog.models import Agency, Service
from ..catalog.operations import (
    CatalogError,
    agency_has_public_history,
    create_agency,
    create_service,
    service_has_public_history,
    update_agency,
    update_service,
)
from ..catalog.queries import all_services
from ..extensions import db
from ..internal.models import ServiceDependency
from ..policy import current_policy
from ..users.models import Role
from . import admin
from .catalog_forms import AgencyForm, ServiceForm
from .permissions import allow


@admin.context_processor
def catalog_navigation():
    """Whether the signed-in user may edit services somewhere (the nav shows the link)."""

    def can_edit_services() -> bool:
        return current_user.is_authenticated and bool(
            current_user.is_site_admin
            or any(m.role >= Role.SERVICE_OWNER for m in current_user.memberships)
        )

    return {"can_edit_services": can_edit_services}


# --- agencies: site administrators ------------------------------------------------------------


@admin.get("/agencies")
@allow.site_admin
def agencies():
    rows = db.session.execute(
        select(Agency, func.count(Service.id))
        .outerjoin(Service, Service.agency_id == Agency.id)
        .group_by(Agency.id)
        .order_by(Agency.display_order, Agency.name)
    ).all()
    return render_template("admin/catalog/agencies.html", rows=rows)


@admin.route("/agencies/new", methods=["GET", "POST"])
@allow.site_admin
def new_agency():
    form = AgencyForm()
    if form.validate_on_submit():
        try:
            agency = create_agency(form.details(), by=current_user)
        except CatalogError as error:
            form.add_error(error.field, error.message)
        else:
            flash(f"Agency “{agency.name}” added.", "success")
            return redirect(url_for("admin.agencies"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/catalog/agency_edit.html", form=form, agency=None), status


@admin.route("/agencies/<int:agency_id>", methods=["GET", "POST"])
@allow.site_admin
def edit_agency(agency_id: int):
    agency = db.session.get(Agency, agency_id) or abort(404)
    form = AgencyForm(obj=agency)
    if form.validate_on_submit():
        try:
            changed = update_agency(agency, form.details(), by=current_user)
        except CatalogError as error:
            form.add_error(error.field, error.message)
        else:
            flash(f"Agency “{agency.name}” saved." if changed else "Nothing changed.", "success")
            return redirect(url_for("admin.agencies"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "admin/catalog/agency_edit.html",
        form=form,
        agency=agency,
        slug_fixed=agency_has_public_history(agency),
    ), status


# --- services: site administrators, and service owners within their agencies -------------------


def _owned_agencies() -> list[Agency]:
    """The agencies whose services the signed-in user may edit (the guard found them)."""
    return list(db.session.scalars(
        select(Agency).where(Agency.id.in_(g.agency_ids))
        .order_by(Agency.display_order, Agency.name)
    ))  # fmt: skip


@admin.get("/services")
@allow.role(Role.SERVICE_OWNER, any_agency=True)
def services():
    agencies = _owned_agencies()
    ids = [agency.id for agency in agencies]
    listed = [s for s in all_services() if s.agency_id in ids]
    names = dict(db.session.execute(select(Service.id, Service.name)).all())
    platforms: dict[int, list[str]] = {}
    for service_id, platform_id in db.session.execute(
        select(ServiceDependency.service_id, ServiceDependency.depends_on_id)
    ):
        platforms.setdefault(service_id, []).append(names[platform_id])
    return render_template(
        "admin/catalog/services.html",
        agencies=agencies,
        services=sorted(listed, key=lambda s: (s.group_name.lower(), s.display_order, s.name)),
        platforms=platforms,
        monitoring=monitoring_statuses(listed),
    )


@admin.route("/services/new", methods=["GET", "POST"])
@allow.role(Role.SERVICE_OWNER, any_agency=True)
def new_service():
    agencies = _owned_agencies()
    form = ServiceForm(agencies=agencies, platforms=all_services(), policy=current_policy())
    if form.validate_on_submit():
        try:
            service = create_service(form.chosen_agency(), form.details(), by=current_user)
        except CatalogError as error:
            form.add_error(error.field, error.message)
        else:
            flash(f"Service “{service.name}” added.", "success")
            return redirect(url_for("admin.services"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/catalog/service_edit.html", form=form, service=None), status


@admin.route("/services/<int:service_id>", methods=["GET", "POST"])
@allow.role(Role.SERVICE_OWNER, service="service_id")
def edit_service(service_id: int):
    service = g.service
    form = ServiceForm(
        obj=service,
        agencies=[service.agency],
        platforms=all_services(),
        policy=current_policy(),
        service=service,
    )
    if form.validate_on_submit():
        try:
            changed = update_service(service, form.details(), by=current_user)
        except CatalogError as error:
            form.add_error(error.field, error.message)
        else:
            flash(f"Service “{service.name}” saved." if changed else "Nothing changed.", "success")
            return redirect(url_for("admin.services"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "admin/catalog/service_edit.html",
        form=form,
        service=service,
        slug_fixed=service_has_public_history(service),
    ), status
