"""An Alertmanager alert group as we last heard of it, and the services its alerts name."""

from __future__ import annotations

import enum
import json
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..catalog.models import Agency, Service
from ..extensions import db
from ..incidents.models import Incident
from ..types import UTCDateTime


class GroupStatus(enum.StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class AlertGroup(db.Model):
    """One Alertmanager group (its ``groupKey``) of one agency. Repeated notifications of the
    group update this row and the draft incident it opened, never open another."""

    __tablename__ = "alert_groups"
    __table_args__ = (UniqueConstraint("agency_id", "key_digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    # Alertmanager's groupKey can be long (every grouping label): unique by its SHA-256.
    group_key: Mapped[str] = mapped_column(Text)
    key_digest: Mapped[str] = mapped_column(String(64))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(10), default=GroupStatus.FIRING.value)
    # The worst level (rules.Level) of its firing alerts, and the priority that suggests.
    level: Mapped[str] = mapped_column(String(10), default="warning")
    suggested_priority: Mapped[int] = mapped_column(Integer)
    suggestion: Mapped[str] = mapped_column(Text, default="")
    # The notification as received (JSON), shown to staff; and how many came.
    last_payload: Mapped[str] = mapped_column(Text, default="{}")
    notifications: Mapped[int] = mapped_column(Integer, default=0)
    # What monitoring last set on the draft incident, service id -> impact (JSON): an impact a
    # lead has changed since is theirs, and monitoring leaves it alone.
    impacts_set: Mapped[str] = mapped_column(Text, default="{}")
    first_received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    firing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When Alertmanager said every alert of the group resolved: resolution is suggested.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agency: Mapped[Agency] = relationship()
    incident: Mapped[Incident | None] = relationship()
    services: Mapped[list[AlertGroupService]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )

    @property
    def is_firing(self) -> bool:
        return self.status == GroupStatus.FIRING.value

    @property
    def payload(self) -> dict:
        return json.loads(self.last_payload or "{}")

    @property
    def monitoring_impacts(self) -> dict[int, str]:
        return {int(k): v for k, v in json.loads(self.impacts_set or "{}").items()}


class AlertGroupService(db.Model):
    """A service the group's alerts name, with the worst level of its firing alerts (None when
    none of them fires any more)."""

    __tablename__ = "alert_group_services"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("alert_groups.id", ondelete="CASCADE"), primary_key=True
    )
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    level: Mapped[str | None] = mapped_column(String(10))

    group: Mapped[AlertGroup] = relationship(back_populates="services")
    service: Mapped[Service] = relationship()
