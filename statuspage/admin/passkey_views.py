"""Passkey ceremonies: signing in with a passkey alone, a passkey as the second factor after the
password, adding one to your account and removing one.

Each page that starts a ceremony puts its options in the page (a JSON data block) and keeps the
challenge in the signed session cookie; static/passkeys.js asks the browser for the passkey and
posts the answer with the form, which the view checks against that challenge. Without JavaScript
the form says that passkeys need it; every other way in still works."""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from .. import clock
from ..extensions import db
from ..users import passkeys
from ..users import session as user_session
from ..users.models import Passkey, User
from ..users.operations import UserError
from . import admin
from .auth import safe_next
from .factor_forms import NewPasskeyForm, PasskeyAnswerForm
from .forms import ActionForm
from .permissions import allow
from .second_factor import _others_ended, _show_recovery_codes, finish_sign_in, pending_sign_in

CHALLENGE = "webauthn_challenge"
CHALLENGE_FOR_SECONDS = 600


def ceremony() -> passkeys.Ceremony:
    """The relying party is WEBAUTHN_RP_ID or the host this page was asked for (behind a proxy,
    PROXY_COUNT makes that the public host); the origin is this page's."""
    origin = request.host_url.rstrip("/")
    rp_id = current_app.config["WEBAUTHN_RP_ID"] or urlsplit(origin).hostname
    return passkeys.Ceremony(rp_id=rp_id, origin=origin)


def _keep_challenge(purpose: str, challenge: bytes) -> None:
    session[CHALLENGE] = {
        "purpose": purpose,
        "challenge": base64.urlsafe_b64encode(challenge).decode(),
        "at": int(clock.now().timestamp()),
    }


def _take_challenge(purpose: str) -> bytes | None:
    """The challenge the page was given (once: a second answer to it is refused)."""
    kept = session.pop(CHALLENGE, None)
    if not isinstance(kept, dict) or kept.get("purpose") != purpose:
        return None
    at = kept.get("at")
    if not isinstance(at, int) or clock.now().timestamp() - at > CHALLENGE_FOR_SECONDS:
        return None
    try:
        return base64.urlsafe_b64decode(str(kept.get("challenge")))
    except ValueError:
        return None


# --- signing in --------------------------------------------------------------------------------


@admin.route("/login/passkey", methods=["GET", "POST"])
@allow.open
def passkey_sign_in():
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url)
    form = PasskeyAnswerForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = passkeys.verify_passkey(
                form.credential.data, challenge=_take_challenge("sign_in"), ceremony=ceremony()
            )
        except UserError as error:
            form.form_errors.append(error.message)
            status = 401
        else:
            return finish_sign_in(user, next_url)
    elif form.is_submitted():
        status = 400
    options, challenge = passkeys.authentication_options(ceremony())
    _keep_challenge("sign_in", challenge)
    return render_template(
        "admin/users/passkey_sign_in.html", form=form, options=options
    ), status


def second_factor_passkey_context(user: User) -> dict:
    """For the second-factor page: a passkey form when the person has passkeys."""
    if not db.session.query(Passkey.id).filter(Passkey.user_id == user.id).first():
        return {"passkey_options": None, "passkey_form": None}
    options, challenge = passkeys.authentication_options(ceremony(), user)
    _keep_challenge("second_factor", challenge)
    return {"passkey_options": options, "passkey_form": PasskeyAnswerForm(formdata=None)}


@admin.post("/login/second-factor/passkey")
@allow.open
def second_factor_passkey():
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard"))
    found = pending_sign_in()
    if found is None:
        flash("Sign in again: the page waited too long for your second factor.", "info")
        return redirect(url_for("admin.login"))
    user, next_url = found
    form = PasskeyAnswerForm()
    if form.validate_on_submit():
        try:
            passkeys.verify_passkey(
                form.credential.data, challenge=_take_challenge("second_factor"),
                ceremony=ceremony(), user=user,
            )  # fmt: skip
        except UserError as error:
            flash(error.message, "error")
        else:
            return finish_sign_in(user, next_url)
    return redirect(url_for("admin.second_factor"))


# --- your passkeys -----------------------------------------------------------------------------


@admin.route("/account/passkeys/new", methods=["GET", "POST"])
@allow.signed_in
def passkey_add():
    form = NewPasskeyForm()
    status = 200
    if form.validate_on_submit():
        try:
            codes = passkeys.add_passkey(
                current_user, form.name.data, form.credential.data,
                challenge=_take_challenge("register"), ceremony=ceremony(),
                keep=user_session.current_session(),
            )  # fmt: skip
        except UserError as error:
            # The hidden answer has no field to point at: its errors are the form's.
            form.add_error("name" if error.field == "name" else None, error.message)
            status = 400
        else:
            message = f"Your passkey “{form.name.data}” is added: you can sign in with it."
            if codes:
                return _show_recovery_codes(codes, message)
            flash(message, "success")
            return redirect(url_for("admin.security"))
    elif form.is_submitted():
        status = 400
    options, challenge = passkeys.registration_options(current_user, ceremony())
    _keep_challenge("register", challenge)
    return render_template("admin/users/passkey_add.html", form=form, options=options), status


@admin.post("/account/passkeys/remove")
@allow.signed_in
def passkey_remove():
    """Which passkey is in the form (not the URL): the only ones found are the person's own."""
    form = ActionForm()
    passkey_id = request.form.get("passkey", "")
    passkey = db.session.get(Passkey, int(passkey_id)) if passkey_id.isdigit() else None
    if passkey is None or passkey.user_id != current_user.id:
        abort(404)
    if form.validate_on_submit():
        name = passkey.name
        ended = passkeys.remove_passkey(current_user, passkey, keep=user_session.current_session())
        flash(f"Your passkey “{name}” is removed." + _others_ended(ended), "success")
    return redirect(url_for("admin.security"))
