"""User administration: site admins manage every user; an agency's service owners the users of
their own agencies. Each route declares it (``allow.role``): a user outside the signed-in
person's agencies is a 404, an action beyond their reach a 403, found by the admin's guard before
the view runs. Views are thin: form -> operation (which writes the audit log) -> flash ->
redirect."""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import clock
from ..catalog.models import Agency
from ..extensions import db
from ..users import operations
from ..users.models import Membership, Role, User
from . import admin
from .forms import ActionForm
from .permissions import allow, manages_whole_account
from .user_forms import ROLE_CHOICES, AgencyRoleForm, InviteForm, SiteAdminForm

OWNER = Role.SERVICE_OWNER  # who manages the users of an agency


# --- whom the signed-in person manages ---------------------------------------------------------


def _owned_agencies() -> list[Agency]:
    query = select(Agency).order_by(Agency.display_order, Agency.name)
    if not current_user.is_site_admin:
        owned = [m.agency_id for m in current_user.memberships if m.role >= OWNER]
        query = query.where(Agency.id.in_(owned))
    return list(db.session.scalars(query))


def _owned_ids() -> set[int]:
    return {agency.id for agency in _owned_agencies()}


def _choices(agencies: list[Agency]) -> dict[str, str]:
    return {str(agency.id): agency.name for agency in agencies}


# --- the list ----------------------------------------------------------------------------------


@admin.get("/users")
@allow.role(OWNER, any_agency=True)
def users():
    owned = _owned_ids()
    query = (
        select(User)
        .options(selectinload(User.memberships).selectinload(Membership.agency))
        .where(User.is_service_account.is_(False))  # API keys' accounts are not people
    )
    if not current_user.is_site_admin:
        query = query.where(
            User.is_site_admin.is_(False),
            User.id.in_(select(Membership.user_id).where(Membership.agency_id.in_(owned))),
        )
    rows = db.session.scalars(query.order_by(User.name, User.id)).all()
    return render_template(
        "admin/users/list.html",
        users=rows,
        shown_agencies=None if current_user.is_site_admin else owned,
        invitation_valid_for=current_app.config["INVITATION_VALID_FOR"],
        now=clock.now(),
    )


# --- inviting ----------------------------------------------------------------------------------


@admin.route("/users/invite", methods=["GET", "POST"])
@allow.role(OWNER, any_agency=True)
def invite_user():
    agencies = _owned_agencies()
    form = InviteForm()
    form.agency.choices = {"": "Choose an agency", **_choices(agencies)}
    if form.validate_on_submit():
        site_admin = current_user.is_site_admin and form.site_admin.data
        try:
            user = operations.invite_user(
                current_user,
                name=form.name.data,
                email=form.email.data,
                agency=next((a for a in agencies if str(a.id) == form.agency.data), None),
                role=Role.from_key(form.role.data) if form.agency.data else None,
                site_admin=site_admin,
            )
        except operations.UserError as error:
            form.add_error(error.field, error.message)
        else:
            flash(f"Invitation sent to {user.email}.", "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/users/invite.html", form=form), status


# --- one user ----------------------------------------------------------------------------------


def _user_page(user: User, role_form: AgencyRoleForm | None = None, status: int = 200):
    owned = _owned_ids()
    held = {m.agency_id for m in user.memberships}
    addable = [a for a in _owned_agencies() if a.id not in held]
    if role_form is None:
        role_form = AgencyRoleForm(formdata=None)
    role_form.agency.choices = {"": "Choose an agency", **_choices(addable)}
    memberships = sorted(
        (m for m in user.memberships if current_user.is_site_admin or m.agency_id in owned),
        key=lambda m: (m.agency.display_order, m.agency.name),
    )
    return render_template(
        "admin/users/user.html",
        user=user,
        memberships=memberships,
        other_agencies=len(user.memberships) - len(memberships),
        role_form=role_form,
        role_choices=ROLE_CHOICES,
        can_add=bool(addable) and user.id != current_user.id,
        whole=manages_whole_account(user, OWNER) and user.id != current_user.id,
        is_self=user.id == current_user.id,
        action_form=ActionForm(formdata=None),
        invitation_valid_for=current_app.config["INVITATION_VALID_FOR"],
        now=clock.now(),
    ), status


@admin.get("/users/<int:user_id>")
@allow.role(OWNER, person="user_id")
def user_detail(user_id: int):
    return _user_page(g.person)


def _done(user: User, message: str):
    flash(message, "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


def _refused(user: User, error: operations.UserError):
    flash(error.message, "error")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@admin.post("/users/<int:user_id>/roles")
@allow.role(OWNER, person="user_id")
def add_role(user_id: int):
    user = g.person
    form = AgencyRoleForm()
    held = {m.agency_id for m in user.memberships}
    form.agency.choices = _choices([a for a in _owned_agencies() if a.id not in held])
    if form.validate_on_submit():
        agency = db.session.get(Agency, int(form.agency.data))  # one of the choices: owned
        role = Role.from_key(form.role.data)
        try:
            operations.set_role(current_user, user, agency, role)
        except operations.UserError as error:
            form.add_error(error.field, error.message)
        else:
            return _done(user, f"{user.name} is now {role.label.lower()} for {agency.name}.")
    return _user_page(user, form, 400)


@admin.post("/users/<int:user_id>/roles/<int:agency_id>")
@allow.role(OWNER, person="user_id", agency="agency_id")
def change_role(user_id: int, agency_id: int):
    user, agency = g.person, g.agency
    if agency_id not in {m.agency_id for m in user.memberships}:
        abort(404)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("admin.user_detail", user_id=user.id))
    try:
        role = Role.from_key(request.form.get("role", ""))
        operations.set_role(current_user, user, agency, role)
    except ValueError as error:
        return _refused(user, error if isinstance(error, operations.UserError)
                        else operations.UserError("Choose a role from the list."))  # fmt: skip
    return _done(user, f"{user.name} is now {role.label.lower()} for {agency.name}.")


@admin.post("/users/<int:user_id>/roles/<int:agency_id>/remove")
@allow.role(OWNER, person="user_id", agency="agency_id")
def remove_role(user_id: int, agency_id: int):
    user, agency = g.person, g.agency
    if not ActionForm().validate_on_submit():
        return redirect(url_for("admin.user_detail", user_id=user.id))
    try:
        operations.remove_role(current_user, user, agency)
    except operations.UserError as error:
        return _refused(user, error)
    if current_user.is_site_admin or _visible_ok(user):
        return _done(user, f"{user.name} no longer has a role in {agency.name}.")
    flash(f"{user.name} no longer has a role in {agency.name}.", "success")
    return redirect(url_for("admin.users"))


def _visible_ok(user: User) -> bool:
    return bool({m.agency_id for m in user.memberships} & _owned_ids())


@admin.post("/users/<int:user_id>/deactivate")
@allow.role(OWNER, account="user_id")
def deactivate_user(user_id: int):
    user = g.person
    if ActionForm().validate_on_submit():
        try:
            operations.deactivate_user(current_user, user)
        except operations.UserError as error:
            return _refused(user, error)
        return _done(user, f"{user.name} is deactivated and signed out everywhere.")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@admin.post("/users/<int:user_id>/reactivate")
@allow.role(OWNER, account="user_id")
def reactivate_user(user_id: int):
    user = g.person
    if ActionForm().validate_on_submit():
        try:
            operations.reactivate_user(current_user, user)
        except operations.UserError as error:
            return _refused(user, error)
        return _done(user, f"{user.name} can sign in again.")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@admin.post("/users/<int:user_id>/invitation")
@allow.role(OWNER, account="user_id")
def resend_invitation(user_id: int):
    user = g.person
    if ActionForm().validate_on_submit():
        try:
            operations.resend_invitation(current_user, user)
        except operations.UserError as error:
            return _refused(user, error)
        return _done(user, f"A new invitation is on its way to {user.email}; earlier links no longer work.")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@admin.post("/users/<int:user_id>/site-admin")
@allow.site_admin
def set_site_admin(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = SiteAdminForm()
    if form.validate_on_submit():
        try:
            operations.set_site_admin(current_user, user, form.site_admin.data == "yes")
        except operations.UserError as error:
            return _refused(user, error)
        state = "is now a site administrator" if user.is_site_admin else "is no longer a site administrator"
        return _done(user, f"{user.name} {state}.")
    return redirect(url_for("admin.user_detail", user_id=user.id))
