"""Flask-Login wiring: load the signed-in user, send strangers to the login page."""

from __future__ import annotations

from flask import g
from flask_login import LoginManager

from ..extensions import db
from .models import User


def register_user_loader(manager: LoginManager) -> None:
    manager.login_view = "admin.login"
    manager.login_message = "Sign in to use the admin."
    manager.login_message_category = "info"

    @manager.user_loader
    def load_user(user_id: str) -> User | None:
        if not user_id.isdigit() or g.get("database_unavailable"):
            return None  # the 503 page is shown without anyone signed in
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.is_active else None
