"""Public status page and citizen communications for government digital services."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, g, render_template, request
from flask.logging import default_handler
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix

from . import clock
from .config import Config, from_environment
from .extensions import compress, csrf, db, limiter, login_manager, migrate
from .policy import BusinessCalendar, load_policy
from .schema import MIGRATIONS_DIR, check_schema_current
from .sms.provider import check_settings as check_sms_settings

log = logging.getLogger(__name__)

SECRET_KEY_FILE = "secret_key"
DATABASE_FILE = "statuspage.sqlite"


class MissingSecretKey(RuntimeError):
    pass


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def create_app(test_config: dict | None = None, *, for_cli: bool = False) -> Flask:
    """Build the application; the CLI may build one before the instance has a secret key."""
    # STATUSPAGE_INSTANCE_PATH moves the instance folder (config, secret key, SQLite file).
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("STATUSPAGE_INSTANCE_PATH") or None,
    )
    app.config.from_object(Config)
    instance = Path(app.instance_path)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / DATABASE_FILE}"
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        secret_file = instance / SECRET_KEY_FILE
        if secret_file.exists():
            app.config["SECRET_KEY"] = secret_file.read_text().strip()
        app.config.update(from_environment())
    else:
        app.config.update(test_config)

    if not app.config.get("SECRET_KEY"):
        message = (
            f"No secret key: run `statuspage setup` to create {instance / SECRET_KEY_FILE}, "
            "or set SECRET_KEY in the environment (the same on every machine)."
        )
        if not for_cli:
            raise MissingSecretKey(message)
        app.config["SECRET_KEY"] = secrets.token_hex(32)  # the CLI serves no sessions
        app.extensions["made_up_secret_key"] = MissingSecretKey(message)

    # A bad policy override, zone or holiday country stops start-up with a message.
    app.extensions["policy"] = load_policy(instance)
    check_sms_settings(app.config)
    app.extensions["business_calendar"] = BusinessCalendar(
        ZoneInfo(app.config["SITE_TIMEZONE"]),
        app.config["HOLIDAYS_COUNTRY"],
        app.config["HOLIDAYS_SUBDIVISION"],
    )

    if app.config["PAGE_CACHE_ENABLED"]:
        from .public import CACHEABLE
        from .public.cache import PageCache

        app.wsgi_app = PageCache(app, CACHEABLE)
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    app.session_interface = HttpsAwareSessionInterface()

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    _show_limiter_warnings()
    compress.init_app(app)

    from . import models  # noqa: F401  (register every table with the metadata)
    from .admin import admin
    from .api_keys import errors as api_errors
    from .api_v1 import api_v1
    from .public import public
    from .templating import register_templating
    from .users.session import register_user_loader

    register_user_loader(login_manager)
    app.register_blueprint(public)
    app.register_blueprint(admin, url_prefix="/admin")
    csrf.exempt(api_v1)  # API clients send a key, not a cookie
    api_errors.register_app_handlers(app)
    app.register_blueprint(api_v1, url_prefix="/api/v1")
    register_templating(app)
    _register_error_pages(app)
    _register_security_headers(app)
    if not for_cli and not app.config.get("TESTING"):
        _refuse_unmigrated_database(app)
        if app.config["SCHEDULER_ENABLED"]:
            from .scheduler import start_in_background

            start_in_background(app)

    from .cli import register_commands

    register_commands(app)
    return app


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record) -> None:
    """Foreign keys on, a busy timeout and WAL so readers do not wait on a writer."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _show_limiter_warnings() -> None:
    """Flask-Limiter's logger has only a NullHandler, so its "storage unreachable, falling back to
    in-memory" warning would be lost: send it where Flask's own log goes (the server's error log)."""
    limiter_log = logging.getLogger("flask-limiter")
    if default_handler not in limiter_log.handlers:
        limiter_log.addHandler(default_handler)


def _refuse_unmigrated_database(app: Flask) -> None:
    with app.app_context():
        try:
            check_schema_current()
        except OperationalError as error:
            log.warning("database unavailable at start-up: %s", error)  # served as 503 pages


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(404)
    def not_found(error):
        from .api_keys.errors import is_api_request, unrouted_not_found

        if is_api_request():  # a path under /api/v1 that no route serves
            return unrouted_not_found()
        return render_template("errors/404.html"), 404

    @app.errorhandler(403)
    def forbidden(error):
        return render_template("errors/403.html"), 403

    @app.errorhandler(400)
    def bad_request(error):
        return render_template("errors/400.html", error=error), 400

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        # A locked, missing or unreachable database: say so plainly, never a traceback.
        log.error("database unavailable: %s", error)
        db.session.rollback()
        # The page and its layout must not read the database again: no signed-in user is loaded
        # (the user loader sees the flag), and one loaded before the failure is forgotten.
        g.database_unavailable = True
        g.pop("_login_user", None)
        response = app.make_response((render_template("errors/503.html"), 503))
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(413)
    def too_large(error):
        return render_template("errors/413.html"), 413

    @app.errorhandler(429)
    def too_many_requests(error):
        from .public.subscriptions import too_many_subscriptions

        if request.endpoint == "public.subscribe":
            return too_many_subscriptions(error)
        if request.endpoint == "public.subscribe_sms":
            from .public.sms import too_many_sms_signups

            return too_many_sms_signups(error)
        return render_template("errors/429.html"), 429

    @app.errorhandler(500)
    def server_error(error):
        return render_template("errors/500.html"), 500


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


__all__ = ["create_app", "clock"]
