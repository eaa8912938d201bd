"""Signing in and out, passwords (forgotten, reset, chosen from an invitation, changed) and the
signed-in person's own account page.

Signing in is one sequence, in ``login``: the password is verified (throttled) -> a second
factor when one is needed (``second_factor_step``, none yet) -> the session starts
(``users.session.begin``). Every other way in (an invitation, a reset link) sets a password and
then sends the person through that same sequence."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..extensions import limiter
from ..users import held_posts
from ..users import session as user_session
from ..users import tokens
from ..users.operations import (
    UserError,
    accept_invitation,
    change_password,
    normalise_email,
    request_password_reset,
    reset_password,
    running_sessions,
    sign_in,
    sign_out_everywhere,
)
from . import admin
from .forms import ActionForm, LoginForm
from .permissions import allow
from .user_forms import ChangePasswordForm, ForgotPasswordForm, SetPasswordForm


def safe_next(target: str | None) -> str:
    """Only ever redirect inside this site; anything else goes to the dashboard."""
    fallback = url_for("admin.dashboard")
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


def second_factor_step(user, next_url: str):
    """After the password: a response asking for the user's second factor (an authenticator
    app's code, a passkey or a recovery code; admin/second_factor.py), or None when the password
    is enough."""
    from .second_factor import ask_for_second_factor

    return ask_for_second_factor(user, next_url)


def _minutes(n: int) -> str:
    return "1 minute" if n == 1 else f"{n} minutes"


@admin.route("/login", methods=["GET", "POST"])
@allow.open
def login():
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url)
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        # 1. The password, throttled per account and address (users/operations.sign_in).
        result = sign_in(form.email.data, form.password.data, request.remote_addr or "unknown")
        if result.ok:
            # 2. The second factor, when the account needs one.
            if (step := second_factor_step(result.user, next_url)) is not None:
                return step
            # 3. The session: a fresh cookie naming a new server-side session.
            user_session.begin(result.user)
            return redirect(next_url)
        if result.throttled:
            form.form_errors.append(
                "Too many failed attempts to sign in from here. "
                f"Try again in {_minutes(result.wait_minutes)}, or reset your password."
            )
            status = 429
        else:
            form.form_errors.append("The email address or password is not right.")
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("admin/login.html", form=form), status


@admin.post("/logout")
@allow.signed_in
def logout():
    if ActionForm().validate_on_submit():
        user_session.end()
        flash("You have signed out.", "info")
    return redirect(url_for("admin.login"))


# --- a forgotten password ----------------------------------------------------------------------


def _reset_address_key() -> str:
    """Rate-limit key for the address a reset link is asked for (so one inbox is not flooded)."""
    return "reset:" + normalise_email(request.form.get("email", ""))[:254]


@admin.route("/forgot-password", methods=["GET", "POST"])
@allow.open
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_LIMIT_PER_CLIENT"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["PASSWORD_RESET_LIMIT_PER_ADDRESS"],
    methods=["POST"],
    key_func=_reset_address_key,
)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            request_password_reset(form.email.data)
        except UserError as error:
            form.add_error(error.field, error.message)
        else:
            return redirect(url_for("admin.password_reset_sent"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/users/forgot_password.html", form=form), status


@admin.get("/forgot-password/sent")
@allow.open
def password_reset_sent():
    return render_template(
        "admin/users/reset_sent.html", valid_for=current_app.config["PASSWORD_RESET_VALID_FOR"]
    )


def _set_password_page(purpose: str, token: str, operation, done: str):
    """The page a one-time link opens: choose a password, then sign in with it."""
    try:
        user = tokens.read(purpose, token)
    except tokens.TokenError as error:
        return render_template("admin/users/link_refused.html", message=str(error)), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            operation(token, form.password.data)
        except tokens.TokenError as error:
            return render_template("admin/users/link_refused.html", message=str(error)), 400
        except UserError as error:
            form.add_error("password", error.message)
        else:
            if current_user.is_authenticated:
                user_session.end()  # whoever was signed in here, sign in afresh
            flash(done, "success")
            return redirect(url_for("admin.login"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "admin/users/set_password.html", form=form, user=user, purpose=purpose
    ), status


@admin.route("/reset-password/<token>", methods=["GET", "POST"])
@allow.open
def reset_password_page(token: str):
    return _set_password_page(
        tokens.PASSWORD_RESET, token, reset_password,
        "Your password has been changed, and you are signed out everywhere. Sign in with it.",
    )  # fmt: skip


@admin.route("/invitation/<token>", methods=["GET", "POST"])
@allow.open
def accept_invitation_page(token: str):
    return _set_password_page(
        tokens.INVITATION, token, accept_invitation,
        "Your password is set. Sign in with your email address and it.",
    )  # fmt: skip


# --- your account ------------------------------------------------------------------------------


def _account_page(form: ChangePasswordForm, status: int = 200):
    return render_template(
        "admin/users/account.html",
        form=form,
        sessions=running_sessions(current_user),
        this_session=user_session.current_session(),
        action_form=ActionForm(formdata=None),
    ), status


@admin.get("/account")
@allow.signed_in
def account():
    return _account_page(ChangePasswordForm(formdata=None))


@admin.post("/account/password")
@allow.signed_in
def account_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            ended = change_password(
                current_user, form.current_password.data, form.password.data,
                keep=user_session.current_session(),
            )  # fmt: skip
        except UserError as error:
            form.add_error(error.field, error.message)
        else:
            others = f" {ended} other session{'s' if ended != 1 else ''} ended." if ended else ""
            flash("Your password has been changed." + others, "success")
            return redirect(url_for("admin.account"))
    return _account_page(form, 400)


@admin.post("/account/sign-out-everywhere")
@allow.signed_in
def account_sign_out_everywhere():
    if ActionForm().validate_on_submit():
        sign_out_everywhere(current_user)
        user_session.end()
        flash("You have signed out everywhere, here included.", "info")
        return redirect(url_for("admin.login"))
    return redirect(url_for("admin.account"))


@admin.get("/held/<token>")
@allow.signed_in
def held_post(token: str):
    """What the person was sending when their session timed out, to send now or copy."""
    post = held_posts.find(token, current_user.id)
    if post is None:
        return render_template("admin/held_post.html", post=None), 404
    return render_template(
        "admin/held_post.html", post=post, action=safe_next(post.path), form=ActionForm()
    )
