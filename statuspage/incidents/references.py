"""Incident references: INC-YYYY-MMDD-NNN, the UTC day of detection and a per-day sequence."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from ..extensions import db
from .models import Incident

REFERENCE_PATTERN = re.compile(r"^INC-\d{4}-\d{4}-\d{3,}$")


def reference_prefix(detected_at: datetime) -> str:
    day = detected_at.astimezone(UTC)
    return f"INC-{day:%Y}-{day:%m%d}-"


def format_reference(detected_at: datetime, sequence: int) -> str:
    return f"{reference_prefix(detected_at)}{sequence:03d}"


def next_reference(detected_at: datetime) -> str:
    """The next free reference for the day; the unique constraint settles any race."""
    prefix = reference_prefix(detected_at)
    taken = db.session.scalars(select(Incident.ref).where(Incident.ref.startswith(prefix)))
    highest = max((int(ref.removeprefix(prefix)) for ref in taken), default=0)
    return format_reference(detected_at, highest + 1)


def is_reference(text: str) -> bool:
    return bool(REFERENCE_PATTERN.match(text))
