"""The monthly report's figures, as pure functions over plain values (no database here).

A month is a calendar month in the site's time zone, so its length follows daylight saving
(November 2026 in New York has 30 days and one hour). An incident belongs to the month it was
detected in; its downtime counts in every month it touches, clipped to each.

Means are plain averages (the policy's "mean time to ..."). Medians and 90th percentiles
interpolate between the two nearest values (PostgreSQL's `percentile_cont`, Python's
`statistics.quantiles(method="inclusive")`), so a figure is the same whichever computes it.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from ..incidents.deadlines import (
    IncidentFacts,
    acknowledge_by,
    breached_target,
    first_communication_by,
)
from ..intervals import Interval, overlap_minutes, total_minutes, union_within
from ..policy import BusinessCalendar, Policy, Targets


def month_window(month: date, zone: ZoneInfo) -> Interval:
    """The month's first and the next month's first midnight in the zone, as UTC.

    In UTC, because Python subtracts two times of one zone by their wall clocks: 1 December minus
    1 November in New York would come out an hour short of the month that really passed.
    """
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    following = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), following.astimezone(UTC)


def minutes(span: timedelta) -> float:
    return span.total_seconds() / 60


@dataclass(frozen=True)
class Spread:
    """Mean, median and 90th percentile of a set of durations, in minutes; None when there are
    none. The policy's targets speak of means; medians and p90 show what a mean hides."""

    count: int
    median: float | None
    p90: float | None
    mean: float | None = None


def spread(values: Sequence[float]) -> Spread:
    if not values:
        return Spread(0, None, None, None)
    if len(values) == 1:
        return Spread(1, values[0], values[0], values[0])
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    return Spread(len(values), statistics.median(values), deciles[8], statistics.fmean(values))


@dataclass(frozen=True)
class ResponseTimes:
    detect: Spread  # MTTD: detected - started (when the start is known)
    assign: Spread  # MTTA as the policy defines it: first assigned - detected
    acknowledge: Spread  # time to acknowledge: acknowledged - detected
    resolve: Spread  # MTTR: resolved - detected


@dataclass(frozen=True)
class Timing:
    """One incident's moments, as the month's figures need them."""

    detected_at: datetime
    started_at: datetime | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    assigned_at: datetime | None = None


def response_times(incidents: Iterable[Timing]) -> ResponseTimes:
    detect, assign, acknowledge, resolve = [], [], [], []
    for incident in incidents:
        if incident.started_at is not None:
            detect.append(minutes(incident.detected_at - incident.started_at))
        if incident.assigned_at is not None:
            assign.append(minutes(incident.assigned_at - incident.detected_at))
        if incident.acknowledged_at is not None:
            acknowledge.append(minutes(incident.acknowledged_at - incident.detected_at))
        if incident.resolved_at is not None:
            resolve.append(minutes(incident.resolved_at - incident.detected_at))
    return ResponseTimes(spread(detect), spread(assign), spread(acknowledge), spread(resolve))


@dataclass(frozen=True)
class Compliance:
    met: int
    total: int

    @property
    def percent(self) -> float | None:
        return 100.0 * self.met / self.total if self.total else None


def resolution_compliance(
    incidents: Iterable[IncidentFacts], policy: Policy, calendar: BusinessCalendar
) -> Compliance:
    """Resolved within the target for the priority (as it stood, de-escalations included) and tier.

    Only resolved incidents are judged; one still open is not yet a breach or a success.
    """
    resolved = [facts for facts in incidents if facts.resolved_at is not None]
    met = sum(not breached_target(facts, policy, calendar) for facts in resolved)
    return Compliance(met, len(resolved))


def acknowledgement_compliance(
    incidents: Iterable[IncidentFacts], now: datetime, policy: Policy, calendar: BusinessCalendar
) -> Compliance:
    """Acknowledged by the policy's deadline for the priority (as it stood). An incident not yet
    acknowledged is judged only once its deadline has passed at `now`, and then as missed."""
    met = total = 0
    for facts in incidents:
        due = acknowledge_by(facts, policy, calendar)
        if facts.acknowledged_at is None and due > now:
            continue
        total += 1
        met += facts.acknowledged_at is not None and facts.acknowledged_at <= due
    return Compliance(met, total)


@dataclass(frozen=True)
class Occurrence:
    """One incident as the recurrence rule sees it: when it was detected, the services it
    affected, and the root cause of its latest published review (None without one)."""

    id: int
    detected_at: datetime
    services: frozenset[int]
    cause: str | None


@dataclass(frozen=True)
class Recurrence:
    repeats: int
    total: int
    causes_known: int

    @property
    def percent(self) -> float | None:
        return 100.0 * self.repeats / self.total if self.total else None


UNKNOWN_CAUSE = "unknown"


def recurrence(
    counted: Sequence[Occurrence],
    history: Iterable[Occurrence],
    policy: Policy,
    calendar: BusinessCalendar,
) -> Recurrence:
    """The policy's recurrence: a counted incident repeats another when both had the same known
    root cause and at least one service in common, and the other was detected within the
    recurrence window before it. "Unknown", or no published review, never matches: a repeat is
    only claimed when the cause is known. `history` holds the incidents detected in the window
    before the period and in it (the counted ones may be among them)."""
    known = [item for item in history if item.cause not in (None, UNKNOWN_CAUSE)]
    repeats = 0
    for incident in counted:
        if incident.cause in (None, UNKNOWN_CAUSE):
            continue
        since = policy.rules.recurrence_window.before(incident.detected_at, calendar)
        repeats += any(
            other.cause == incident.cause
            and since <= other.detected_at
            and (other.detected_at, other.id) < (incident.detected_at, incident.id)
            and other.services & incident.services
            for other in known
        )
    causes = sum(item.cause not in (None, UNKNOWN_CAUSE) for item in counted)
    return Recurrence(repeats, len(counted), causes)


@dataclass(frozen=True)
class ActionDates:
    """A preventive action's dates: when it was due and when it was marked done (None: not done,
    or done before completion dates were kept)."""

    due_on: date
    completed_on: date | None
    done: bool


@dataclass(frozen=True)
class ActionsOnTime:
    due: int
    on_time: int
    late: int
    open_overdue: int

    @property
    def percent(self) -> float | None:
        judged = self.on_time + self.late + self.open_overdue
        return 100.0 * self.on_time / judged if judged else None


def actions_on_time(actions: Iterable[ActionDates], today: date) -> ActionsOnTime:
    """The period's due actions: done by their due day, done after it, or still open past it.
    One open and not yet past its day is due but not judged; one marked done without a date
    (kept before completion dates were) cannot be judged either."""
    due = on_time = late = overdue = 0
    for action in actions:
        due += 1
        if action.completed_on is not None:
            on_time += action.completed_on <= action.due_on
            late += action.completed_on > action.due_on
        elif not action.done and action.due_on < today:
            overdue += 1
    return ActionsOnTime(due, on_time, late, overdue)


def reported_sum(values: Iterable[int | None]) -> tuple[int | None, int]:
    """The sum of the numbers reported and how many were; the sum is None when none was, so a
    month without figures never reads as zero."""
    reported = [value for value in values if value is not None]
    return (sum(reported) if reported else None), len(reported)


@dataclass(frozen=True)
class CommunicationTimeliness:
    first_on_time: Compliance
    late_by: Spread  # how late the late first communications were, in minutes
    cadence_breaches: int
    cadence_late_by: Spread


def communication_timeliness(
    incidents: Iterable[IncidentFacts],
    cadence_lateness: Sequence[timedelta],
    policy: Policy,
    calendar: BusinessCalendar,
) -> CommunicationTimeliness:
    """First public communication against its deadline, and the month's missed update deadlines.

    Incidents whose priority sets no first-communication deadline (P3, P4) are not judged.
    `cadence_lateness` is how late each missed "next update" was (from the missed-deadline log).
    """
    judged, on_time, late = 0, 0, []
    for facts in incidents:
        due = first_communication_by(facts, policy, calendar)
        if due is None:
            continue
        judged += 1
        if facts.first_public_at is not None and facts.first_public_at <= due:
            on_time += 1
        elif facts.first_public_at is not None:
            late.append(minutes(facts.first_public_at - due))
    cadence = [minutes(span) for span in cadence_lateness]
    return CommunicationTimeliness(
        Compliance(on_time, judged), spread(late), len(cadence), spread(cadence)
    )


@dataclass(frozen=True)
class Availability:
    period_minutes: float
    downtime_minutes: float  # major outage, unplanned
    maintenance_minutes: float  # planned, not downtime; time also down counts as downtime only

    @property
    def percent(self) -> float:
        """The share of the month without an unplanned major outage."""
        return 100.0 * (1 - self.downtime_minutes / self.period_minutes)


def availability(
    window: Interval, outages: Iterable[Interval], maintenance: Iterable[Interval]
) -> Availability:
    """One service's month: overlapping outages count once, and maintenance is shown apart."""
    down = union_within(outages, window)
    planned = union_within(maintenance, window)
    return Availability(
        period_minutes=minutes(window[1] - window[0]),
        downtime_minutes=total_minutes(down),
        maintenance_minutes=total_minutes(planned) - overlap_minutes(down, planned),
    )


def _percent_words(value: float) -> str:
    return f"{value:g}%"


def judge_targets(figures: dict, year_earlier: dict | None, targets: Targets) -> list[dict]:
    """The policy's targets against a period's figures (schema 2) and the headline of the same
    period a year before: met True/False, or None when a figure has nothing to measure.

    Pure over plain values so the monthly and the quarterly reports judge alike. Mean MTTR must be
    down on the year by the policy's reduction; recurrence below its rate; resolution and
    acknowledgement compliance at least the SLA share. The words of each target come from the
    policy's numbers, never from a template.
    """
    mttr = (figures.get("response_times", {}).get("resolve") or {}).get("mean")
    earlier = (year_earlier or {}).get("mttr_mean")
    reduction = targets.mttr_reduction_per_year
    ceiling = None if earlier is None else round(earlier * (1 - reduction / 100), 2)
    mttr_words = f"Down by at least {_percent_words(reduction)} on a year earlier"
    if ceiling is not None:
        mttr_words += f" (at most {ceiling:g} minutes; a year earlier {earlier:g})"
    recurrence = (figures.get("recurrence") or {}).get("percent")
    sla = targets.sla_compliance_at_least

    def at_least(value: float | None) -> bool | None:
        return None if value is None else value >= sla

    return [
        {
            "figure": "mttr_mean",
            "label": "Mean time to resolve",
            "target": mttr_words,
            "value": mttr,
            "met": None if mttr is None or ceiling is None else mttr <= ceiling,
        },
        {
            "figure": "recurrence_percent",
            "label": "Recurrence (same service and cause)",
            "target": f"Below {_percent_words(targets.recurrence_rate_below)}",
            "value": recurrence,
            "met": None if recurrence is None else recurrence < targets.recurrence_rate_below,
        },
        {
            "figure": "resolution_percent",
            "label": "Resolved within the target time",
            "target": f"At least {_percent_words(sla)}",
            "value": (figures.get("resolution") or {}).get("percent"),
            "met": at_least((figures.get("resolution") or {}).get("percent")),
        },
        {
            "figure": "acknowledgement_percent",
            "label": "Acknowledged within the deadline",
            "target": f"At least {_percent_words(sla)}",
            "value": (figures.get("acknowledgement") or {}).get("percent"),
            "met": at_least((figures.get("acknowledgement") or {}).get("percent")),
        },
    ]
