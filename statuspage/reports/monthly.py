"""One month's report for an agency or the whole site, read from the database and computed by the
pure functions in `metrics`.

Every query is bounded by the month (and, for recurrence, the window before it; for the
year-over-year view, the same month a year before), so the time and memory a report takes follow
the month's size, not the length of the history. The month's incidents are read once, as plain
rows (never ORM objects), and counted from there. The one list not bounded by the month, the
actions still open, is found through the index of completion dates.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, union_all

from ..catalog.models import Agency, Service
from ..extensions import db
from ..incidents.cadence import incident_facts, recurrence_counts
from ..incidents.deadlines import IncidentFacts, Kind, report_due
from ..incidents.models import AffectedService, Impact, Incident, MissedDeadline, PriorityChange
from ..incidents.visibility import priority_allows_public
from ..internal.models import Triage
from ..intervals import Interval
from ..maintenance.models import MaintenanceWindow, WindowStatus, window_services
from ..policy import PRIORITIES, BusinessCalendar, Policy, current_calendar, current_policy
from ..timefmt import iso_utc, site_zone
from .actions import Priority, priority_of
from .metrics import (
    ActionDates,
    Compliance,
    Occurrence,
    Spread,
    Timing,
    acknowledgement_compliance,
    actions_on_time,
    availability,
    communication_timeliness,
    judge_targets,
    minutes,
    month_window,
    recurrence,
    reported_sum,
    resolution_compliance,
    response_times,
)
from .models import (
    SITE_SLUG,
    ActionStatus,
    PostIncidentReport,
    PreventiveAction,
    ReportRevision,
    RootCause,
)

# 2: means, time to assignment, acknowledgement compliance, recurrence by service and cause (the
# review trigger apart), actions on time and their two lists, people affected, cost, targets and
# the same month a year earlier. A published schema-1 report keeps rendering without them.
SCHEMA = 2
TREND_MONTHS = 6  # this month and the five before it
NOT_REVIEWED = "not_reviewed"


def month_label(month: date) -> str:
    return f"{month:%B %Y}"


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def month_of(moment: datetime, zone: ZoneInfo) -> date:
    local = moment.astimezone(zone)
    return date(local.year, local.month, 1)


@dataclass(frozen=True)
class MonthIncident:
    id: int
    ref: str
    title: str
    priority: int
    is_security: bool
    made_public: bool
    first_public_at: datetime | None
    facts: IncidentFacts
    timing: Timing
    is_shared: bool = False  # a shared platform incident, counted for every agency it affects
    services: frozenset[int] = frozenset()


def _scoped(query, agency: Agency | None):
    """An agency's incidents: its own, and shared platform incidents that affect one of its
    services (counted for each agency they affect, and marked shared)."""
    if agency is None:
        return query
    return query.where(or_(
        Incident.agency_id == agency.id,
        and_(Incident.is_shared.is_(True),
             Incident.affected.any(AffectedService.service.has(Service.agency_id == agency.id))),
    ))  # fmt: skip


def _counted():
    """Incidents the figures count: never a drill, and never one that turned out not to be an
    incident (duplicates, false alarms and service requests are counted apart)."""
    return and_(Incident.is_exercise.is_(False), Incident.triage.is_(None))


def _month_incidents(window: Interval, agency: Agency | None):
    """The incidents detected in the month, as a subquery of ids and as plain rows."""
    ids = _scoped(
        select(Incident.id).where(
            Incident.detected_at >= window[0], Incident.detected_at < window[1], _counted()
        ),
        agency,
    )
    rows = db.session.execute(
        _scoped(
            select(
                Incident.id, Incident.ref, Incident.title, Incident.priority,
                Incident.is_security, Incident.made_public, Incident.detected_at,
                Incident.started_at, Incident.acknowledged_at, Incident.first_public_at,
                Incident.resolved_at, Incident.is_shared, Incident.assigned_at,
            ).where(
                Incident.detected_at >= window[0], Incident.detected_at < window[1], _counted()
            ),
            agency,
        ).order_by(Incident.detected_at, Incident.id)
    ).all()  # fmt: skip
    return ids, rows


def _priority_histories(ids) -> dict[int, list[tuple[datetime, int]]]:
    histories: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for incident_id, at, priority in db.session.execute(
        select(PriorityChange.incident_id, PriorityChange.changed_at, PriorityChange.to_priority)
        .where(PriorityChange.incident_id.in_(ids))
        .order_by(PriorityChange.incident_id, PriorityChange.changed_at, PriorityChange.id)
    ):
        histories[incident_id].append((at, priority))
    return histories


def _services_of(ids) -> dict[int, list[tuple[int, int]]]:
    """Incident id -> [(service id, tier)]."""
    found: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for incident_id, service_id, tier in db.session.execute(
        select(AffectedService.incident_id, AffectedService.service_id, Service.tier)
        .join(Service, Service.id == AffectedService.service_id)
        .where(AffectedService.incident_id.in_(ids))
    ):
        found[incident_id].append((service_id, tier))
    return found


def gather_incidents(
    window: Interval, agency: Agency | None, policy: Policy, calendar: BusinessCalendar
) -> tuple[object, list[MonthIncident]]:
    ids, rows = _month_incidents(window, agency)
    histories = _priority_histories(ids)
    services = _services_of(ids)
    recurrence = recurrence_counts(
        [(row.id, row.detected_at, [sid for sid, _ in services.get(row.id, [])]) for row in rows]
    )
    incidents = []
    for row in rows:
        facts = incident_facts(
            detected_at=row.detected_at,
            priority=row.priority,
            priority_changes=histories.get(row.id, ()),
            tiers=[tier for _, tier in services.get(row.id, [])],
            is_security=row.is_security,
            acknowledged_at=row.acknowledged_at,
            first_public_at=row.first_public_at,
            resolved_at=row.resolved_at,
            recent_on_same_service=recurrence[row.id],
        )
        timing = Timing(
            row.detected_at, row.started_at, row.acknowledged_at, row.resolved_at,
            row.assigned_at,
        )  # fmt: skip
        incidents.append(
            MonthIncident(
                row.id, row.ref, row.title, row.priority, row.is_security, row.made_public,
                row.first_public_at, facts, timing, row.is_shared,
                frozenset(sid for sid, _ in services.get(row.id, [])),
            )
        )  # fmt: skip
    return ids, incidents


def _cadence_lateness(window: Interval, agency: Agency | None):
    rows = db.session.execute(
        _scoped(
            select(MissedDeadline.due_at, MissedDeadline.met_at)
            .join(Incident)
            .where(
                MissedDeadline.kind == Kind.NEXT_UPDATE.value,
                MissedDeadline.due_at >= window[0],
                MissedDeadline.due_at < window[1],
                _counted(),
            ),
            agency,
        )
    )
    breaches, lateness = 0, []
    for due_at, met_at in rows:
        breaches += 1
        if met_at is not None:
            lateness.append(met_at - due_at)
    return breaches, lateness


def _services(agency: Agency | None) -> list[Service]:
    query = select(Service).order_by(Service.agency_id, Service.display_order, Service.name)
    if agency is not None:
        query = query.where(Service.agency_id == agency.id)
    return list(db.session.scalars(query))


def _availability(window: Interval, services: list[Service]) -> list[dict]:
    """Per service: the month without a major outage, maintenance apart, against its target."""
    service_ids = [service.id for service in services]
    # The incidents that overlap the month, each part a bounded index range: detected in it,
    # resolved in it, still open, or spanning all of it (the (resolved_at, detected_at) index
    # answers the last without reading the incidents themselves).
    start, end = window
    overlapping = union_all(
        select(Incident.id).where(Incident.detected_at >= start, Incident.detected_at < end),
        select(Incident.id).where(Incident.resolved_at > start, Incident.resolved_at < end),
        select(Incident.id).where(Incident.resolved_at.is_(None), Incident.detected_at < end),
        select(Incident.id).where(Incident.resolved_at >= end, Incident.detected_at < start),
    )
    outages: dict[int, list[Interval]] = defaultdict(list)
    for service_id, started_at, detected_at, resolved_at in db.session.execute(
        select(
            AffectedService.service_id, Incident.started_at, Incident.detected_at,
            Incident.resolved_at,
        )
        .join(Incident)
        .where(
            AffectedService.incident_id.in_(overlapping),
            AffectedService.service_id.in_(service_ids),
            AffectedService.impact == Impact.MAJOR_OUTAGE.value,
            Incident.detected_at < window[1],
            _counted(),
        )
    ):  # fmt: skip
        outages[service_id].append((started_at or detected_at, resolved_at or window[1]))
    planned: dict[int, list[Interval]] = defaultdict(list)
    for service_id, starts_at, ends_at in db.session.execute(
        select(window_services.c.service_id, MaintenanceWindow.starts_at, MaintenanceWindow.ends_at)
        .join(MaintenanceWindow, MaintenanceWindow.id == window_services.c.window_id)
        .where(
            window_services.c.service_id.in_(service_ids),
            MaintenanceWindow.status != WindowStatus.CANCELLED.value,
            MaintenanceWindow.starts_at < window[1],
            MaintenanceWindow.ends_at > window[0],
        )
    ):
        planned[service_id].append((starts_at, ends_at))
    result = []
    for service in services:
        figures = availability(window, outages[service.id], planned[service.id])
        target = service.target_availability
        result.append(
            {
                "service": service.slug,
                "name": service.name,
                "tier": service.tier,
                "target": target,
                "percent": round(figures.percent, 4),
                "downtime_minutes": round(figures.downtime_minutes, 1),
                "maintenance_minutes": round(figures.maintenance_minutes, 1),
                "met_target": figures.percent >= target,
            }
        )
    return result


def _triaged(window: Interval, agency: Agency | None) -> dict[str, int]:
    """The month's incidents that were not incidents after all, per outcome (drills apart)."""
    counts = Counter(
        db.session.scalars(
            _scoped(
                select(Incident.triage).where(
                    Incident.detected_at >= window[0], Incident.detected_at < window[1],
                    Incident.is_exercise.is_(False), Incident.triage.is_not(None),
                ),
                agency,
            )
        )
    )  # fmt: skip
    return {outcome.value: counts.get(outcome.value, 0) for outcome in Triage}


def _overall_availability(services: list[dict], period_minutes: float) -> float | None:
    """The share of all service-minutes without a major outage."""
    if not services:
        return None
    down = sum(item["downtime_minutes"] for item in services)
    return round(100.0 * (1 - down / (period_minutes * len(services))), 4)


def _revisions(ids) -> tuple[dict[int, ReportRevision], dict[int, datetime]]:
    """Each incident's latest published revision, and when its first was published."""
    latest: dict[int, ReportRevision] = {}
    first: dict[int, datetime] = {}
    for revision in db.session.scalars(
        select(ReportRevision)
        .where(ReportRevision.incident_id.in_(ids))
        .order_by(ReportRevision.incident_id, ReportRevision.number)
    ):
        latest[revision.incident_id] = revision
        first.setdefault(revision.incident_id, revision.published_at)
    return latest, first


def _reviews(incidents, first_published, policy, calendar, now) -> dict:
    """Reviews owed by the month's incidents: published by their due time or not. One not yet
    due and not yet published is not judged."""
    required = published = judged = on_time = 0
    for incident in incidents:
        due = report_due(incident.facts, policy, calendar)
        if due is None:
            continue
        required += 1
        at = first_published.get(incident.id)
        published += at is not None
        if at is None and due > now:
            continue
        judged += 1
        on_time += at is not None and at <= due
    return {
        "required": required,
        "published": published,
        "on_time": _compliance(Compliance(on_time, judged)),
    }


def _latest_causes(ids) -> dict[int, str]:
    """Incident id -> the root cause category of its latest published revision."""
    return dict(
        db.session.execute(
            select(ReportRevision.incident_id, ReportRevision.root_cause_category)
            .where(ReportRevision.incident_id.in_(ids))
            .order_by(ReportRevision.incident_id, ReportRevision.number)
        ).all()
    )  # later revisions overwrite earlier ones in dict()


def _recurrence(window, incidents, revisions, policy, calendar) -> dict:
    """Repeats of the same service and cause (the policy's recurrence rate), reading only the
    recurrence window before the period for the incidents it may repeat."""
    since = policy.rules.recurrence_window.before(window[0], calendar)
    service_ids = {sid for incident in incidents for sid in incident.services}
    earlier: dict[int, tuple[datetime, set[int]]] = {}
    if service_ids:
        # The incidents from the detection index first, so the plan never walks a service's
        # whole history (SQLite without statistics would start from the service index).
        recent = select(Incident.id).where(
            Incident.detected_at >= since, Incident.detected_at < window[0], _counted()
        )
        for incident_id, detected_at, service_id in db.session.execute(
            select(Incident.id, Incident.detected_at, AffectedService.service_id)
            .join(AffectedService, AffectedService.incident_id == Incident.id)
            .where(
                AffectedService.incident_id.in_(recent),
                AffectedService.service_id.in_(service_ids),
            )
        ):
            earlier.setdefault(incident_id, (detected_at, set()))[1].add(service_id)
    causes = _latest_causes(list(earlier)) if earlier else {}
    counted = [
        Occurrence(
            incident.id, incident.timing.detected_at, incident.services,
            revisions[incident.id].root_cause_category if incident.id in revisions else None,
        )
        for incident in incidents
    ]  # fmt: skip
    history = counted + [
        Occurrence(incident_id, detected_at, frozenset(services), causes.get(incident_id))
        for incident_id, (detected_at, services) in earlier.items()
    ]
    found = recurrence(counted, history, policy, calendar)
    return {
        "repeats": found.repeats,
        "total": found.total,
        "percent": _round(found.percent),
        "causes_known": found.causes_known,
    }


def _local_days(window: Interval, zone: ZoneInfo) -> tuple[date, date]:
    """The period's first local day and the day after its last."""
    return window[0].astimezone(zone).date(), window[1].astimezone(zone).date()


def _published_report():
    return PostIncidentReport.revisions.any()


_RANKS = {priority.value: priority.rank for priority in Priority}


def _actions(window: Interval, agency: Agency | None, now: datetime, zone: ZoneInfo) -> dict:
    """Preventive actions: those due in the period judged on time or not, those completed in it
    (from published reports), and those of published reports still open now."""
    first, after = _local_days(window, zone)

    def query(*columns):
        return _scoped(
            select(*columns)
            .join(PostIncidentReport, PostIncidentReport.id == PreventiveAction.report_id)
            .join(Incident, Incident.id == PostIncidentReport.incident_id)
            .where(_counted()),
            agency,
        )

    due = [
        ActionDates(due_on, completed_on, status == ActionStatus.DONE.value)
        for due_on, completed_on, status in db.session.execute(
            query(PreventiveAction.due_on, PreventiveAction.completed_on, PreventiveAction.status)
            .where(PreventiveAction.due_on >= first, PreventiveAction.due_on < after)
        )
    ]  # fmt: skip
    judged = actions_on_time(due, now.astimezone(zone).date())
    columns = (
        Incident.ref, PreventiveAction.description, PreventiveAction.category,
        PreventiveAction.due_on, PreventiveAction.completed_on, PreventiveAction.status,
        PreventiveAction.impact, PreventiveAction.effort,
    )  # fmt: skip
    implemented = db.session.execute(
        query(*columns)
        .where(PreventiveAction.completed_on >= first, PreventiveAction.completed_on < after,
               _published_report())
        .order_by(PreventiveAction.completed_on, PreventiveAction.id)
    ).all()  # fmt: skip
    still_open = db.session.execute(
        query(*columns)
        # Not done has no completion date: the index on it finds the open ones (the status
        # leaves out those marked done before completion dates were kept).
        .where(PreventiveAction.completed_on.is_(None),
               PreventiveAction.status != ActionStatus.DONE.value, _published_report())
        .order_by(PreventiveAction.due_on, PreventiveAction.id)
    ).all()  # fmt: skip
    return {
        "preventive_actions": {
            "due": judged.due,
            "on_time": judged.on_time,
            "late": judged.late,
            "open_overdue": judged.open_overdue,
            "percent": _round(judged.percent),
        },
        "actions_implemented": [
            {
                "ref": row.ref, "description": row.description, "category": row.category,
                "due_on": row.due_on.isoformat(), "completed_on": row.completed_on.isoformat(),
                "on_time": row.completed_on <= row.due_on,
            }
            for row in implemented
        ],  # fmt: skip
        # The most worthwhile first (impact x effort), then the soonest due.
        "improvement_initiatives": sorted(
            (
                {
                    "ref": row.ref, "description": row.description, "category": row.category,
                    "priority": priority.value if (priority := priority_of(row.impact, row.effort))
                    else None,
                    "due_on": row.due_on.isoformat(), "status": row.status,
                }
                for row in still_open
            ),
            key=lambda item: (_RANKS.get(item["priority"], len(_RANKS) + 1), item["due_on"]),
        ),  # fmt: skip
    }


def _reported(values) -> dict:
    total, reported = reported_sum(values)
    return {"total": total, "reported": reported}


def _compliance(value: Compliance) -> dict:
    return {"met": value.met, "total": value.total, "percent": _round(value.percent)}


def _spread(value: Spread) -> dict:
    return {
        "count": value.count,
        "mean": _round(value.mean),
        "median": _round(value.median),
        "p90": _round(value.p90),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def definitions(policy: Policy) -> dict:
    """The policy's numbers the words of a report explain its figures with, frozen with it."""
    announced = [f"P{p}" for p in PRIORITIES if policy[p].first_communication is not None]
    return {
        "recurrence_window": str(policy.rules.recurrence_window),
        "review_trigger_threshold": policy.rules.recurrence_threshold,
        "announced": " and ".join([", ".join(announced[:-1]), announced[-1]] if len(announced) > 1
                                  else announced),
    }


def compute(month: date, agency: Agency | None, now: datetime) -> dict:
    """Every figure of the month except the trend, as plain JSON-ready values."""
    return {**compute_window(month_window(month, site_zone()), agency, now),
            "month": f"{month:%Y-%m}"}  # fmt: skip


def compute_window(window: Interval, agency: Agency | None, now: datetime) -> dict:
    """Every figure of a period (a month, a quarter: any window of whole local days), as plain
    JSON-ready values; the caller names the period."""
    zone, policy, calendar = site_zone(), current_policy(), current_calendar()
    ids, incidents = gather_incidents(window, agency, policy, calendar)
    facts = [incident.facts for incident in incidents]
    times = response_times(incident.timing for incident in incidents)
    breaches, lateness = _cadence_lateness(window, agency)
    communication = communication_timeliness(facts, lateness, policy, calendar)
    threshold = policy.rules.recurrence_threshold
    recurring = sum(f.recent_on_same_service >= threshold for f in facts)
    revisions, first_published = _revisions(ids)
    latest = list(revisions.values())
    by_priority = Counter(incident.priority for incident in incidents)
    causes = Counter(revision.root_cause_category for revision in revisions.values())
    services = _availability(window, _services(agency))
    period = minutes(window[1] - window[0])
    return {
        "schema": SCHEMA,
        "scope": _scope(agency),
        "period": {
            "start": iso_utc(window[0]),
            "end": iso_utc(window[1]),
            "minutes": period,
            "time_zone": zone.key,
        },
        "incidents": {
            "total": len(incidents),
            "by_priority": {f"P{p}": by_priority.get(p, 0) for p in PRIORITIES},
            "security": sum(incident.is_security for incident in incidents),
            "shared": sum(incident.is_shared for incident in incidents),
        },
        # Closed as duplicates, false alarms or service requests: counted apart, and left out
        # of every other figure.
        "triaged": _triaged(window, agency),
        "response_times": {
            "detect": _spread(times.detect),
            "assign": _spread(times.assign),
            "acknowledge": _spread(times.acknowledge),
            "resolve": _spread(times.resolve),
        },
        "resolution": _compliance(resolution_compliance(facts, policy, calendar)),
        "acknowledgement": _compliance(acknowledgement_compliance(facts, now, policy, calendar)),
        "communication": {
            "first_on_time": _compliance(communication.first_on_time),
            "first_late_by": _spread(communication.late_by),
            "cadence_breaches": breaches,
            "cadence_late_by": _spread(communication.cadence_late_by),
        },
        "reviews": _reviews(incidents, first_published, policy, calendar, now),
        "recurrence": _recurrence(window, incidents, revisions, policy, calendar),
        # The "3 in 30 days" review trigger: a reason to review, not the recurrence rate.
        "review_trigger": {"recurring": recurring},
        # The policy's numbers the words of the report explain the figures with, as they stood.
        "definitions": definitions(policy),
        **_actions(window, agency, now, zone),
        "people_affected": _reported(revision.people_affected_count for revision in latest),
        "cost_of_downtime": _reported(revision.downtime_cost for revision in latest),
        "root_causes": [
            {"category": cause.value, "label": cause.label, "count": causes.get(cause.value, 0)}
            for cause in RootCause
        ]
        + [
            {
                "category": NOT_REVIEWED,
                "label": "No published review",
                "count": len(incidents) - len(revisions),
            }
        ],
        "availability": services,
        "availability_overall": _overall_availability(services, period),
        "notable": _notable(incidents, revisions),
    }


def _scope(agency: Agency | None) -> dict:
    if agency is None:
        return {"kind": "site", "slug": SITE_SLUG, "name": "All agencies"}
    return {"kind": "agency", "slug": agency.slug, "name": agency.name}


def _notable(incidents: list[MonthIncident], revisions: dict[int, ReportRevision]) -> list[dict]:
    """The month's public P1 and P2 incidents and every public one with a published review."""
    notable = []
    for incident in incidents:
        public = incident.first_public_at is not None and priority_allows_public(
            incident.priority, incident.made_public
        )
        revision = revisions.get(incident.id)
        if not public or (incident.priority > 2 and revision is None):
            continue
        notable.append(
            {
                "ref": incident.ref,
                "title": incident.title,
                "priority": f"P{incident.priority}",
                "detected_at": iso_utc(incident.timing.detected_at),
                "has_report": revision is not None,
                "shared": incident.is_shared,
                "root_cause": revision.root_cause_label if revision else None,
                "lessons": revision.sections["lessons"] if revision else None,
            }
        )
    return notable


# The headline figures a schema-1 report never froze (its "recurrence" was the review trigger).
SCHEMA_2_HEADLINES = ("mttr_mean", "acknowledgement_percent", "recurrence_percent")


def headline(figures: dict) -> dict:
    """The few figures the trend and the year-over-year view compare; those a schema-1 report
    did not keep are None."""
    newer = figures.get("schema", 1) >= 2
    return {
        "month": figures.get("month"),
        "incidents": figures["incidents"]["total"],
        "resolution_percent": figures["resolution"]["percent"],
        "mttr_median": figures["response_times"]["resolve"]["median"],
        "mttr_mean": figures["response_times"]["resolve"].get("mean"),
        "first_on_time_percent": figures["communication"]["first_on_time"]["percent"],
        "acknowledgement_percent": figures["acknowledgement"]["percent"] if newer else None,
        "recurrence_percent": figures["recurrence"]["percent"] if newer else None,
        "availability": figures["availability_overall"],
    }


def year_before(month: date) -> date:
    return date(month.year - 1, month.month, 1)


def year_earlier(month: date, agency: Agency | None, now: datetime, frozen: dict[str, dict]):
    """The headline of the same month a year before: as published when it was, the figures a
    schema-1 report did not keep computed now; computed when it was not published."""
    earlier = year_before(month)
    published = frozen.get(f"{earlier:%Y-%m}")
    if published is not None and published.get("schema", 1) >= SCHEMA:
        return headline(published)
    computed = headline(compute(earlier, agency, now))
    if published is None:
        return computed
    return {**headline(published), **{key: computed[key] for key in SCHEMA_2_HEADLINES}}


def build(month: date, agency: Agency | None, now: datetime, frozen: dict[str, dict]) -> dict:
    """The month's figures, the trend over it and the months before, the same month a year
    earlier and the policy's targets judged on them. `frozen` maps "YYYY-MM" to the figures of
    months already published, which the trend takes as they were published."""
    figures = compute(month, agency, now)
    trend = [headline(figures)]
    earlier = month
    for _ in range(TREND_MONTHS - 1):
        earlier = previous_month(earlier)
        key = f"{earlier:%Y-%m}"
        past = frozen.get(key) or compute(earlier, agency, now)
        trend.append(headline(past))
    figures["trend"] = list(reversed(trend))
    figures["year_earlier"] = year_earlier(month, agency, now, frozen)
    figures["targets"] = judge_targets(figures, figures["year_earlier"], current_policy().targets)
    figures["computed_at"] = iso_utc(now)
    return figures
