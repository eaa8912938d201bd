"""Reads of maintenance windows: what is running now, what is coming."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from .models import MaintenanceWindow, WindowStatus

# How far ahead the public pages announce planned maintenance.
ANNOUNCE_AHEAD = timedelta(days=14)


def _windows():
    return select(MaintenanceWindow).options(
        selectinload(MaintenanceWindow.services), joinedload(MaintenanceWindow.agency)
    )


def active_windows(now: datetime) -> list[MaintenanceWindow]:
    """Windows running now (by the clock, so a late job never leaves a service blue)."""
    return list(
        db.session.scalars(
            _windows()
            .where(
                MaintenanceWindow.status != WindowStatus.CANCELLED.value,
                MaintenanceWindow.starts_at <= now,
                MaintenanceWindow.ends_at > now,
            )
            .order_by(MaintenanceWindow.starts_at)
        )
    )


def upcoming_windows(now: datetime, ahead: timedelta = ANNOUNCE_AHEAD) -> list[MaintenanceWindow]:
    return list(
        db.session.scalars(
            _windows()
            .where(
                MaintenanceWindow.status == WindowStatus.SCHEDULED.value,
                MaintenanceWindow.starts_at > now,
                MaintenanceWindow.starts_at <= now + ahead,
            )
            .order_by(MaintenanceWindow.starts_at)
        )
    )


def running_and_upcoming_windows(
    now: datetime, ahead: timedelta = ANNOUNCE_AHEAD
) -> tuple[list[MaintenanceWindow], list[MaintenanceWindow]]:
    """What `active_windows` and `upcoming_windows` return, from one query (the front page)."""
    windows = db.session.scalars(
        _windows()
        .where(
            MaintenanceWindow.status != WindowStatus.CANCELLED.value,
            MaintenanceWindow.starts_at <= now + ahead,
            or_(MaintenanceWindow.ends_at > now, MaintenanceWindow.starts_at > now),
        )
        .order_by(MaintenanceWindow.starts_at, MaintenanceWindow.id)
    ).all()
    running = [w for w in windows if w.starts_at <= now < w.ends_at]
    upcoming = [
        w for w in windows if w.status == WindowStatus.SCHEDULED.value and w.starts_at > now
    ]
    return running, upcoming


def recent_windows(now: datetime, since: timedelta = timedelta(days=30)) -> list[MaintenanceWindow]:
    return list(
        db.session.scalars(
            _windows()
            .where(MaintenanceWindow.ends_at <= now, MaintenanceWindow.ends_at > now - since)
            .order_by(MaintenanceWindow.starts_at.desc())
        )
    )


def under_maintenance(now: datetime) -> set[int]:
    """Ids of the services in a running window."""
    return {service.id for window in active_windows(now) for service in window.services}
