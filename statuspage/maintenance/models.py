"""Planned maintenance windows on one agency's services."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..catalog.models import Agency, Service
from ..extensions import db
from ..types import UTCDateTime


class WindowStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


window_services = db.Table(
    "maintenance_services",
    db.Column(
        "window_id", ForeignKey("maintenance_windows.id", ondelete="CASCADE"), primary_key=True
    ),
    db.Column("service_id", ForeignKey("services.id"), primary_key=True),
)


class MaintenanceWindow(db.Model):
    __tablename__ = "maintenance_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=WindowStatus.SCHEDULED.value)
    # iCalendar SEQUENCE: goes up with every change, so calendars replace the old event.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    agency: Mapped[Agency] = relationship()
    services: Mapped[list[Service]] = relationship(secondary=window_services)

    @property
    def status_enum(self) -> WindowStatus:
        return WindowStatus(self.status)
