"""The append-only audit log: who changed what, when, from where and why."""

from __future__ import annotations

import json
from datetime import datetime

from flask import has_request_context, request
from sqlalchemy import ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import clock
from .extensions import db
from .types import UTCDateTime
from .users.models import User


class AuditEntry(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    address: Mapped[str] = mapped_column(String(64))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    details: Mapped[str] = mapped_column(Text, default="{}")
    reason: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship()
    incident = relationship("Incident")

    @property
    def detail_items(self) -> list[tuple[str, str]]:
        return [
            (key.replace("_", " "), str(value))
            for key, value in json.loads(self.details).items()
            if key != "changes"
        ]

    @property
    def change_items(self) -> list[tuple[str, str, str]]:
        """(field, before, after) for each field an edit changed (see ``changes``)."""
        found = json.loads(self.details).get("changes") or {}
        return [(key.replace("_", " "), _shown(before), _shown(after))
                for key, (before, after) in found.items()]  # fmt: skip


def _shown(value) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "(none)"
    return str(value)


def changes(before: dict, after: dict) -> dict[str, list]:
    """The fields whose value an edit changed, each as [before, after], for an entry's
    ``changes`` detail (shown as "field: before → after")."""
    return {key: [before.get(key), value] for key, value in after.items()
            if before.get(key) != value}  # fmt: skip


class AuditLogIsAppendOnly(RuntimeError):
    pass


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_changes(mapper, connection, target) -> None:
    raise AuditLogIsAppendOnly("audit entries are never changed or deleted")


def record(
    action: str,
    *,
    actor: User | None,
    agency_id: int | None,
    incident=None,
    reason: str = "",
    **details,
) -> AuditEntry:
    """Add an entry to the current transaction; the caller's commit writes it with the change."""
    entry = AuditEntry(
        at=clock.now(),
        actor_id=actor.id if actor else None,
        address=(request.remote_addr or "unknown") if has_request_context() else "system",
        agency_id=agency_id,
        incident=incident,
        action=action,
        details=json.dumps(details, default=str, sort_keys=True),
        reason=reason,
    )
    db.session.add(entry)
    return entry
