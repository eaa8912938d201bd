"""Second factors: the sign-in step that asks for one, the page where people manage theirs (an
authenticator app, passkeys, recovery codes), and the rule that whoever must have one sets it up
before doing anything else. Passkey ceremonies are in ``passkey_views.py``.

Between the password and the second factor nobody is signed in: the signed session cookie holds
whose password was right, and when (``PENDING``), for a few minutes."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from .. import clock
from ..extensions import db
from ..users import factors
from ..users import session as user_session
from ..users.models import User
from ..users.operations import UserError
from . import admin
from .factor_forms import SignInCodeForm, TotpConfirmForm
from .forms import ActionForm
from .permissions import allow

PENDING = "pending_sign_in"
PENDING_FOR = timedelta(minutes=10)
# What someone who must add a second factor may still do until they have.
SETUP_ENDPOINTS = {
    "admin.security", "admin.totp_setup", "admin.passkey_add", "admin.recovery_codes_new",
    "admin.logout",
}  # fmt: skip


# --- the sign-in step --------------------------------------------------------------------------


def ask_for_second_factor(user: User, next_url: str):
    """After the password: the page asking for the second factor when the person has one; None
    when the password is enough."""
    if not factors.has_second_factor(user):
        return None
    session.clear()
    session[PENDING] = {"user": user.id, "next": next_url, "at": int(clock.now().timestamp())}
    return redirect(url_for("admin.second_factor"))


def pending_sign_in() -> tuple[User, str] | None:
    """Whose password was right a moment ago, and where they were going."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    started = pending.get("at")
    if not isinstance(started, int) or clock.now().timestamp() - started > PENDING_FOR.total_seconds():
        session.pop(PENDING, None)
        return None
    user = db.session.get(User, pending.get("user")) if isinstance(pending.get("user"), int) else None
    if user is None or not user.is_active:
        return None
    return user, str(pending.get("next") or url_for("admin.dashboard"))


def finish_sign_in(user: User, next_url: str):
    """Both factors are done: the session starts (a fresh cookie, the pending state gone)."""
    user_session.begin(user)
    return redirect(next_url)


def _start_again():
    flash("Sign in again: the page waited too long for your second factor.", "info")
    return redirect(url_for("admin.login"))


@admin.route("/login/second-factor", methods=["GET", "POST"])
@allow.open
def second_factor():
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard"))
    found = pending_sign_in()
    if found is None:
        return _start_again()
    user, next_url = found
    form = SignInCodeForm()
    status = 200
    if form.validate_on_submit():
        result = factors.check_code(user, form.code.data, request.remote_addr or "unknown")
        if result.ok:
            if result.recovery_code_used:
                left = factors.recovery_codes_left(user)
                flash(
                    f"You used a recovery code; {left} left. Make new ones on your account's "
                    "second factor page if you are running out.",
                    "info",
                )
            return finish_sign_in(user, next_url)
        if result.throttled:
            form.code.errors.append(
                f"Too many wrong codes. Try again in {result.wait_minutes} "
                f"minute{'s' if result.wait_minutes != 1 else ''}."
            )
            status = 429
        else:
            form.code.errors.append("That code is not right. Check it and try again.")
            status = 401
    elif form.is_submitted():
        status = 400
    from .passkey_views import second_factor_passkey_context

    return render_template(
        "admin/users/second_factor.html",
        form=form,
        has_app=factors.confirmed_totp(user) is not None,
        **second_factor_passkey_context(user),
    ), status


# --- someone who must have a second factor -----------------------------------------------------


@admin.before_request
def second_factor_before_anything_else():
    """REQUIRE_SECOND_FACTOR_FOR: such a person without one can only set one up (or sign out)."""
    if request.endpoint in SETUP_ENDPOINTS or not current_user.is_authenticated:
        return None
    if factors.needs_setup(current_user):
        return redirect(url_for("admin.security"))
    return None


# --- your second factors -----------------------------------------------------------------------


@admin.get("/account/second-factor")
@allow.signed_in
def security():
    return render_template(
        "admin/users/security.html",
        required=factors.second_factor_required(current_user),
        has_factor=factors.has_second_factor(current_user),
        app=factors.confirmed_totp(current_user),
        passkeys=factors.passkeys_of(current_user),
        codes_left=factors.recovery_codes_left(current_user),
        action_form=ActionForm(formdata=None),
    )


def _show_recovery_codes(codes: list[str], message: str):
    flash(message, "success")
    return render_template("admin/users/recovery_codes.html", codes=codes)


def _others_ended(ended: int) -> str:
    return f" {ended} other session{'s' if ended != 1 else ''} ended." if ended else ""


@admin.route("/account/authenticator-app", methods=["GET", "POST"])
@allow.signed_in
def totp_setup():
    try:
        factor = factors.pending_totp(current_user)
    except UserError as error:
        flash(error.message, "info")
        return redirect(url_for("admin.security"))
    form = TotpConfirmForm()
    if form.validate_on_submit():
        try:
            codes = factors.confirm_totp(
                current_user, form.code.data, address=request.remote_addr or "unknown",
                keep=user_session.current_session(),
            )  # fmt: skip
        except UserError as error:
            form.code.errors.append(error.message)
        else:
            message = "Your authenticator app is on: signing in now asks for its code."
            if codes:
                return _show_recovery_codes(codes, message)
            flash(message, "success")
            return redirect(url_for("admin.security"))
    uri = factors.provisioning_uri(current_user, factor)
    return render_template(
        "admin/users/totp_setup.html",
        form=form,
        key=factors.spaced(factor.secret),
        uri=uri,
        qr=factors.qr_code(uri),
    ), 400 if form.is_submitted() else 200


@admin.post("/account/authenticator-app/remove")
@allow.signed_in
def totp_remove():
    if ActionForm().validate_on_submit():
        try:
            ended = factors.remove_totp(current_user, keep=user_session.current_session())
        except UserError as error:
            flash(error.message, "error")
        else:
            flash("Your authenticator app is removed." + _others_ended(ended), "success")
    return redirect(url_for("admin.security"))


@admin.post("/account/recovery-codes")
@allow.signed_in
def recovery_codes_new():
    if ActionForm().validate_on_submit():
        try:
            codes = factors.new_recovery_codes(current_user)
        except UserError as error:
            flash(error.message, "error")
        else:
            return _show_recovery_codes(codes, "New recovery codes are ready; the old ones no longer work.")
    return redirect(url_for("admin.security"))
