"""Post-incident reports (a working draft, and the revisions published from it, never changed) and
monthly reports (figures frozen as JSON when an agency publishes them)."""

from __future__ import annotations

import enum
import json
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..catalog.models import Agency
from ..extensions import db
from ..incidents.models import Incident
from ..types import UTCDateTime
from ..users.models import User
from .timeline import Entry, public_entries


class RootCause(enum.StrEnum):
    """The root cause categories of the policy (PRODUCT.md), in its order."""

    CHANGE = "change"
    CONFIGURATION = "configuration"
    CAPACITY = "capacity"
    INFRASTRUCTURE = "infrastructure"
    NETWORK = "network"
    THIRD_PARTY = "third_party"
    SOFTWARE_DEFECT = "software_defect"
    DATA = "data"
    SECURITY = "security"
    HUMAN_PROCESS = "human_process"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return _ROOT_CAUSE_LABELS[self]


_ROOT_CAUSE_LABELS = {
    RootCause.CHANGE: "Change or deployment",
    RootCause.CONFIGURATION: "Configuration",
    RootCause.CAPACITY: "Capacity",
    RootCause.INFRASTRUCTURE: "Infrastructure or hardware",
    RootCause.NETWORK: "Network",
    RootCause.THIRD_PARTY: "Third-party or vendor",
    RootCause.SOFTWARE_DEFECT: "Software defect",
    RootCause.DATA: "Data",
    RootCause.SECURITY: "Security or malicious",
    RootCause.HUMAN_PROCESS: "Human or process",
    RootCause.UNKNOWN: "Unknown",
}


# The fishbone's four bones (families of causes), in the order they are shown.
FISHBONE_BONES = {
    "people": "People",
    "process": "Process",
    "technology": "Technology",
    "external": "External",
}


class ReviewStatus(enum.StrEnum):
    DRAFT = "draft"
    # The approver sent it back with a note; the writers' next save makes it a draft again.
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    PUBLISHED = "published"  # the draft is what was last published; editing starts a correction

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class PostIncidentReport(db.Model):
    """One incident's review: the working text, its approval and the revisions published."""

    __tablename__ = "post_incident_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(20), default=ReviewStatus.DRAFT.value)
    summary: Mapped[str] = mapped_column(Text, default="")
    # JSON: [{"at": ISO UTC, "text": ...}], oldest first.
    timeline: Mapped[str] = mapped_column(Text, default="[]")
    people_affected: Mapped[str] = mapped_column(Text, default="")
    duration: Mapped[str] = mapped_column(Text, default="")
    transactions_lost: Mapped[str] = mapped_column(Text, default="")
    root_cause: Mapped[str] = mapped_column(Text, default="")
    root_cause_category: Mapped[str] = mapped_column(String(30), default="")
    resolution: Mapped[str] = mapped_column(Text, default="")
    lessons: Mapped[str] = mapped_column(Text, default="")
    apology: Mapped[str] = mapped_column(Text, default="")
    # Why a published report is being corrected (shown with the new revision).
    correction_note: Mapped[str] = mapped_column(Text, default="")
    # The analysis (issue 17): what else contributed, what went well and wrong, the 5 Whys
    # (JSON list of answers, first why first) and the fishbone (JSON {"people", "process",
    # "technology", "external"} -> text).
    contributing_factors: Mapped[str] = mapped_column(Text, default="", server_default="")
    went_well: Mapped[str] = mapped_column(Text, default="", server_default="")
    went_wrong: Mapped[str] = mapped_column(Text, default="", server_default="")
    five_whys: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    fishbone: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    # JSON [{"name": ..., "role": ...}]: who took part in the review.
    contributors: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    # Numbers for the figures, beside the words of people_affected.
    people_affected_count: Mapped[int | None] = mapped_column(Integer)
    downtime_cost: Mapped[int | None] = mapped_column(Integer)  # whole units of the currency
    # The approver's request for changes, a note back to the author.
    changes_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changes_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changes_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The review meeting: when, how long, where (a room or a call link), who facilitates (never
    # the incident commander), who was invited (JSON [user id]), when the invitations went and
    # the iCalendar SEQUENCE (a reschedule sends the invitation again with the next number).
    meeting_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    meeting_minutes: Mapped[int | None] = mapped_column(Integer)
    meeting_place: Mapped[str] = mapped_column(String(500), default="", server_default="")
    facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    meeting_invitees: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    meeting_invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    meeting_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    incident: Mapped[Incident] = relationship()
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    changes_requested_by: Mapped[User | None] = relationship(foreign_keys=[changes_requested_by_id])
    facilitator: Mapped[User | None] = relationship(foreign_keys=[facilitator_id])
    actions: Mapped[list[PreventiveAction]] = relationship(
        back_populates="report",
        cascade="all, delete-orphan",
        order_by="(PreventiveAction.due_on, PreventiveAction.id)",
    )
    revisions: Mapped[list[ReportRevision]] = relationship(
        back_populates="report", order_by="ReportRevision.number"
    )

    @property
    def status_enum(self) -> ReviewStatus:
        return ReviewStatus(self.status)

    @property
    def timeline_entries(self) -> list[dict]:
        return json.loads(self.timeline)

    @property
    def whys(self) -> list[str]:
        return json.loads(self.five_whys or "[]")

    @property
    def bones(self) -> dict[str, str]:
        """Every bone of the fishbone, empty when not written."""
        written = json.loads(self.fishbone or "{}")
        return {key: written.get(key, "") for key in FISHBONE_BONES}

    @property
    def contributor_list(self) -> list[dict]:
        return json.loads(self.contributors or "[]")

    @property
    def latest_revision(self) -> ReportRevision | None:
        return self.revisions[-1] if self.revisions else None


class PreventiveAction(db.Model):
    """Something the agency will do so it does not happen again: tracked until done."""

    __tablename__ = "preventive_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("post_incident_reports.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(20), default=ActionStatus.OPEN.value)
    # monitoring, process, technology, training, documentation or architecture ("" before 0019).
    category: Mapped[str] = mapped_column(String(20), default="", server_default="")
    impact: Mapped[str] = mapped_column(String(10), default="", server_default="")  # high/medium/low
    effort: Mapped[str] = mapped_column(String(10), default="", server_default="")  # high/medium/low
    completed_on: Mapped[date | None] = mapped_column(Date, index=True)  # when it was marked done
    # After completion: did it work? ("" until checked) with a note and the day it was checked.
    effectiveness: Mapped[str] = mapped_column(String(20), default="", server_default="")
    effectiveness_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    effectiveness_checked_on: Mapped[date | None] = mapped_column(Date)

    report: Mapped[PostIncidentReport] = relationship(back_populates="actions")

    @property
    def status_enum(self) -> ActionStatus:
        return ActionStatus(self.status)


class ReportRevision(db.Model):
    """A published revision: the report's content as citizens read it, frozen."""

    __tablename__ = "report_revisions"
    __table_args__ = (UniqueConstraint("report_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("post_incident_reports.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    # Copied from the incident and the content, so the monthly figures can count in SQL.
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    root_cause_category: Mapped[str] = mapped_column(String(30))
    people_affected_count: Mapped[int | None] = mapped_column(Integer)
    downtime_cost: Mapped[int | None] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)  # JSON: every section and the actions
    correction_note: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    report: Mapped[PostIncidentReport] = relationship(back_populates="revisions")
    incident: Mapped[Incident] = relationship()
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])

    @property
    def sections(self) -> dict:
        return json.loads(self.content)

    @property
    def root_cause_label(self) -> str:
        category = self.root_cause_category
        return RootCause(category).label if category in set(RootCause) else "Not chosen yet"

    @property
    def timeline(self) -> list[Entry]:
        """Every moment, internal ones and who did them included: for the review, not citizens."""
        return [Entry.from_dict(data) for data in self.sections["timeline"]]

    @property
    def public_timeline(self) -> list[Entry]:
        return public_entries(self.timeline)

    @property
    def fishbone(self) -> list[tuple[str, str]]:
        """The written bones as (label, text); revisions published before issue 17 have none."""
        bones = self.sections.get("fishbone") or {}
        return [(label, bones[key]) for key, label in FISHBONE_BONES.items() if bones.get(key)]


class MonthlyReportStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


# The scope of the whole site's report; an agency's is "agency:<id>".
SITE_SCOPE = "site"
# In report URLs, the whole site stands where an agency's slug would: /reports/all/2026-11.
SITE_SLUG = "all"


class MonthlyReport(db.Model):
    """One agency's (or the whole site's) month: a draft to review, then a frozen snapshot."""

    __tablename__ = "monthly_reports"
    __table_args__ = (UniqueConstraint("scope", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    month: Mapped[date] = mapped_column(Date, index=True)  # the month's first day
    status: Mapped[str] = mapped_column(String(20), default=MonthlyReportStatus.DRAFT.value)
    figures: Mapped[str] = mapped_column(Text)  # JSON, see reports.monthly.build
    commentary: Mapped[str] = mapped_column(Text, default="")  # the agency's notes and lessons
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    agency: Mapped[Agency | None] = relationship()
    published_by: Mapped[User | None] = relationship()

    @property
    def is_published(self) -> bool:
        return self.status == MonthlyReportStatus.PUBLISHED.value

    @property
    def data(self) -> dict:
        return json.loads(self.figures)

    @property
    def slug(self) -> str:
        return self.agency.slug if self.agency is not None else SITE_SLUG

    @property
    def scope_name(self) -> str:
        return self.agency.name if self.agency is not None else "All agencies"


def scope_for(agency: Agency | None) -> str:
    return f"agency:{agency.id}" if agency is not None else SITE_SCOPE


class PublishedIsFrozen(RuntimeError):
    pass


@event.listens_for(ReportRevision, "before_update")
@event.listens_for(ReportRevision, "before_delete")
def _refuse_revision_changes(mapper, connection, target) -> None:
    raise PublishedIsFrozen("a published revision is never changed; publish a correction")


@event.listens_for(MonthlyReport, "before_update")
@event.listens_for(MonthlyReport, "before_delete")
def _refuse_published_month_changes(mapper, connection, target) -> None:
    # The row as loaded: a draft may be refreshed and published, a published one never changes.
    history = db.inspect(target).attrs.status.history
    was = history.deleted[0] if history.deleted else target.status
    if was == MonthlyReportStatus.PUBLISHED.value:
        raise PublishedIsFrozen("a published monthly report never changes")
