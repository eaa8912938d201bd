"""The 90-day history of each service: the worst state of each day in the site's time zone, how
long it lasted, and the availability (the share of the period without a major outage). Overlapping incidents count once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

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
    # Per service and state, the spans it was in; overlapping incidents count once.
    spans: dict[int, dict[ServiceStatus, list[Interval]]] = defaultdict(lambda: defaultdict(list))

    incidents = db.session.execute(
        select(
            AffectedService.service_id, AffectedService.impact,
            Incident.started_at, Incident.detected_at, Incident.resolved_at,
        )
        .join(Incident)
        .where(
            AffectedService.service_id.in_(service_ids),
            public_clause(),
            Incident.detected_at < now,
            or_(Incident.resolved_at.is_(None), Incident.resolved_at > start),
        )
    )  # fmt: skip
    for service_id, impact, started_at, detected_at, resolved_at in incidents:
        status = ServiceStatus.from_impact(Impact(impact))
        spans[service_id][status].append((started_at or detected_at, resolved_at or now))

    windows = db.session.execute(
        select(window_services.c.service_id, MaintenanceWindow.starts_at, MaintenanceWindow.ends_at)
        .join(MaintenanceWindow, MaintenanceWindow.id == window_services.c.window_id)
        .where(
            window_services.c.service_id.in_(service_ids),
            MaintenanceWindow.status != WindowStatus.CANCELLED.value,
            MaintenanceWindow.starts_at < now,
            MaintenanceWindow.ends_at > start,
        )
    )
    for service_id, starts_at, ends_at in windows:
        spans[service_id][ServiceStatus.UNDER_MAINTENANCE].append((starts_at, ends_at))

    period = (start, now)
    days_windows = [
        (first_day + timedelta(days=offset), day_window(first_day + timedelta(days=offset), zone))
        for offset in range(days)
    ]
    result = {}
    for service_id in service_ids:
        states = spans[service_id]
        outage = union_within(states[ServiceStatus.MAJOR_OUTAGE], period)
        history = ServiceHistory(
            major_outage_minutes=int(total_minutes(outage)),
            period_minutes=int(total_minutes([period])),
        )
        for day, (day_start, day_end) in days_windows:
            window = (day_start, min(day_end, now))
            spent = {
                status: int(total_minutes(union_within(intervals, window)))
                for status, intervals in states.items()
            }
            spent = {status: count for status, count in spent.items() if count > 0}
            if not spent:
                history.days.append(Day(day, ServiceStatus.OPERATIONAL, 0))
                continue
            status = max(spent, key=lambda s: s.rank)
            history.days.append(Day(day, status, spent[status]))
        result[service_id] = history
    return result
