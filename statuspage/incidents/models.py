"""Incidents, the services they affect, their public updates and priority history."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..catalog.models import Agency, Service
from ..extensions import db
from ..types import UTCDateTime
from ..users.models import User


class Impact(enum.StrEnum):
    """What an incident does to one service, mildest first."""

    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def severity(self) -> int:
        return list(Impact).index(self) + 1


class State(enum.StrEnum):
    NEW = "new"
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def is_open(self) -> bool:
        return self not in (State.RESOLVED, State.CLOSED)


# The states an update can announce to the public.
UPDATE_STATUSES = (State.INVESTIGATING, State.IDENTIFIED, State.MONITORING, State.RESOLVED)
# A closing note (policy-driven) carries the status "closed"; nobody writes one by hand.


class Source(enum.StrEnum):
    MONITORING = "monitoring"
    CITIZEN_REPORT = "citizen_report"
    STAFF = "staff"
    EXTERNAL = "external"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


PRIORITY_LABELS = {1: "P1 Critical", 2: "P2 High", 3: "P3 Medium", 4: "P4 Low"}


class Incident(db.Model):
    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint("priority BETWEEN 1 AND 4", name="priority_range"),
        # An agency's month (the monthly report) without walking the agency's whole history.
        Index("ix_incidents_agency_id_detected_at", "agency_id", "detected_at"),
        # Incidents overlapping a period (reports, reviews owed) by their resolution.
        Index("ix_incidents_resolved_at_detected_at", "resolved_at", "detected_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(20), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    priority: Mapped[int] = mapped_column(Integer)
    is_security: Mapped[bool] = mapped_column(Boolean, default=False)
    # A P3 is shown to the public only when a lead decides so (multiple reports); P1/P2 always.
    made_public: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(20), default=State.NEW.value)
    source: Mapped[str] = mapped_column(String(20))
    impact_description: Mapped[str] = mapped_column(Text, default="")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When it was first given to someone (MTTA to assignment).
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_public_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # The latest public moment (a next-update deadline or an expected fix time) the public pages
    # already say has passed; moving it is a public change, so cached pages say "late" at once.
    public_clock_passed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A drill (tabletop exercise): the same forms, clock and internal messages, marked EXERCISE,
    # never public, never sent to subscribers, left out of the reports.
    is_exercise: Mapped[bool] = mapped_column(Boolean, default=False)
    # How it ended when it was not an incident after all (internal.models.Triage), and the
    # original when it was a duplicate.
    triage: Mapped[str | None] = mapped_column(String(20))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    # A government-wide incident on a shared platform: coordinated by the CDO or a site admin,
    # its affected services may belong to several agencies.
    is_shared: Mapped[bool] = mapped_column(Boolean, default=False)
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The P1 war room: when it was opened and closed, the bridge link and who was paged.
    war_room_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    war_room_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bridge_url: Mapped[str] = mapped_column(String(500), default="")
    paged: Mapped[str] = mapped_column(Text, default="")

    agency: Mapped[Agency] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    coordinator: Mapped[User | None] = relationship(foreign_keys=[coordinator_id])
    duplicate_of: Mapped[Incident | None] = relationship(remote_side="Incident.id")
    affected: Mapped[list[AffectedService]] = relationship(
        back_populates="incident", cascade="all, delete-orphan"
    )
    updates: Mapped[list[IncidentUpdate]] = relationship(
        back_populates="incident",
        cascade="all, delete-orphan",
        order_by="(IncidentUpdate.published_at.desc(), IncidentUpdate.id.desc())",
    )
    priority_changes: Mapped[list[PriorityChange]] = relationship(
        back_populates="incident",
        cascade="all, delete-orphan",
        order_by="PriorityChange.changed_at",
    )
    approvals: Mapped[list[Approval]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="Approval.requested_at"
    )
    # Internal only (statuspage.internal.models): the war room roles and the working log.
    roles: Mapped[list[IncidentRole]] = relationship(  # noqa: F821
        "IncidentRole", cascade="all, delete-orphan", order_by="IncidentRole.role"
    )
    notes: Mapped[list[IncidentNote]] = relationship(  # noqa: F821
        "IncidentNote", cascade="all, delete-orphan",
        order_by="(IncidentNote.at.desc(), IncidentNote.id.desc())",
    )

    @property
    def state_enum(self) -> State:
        return State(self.state)

    @property
    def is_open(self) -> bool:
        return self.state_enum.is_open

    @property
    def priority_label(self) -> str:
        return PRIORITY_LABELS[self.priority]

    @property
    def source_label(self) -> str:
        return Source(self.source).label

    @property
    def latest_update(self) -> IncidentUpdate | None:
        return self.updates[0] if self.updates else None

    @property
    def agency_ids(self) -> list[int]:
        """Its agency and every agency whose service it affects (a shared platform incident)."""
        return sorted({self.agency_id, *(a.service.agency_id for a in self.affected)})

    @property
    def public_updates(self) -> list[IncidentUpdate]:
        """The updates citizens may read, newest first: never one written while it was private."""
        return [u for u in self.updates if u.is_public]

    @property
    def latest_public_update(self) -> IncidentUpdate | None:
        return next((u for u in self.updates if u.is_public), None)

    def __repr__(self) -> str:
        return f"<Incident {self.ref} P{self.priority} {self.state}>"


class AffectedService(db.Model):
    __tablename__ = "affected_services"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True, index=True)
    impact: Mapped[str] = mapped_column(String(30))

    incident: Mapped[Incident] = relationship(back_populates="affected")
    service: Mapped[Service] = relationship()

    @property
    def impact_enum(self) -> Impact:
        return Impact(self.impact)


class IncidentUpdate(db.Model):
    __tablename__ = "incident_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    # The plain-language elements of a public update, beside the free Markdown body.
    what_affected: Mapped[str] = mapped_column(Text, default="")
    who_affected: Mapped[str] = mapped_column(Text, default="")
    affected_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cause: Mapped[str] = mapped_column(Text, default="")
    workaround: Mapped[str] = mapped_column(Text, default="")
    help: Mapped[str] = mapped_column(Text, default="")
    next_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "Expected to be fixed by", if known (the policy's estimated time to resolution).
    expected_resolution_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Written for citizens while the incident was public (or the message that made it public).
    # An update written while the incident was private stays private for good.
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    incident: Mapped[Incident] = relationship(back_populates="updates")
    author: Mapped[User | None] = relationship()

    @property
    def status_label(self) -> str:
        return State(self.status).label


class PriorityChange(db.Model):
    """Every priority an incident has had: who set it, when and why (the first row is creation)."""

    __tablename__ = "priority_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    from_priority: Mapped[int | None] = mapped_column(Integer)
    to_priority: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    incident: Mapped[Incident] = relationship(back_populates="priority_changes")
    changed_by: Mapped[User | None] = relationship()


class ApprovalKind(enum.StrEnum):
    DE_ESCALATION = "de_escalation"
    CLOSURE = "closure"

    @property
    def label(self) -> str:
        return "lower the priority" if self is ApprovalKind.DE_ESCALATION else "close"


class ApprovalStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Approval(db.Model):
    """A change that needs a named role's approval: lowering the priority, or closing."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    to_priority: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=ApprovalStatus.PENDING.value)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")

    incident: Mapped[Incident] = relationship(back_populates="approvals")
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def kind_enum(self) -> ApprovalKind:
        return ApprovalKind(self.kind)

    @property
    def is_pending(self) -> bool:
        return self.status == ApprovalStatus.PENDING.value


class MissedDeadline(db.Model):
    """A deadline that passed unmet, recorded once; ``met_at`` says how late it was in the end."""

    __tablename__ = "missed_deadlines"
    __table_args__ = (UniqueConstraint("incident_id", "kind", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    incident: Mapped[Incident] = relationship()

    @property
    def lateness(self) -> timedelta | None:
        return self.met_at - self.due_at if self.met_at else None


class Reminder(db.Model):
    """One reminder email about one deadline, as the deadline clock once sent them. No longer
    written: reminders are internal messages in the outbox now (incidents/reminders.py). Kept so
    the rows already there stay readable; a later migration may drop the table."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("incident_id", "kind", "due_at", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stage: Mapped[str] = mapped_column(String(10))  # "before" or "overdue"
    recipients: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    incident: Mapped[Incident] = relationship()


class ReferenceCounter(db.Model):
    """The last incident reference number given out for one UTC day (incidents/references.py)."""

    __tablename__ = "reference_counters"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
