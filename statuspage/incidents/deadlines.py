"""Every deadline the policy sets for an incident, as pure functions of plain facts.

Escalation takes effect at once: from the moment of escalation the higher priority's window runs,
and a deadline never moves later because of an escalation. De-escalation relaxes a deadline to the
lower priority's window, counted from the same start (detection or the last escalation).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from ..policy import BusinessCalendar, Duration, Policy, Review
from ..timefmt import format_absolute


class Kind(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"
    FIRST_COMMUNICATION = "first_communication"
    NEXT_UPDATE = "next_update"
    TARGET_RESOLUTION = "target_resolution"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    Kind.ACKNOWLEDGE: "acknowledge",
    Kind.FIRST_COMMUNICATION: "first public update",
    Kind.NEXT_UPDATE: "next update",
    Kind.TARGET_RESOLUTION: "target resolution",
}


@dataclass(frozen=True)
class IncidentFacts:
    """What the deadlines depend on; ``priorities`` starts with (detected_at, first priority)."""

    detected_at: datetime
    priorities: tuple[tuple[datetime, int], ...]
    tier: int = 1
    is_security: bool = False
    acknowledged_at: datetime | None = None
    first_public_at: datetime | None = None
    last_public_update_at: datetime | None = None
    promised_next_update_at: datetime | None = None
    resolved_at: datetime | None = None
    # Incidents on the same service within the recurrence window, this one included.
    recent_on_same_service: int = 1
    # Closed as a duplicate, a false alarm or a service request: no review or report is owed.
    triaged: bool = False

    @property
    def priority(self) -> int:
        return self.priorities[-1][1]


@dataclass(frozen=True)
class Deadline:
    kind: Kind
    due: datetime
    met_at: datetime | None = None

    def is_met(self) -> bool:
        return self.met_at is not None

    def lateness(self, now: datetime):
        """How late it was met (or is, if still pending); zero or negative when on time."""
        return (self.met_at or now) - self.due


@dataclass(frozen=True)
class ReviewNeed:
    reasons: list[str] = field(default_factory=list)
    due: datetime | None = None

    @property
    def required(self) -> bool:
        return bool(self.reasons)


def _walk(
    facts: IncidentFacts, window_for: Callable[[int], Duration | None], calendar: BusinessCalendar
) -> datetime | None:
    """A deadline through the incident's priority history (see the module docstring)."""
    deadline = anchor = previous = None
    for at, priority in facts.priorities:
        window = window_for(priority)
        if previous is None:
            anchor = at
            deadline = window.after(at, calendar) if window else None
        elif priority < previous:
            anchor = at
            candidate = window.after(at, calendar) if window else None
            if candidate is not None:
                deadline = candidate if deadline is None else min(deadline, candidate)
        elif priority > previous:
            deadline = window.after(anchor, calendar) if window else None
        previous = priority
    return deadline


def acknowledge_by(facts: IncidentFacts, policy: Policy, calendar: BusinessCalendar) -> datetime:
    return _walk(facts, lambda p: policy[p].acknowledge, calendar)


def first_communication_by(
    facts: IncidentFacts, policy: Policy, calendar: BusinessCalendar
) -> datetime | None:
    """None when the priority sets no deadline (a P3 is made public on a lead's call, P4 never)."""
    return _walk(facts, lambda p: policy[p].first_communication, calendar)


def target_resolution_by(
    facts: IncidentFacts, policy: Policy, calendar: BusinessCalendar
) -> datetime:
    return _walk(facts, lambda p: policy[p].target_resolution(facts.tier), calendar)


def next_update_due(
    facts: IncidentFacts, policy: Policy, calendar: BusinessCalendar
) -> datetime | None:
    """When the next public update is due: after the last one by the cadence, while unresolved.

    A promise made to the public ("next update by 3:30 PM") counts when it is sooner. An escalation
    after the last update brings it forward to the new priority's first-communication window.
    """
    last = facts.last_public_update_at
    if facts.resolved_at is not None or facts.first_public_at is None or last is None:
        return None
    before = [p for at, p in facts.priorities if at <= last]
    after = [(at, p) for at, p in facts.priorities if at > last]
    cadence = policy[before[-1]].update_cadence
    due = cadence.after(last, calendar) if cadence else None
    previous = before[-1]
    for at, priority in after:
        if priority < previous:
            window = policy[priority].first_communication or policy[priority].update_cadence
            if window is not None:
                candidate = window.after(at, calendar)
                due = candidate if due is None else min(due, candidate)
        elif priority > previous:
            relaxed = policy[priority].update_cadence
            due = relaxed.after(last, calendar) if relaxed else None
        previous = priority
    if due is not None and facts.promised_next_update_at and facts.promised_next_update_at > last:
        due = min(due, facts.promised_next_update_at)
    return due


def breached_target(facts: IncidentFacts, policy: Policy, calendar: BusinessCalendar) -> bool:
    return facts.resolved_at is not None and facts.resolved_at > target_resolution_by(
        facts, policy, calendar
    )


def review_priority(facts: IncidentFacts, policy: Policy) -> tuple[int, datetime]:
    """The priority whose row decides the review, and since when the incident held it: the most
    severe priority it ever held when that is the policy's ``review_if_ever`` or higher (lowering
    a P1 does not excuse its review), else the priority it has now."""
    since, highest = min(facts.priorities, key=lambda change: change[1])  # the first time held
    if highest <= policy.rules.review_if_ever:
        return highest, since
    return facts.priority, facts.priorities[-1][0]


def review_need(facts: IncidentFacts, policy: Policy, calendar: BusinessCalendar) -> ReviewNeed:
    """Whether a post-incident review is needed, why, and (once resolved) by when. An incident
    that turned out not to be one (triaged) owes none."""
    if facts.triaged:
        return ReviewNeed()
    priority, since = review_priority(facts, policy)
    rules = policy[priority]
    windows: list[Duration] = []
    reasons: list[str] = []
    if rules.review is Review.MANDATORY:
        reasons.append(
            f"mandatory for P{priority}"
            if priority == facts.priority
            else f"mandatory: it was P{priority} from {format_absolute(since, calendar.zone)}"
        )
        windows.append(rules.review_due or policy.rules.breach_review_due)
    if facts.is_security:
        reasons.append("security incident")
        windows.append(rules.review_due or policy.rules.breach_review_due)
    if breached_target(facts, policy, calendar):
        reasons.append("breached its target resolution time")
        windows.append(policy.rules.breach_review_due)
    if (
        rules.review is Review.IF_RECURRING
        and facts.recent_on_same_service >= policy.rules.recurrence_threshold
    ):
        reasons.append(
            f"recurring: {facts.recent_on_same_service} incidents on the same service within "
            f"{policy.rules.recurrence_window}"
        )
        windows.append(rules.review_due or policy.rules.breach_review_due)
    if not reasons or facts.resolved_at is None:
        return ReviewNeed(reasons)
    return ReviewNeed(reasons, min(w.after(facts.resolved_at, calendar) for w in windows))


def report_due(facts: IncidentFacts, policy: Policy, calendar: BusinessCalendar) -> datetime | None:
    """When the review must be published: the public-report window after resolution of the
    priority that decides the review (see review_priority), or the review's own due time when
    that priority sets none. None when no review is needed."""
    need = review_need(facts, policy, calendar)
    if not need.required or facts.resolved_at is None:
        return None
    window = policy[review_priority(facts, policy)[0]].public_report_due
    return window.after(facts.resolved_at, calendar) if window else need.due


def deadlines(facts: IncidentFacts, policy: Policy, calendar: BusinessCalendar) -> list[Deadline]:
    """Every deadline that applies now, with when it was met (if it was)."""
    found = [
        Deadline(Kind.ACKNOWLEDGE, acknowledge_by(facts, policy, calendar), facts.acknowledged_at)
    ]
    first = first_communication_by(facts, policy, calendar)
    if first is not None:
        found.append(Deadline(Kind.FIRST_COMMUNICATION, first, facts.first_public_at))
    following = next_update_due(facts, policy, calendar)
    if following is not None:
        found.append(Deadline(Kind.NEXT_UPDATE, following))
    found.append(
        Deadline(
            Kind.TARGET_RESOLUTION, target_resolution_by(facts, policy, calendar), facts.resolved_at
        )
    )
    return found


def reminder_at(due: datetime, policy: Policy, calendar: BusinessCalendar) -> datetime:
    """When the reminder before a deadline goes: the policy's ``reminder_before`` counted back
    from the deadline (business hours and days through the calendar)."""
    return policy.rules.reminder_before.before(due, calendar)


def pending(found: list[Deadline]) -> list[Deadline]:
    """Deadlines not yet met, most urgent first."""
    return sorted((d for d in found if not d.is_met()), key=lambda d: d.due)


def check_security_priority(priority: int, is_security: bool, policy: Policy) -> str | None:
    """The reason a priority is refused for a security incident, or None when it is allowed."""
    floor = policy.rules.security_minimum_priority
    if is_security and priority > floor:
        return f"A security incident is never below P{floor}: choose P1 to P{floor}."
    return None


def effectiveness_check_due(
    completed_on: date, policy: Policy, calendar: BusinessCalendar
) -> date:
    """The day a completed preventive action's effectiveness is checked: the policy's
    ``effectiveness_check_after`` counted from the start of the (site-local) day it was done. A
    check is a matter of days, so the time of day is dropped."""
    start = datetime.combine(completed_on, time(), calendar.zone)
    due = policy.rules.effectiveness_check_after.after(start, calendar)
    return due.astimezone(calendar.zone).date()


# --- what the public is promised ---------------------------------------------------------------


def latest_promise(facts: IncidentFacts, now: datetime, policy: Policy, calendar: BusinessCalendar):
    """The latest "next update by" an update posted ``now`` may promise: the cadence of the
    priority now, counted from now. None when the priority sets no cadence (update on change)."""
    cadence = policy[facts.priority].update_cadence
    return cadence.after(now, calendar) if cadence else None


def prefilled_promise(
    facts: IncidentFacts, now: datetime, policy: Policy, calendar: BusinessCalendar
) -> datetime | None:
    """What the update form offers as "next update by": the latest the cadence allows, to the
    minute (never later than the policy lets the lead promise); nothing once resolved."""
    if facts.resolved_at is not None:
        return None
    latest = latest_promise(facts, now, policy, calendar)
    return latest.replace(second=0, microsecond=0) if latest else None


@dataclass(frozen=True)
class PublicTiming:
    """The times the public page states for an open incident, and whether each has passed."""

    next_update_by: datetime | None
    expected_resolution_at: datetime | None
    now: datetime

    @property
    def update_late(self) -> bool:
        return self.next_update_by is not None and self.now >= self.next_update_by

    @property
    def resolution_late(self) -> bool:
        return self.expected_resolution_at is not None and self.now >= self.expected_resolution_at

    def moments(self) -> list[datetime]:
        """When what the page says changes by itself (a time it states passes)."""
        return [m for m in (self.next_update_by, self.expected_resolution_at) if m is not None]


def public_timing(
    facts: IncidentFacts,
    expected_resolution_at: datetime | None,
    now: datetime,
    policy: Policy,
    calendar: BusinessCalendar,
) -> PublicTiming:
    """One "next update by" (the earlier of cadence and promise) and the expected fix time, as
    the public sees them; nothing once resolved."""
    if facts.resolved_at is not None:
        return PublicTiming(None, None, now)
    return PublicTiming(next_update_due(facts, policy, calendar), expected_resolution_at, now)


# --- the review's deadlines --------------------------------------------------------------------


class ReviewStep(enum.StrEnum):
    """The review's steps the clock watches once the incident is resolved."""

    MEETING = "meeting"  # the review meeting scheduled, its invitations sent
    REVIEW = "review"  # the review written and approved
    REPORT = "report"  # the public report published

    @property
    def label(self) -> str:
        return _STEP_LABELS[self]


_STEP_LABELS = {
    ReviewStep.MEETING: "review meeting invitations",
    ReviewStep.REVIEW: "post-incident review",
    ReviewStep.REPORT: "public post-incident report",
}
BEFORE, OVERDUE = "before", "overdue"
# The review's people; the escalation ladder starts with the service owner.
FIRST_ESCALATION = "service_owner"


def review_meeting_by(
    facts: IncidentFacts, policy: Policy, calendar: BusinessCalendar
) -> datetime | None:
    """When the review meeting's invitations are due (and by when the meeting should be held):
    ``review_meeting_within`` of resolution. None when no review is needed or not yet resolved."""
    if facts.resolved_at is None or not review_need(facts, policy, calendar).required:
        return None
    return policy.rules.review_meeting_within.after(facts.resolved_at, calendar)


def review_deadlines(
    facts: IncidentFacts, policy: Policy, calendar: BusinessCalendar
) -> dict[ReviewStep, datetime]:
    """The review's deadlines that apply: the meeting, the review, the public report."""
    found = {
        ReviewStep.MEETING: review_meeting_by(facts, policy, calendar),
        ReviewStep.REVIEW: review_need(facts, policy, calendar).due,
        ReviewStep.REPORT: report_due(facts, policy, calendar),
    }
    return {step: due for step, due in found.items() if due is not None}


@dataclass(frozen=True)
class ReviewNotice:
    """One message the review's clock owes: a reminder to the review's people (``position``
    None) or an escalation to a position of the ladder."""

    step: ReviewStep
    stage: str  # BEFORE or OVERDUE
    due: datetime
    at: datetime
    position: str | None = None

    @property
    def detail(self) -> str:
        """The outbox key's detail: the same notice is never written twice."""
        due = self.due.strftime("%Y%m%dT%H%M%S")
        return f"{self.step.value}|{due}|{self.stage}|{self.position or ''}"


def escalation_ladder(policy: Policy) -> list[str]:
    """Who is told when a review's deadline passes: the service owner, then the positions above
    it on the policy's ladder (the whole ladder when it does not name the service owner)."""
    ladder = list(policy.notify.ladder) if policy.notify else []
    above = ladder[ladder.index(FIRST_ESCALATION) + 1 :] if FIRST_ESCALATION in ladder else ladder
    return [FIRST_ESCALATION, *(p for p in above if p != FIRST_ESCALATION)]


def review_notices(
    facts: IncidentFacts,
    done: set[ReviewStep],
    now: datetime,
    policy: Policy,
    calendar: BusinessCalendar,
) -> list[ReviewNotice]:
    """Every review notice due by ``now``: ``review_reminder_before`` before each deadline not
    done, and once it has passed an escalation to the service owner, then one position further
    up the ladder each further ``review_reminder_before`` (1 business day by default)."""
    step_length = policy.rules.review_reminder_before
    found = []
    for step, due in review_deadlines(facts, policy, calendar).items():
        if step in done:
            continue
        reminder = step_length.before(due, calendar)
        if reminder <= now < due:
            found.append(ReviewNotice(step, BEFORE, due, reminder))
        moment = due
        for position in escalation_ladder(policy):
            if moment > now:
                break
            found.append(ReviewNotice(step, OVERDUE, due, moment, position))
            moment = step_length.after(moment, calendar)
    return found
