"""Flask-Login wiring and the signed-in session.

The session cookie carries the user's id and a random token; the token names a row in
user_sessions, checked on every request (users/operations.live_session). Signing out, a password
change or reset, deactivation and "sign out everywhere" end rows on the server, so a copied cookie
is refused from then on; so is one idle for SESSION_IDLE_MINUTES."""

from __future__ import annotations

from flask import flash, g, request, session
from flask_login import LoginManager, login_user, logout_user
from sqlalchemy import select

from ..extensions import db
from . import operations
from .models import User, UserSession

TOKEN_KEY = "session_token"


def register_user_loader(manager: LoginManager) -> None:
    manager.login_view = "admin.login"
    manager.login_message = "Sign in to use the admin."
    manager.login_message_category = "info"

    @manager.user_loader
    def load_user(user_id: str) -> User | None:
        if not user_id.isdigit() or g.get("database_unavailable"):
            return None  # the 503 page is shown without anyone signed in
        token = session.get(TOKEN_KEY)
        row = operations.live_session(token, int(user_id)) if isinstance(token, str) else None
        if row is None:
            _forget(token if isinstance(token, str) else None, int(user_id))
            return None
        g.user_session = row
        return row.user


def _forget(token: str | None, user_id: int) -> None:
    """The cookie's session has ended: drop it, and say why on the admin's sign-in page when it
    timed out (and remember whose it was, so what they were sending is kept: held_posts)."""
    session.pop(TOKEN_KEY, None)
    session.pop("_user_id", None)
    if token is None or request.blueprint != "admin":
        return
    reason = db.session.scalar(
        select(UserSession.end_reason).where(UserSession.token_hash == operations.token_hash(token))
    )
    if reason in ("idle", "expired"):
        g.timed_out_user_id = user_id
        flash("You were signed out after a while without activity. Sign in again.", "info")


def current_session() -> UserSession | None:
    """The signed-in person's session row (after the user has been loaded)."""
    return g.get("user_session")


def begin(user: User) -> None:
    """Start a signed-in session for a user whose sign-in is complete: a fresh cookie (nothing
    from before signing in is kept, the CSRF token included) and a new row on the server."""
    token, row = operations.start_session(
        user, request.remote_addr or "unknown", request.headers.get("User-Agent", "")
    )
    session.clear()
    g.pop("csrf_token", None)
    login_user(user)
    session[TOKEN_KEY] = token
    session.permanent = True
    g.user_session = row


def end() -> None:
    """Sign out: this session ends on the server too, then the cookie is emptied."""
    if (row := current_session()) is not None:
        operations.end_session(row)
    logout_user()
    session.clear()
    g.pop("csrf_token", None)
    g.pop("user_session", None)
