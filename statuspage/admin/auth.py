"""Signing in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ..users.operations import sign_in
from . import admin
from .forms import ActionForm, LoginForm


def fresh_session() -> None:
    """Drop the old session (and the CSRF token cached for it) on signing in or out."""
    session.clear()
    g.pop("csrf_token", None)


def safe_next(target: str | None) -> str:
    """Only ever redirect inside this site; anything else goes to the dashboard."""
    fallback = url_for("admin.dashboard")
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


@admin.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url)
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        result = sign_in(form.email.data, form.password.data, request.remote_addr or "unknown")
        if result.ok:
            fresh_session()
            login_user(result.user)
            session.permanent = True
            return redirect(next_url)
        if result.throttled:
            form.form_errors.append(
                "Too many failed attempts to sign in. Wait 15 minutes, then try again."
            )
            status = 429
        else:
            form.form_errors.append("The email address or password is not right.")
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("admin/login.html", form=form), status


@admin.post("/logout")
def logout():
    if ActionForm().validate_on_submit():
        logout_user()
        fresh_session()
        flash("You have signed out.", "info")
    return redirect(url_for("admin.login"))
