"""Is the database migrated? The app refuses to serve an unmigrated one."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .extensions import db

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
UPGRADE_COMMAND = "statuspage db upgrade"


class SchemaNotCurrent(RuntimeError):
    pass


def head_revision() -> str | None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def check_schema_current() -> None:
    """Raise SchemaNotCurrent with the command to run when the database is behind."""
    current, head = current_revision(), head_revision()
    if current != head:
        state = "has no tables yet" if current is None else f"is at revision {current}"
        raise SchemaNotCurrent(
            f"The database {state}, but this version of the site needs revision {head}. "
            f"Run `{UPGRADE_COMMAND}` (or `statuspage setup` for a new site) and start again."
        )
