"""INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL: the unique key decides who wins."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from .extensions import db


def insert_if_absent(model, **values) -> bool:
    """Insert a row unless one with the same unique key exists; True when this call inserted it."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = db.session.execute(insert(model).values(**values).on_conflict_do_nothing())
    return result.rowcount == 1
