"""Media statements and their internal talking points.

A statement is drafted from a template, checked for plain language, approved by the policy's
approver (never its author) and released on the public press page. A released statement never
changes: a correction is a new statement that supersedes it.

The talking points and Q&A live in their own table, which no public page, feed, API answer,
subscriber email or export reads (like the war room's working log).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, event, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..catalog.models import Agency
from ..extensions import db
from ..incidents.models import Incident
from ..types import UTCDateTime
from ..users.models import User


class StatementStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # waiting for the approver
    CHANGES_REQUESTED = "changes_requested"  # sent back to the author with a note
    RELEASED = "released"  # approved and public; never changes again

    @property
    def label(self) -> str:
        return {
            StatementStatus.DRAFT: "Draft",
            StatementStatus.SUBMITTED: "Waiting for approval",
            StatementStatus.CHANGES_REQUESTED: "Changes asked for",
            StatementStatus.RELEASED: "Released",
        }[self]

    @property
    def editable(self) -> bool:
        return self in (StatementStatus.DRAFT, StatementStatus.CHANGES_REQUESTED)


class PressStatement(db.Model):
    """A media statement about one incident, spoken by the incident's agency."""

    __tablename__ = "press_statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    # The public address, given at release: "<incident ref>-statement-<n>", lower case.
    slug: Mapped[str | None] = mapped_column(String(60), unique=True)
    # 1 for an incident's first statement, 2 for the next (a correction)...
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=StatementStatus.DRAFT.value)
    headline: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # The released statement this one corrects and replaces.
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("press_statements.id"))
    # True when the priority did not ask for one and a lead chose to prepare it.
    chosen: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The latest request for approval (each one a new round, so each is asked once).
    round: Mapped[int] = mapped_column(Integer, default=0)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The approver's latest word: approved (released) or changes asked for, with a note.
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    incident: Mapped[Incident] = relationship()
    agency: Mapped[Agency] = relationship()
    supersedes: Mapped[PressStatement | None] = relationship(remote_side="PressStatement.id")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    talking_points: Mapped[TalkingPoints | None] = relationship(
        back_populates="statement", cascade="all, delete-orphan", uselist=False
    )

    @property
    def status_enum(self) -> StatementStatus:
        return StatementStatus(self.status)

    @property
    def is_released(self) -> bool:
        return self.status == StatementStatus.RELEASED.value

    @property
    def last_change(self) -> datetime:
        moments = (self.updated_at, self.submitted_at, self.decided_at, self.released_at)
        return max(m for m in moments if m is not None)

    @property
    def counts_as_public(self) -> bool:
        """Read by publication.py: only a released statement is on the public site, so only its
        release moves the public pages' version (a draft saved during a surge re-renders none)."""
        return self.is_released

    def __repr__(self) -> str:
        return f"<PressStatement {self.id} {self.status}>"


class TalkingPoints(db.Model):
    """The internal talking points and Q&A that go with a statement: for spokespeople, never
    public."""

    __tablename__ = "press_talking_points"

    statement_id: Mapped[int] = mapped_column(
        ForeignKey("press_statements.id", ondelete="CASCADE"), primary_key=True
    )
    text: Mapped[str] = mapped_column(Text, default="")

    statement: Mapped[PressStatement] = relationship(back_populates="talking_points")


class ReleasedStatementIsFinal(RuntimeError):
    pass


@event.listens_for(PressStatement, "before_update")
def _released_never_changes(mapper, connection, target) -> None:
    was = inspect(target).attrs.status.history
    before = (was.deleted or was.unchanged or [None])[0]
    if before == StatementStatus.RELEASED.value:
        raise ReleasedStatementIsFinal("a released statement never changes; write a correction")


@event.listens_for(TalkingPoints, "before_update")
def _released_points_never_change(mapper, connection, target) -> None:
    if target.statement is not None:
        was = inspect(target.statement).attrs.status.history
        if (was.deleted or was.unchanged or [None])[0] == StatementStatus.RELEASED.value:
            raise ReleasedStatementIsFinal("a released statement's talking points stay as released")
