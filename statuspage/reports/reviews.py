"""Post-incident reviews: which incidents need one and by when, the draft, the service owner's
approval, publication as a frozen revision, and corrections as new revisions.

Each operation checks the rules, writes the change and its audit entry, and commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import nh3
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import audit, clock, duties
from ..communications.plain_language import Advice, advise
from ..extensions import db
from ..incidents import cadence
from ..incidents.deadlines import Kind, ReviewNeed, report_due, review_need
from ..incidents.models import AffectedService, Incident, MissedDeadline, State
from ..incidents.visibility import is_public
from ..internal import decisions
from ..markdown import render_markdown
from ..policy import current_calendar, current_policy
from ..subscriptions.operations import enqueue_report
from ..timefmt import site_zone
from ..users.models import Role, User
from .actions import Category, Level, apply_rows, priority_of, set_status, site_today
from .models import (
    FISHBONE_BONES,
    ActionStatus,
    PostIncidentReport,
    PreventiveAction,
    ReportRevision,
    ReviewStatus,
    RootCause,
)
from .timeline import Entry, format_lines, who_of

WRITER = Role.COMMUNICATIONS_LEAD
APPROVER = Role.SERVICE_OWNER
# The sections a report cannot be approved or published without, in the order of the page.
REQUIRED_SECTIONS = {
    "summary": "Executive summary",
    "timeline": "Timeline",
    "people_affected": "People affected",
    "duration": "Duration",
    "root_cause": "Root cause",
    "root_cause_category": "Root cause category",
    "contributing_factors": "Contributing factors",
    "five_whys": "The 5 Whys (at least one answer)",
    "resolution": "Resolution",
    "went_well": "What went well",
    "went_wrong": "What went wrong",
    "lessons": "Lessons learned",
    "apology": "Apology",
}
TEXT_SECTIONS = (
    "summary", "people_affected", "duration", "transactions_lost", "root_cause", "resolution",
    "lessons", "apology", "contributing_factors", "went_well", "went_wrong",
)  # fmt: skip
WHYS = 5
# The numbers' columns are 32-bit integers on PostgreSQL; nothing real comes near.
LARGEST_NUMBER = 2_147_483_647
NUMBERS = {"people_affected_count": "The number of people affected",
           "downtime_cost": "The cost of downtime"}  # fmt: skip
# How far back the dashboard looks for reviews still owed.
OUTSTANDING_WINDOW = timedelta(days=180)


class ReviewError(ValueError):
    """A change the rules refuse; ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class ActionDraft:
    """One row of the draft's actions; ``id`` names the action it updates (None: a new one)."""

    description: str
    owner: str
    due_on: date | None
    status: str = ActionStatus.OPEN.value
    category: str = ""
    impact: str = ""
    effort: str = ""
    id: int | None = None

    @classmethod
    def of(cls, action: PreventiveAction) -> ActionDraft:
        return cls(action.description, action.owner, action.due_on, action.status,
                   action.category, action.impact, action.effort, action.id)  # fmt: skip


@dataclass(frozen=True)
class Contributor:
    """Someone who took part in the review, and their part in it (internal, never published)."""

    name: str
    role: str = ""


@dataclass
class ReviewContent:
    summary: str = ""
    timeline: list[Entry] = field(default_factory=list)
    people_affected: str = ""
    duration: str = ""
    transactions_lost: str = ""
    root_cause: str = ""
    root_cause_category: str = ""
    resolution: str = ""
    lessons: str = ""
    apology: str = ""
    correction_note: str = ""
    actions: list[ActionDraft] = field(default_factory=list)
    contributing_factors: str = ""
    went_well: str = ""
    went_wrong: str = ""
    five_whys: list[str] = field(default_factory=list)  # the first why first
    fishbone: dict[str, str] = field(default_factory=dict)  # FISHBONE_BONES' keys -> text
    contributors: list[Contributor] = field(default_factory=list)
    people_affected_count: int | None = None
    downtime_cost: int | None = None  # whole units of the agency's currency


# --- which incidents need a review ------------------------------------------------------------


@dataclass(frozen=True)
class Owed:
    """Why an incident needs a review, when the review is due, and when its public report is."""

    need: ReviewNeed
    report_due: datetime | None


def owed_by(incident: Incident, recurrence: int | None = None) -> Owed:
    facts = cadence.facts_for(incident, with_recurrence=True, recurrence=recurrence)
    policy, calendar = current_policy(), current_calendar()
    return Owed(review_need(facts, policy, calendar), report_due(facts, policy, calendar))


@dataclass(frozen=True)
class Outstanding:
    incident: Incident
    need: ReviewNeed
    report: PostIncidentReport | None
    recurrence: int = 1  # incidents on its services within the window, counted once for all

    def is_overdue(self, now: datetime) -> bool:
        return self.need.due is not None and self.need.due < now


def outstanding_reviews(agency_ids: list[int], now: datetime) -> list[Outstanding]:
    """Resolved incidents that need a review and have no published report yet, soonest due
    first."""
    incidents = db.session.scalars(
        select(Incident)
        .where(
            Incident.agency_id.in_(agency_ids),
            Incident.resolved_at.is_not(None),
            Incident.resolved_at >= now - OUTSTANDING_WINDOW,
            ~select(ReportRevision.id).where(ReportRevision.incident_id == Incident.id).exists(),
        )
        .options(
            selectinload(Incident.affected).selectinload(AffectedService.service),
            selectinload(Incident.updates),
            selectinload(Incident.priority_changes),
        )
    ).all()
    reports = {
        report.incident_id: report
        for report in db.session.scalars(
            select(PostIncidentReport).where(
                PostIncidentReport.incident_id.in_([i.id for i in incidents])
            )
        )
    }
    counts = cadence.recurrence_counts(
        [(i.id, i.detected_at, [a.service_id for a in i.affected]) for i in incidents]
    )
    found = []
    for incident in incidents:
        need = owed_by(incident, counts[incident.id]).need
        if need.required:
            found.append(
                Outstanding(incident, need, reports.get(incident.id), counts[incident.id])
            )
    return sorted(found, key=lambda item: item.need.due)


def overdue_actions(agency_ids: list[int], today: date) -> list[PreventiveAction]:
    return list(
        db.session.scalars(
            select(PreventiveAction)
            .join(PostIncidentReport)
            .join(Incident)
            .where(
                Incident.agency_id.in_(agency_ids),
                PreventiveAction.status != ActionStatus.DONE.value,
                PreventiveAction.due_on < today,
            )
            .options(
                selectinload(PreventiveAction.report).selectinload(PostIncidentReport.incident)
            )
            .order_by(PreventiveAction.due_on)
        )
    )


# --- the draft --------------------------------------------------------------------------------


def report_for(incident: Incident) -> PostIncidentReport | None:
    return db.session.scalars(
        select(PostIncidentReport).where(PostIncidentReport.incident_id == incident.id)
    ).first()


def _plain(markdown_text: str, limit: int = 300) -> str:
    text = " ".join(nh3.clean(str(render_markdown(markdown_text)), tags=set()).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def prefilled_timeline(incident: Incident) -> list[Entry]:
    """What the record already says happened and who did it, for the writer to edit: start,
    detection, acknowledgement, priority changes, every update and every deadline that was missed.
    Only what citizens could already read is public: priority changes (with their reasons),
    missed deadlines and updates written while the incident was private stay internal."""
    entries = []
    if incident.started_at is not None:
        entries.append(Entry(incident.started_at, "The problem began."))
    entries.append(Entry(incident.detected_at, f"Detected (reported by: {incident.source_label})."))
    if incident.acknowledged_at is not None:
        who = who_of(incident.acknowledged_by.name if incident.acknowledged_by else "")
        entries.append(Entry(incident.acknowledged_at, "The team acknowledged the incident.", who))
    for change in incident.priority_changes:
        if change.from_priority is None:
            continue
        verb = "raised" if change.to_priority < change.from_priority else "lowered"
        reason = f": {change.reason}" if change.reason else ""
        who = who_of(change.changed_by.name if change.changed_by else "")
        entries.append(Entry(change.changed_at, f"Priority {verb} to P{change.to_priority}"
                                                f"{reason}.", who, public=False))  # fmt: skip
    for update in reversed(incident.updates):
        who = who_of(update.author.name if update.author else "")
        entries.append(Entry(update.published_at, f"{update.status_label}: {_plain(update.body)}",
                             who, public=update.is_public))  # fmt: skip
    missed = db.session.scalars(
        select(MissedDeadline).where(MissedDeadline.incident_id == incident.id)
    )
    for deadline in missed:
        entries.append(Entry(deadline.due_at, f"Missed deadline: {Kind(deadline.kind).label}.",
                             public=False))  # fmt: skip
    return sorted(entries, key=lambda entry: entry.at)


def _duration_text(incident: Incident) -> str:
    start = incident.started_at or incident.detected_at
    if incident.resolved_at is None:
        return ""
    minutes = int((incident.resolved_at - start).total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    spoken = f"{hours} h {rest} min" if hours else f"{rest} min"
    return f"{spoken}, from {'the start' if incident.started_at else 'detection'} to resolution."


def start_review(incident: Incident, *, by: User) -> PostIncidentReport:
    """A draft prefilled from the record; starting twice returns the existing one."""
    existing = report_for(incident)
    if existing is not None:
        return existing
    now = clock.now()
    report = PostIncidentReport(
        incident=incident,
        status=ReviewStatus.DRAFT.value,
        timeline=json.dumps([entry.as_dict() for entry in prefilled_timeline(incident)]),
        people_affected=incident.impact_description,
        duration=_duration_text(incident),
        created_at=now,
        updated_at=now,
        updated_by_id=by.id,
    )
    db.session.add(report)
    audit.record("review_started", actor=by, agency_id=incident.agency_id, incident=incident)
    db.session.commit()
    return report


def check_actions(actions: list[ActionDraft]) -> None:
    for number, action in enumerate(actions, start=1):
        if not action.description:
            raise ReviewError(f"Preventive action {number}: describe what will be done.",
                              f"actions-{number - 1}-description")  # fmt: skip
        if not action.owner:
            raise ReviewError(
                f"Preventive action {number} has no owner: name who will do it.",
                f"actions-{number - 1}-owner",
            )
        if action.due_on is None:
            raise ReviewError(
                f"Preventive action {number} has no due date: enter when it will be done.",
                f"actions-{number - 1}-due_on",
            )
        if action.status not in {status.value for status in ActionStatus}:
            raise ReviewError(f"Preventive action {number}: choose a status.",
                              f"actions-{number - 1}-status")  # fmt: skip
        # Required of a new action; one written before categories existed may stay without.
        for name, allowed, words in (
            ("category", set(Category), "a category (monitoring, process, technology, …)"),
            ("impact", set(Level), "its impact (high, medium or low)"),
            ("effort", set(Level), "its effort (high, medium or low)"),
        ):
            value = getattr(action, name)
            if (value or action.id is None) and value not in allowed:
                raise ReviewError(f"Preventive action {number}: choose {words}.",
                                  f"actions-{number - 1}-{name}")  # fmt: skip


def whole_number(text: str, label: str) -> int | None:
    """A number typed in a form (“3,000” and “3 000” are read as 3000), None when left empty;
    anything else is refused in words that say what to type."""
    digits = text.replace(",", "").replace(" ", "").replace("_", "")
    if not digits:
        return None
    if digits.startswith("-") and digits[1:].isascii() and digits[1:].isdigit():
        raise ReviewError(f"{label} cannot be below 0.")
    if not digits.isascii() or not digits.isdigit():
        raise ReviewError(f"{label} must be a whole number, like 3000, or left empty.")
    number = int(digits) if len(digits) <= 20 else LARGEST_NUMBER + 1
    if number > LARGEST_NUMBER:
        raise ReviewError(f"{label} must be at most {LARGEST_NUMBER:,}.")
    return number


def check_contributors(contributors: list[Contributor]) -> None:
    """A role needs the name of who held it; a row with neither is blank and left out."""
    for number, contributor in enumerate(contributors, start=1):
        if contributor.role and not contributor.name:
            raise ReviewError(f"Contributor {number}: give the name of who was {contributor.role}.",
                              f"contributors-{number - 1}-name")  # fmt: skip


def check_analysis(content: ReviewContent) -> None:
    """The parts of the analysis a form or the API could get wrong: at most five whys, the four
    bones, every role given a name, numbers that are whole, not negative and not absurd."""
    if len(content.five_whys) > WHYS:
        raise ReviewError(f"The 5 Whys hold at most {WHYS} answers.", "why_1")
    if unknown := set(content.fishbone) - set(FISHBONE_BONES):
        raise ReviewError(f"The fishbone has no bone called {', '.join(sorted(unknown))}.")
    check_contributors(content.contributors)
    for name, label in NUMBERS.items():
        value = getattr(content, name)
        if value is not None and not 0 <= value <= LARGEST_NUMBER:
            raise ReviewError(f"{label} must be a whole number from 0 to {LARGEST_NUMBER:,}.",
                              name)  # fmt: skip


def save_draft(report: PostIncidentReport, content: ReviewContent, *, by: User) -> None:
    """Save the text; saving an approved report sends it back for approval, and saving a
    published one starts a correction (the published revision stays as it was)."""
    check_actions(content.actions)
    check_analysis(content)
    if content.root_cause_category and content.root_cause_category not in set(RootCause):
        raise ReviewError("Choose a root cause category from the list.", "root_cause_category")
    for name in TEXT_SECTIONS:
        setattr(report, name, getattr(content, name))
    report.root_cause_category = content.root_cause_category
    report.correction_note = content.correction_note
    report.timeline = json.dumps([entry.as_dict() for entry in content.timeline])
    report.five_whys = json.dumps(_without_trailing_blanks(content.five_whys))
    report.fishbone = json.dumps({key: content.fishbone.get(key, "") for key in FISHBONE_BONES})
    report.contributors = json.dumps(
        [{"name": c.name, "role": c.role} for c in content.contributors if c.name]
    )
    report.people_affected_count = content.people_affected_count
    report.downtime_cost = content.downtime_cost
    apply_rows(report, content.actions, site_today())
    report.status = ReviewStatus.DRAFT.value
    report.approved_at = None
    report.approved_by_id = None
    report.updated_at = clock.now()
    report.updated_by_id = by.id
    audit.record(
        "review_saved",
        actor=by,
        agency_id=report.incident.agency_id,
        incident=report.incident,
        actions=len(content.actions),
    )
    if ready_for_approval(report):  # the service owner is asked once per round of approval
        decisions.review_waiting(report, APPROVER, by=by)
    db.session.commit()


def _without_trailing_blanks(whys: list[str]) -> list[str]:
    """The whys in order; a blank one before an answer keeps its place (“why 3” stays third)."""
    kept = list(whys)
    while kept and not kept[-1].strip():
        kept.pop()
    return kept


def missing_sections(report: PostIncidentReport) -> list[str]:
    """The required sections not written yet, in the order of the page; the numbers (people
    affected, cost of downtime) are optional."""
    return [label for name, label in REQUIRED_SECTIONS.items() if not _written(report, name)]


def _written(report: PostIncidentReport, name: str) -> bool:
    if name == "timeline":
        return bool(report.timeline_entries)
    if name == "five_whys":
        return any(why.strip() for why in report.whys)
    return bool(getattr(report, name).strip())


def _check_complete(report: PostIncidentReport, verb: str) -> None:
    missing = missing_sections(report)
    if missing:
        raise ReviewError(f"The report cannot be {verb} yet. Fill in: {', '.join(missing)}.")
    if report.revisions and not report.correction_note.strip():
        raise ReviewError(
            "Say what this correction changes: the note is shown with the new revision.",
            "correction_note",
        )
    check_actions([ActionDraft.of(action) for action in report.actions])


def ready_for_approval(report: PostIncidentReport) -> bool:
    """Complete enough for the service owner to approve."""
    try:
        _check_complete(report, "approved")
    except ReviewError:
        return False
    return True


def authors(report: PostIncidentReport) -> set[int]:
    """Everyone who started the review or saved its text (they may not approve or publish it)."""
    return duties.audited_actors(
        ("review_started", "review_saved"), incident_id=report.incident_id
    ) | {report.updated_by_id}


def _check_not_author(report: PostIncidentReport, by: User, decide: str) -> None:
    if refused := duties.refusal(by, authors(report), APPROVER, did="write this report",
                                 decide=decide):  # fmt: skip
        raise ReviewError(refused)


def _check_waiting(report: PostIncidentReport) -> None:
    if report.status == ReviewStatus.CHANGES_REQUESTED.value:
        raise ReviewError("Changes were asked for: the writers save the report again first.")
    if report.status != ReviewStatus.DRAFT.value:
        raise ReviewError(
            f"Only a draft waits for approval; this report is {report.status_enum.label.lower()}."
        )


def approve(report: PostIncidentReport, *, by: User) -> None:
    _check_waiting(report)
    _check_not_author(report, by, "approve it")
    _check_complete(report, "approved")
    report.status = ReviewStatus.APPROVED.value
    report.approved_at = clock.now()
    report.approved_by_id = by.id
    audit.record(
        "review_approved", actor=by, agency_id=report.incident.agency_id, incident=report.incident
    )
    decisions.review_approved(report, authors(report), by=by)
    db.session.commit()


CHANGES_NOTE_LIMIT = 5000


def request_changes(report: PostIncidentReport, note: str, *, by: User) -> None:
    """Send the draft back to its writers with a note; the review page shows the note until
    their next save, which asks for approval again."""
    _check_waiting(report)
    _check_not_author(report, by, "ask for changes to it")
    note = note.strip()
    if not note:
        raise ReviewError("Say what needs to change.", "note")
    if len(note) > CHANGES_NOTE_LIMIT:
        raise ReviewError(f"Keep the note under {CHANGES_NOTE_LIMIT} characters.", "note")
    report.status = ReviewStatus.CHANGES_REQUESTED.value
    report.changes_note = note
    report.changes_requested_at = clock.now()
    report.changes_requested_by_id = by.id
    audit.record(
        "review_changes_requested",
        actor=by,
        agency_id=report.incident.agency_id,
        incident=report.incident,
        reason=note,
    )
    decisions.review_changes_requested(report, authors(report), by=by)
    db.session.commit()


def update_action_statuses(
    report: PostIncidentReport, statuses: dict[int, str], *, by: User
) -> int:
    """Track the actions' progress (done dates the completion, reopening clears it); the
    published text is not changed by it. Returns how many changed."""
    allowed = {status.value for status in ActionStatus}
    changed = 0
    today = site_today()
    for action in report.actions:
        status = statuses.get(action.id, action.status)
        if status not in allowed:
            raise ReviewError("Choose a status for each action.")
        changed += set_status(action, status, today)
    if changed:
        audit.record(
            "actions_tracked",
            actor=by,
            agency_id=report.incident.agency_id,
            incident=report.incident,
            changed=changed,
        )
    db.session.commit()
    return changed


def content_of(report: PostIncidentReport) -> dict:
    """The report as a revision keeps it: the whole review, internal parts included (timeline
    entries marked internal, who did what, the contributors). The public pages choose what they
    show from it; what they leave out stays on record for the agency."""
    return {
        **{name: getattr(report, name) for name in TEXT_SECTIONS},
        "root_cause_category": report.root_cause_category,
        "timeline": report.timeline_entries,
        "five_whys": report.whys,
        "fishbone": report.bones,
        "contributors": report.contributor_list,
        "people_affected_count": report.people_affected_count,
        "downtime_cost": report.downtime_cost,
        "actions": [
            {
                "description": a.description,
                "owner": a.owner,
                "due_on": a.due_on.isoformat(),
                "status": a.status,
                "category": a.category,
                "impact": a.impact,
                "effort": a.effort,
                "priority": priority.value if (priority := priority_of(a.impact, a.effort)) else "",
            }
            for a in report.actions
        ],
    }


def preview(report: PostIncidentReport) -> ReportRevision:
    """The draft as the revision publish() would freeze, never saved (no session, no report), so
    the approver's preview goes through the public page's own template and reads the same."""
    return ReportRevision(
        number=len(report.revisions) + 1,
        root_cause_category=report.root_cause_category,
        people_affected_count=report.people_affected_count,
        downtime_cost=report.downtime_cost,
        content=json.dumps(content_of(report), sort_keys=True),
    )


def public_texts(report: PostIncidentReport) -> dict[str, str]:
    """The words citizens will read, as plain text (Markdown removed), section by section: what
    the public page shows, so internal moments and contributors are left out."""
    content = content_of(report)
    texts = {
        name: _plain(value, limit=100_000)
        for name, value in content.items()
        if isinstance(value, str) and name != "root_cause_category" and value.strip()
    }
    revision = preview(report)
    texts["timeline"] = " ".join(entry.text for entry in revision.public_timeline)
    if whys := [why for why in content.get("five_whys") or [] if why.strip()]:
        texts["five_whys"] = _plain("\n\n".join(whys), limit=100_000)
    if bones := [text for _, text in revision.fishbone]:
        texts["fishbone"] = _plain("\n\n".join(bones), limit=100_000)
    actions = content.get("actions") or []
    texts["actions"] = " ".join(str(a.get("description", "")) for a in actions)
    return texts


def plain_language(report: PostIncidentReport, jargon: dict[str, str]) -> Advice:
    """The public text's reading grade, jargon, unclear times. An update's list of elements does
    not apply to a report (its own required sections do: missing_sections)."""
    advice = advise(public_texts(report), jargon, resolved=True)
    advice.missing = []
    return advice


def publish(report: PostIncidentReport, *, by: User) -> ReportRevision:
    """Freeze the approved text as the next revision, and tell the incident's subscribers."""
    incident = report.incident
    if report.status != ReviewStatus.APPROVED.value:
        raise ReviewError("The service owner must approve the report before it is published.")
    _check_not_author(report, by, "publish it")
    if incident.resolved_at is None or incident.state not in (State.RESOLVED, State.CLOSED):
        raise ReviewError("Publish the report once the incident is resolved.")
    _check_complete(report, "published")
    revision = ReportRevision(
        report=report,
        number=len(report.revisions) + 1,
        incident_id=incident.id,
        root_cause_category=report.root_cause_category,
        people_affected_count=report.people_affected_count,
        downtime_cost=report.downtime_cost,
        content=json.dumps(content_of(report), sort_keys=True),
        correction_note=report.correction_note if report.revisions else "",
        published_at=clock.now(),
        published_by_id=by.id,
        approved_by_id=report.approved_by_id,
    )
    db.session.add(revision)
    report.status = ReviewStatus.PUBLISHED.value
    report.correction_note = ""
    db.session.flush()
    if is_public(incident):
        enqueue_report(incident, revision)
    audit.record(
        "review_published",
        actor=by,
        agency_id=incident.agency_id,
        incident=incident,
        revision=revision.number,
    )
    db.session.commit()
    return revision


def timeline_text(report: PostIncidentReport) -> str:
    entries = [Entry.from_dict(data) for data in report.timeline_entries]
    return format_lines(entries, site_zone())
