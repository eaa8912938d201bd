"""Admin for delivery: subscriber counts, the outbox, webhooks; and planned maintenance."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import clock
from ..catalog.queries import agencies_with_services
from ..extensions import db
from ..incidents.models import Incident
from ..maintenance.models import MaintenanceWindow
from ..maintenance.operations import MaintenanceError, cancel_window, save_window
from ..sms.operations import sms_counts
from ..subscriptions.models import Notification, Subscriber, Webhook
from ..subscriptions.operations import (
    SubscriptionError,
    add_webhook,
    set_webhook_active,
    subscriber_counts,
)
from ..subscriptions.outbox import retry
from ..users.models import Role
from . import admin
from .forms import ActionForm, MaintenanceForm, WebhookForm
from .permissions import agency_ids_for, allow, services_for

OUTBOX_ROWS = 100


@admin.get("/subscriptions")
@allow.site_admin
def subscriptions():
    counts = subscriber_counts()
    confirmed = db.session.scalar(select(func.count()).where(Subscriber.confirmed_at.is_not(None)))
    waiting = db.session.scalar(select(func.count()).where(Subscriber.confirmed_at.is_(None)))
    return render_template(
        "admin/subscriptions.html",
        agencies=agencies_with_services(),
        counts=counts,
        confirmed=confirmed,
        waiting=waiting,
        sms=sms_counts(),
    )


@admin.get("/outbox")
@allow.site_admin
def outbox():
    totals = {
        status: count
        for status, count in db.session.execute(
            select(Notification.status, func.count()).group_by(Notification.status)
        )
    }
    failed = db.session.scalars(
        select(Notification)
        .where(Notification.status == "failed")
        .options(selectinload(Notification.subscriber), selectinload(Notification.webhook))
        .order_by(Notification.id.desc())
        .limit(OUTBOX_ROWS)
    ).all()
    waiting = db.session.scalars(
        select(Notification)
        .where(Notification.status.in_(("pending", "sending")))
        .options(selectinload(Notification.subscriber), selectinload(Notification.webhook))
        .order_by(Notification.id)
        .limit(OUTBOX_ROWS)
    ).all()
    # Internal messages (channel "staff") name their incident: shown by its reference.
    incident_ids = {row.incident_id for row in (*failed, *waiting) if row.incident_id}
    refs = dict(db.session.execute(
        select(Incident.id, Incident.ref).where(Incident.id.in_(incident_ids))
    ).all()) if incident_ids else {}  # fmt: skip
    return render_template(
        "admin/outbox.html",
        totals=totals,
        failed=failed,
        waiting=waiting,
        refs=refs,
        action_form=ActionForm(formdata=None),
    )


@admin.post("/outbox/<int:notification_id>/retry")
@allow.site_admin
def retry_notification(notification_id: int):
    notification = db.session.get(Notification, notification_id) or abort(404)
    if ActionForm().validate_on_submit() and notification.status == "failed":
        retry(notification)
        flash("The message will be sent again within a minute.", "success")
    return redirect(url_for("admin.outbox"))


@admin.route("/webhooks", methods=["GET", "POST"])
@allow.site_admin
def webhooks():
    form = WebhookForm()
    agencies = agencies_with_services()
    form.agency.choices = {"": "Everything", **{str(a.id): a.name for a in agencies}}
    if form.validate_on_submit():
        try:
            webhook = add_webhook(
                form.name.data,
                form.url.data,
                int(form.agency.data) if form.agency.data else None,
                by=current_user,
            )
        except SubscriptionError as error:
            form.add_error(error.field, error.message)
        else:
            flash(f"Webhook “{webhook.name}” added. Give its secret to the partner.", "success")
            return redirect(url_for("admin.webhooks"))
    rows = db.session.scalars(select(Webhook).order_by(Webhook.id)).all()
    status = 400 if form.is_submitted() else 200
    return render_template(
        "admin/webhooks.html", form=form, webhooks=rows, action_form=ActionForm(formdata=None)
    ), status


@admin.post("/webhooks/<int:webhook_id>/toggle")
@allow.site_admin
def toggle_webhook(webhook_id: int):
    webhook = db.session.get(Webhook, webhook_id) or abort(404)
    if ActionForm().validate_on_submit():
        set_webhook_active(webhook, not webhook.active, by=current_user)
        flash(f"Webhook “{webhook.name}” {'on' if webhook.active else 'off'}.", "success")
    return redirect(url_for("admin.webhooks"))


# --- planned maintenance -----------------------------------------------------------------------


@admin.get("/maintenance")
@allow.signed_in
def maintenance():
    agency_ids = agency_ids_for(current_user, Role.VIEWER)
    windows = db.session.scalars(
        select(MaintenanceWindow)
        .where(MaintenanceWindow.agency_id.in_(agency_ids))
        .options(selectinload(MaintenanceWindow.services))
        .order_by(MaintenanceWindow.starts_at.desc())
    ).all()
    return render_template(
        "admin/maintenance.html",
        windows=windows,
        action_form=ActionForm(formdata=None),
        can_plan=bool(services_for(current_user, Role.COMMUNICATIONS_LEAD)),
        now=clock.now(),
    )


@admin.route("/maintenance/new", methods=["GET", "POST"])
@admin.route("/maintenance/<int:window_id>", methods=["GET", "POST"])
@allow.role(Role.COMMUNICATIONS_LEAD, window="window_id", any_agency=True)
def edit_maintenance(window_id: int | None = None):
    services = services_for(current_user, Role.COMMUNICATIONS_LEAD)
    window = g.window  # None for a new window
    form = MaintenanceForm(obj=window)
    form.services.choices = {s.id: f"{s.name} ({s.agency.name})" for s in services}
    if window is not None and not form.is_submitted():
        form.services.data = [s.id for s in window.services]
    if form.validate_on_submit():
        by_id = {s.id: s for s in services}
        try:
            window = save_window(
                window,
                title=form.title.data,
                description=form.description.data or "",
                starts_at=form.starts_at.data,
                ends_at=form.ends_at.data,
                services=[by_id[i] for i in form.services.data],
                by=current_user,
            )
        except MaintenanceError as error:
            form.add_error(error.field, error.message)
        else:
            flash("Maintenance saved; subscribers of its services are told.", "success")
            return redirect(url_for("admin.maintenance"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/maintenance_edit.html", form=form, window=window), status


@admin.post("/maintenance/<int:window_id>/cancel")
@allow.role(Role.COMMUNICATIONS_LEAD, window="window_id")
def cancel_maintenance(window_id: int):
    window = g.window
    if ActionForm().validate_on_submit():
        try:
            cancel_window(window, by=current_user)
        except MaintenanceError as error:
            flash(error.message, "error")
        else:
            flash("Maintenance cancelled; subscribers are told.", "success")
    return redirect(url_for("admin.maintenance"))
