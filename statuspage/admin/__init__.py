"""The admin: signed-in staff log incidents and publish updates. Guarded once, here."""

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user

admin = Blueprint("admin", __name__)

# Endpoints a stranger may reach: signing in is the way through the guard.
OPEN_ENDPOINTS = {
    "admin.login", "admin.forgot_password", "admin.password_reset_sent",
    "admin.reset_password_page", "admin.accept_invitation_page",
}  # fmt: skip


@admin.before_request
def require_sign_in():
    if request.endpoint in OPEN_ENDPOINTS or current_user.is_authenticated:
        return None
    return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))


@admin.after_request
def no_caching(response):
    response.headers["Cache-Control"] = "no-store"
    return response


from . import audit, auth, communications, delivery, incidents, monthly, reviews  # noqa: E402,F401
from . import internal  # noqa: E402,F401
from . import war_room  # noqa: E402,F401
from . import triage  # noqa: E402,F401
from . import users  # noqa: E402,F401
from . import catalog, policy  # noqa: E402,F401
