"""The 90-day history of each service: the worst state of each day in the site's time zone, how
long it lasted, and the availability (the share of the period without a major outage).
Overlapping incidents count once.

The completed days (before today) are remembered per process, because working out 89 days for
every service is most of a front-page render and they rarely change. The memo cannot go stale:
its key is everything a completed day is computed from, namely the zone, the first and the current
local day, and the service's spans (incidents and maintenance, per state) cut off at today's
local midnight, read from the database on every call. An incident whose times, impact,
visibility or services change gives other spans and so another key; a new day gives another key
too. What an open incident does after midnight cannot touch a completed day. Today, the
availability and the period are worked out afresh on every call. The memo is bounded (least
recently used entries go first) and guarded by a lock, for the threads of a worker.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, null, or_, select, union_all

from ..catalog.status import ServiceStatus
from ..extensions import db
from ..intervals import Interval, total_minutes, union_within
from ..maintenance.models import MaintenanceWindow, WindowStatus, window_services
from .models import AffectedService, Impact, Incident
from .visibility import public_clause

HISTORY_DAYS = 90


@dataclass(frozen=True)
class Day:
    day: date
    status: ServiceStatus
    minutes: int  # how long the worst state lasted that day

    @property
    def description(self) -> str:
        when = f"{self.day.day} {self.day:%B}"
        if self.status is ServiceStatus.OPERATIONAL:
            return f"{when}: no problems"
        return f"{when}: {self.status.label.lower()} for {_duration(self.minutes)}"


@dataclass
class ServiceHistory:
    days: list[Day] = field(default_factory=list)
    major_outage_minutes: int = 0
    period_minutes: int = 0

    @property
    def availability(self) -> float:
        """Percent of the period without a major outage."""
        if not self.period_minutes:
            return 100.0
        return 100.0 * (1 - self.major_outage_minutes / self.period_minutes)

    @property
    def problem_days(self) -> list[Day]:
        return [d for d in self.days if d.status is not ServiceStatus.OPERATIONAL]


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def day_window(day: date, zone: ZoneInfo) -> Interval:
    """A local day from midnight to midnight, in UTC (25 hours when the clocks go back)."""
    start = datetime.combine(day, time(), zone)
    following = datetime.combine(day + timedelta(days=1), time(), zone)
    return start.astimezone(UTC), following.astimezone(UTC)


def daily_history(
    service_ids: list[int], now: datetime, zone: ZoneInfo, days: int = HISTORY_DAYS
) -> dict[int, ServiceHistory]:
    """Per service: a Day for each of the last ``days`` days (today included), oldest first."""
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=days - 1)
    start = day_window(first_day, zone)[0]
    today_start, today_end = day_window(today, zone)
    spans = _spans(service_ids, start, now)
    period = (start, now)
    period_minutes = int(total_minutes([period]))
    result = {}
    for service_id in service_ids:
        states = spans.get(service_id, {})
        completed = _completed_days(first_day, today, zone, states)
        outage = union_within(states.get(ServiceStatus.MAJOR_OUTAGE, ()), period)
        result[service_id] = ServiceHistory(
            days=[*completed, _day(today, (today_start, min(today_end, now)), states)],
            major_outage_minutes=int(total_minutes(outage)),
            period_minutes=period_minutes,
        )
    return result


def _spans(
    service_ids: list[int], start: datetime, now: datetime
) -> dict[int, dict[ServiceStatus, list[Interval]]]:
    """Per service and state, the spans it was in since ``start``; overlaps are merged later.

    Public incidents and maintenance windows in one statement (a window has no impact)."""
    incidents = select(
        AffectedService.service_id, AffectedService.impact,
        func.coalesce(Incident.started_at, Incident.detected_at), Incident.resolved_at,
    ).join(Incident).where(
        AffectedService.service_id.in_(service_ids),
        public_clause(),
        Incident.detected_at < now,
        or_(Incident.resolved_at.is_(None), Incident.resolved_at > start),
    )  # fmt: skip
    windows = select(
        window_services.c.service_id, null(), MaintenanceWindow.starts_at, MaintenanceWindow.ends_at
    ).join(MaintenanceWindow, MaintenanceWindow.id == window_services.c.window_id).where(
        window_services.c.service_id.in_(service_ids),
        MaintenanceWindow.status != WindowStatus.CANCELLED.value,
        MaintenanceWindow.starts_at < now,
        MaintenanceWindow.ends_at > start,
    )  # fmt: skip
    spans: dict[int, dict[ServiceStatus, list[Interval]]] = defaultdict(lambda: defaultdict(list))
    for service_id, impact, began, ended in db.session.execute(union_all(incidents, windows)):
        if impact is None:
            spans[service_id][ServiceStatus.UNDER_MAINTENANCE].append((began, ended))
        else:
            status = ServiceStatus.from_impact(Impact(impact))
            spans[service_id][status].append((began, ended or now))
    return spans


def _day(day: date, window: Interval, states: dict[ServiceStatus, list[Interval]]) -> Day:
    """The day's worst state within ``window`` and how long it lasted."""
    spent = {
        status: int(total_minutes(union_within(intervals, window)))
        for status, intervals in states.items()
    }
    spent = {status: count for status, count in spent.items() if count > 0}
    if not spent:
        return Day(day, ServiceStatus.OPERATIONAL, 0)
    status = max(spent, key=lambda s: s.rank)
    return Day(day, status, spent[status])


# Completed days of one service for one local day (about 10 KB), keyed by what they are computed
# from. Quiet services share one entry; a day needs one more per service with incidents in the
# period, and each change to a past incident one per service it affects (the old one ages out).
REMEMBERED_ENTRIES = 512
_remembered: OrderedDict[tuple, tuple[Day, ...]] = OrderedDict()
_remembered_lock = threading.Lock()


def _completed_days(
    first_day: date,
    today: date,
    zone: ZoneInfo,
    states: dict[ServiceStatus, list[Interval]],
) -> tuple[Day, ...]:
    """The days from ``first_day`` to yesterday, remembered (see the module's docstring)."""
    start, end = day_window(first_day, zone)[0], day_window(today, zone)[0]
    # Each span cut to the completed days the way a day's window cuts it (union_within), so a day
    # worked out from these is the day worked out from the whole spans.
    cut = {}
    for status, intervals in states.items():
        inside = sorted((max(a, start), min(b, end)) for a, b in intervals if a < end and b > start)
        if inside:
            cut[status] = tuple(inside)
    key = (zone, first_day, today, tuple(sorted(cut.items(), key=lambda item: item[0].rank)))
    with _remembered_lock:
        found = _remembered.get(key)
        if found is not None:
            _remembered.move_to_end(key)
            return found
    # Only the days a span reaches can be other than operational (a span ending at midnight is
    # counted on the next day too, which does no harm: that day is worked out in full).
    touched = {
        first_day + timedelta(days=offset)
        for intervals in cut.values()
        for a, b in intervals
        for offset in range(
            (a.astimezone(zone).date() - first_day).days,
            (b.astimezone(zone).date() - first_day).days + 1,
        )
    }
    days = (first_day + timedelta(days=offset) for offset in range((today - first_day).days))
    found = tuple(
        _day(day, day_window(day, zone), cut)
        if day in touched
        else Day(day, ServiceStatus.OPERATIONAL, 0)
        for day in days
    )
    with _remembered_lock:
        _remembered[key] = found
        while len(_remembered) > REMEMBERED_ENTRIES:
            _remembered.popitem(last=False)
    return found


def forget_remembered_days() -> None:
    """Empty the memo of completed days (for tests and the benchmark's cold renders)."""
    with _remembered_lock:
        _remembered.clear()
