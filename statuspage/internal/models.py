"""The duty roster, incident roles, the private working log and service dependencies."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..catalog.models import Agency, Service
from ..extensions import db
from ..types import UTCDateTime
from ..users.models import User


class Position(enum.StrEnum):
    """Who the notification matrix can name. The first two are agency roles held by members
    (memberships); the rest are on the duty roster (contacts), per agency or site-wide."""

    SERVICE_MANAGER = "service_manager"
    SERVICE_OWNER = "service_owner"
    AGENCY_CIO = "agency_cio"
    CDO = "cdo"  # the Chief Digital Officer: site-wide
    CISO = "ciso"  # site-wide or per agency
    LEGAL = "legal"
    PUBLIC_RELATIONS = "public_relations"
    ON_CALL = "on_call"

    @property
    def label(self) -> str:
        return _POSITION_LABELS[self]

    @property
    def from_roster(self) -> bool:
        return self not in (Position.SERVICE_MANAGER, Position.SERVICE_OWNER)


_POSITION_LABELS = {
    Position.SERVICE_MANAGER: "Service manager",
    Position.SERVICE_OWNER: "Service owner",
    Position.AGENCY_CIO: "Agency CIO",
    Position.CDO: "Chief Digital Officer",
    Position.CISO: "CISO",
    Position.LEGAL: "Legal",
    Position.PUBLIC_RELATIONS: "Public relations",
    Position.ON_CALL: "On call",
}
# Positions held once for the whole site (agency_id is None).
SITE_WIDE = frozenset({Position.CDO})


class Contact(db.Model):
    """One entry of the duty roster: a person in a position for an agency (or the whole site when
    ``agency_id`` is None), with a phone number for the on-call list; a backup is told only when
    nobody in the main rota for that position is on the roster."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("agency_id", "position", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    position: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(40), default="")
    is_backup: Mapped[bool] = mapped_column(Boolean, default=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    agency: Mapped[Agency | None] = relationship()
    user: Mapped[User | None] = relationship()

    @property
    def position_enum(self) -> Position:
        return Position(self.position)


class WarRoomRole(enum.StrEnum):
    """The policy's war room roles, named on an incident."""

    INCIDENT_COMMANDER = "incident_commander"
    TECHNICAL_LEAD = "technical_lead"
    COMMUNICATIONS_LEAD = "communications_lead"
    SCRIBE = "scribe"
    AGENCY_LIAISON = "agency_liaison"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class IncidentRole(db.Model):
    __tablename__ = "incident_roles"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(30), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def role_enum(self) -> WarRoomRole:
        return WarRoomRole(self.role)


class NoteKind(enum.StrEnum):
    NOTE = "note"
    DECISION = "decision"
    HANDOVER = "handover"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class IncidentNote(db.Model):
    """The private working log: notes and decisions with their rationale, by whom. Never public:
    no public page, feed, API answer or export reads this table."""

    __tablename__ = "incident_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default=NoteKind.NOTE.value)
    text: Mapped[str] = mapped_column(Text)
    rationale: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    author: Mapped[User | None] = relationship()

    @property
    def kind_enum(self) -> NoteKind:
        return NoteKind(self.kind)


class ServiceDependency(db.Model):
    """A service that relies on a shared platform (identity, payments, notifications): an
    incident on the platform affects it too."""

    __tablename__ = "service_dependencies"

    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    depends_on_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    service: Mapped[Service] = relationship(foreign_keys=[service_id])
    depends_on: Mapped[Service] = relationship(foreign_keys=[depends_on_id])


class Triage(enum.StrEnum):
    """How an incident ended when it turned out not to be one: no review or report duties, and
    counted apart in the reports."""

    DUPLICATE = "duplicate"
    FALSE_ALARM = "false_alarm"
    SERVICE_REQUEST = "service_request"

    @property
    def label(self) -> str:
        return {
            Triage.DUPLICATE: "Duplicate",
            Triage.FALSE_ALARM: "False alarm",
            Triage.SERVICE_REQUEST: "Service request, not an incident",
        }[self]

