"""Planning, changing and cancelling maintenance windows; each change tells the subscribers."""

from __future__ import annotations

from datetime import datetime

from .. import audit, clock
from ..catalog.models import Service
from ..extensions import db
from ..subscriptions.operations import enqueue_maintenance
from ..users.models import User
from .models import MaintenanceWindow, WindowStatus


class MaintenanceError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def save_window(
    window: MaintenanceWindow | None,
    *,
    title: str,
    description: str,
    starts_at: datetime,
    ends_at: datetime,
    services: list[Service],
    by: User | None,
) -> MaintenanceWindow:
    """Plan a new window or change one; the notice goes out in the same transaction."""
    title = " ".join((title or "").split())
    if not title:
        raise MaintenanceError("Enter a title.", "title")
    if not services:
        raise MaintenanceError("Choose at least one service.", "services")
    if len({s.agency_id for s in services}) > 1:
        raise MaintenanceError("Choose services of one agency.", "services")
    if ends_at <= starts_at:
        raise MaintenanceError("The end must be after the start.", "ends_at")
    now = clock.now()
    if window is None:
        if ends_at <= now:
            raise MaintenanceError(
                "The window has already ended; plan one in the future.", "ends_at"
            )
        window = MaintenanceWindow(created_at=now, sequence=0, status=WindowStatus.SCHEDULED.value)
        db.session.add(window)
        action = "maintenance_planned"
    else:
        if window.status_enum in (WindowStatus.CANCELLED, WindowStatus.COMPLETED):
            raise MaintenanceError("This window is over; plan a new one.")
        window.sequence += 1
        action = "maintenance_changed"
    window.agency_id = services[0].agency_id
    window.title = title
    window.description = description.strip()
    window.starts_at = starts_at
    window.ends_at = ends_at
    window.services = list(services)
    window.updated_at = now
    db.session.flush()
    audit.record(action, actor=by, agency_id=window.agency_id, window=window.id, title=title)
    enqueue_maintenance(window)
    db.session.commit()
    return window


def cancel_window(window: MaintenanceWindow, *, by: User | None) -> None:
    if window.status_enum in (WindowStatus.CANCELLED, WindowStatus.COMPLETED):
        raise MaintenanceError("This window is already over.")
    window.status = WindowStatus.CANCELLED.value
    window.sequence += 1
    window.updated_at = clock.now()
    audit.record("maintenance_cancelled", actor=by, agency_id=window.agency_id, window=window.id)
    enqueue_maintenance(window)
    db.session.commit()


def advance_windows(now: datetime) -> dict[str, int]:
    """The scheduled job: start windows whose time has come and complete those that have ended.
    Conditional updates make it safe when several processes run it."""
    from sqlalchemy import update

    started = db.session.execute(
        update(MaintenanceWindow)
        .where(
            MaintenanceWindow.status == WindowStatus.SCHEDULED.value,
            MaintenanceWindow.starts_at <= now,
            MaintenanceWindow.ends_at > now,
        )
        .values(status=WindowStatus.IN_PROGRESS.value, updated_at=now)
    ).rowcount
    completed = db.session.execute(
        update(MaintenanceWindow)
        .where(
            MaintenanceWindow.status.in_(
                (WindowStatus.SCHEDULED.value, WindowStatus.IN_PROGRESS.value)
            ),
            MaintenanceWindow.ends_at <= now,
        )
        .values(status=WindowStatus.COMPLETED.value, updated_at=now)
    ).rowcount
    db.session.commit()
    return {"started": started, "completed": completed}
