"""Incident references: INC-YYYY-MMDD-NNN, the UTC day of detection and a per-day sequence."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from .models import ReferenceCounter

REFERENCE_PATTERN = re.compile(r"^INC-\d{4}-\d{4}-\d{3,}$")


def reference_prefix(detected_at: datetime) -> str:
    day = detected_at.astimezone(UTC)
    return f"INC-{day:%Y}-{day:%m%d}-"


def format_reference(detected_at: datetime, sequence: int) -> str:
    return f"{reference_prefix(detected_at)}{sequence:03d}"


def next_reference(detected_at: datetime) -> str:
    """Take the day's next number with one atomic upsert in the caller's transaction. PostgreSQL
    holds the day's counter row until that transaction ends and SQLite has one writer at a time,
    so two incidents never get the same number, and a rolled-back one gives its number back."""
    day = detected_at.astimezone(UTC).date()
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(ReferenceCounter)
        .values(day=day, last=1)
        .on_conflict_do_update(
            index_elements=[ReferenceCounter.day], set_={"last": ReferenceCounter.last + 1}
        )
        .returning(ReferenceCounter.last)
    )
    return format_reference(detected_at, db.session.execute(statement).scalar_one())


def is_reference(text: str) -> bool:
    return bool(REFERENCE_PATTERN.match(text))
