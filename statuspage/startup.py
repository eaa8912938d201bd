"""What an operator reads when the site cannot start: one or two lines that say what to do.

`explain` turns the mistakes an operator makes (no setup yet, a wrong DATABASE_URL, a database that
is down, a malformed policy.toml, an unknown time zone, no secret key) into that message; the
command line (`cli.py`) and the WSGI entry point (`wsgi.py`) print it instead of a traceback.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

from .policy import PolicyError
from .sms.provider import SmsNotConfigured

SETTING = "DATABASE_URL (or SQLALCHEMY_DATABASE_URI in the instance's config.py)"


def explain(error: BaseException, database_url: str | None = None) -> str | None:
    """The operator's message for a start-up failure, or None when it is not one we know."""
    from . import MissingSecretKey
    from .schema import SchemaNotCurrent

    if isinstance(error, (MissingSecretKey, SchemaNotCurrent)):
        return str(error)
    if isinstance(error, SmsNotConfigured):
        return f"{error} Set them (README: Text messages (SMS)) or remove SMS_PROVIDER."
    if isinstance(error, PolicyError):
        return (
            f"The policy override is not valid: {error}. Correct it (README: The policy table) "
            "or remove the file, then start again."
        )
    if isinstance(error, ZoneInfoNotFoundError):
        return (
            f"SITE_TIMEZONE is not a time zone this machine knows ({error}); use an IANA name "
            "such as America/New_York."
        )
    if isinstance(error, (ArgumentError, NoSuchModuleError)):
        return (
            f"{SETTING} is not a database address ({_safe(database_url)}); use "
            "postgresql://user@host:5432/name or sqlite:////absolute/path/statuspage.sqlite."
        )
    if isinstance(error, (OperationalError, DBAPIError)):
        return _unreachable(error, database_url)
    return None


def _unreachable(error: DBAPIError, database_url: str | None) -> str:
    reason = str(getattr(error, "orig", error)).strip().splitlines()[0] if str(error) else ""
    if database_url and database_url.startswith("sqlite"):
        path = make_url(database_url).database
        if path and not Path(path).exists():
            return (
                f"There is no database at {path} yet: run `statuspage setup` first (it makes the "
                "instance folder, the secret key and the database)."
            )
        return (
            f"The SQLite database {_safe(database_url)} cannot be opened ({reason}). "
            f"Run `statuspage setup` to create it, or correct {SETTING}."
        )
    return (
        f"Cannot reach the database at {_safe(database_url)}: {reason}. Check that it is "
        f"running and that {SETTING} is right."
    )


def _safe(url: str | None) -> str:
    """The address without its password."""
    if not url:
        return "the configured address"
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url[:80])
