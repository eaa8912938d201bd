"""API keys: each agency's keys for the manage API (/api/v1), for its service owners and site
administrators. Create (the key shown once, on the page that answers the form), list (scopes,
who made it, last use) and revoke after a confirmation: form -> operation (audited) -> page."""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import Length

from ..api_keys import operations as keys
from ..api_keys.models import SCOPES, ApiKey
from ..catalog.models import Agency
from ..extensions import db
from ..forms import BaseForm, CheckboxesField
from ..users.models import Role
from . import admin
from .forms import ActionForm
from .permissions import allow

OWNER = Role.SERVICE_OWNER


class NewKeyForm(BaseForm):
    name = StringField(
        "Name",
        description="What will use the key, for example “Grafana” or “Incident bot”.",
        validators=[Length(max=keys.NAME_LENGTH, message="Enter a name of at most "
                                                          f"{keys.NAME_LENGTH} characters.")],
    )  # fmt: skip
    scopes = CheckboxesField(
        "What the key may do",
        description="Give it only what it needs.",
        choices=SCOPES,
        required_message="Choose at least one thing the key may do.",
        unknown_message="Choose from the list.",
    )


@admin.get("/api-keys")
@allow.role(OWNER, any_agency=True)
def api_key_agencies():
    agencies = list(db.session.scalars(
        select(Agency).where(Agency.id.in_(g.agency_ids))
        .order_by(Agency.display_order, Agency.name)
    ))  # fmt: skip
    if len(agencies) == 1:
        return redirect(url_for("admin.api_keys", agency_id=agencies[0].id))
    active = {agency.id: 0 for agency in agencies}
    for key in keys.keys_of(list(active)):
        if not key.revoked:
            active[key.agency_id] += 1
    return render_template("admin/api_keys/agencies.html", agencies=agencies, active=active)


def _page(form: NewKeyForm, status: int = 200):
    return render_template(
        "admin/api_keys/keys.html", agency=g.agency, keys=keys.keys_of([g.agency.id]),
        form=form, scopes=SCOPES, base_url=_base_url(),
        rate_limit=current_app.config["API_RATE_LIMIT"],
    ), status  # fmt: skip


def _base_url() -> str:
    return current_app.config["SITE_URL"].rstrip("/") + "/api/v1"


@admin.get("/agencies/<int:agency_id>/api-keys")
@allow.role(OWNER, agency="agency_id")
def api_keys(agency_id: int):
    return _page(NewKeyForm(formdata=None))


@admin.post("/agencies/<int:agency_id>/api-keys")
@allow.role(OWNER, agency="agency_id")
def create_api_key(agency_id: int):
    form = NewKeyForm()
    if form.validate_on_submit():
        try:
            key, plaintext = keys.create_key(
                g.agency, form.name.data or "", set(form.scopes.data), by=current_user
            )
        except keys.ApiKeyError as error:
            form.add_error(error.field, error.message)
        else:
            # Shown on this answer only (never stored, never in a redirect or the session).
            return render_template(
                "admin/api_keys/created.html", agency=g.agency, key=key, plaintext=plaintext,
                scopes=SCOPES, base_url=_base_url(),
            ), 201  # fmt: skip
    return _page(form, 400)


def _key(agency_id: int, api_key_id: int) -> ApiKey:
    key = db.session.get(ApiKey, api_key_id)
    if key is None or key.agency_id != agency_id:
        abort(404)
    return key


@admin.get("/agencies/<int:agency_id>/api-keys/<int:api_key_id>/revoke")
@allow.role(OWNER, agency="agency_id")
def confirm_revoke_api_key(agency_id: int, api_key_id: int):
    key = _key(agency_id, api_key_id)
    if key.revoked:
        flash(f"“{key.name}” is revoked already.", "info")
        return redirect(url_for("admin.api_keys", agency_id=agency_id))
    return render_template(
        "admin/api_keys/revoke.html", agency=g.agency, key=key, scopes=SCOPES,
        form=ActionForm(formdata=None),
    )  # fmt: skip


@admin.post("/agencies/<int:agency_id>/api-keys/<int:api_key_id>/revoke")
@allow.role(OWNER, agency="agency_id")
def revoke_api_key(agency_id: int, api_key_id: int):
    key = _key(agency_id, api_key_id)
    if ActionForm().validate_on_submit():
        if keys.revoke_key(key, by=current_user):
            flash(f"“{key.name}” is revoked: it stops working at once.", "success")
        else:
            flash(f"“{key.name}” was revoked already.", "info")
    return redirect(url_for("admin.api_keys", agency_id=agency_id))
