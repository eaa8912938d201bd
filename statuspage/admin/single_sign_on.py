"""Single sign-on with OpenID Connect (users/single_sign_on.py): off unless configured. The
provider's answer takes the place of the password; then the same sequence as ``auth.login``."""

from __future__ import annotations

from flask import abort, flash, redirect, request, session, url_for
from flask_login import current_user

from ..users import single_sign_on
from ..users import session as user_session
from ..users.operations import UserError
from . import admin
from .auth import safe_next, second_factor_step
from .permissions import allow

NEXT = "sso_next"


@admin.get("/login/single-sign-on")
@allow.open
def sso_start():
    if not single_sign_on.enabled():
        abort(404)
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url)
    try:
        response = single_sign_on.start(url_for("admin.sso_callback", _external=True))
    except UserError as error:
        flash(error.message, "error")
        return redirect(url_for("admin.login"))
    session[NEXT] = next_url
    return response


@admin.get("/login/single-sign-on/done")
@allow.open
def sso_callback():
    if not single_sign_on.enabled():
        abort(404)
    next_url = safe_next(session.pop(NEXT, None))
    if request.args.get("error"):  # the person cancelled, or the provider refused
        flash("Single sign-on was cancelled. Sign in again.", "info")
        return redirect(url_for("admin.login"))
    try:
        user = single_sign_on.finish()
    except UserError as error:
        flash(error.message, "error")
        return redirect(url_for("admin.login"))
    if (step := second_factor_step(user, next_url)) is not None:
        return step
    user_session.begin(user)
    return redirect(next_url)
