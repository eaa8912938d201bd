"""Receiving an Alertmanager notification: the one operation that opens a draft incident for an
alert group, keeps it up to date on repeats, suggests resolution, and moves the monitoring status
of the services that follow monitoring. Each change is audited (as the API key) and committed
with the outbox rows that tell the agency's communications leads.

When monitoring may change the draft: only while the incident is not public. Then a service
that follows monitoring takes the impact its alerts give (rules.py), unless a lead has changed
that service's impact since monitoring set it (the lead's choice wins, for that incident); a
newly named service is added. Once the incident is public, only people change what citizens
see: the incident page shows what monitoring says beside it. Monitoring never resolves an
incident and never publishes one: a resolved group suggests resolution on the incident page.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text

from .. import audit, clock
from ..catalog.models import Agency, Service
from ..catalog.status import ServiceStatus
from ..extensions import db
from ..incidents.models import Impact, Incident, Source, State
from ..incidents.operations import NewIncident, Scope, change_scope, create_incident
from ..incidents.visibility import is_public
from ..policy import current_policy
from ..upsert import insert_if_absent
from ..users.models import User
from . import messages
from .models import AlertGroup, AlertGroupService, GroupStatus
from .payload import Alert, Notification
from .rules import Level, level_of, suggested_priority, worst

# An alert's startsAt further back than this is not taken as when the problem started.
EARLIEST_START = timedelta(days=7)


class AlertError(ValueError):
    """The notification names something we cannot use (HTTP 422); nothing was changed."""


@dataclass(frozen=True)
class Outcome:
    group: AlertGroup
    incident: Incident | None
    opened: bool  # a new draft incident
    changed: bool  # False: a repeat of what we already knew


@dataclass(frozen=True)
class Reading:
    """What a notification says, checked against the agency's services."""

    services: dict[int, Service]  # every service its alerts name
    levels: dict[int, Level | None]  # service id -> worst level of its firing alerts
    priority: int | None  # the most urgent firing alert's suggestion (None: nothing fires)
    suggestion: str
    level: Level | None
    firing_since: datetime | None
    resolved_at: datetime | None  # the latest end of its alerts, when none fires


def labels_of(note: Notification, alert: Alert) -> dict[str, str]:
    """An alert's labels over the group's common labels (Alertmanager repeats them anyway)."""
    return {**note.common_labels, **alert.labels}


def read(note: Notification, agency: Agency) -> Reading:
    """Check each alert's service (and agency) label against ``agency``: AlertError otherwise."""
    services = {s.slug: s for s in db.session.scalars(
        select(Service).where(Service.agency_id == agency.id).order_by(Service.slug)
    )}  # fmt: skip
    named: dict[int, Service] = {}
    levels: dict[int, Level | None] = {}
    suggestions: list[tuple[int, str]] = []
    for n, alert in enumerate(note.alerts):
        labels = labels_of(note, alert)
        slug = (labels.get("service") or "").strip()
        if not slug:
            raise AlertError(
                f'alerts[{n}] has no service label: give each alert service="<service slug>" '
                "(one of " + ", ".join(services) + ")."
            )
        agency_label = (labels.get("agency") or "").strip()
        if agency_label and agency_label != agency.slug:
            raise AlertError(
                f'alerts[{n}] has agency="{agency_label}", but this API key belongs to '
                f"{agency.slug}: send each agency's alerts with its own key."
            )
        service = services.get(slug)
        if service is None:
            raise AlertError(
                f'alerts[{n}] names service "{slug[:100]}", which {agency.name} does not have: '
                "use one of " + (", ".join(services) or "its services (it has none yet)") + "."
            )
        named[service.id] = service
        levels.setdefault(service.id, None)
        if alert.is_firing:
            levels[service.id] = worst(filter(None, (levels[service.id], level_of(labels))))
            suggestions.append(suggested_priority(labels, service.tier))
    firing = [a for a in note.alerts if a.is_firing]
    priority, suggestion = min(suggestions) if suggestions else (None, "")
    now = clock.now()
    starts = [a.starts_at for a in firing if a.starts_at is not None]
    ends = [a.ends_at for a in note.alerts if a.ends_at is not None and a.ends_at <= now]
    return Reading(
        services=named,
        levels=levels,
        priority=priority,
        suggestion=suggestion,
        level=worst(level for level in levels.values() if level is not None),
        firing_since=min(starts) if starts else None,
        resolved_at=None if firing else max(ends, default=now),
    )


def key_digest(group_key: str) -> str:
    return hashlib.sha256(group_key.encode()).hexdigest()


def _claim(agency: Agency, group_key: str, now: datetime) -> tuple[AlertGroup, bool]:
    """The group's row, taken for this transaction (two notifications of one group at once are
    applied one after the other); True when this call created it."""
    digest = key_digest(group_key)
    created = insert_if_absent(
        AlertGroup, agency_id=agency.id, group_key=group_key, key_digest=digest,
        status=GroupStatus.FIRING.value, level=Level.WARNING.value, suggested_priority=4,
        suggestion="", last_payload="{}", notifications=0, impacts_set="{}",
        first_received_at=now, last_received_at=now,
    )  # fmt: skip
    group_id = db.session.scalar(
        select(AlertGroup.id).where(AlertGroup.agency_id == agency.id,
                                    AlertGroup.key_digest == digest)
    )  # fmt: skip
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        statement = "SELECT id FROM alert_groups WHERE id = :id FOR UPDATE"
    else:
        statement = "UPDATE alert_groups SET id = id WHERE id = :id"
    connection.execute(text(statement), {"id": group_id})
    group = db.session.get(AlertGroup, group_id)
    db.session.refresh(group)
    return group, created


def _state(group: AlertGroup) -> tuple:
    """What a repeat would not change: status, levels per service, suggestion."""
    return (group.status, group.suggested_priority,
            sorted((row.service_id, row.level or "") for row in group.services))  # fmt: skip


def receive(note: Notification, *, agency: Agency, by: User, raw: dict) -> Outcome:
    """Apply one notification of ``agency`` (sent with its key, acting as ``by``)."""
    reading = read(note, agency)
    now = clock.now()
    group, _ = _claim(agency, note.group_key, now)
    before = _state(group)
    involved = _involved(group, reading)
    statuses_before = monitoring_statuses(involved.values())
    was_firing = group.is_firing and group.notifications > 0
    group.notifications += 1
    group.last_received_at = now
    group.last_payload = json.dumps(raw, sort_keys=True)
    group.status = (GroupStatus.FIRING if note.is_firing else GroupStatus.RESOLVED).value
    if reading.priority is not None:
        group.suggested_priority, group.suggestion = reading.priority, reading.suggestion
        group.level = reading.level.value
    group.firing_since = reading.firing_since or group.firing_since
    group.resolved_at = reading.resolved_at
    _set_levels(group, reading)
    changed = _state(group) != before
    incident = group.incident
    if incident is not None and not incident.is_open:
        incident = None  # resolved or closed: the group's next firing opens a new draft
    if incident is None and note.is_firing:
        incident = _open(group, reading, agency, by, now, (involved, statuses_before))
        return Outcome(group, incident, opened=True, changed=True)
    if incident is None:
        _record_statuses(group, involved, statuses_before, by)
        db.session.commit()
        return Outcome(group, group.incident, opened=False, changed=changed)
    if changed:
        _record_turn(group, incident, was_firing, by)
        _record_statuses(group, involved, statuses_before, by)
    scope = _scope_for(group, incident, reading) if changed else None
    if scope is not None:
        db.session.flush()
        change_scope(incident, scope, by=by)  # audited as a scope change; commits all of it
    else:
        db.session.commit()
    return Outcome(group, incident, opened=False, changed=changed)


def _set_levels(group: AlertGroup, reading: Reading) -> None:
    rows = {row.service_id: row for row in group.services}
    for service_id, level in reading.levels.items():
        value = level.value if level is not None else None
        if service_id in rows:
            rows[service_id].level = value
        else:
            group.services.append(AlertGroupService(service_id=service_id, level=value))
    for service_id, row in rows.items():
        if service_id not in reading.levels:
            row.level = None  # no longer among the group's alerts


def _monitoring_impact(service: Service, level: Level | None) -> Impact | None:
    return level.impact if service.follows_monitoring and level is not None else None


def _open(group, reading: Reading, agency: Agency, by: User, now, statuses) -> Incident:
    """A draft incident on the named services (never public: no update is written)."""
    firing = {sid: s for sid, s in reading.services.items() if reading.levels[sid] is not None}
    affected = {service: _monitoring_impact(service, reading.levels[sid])
                for sid, service in firing.items()}  # fmt: skip
    started = reading.firing_since
    if started is not None and not now - EARLIEST_START <= started <= now:
        started = None

    def along(incident: Incident) -> None:
        group.incident = incident
        group.impacts_set = json.dumps(
            {str(s.id): i.value for s, i in affected.items() if i is not None}, sort_keys=True
        )
        db.session.flush()
        audit.record(
            "alert_draft_opened", actor=by, agency_id=agency.id, incident=incident,
            group=group.group_key[:300], suggested=reading.suggestion,
            services=", ".join(s.name for s in firing.values()),
        )  # fmt: skip
        _record_statuses(group, *statuses, by, incident=incident)
        messages.draft_opened(incident, group)

    return create_incident(
        NewIncident(
            agency=agency,
            title=draft_title(list(firing.values())),
            priority=reading.priority,
            source=Source.MONITORING,
            detected_at=now,
            started_at=started,
            affected=affected,
            suggestion=reading.suggestion,
        ),
        by=by,
        along=along,
    )


def draft_title(services: list[Service]) -> str:
    """Plain words the public could read once a lead publishes (the lead may change them)."""
    names = [s.name for s in sorted(services, key=lambda s: (s.display_order, s.name))]
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"Problem with {joined}"[:200]


def _record_turn(group: AlertGroup, incident: Incident, was_firing: bool, by: User) -> None:
    """Alerts resolved (resolution suggested) or firing again: audited, the leads told."""
    if group.is_firing and not was_firing:
        audit.record("alerts_firing_again", actor=by, agency_id=group.agency_id,
                     incident=incident, group=group.group_key[:300])  # fmt: skip
    elif not group.is_firing and was_firing:
        audit.record(
            "alerts_resolved", actor=by, agency_id=group.agency_id, incident=incident,
            group=group.group_key[:300], suggestion="resolve the incident (a lead decides)",
        )  # fmt: skip
        messages.resolution_suggested(incident, group)


def _scope_for(group: AlertGroup, incident: Incident, reading: Reading) -> Scope | None:
    """The draft's services and impacts as monitoring now says (see the module docstring);
    None when monitoring may not, or need not, change them."""
    if is_public(incident) or not incident.is_open:
        return None
    current = {row.service_id: (row.service, row.impact_enum) for row in incident.affected}
    set_before = group.monitoring_impacts
    set_now = dict(set_before)
    default = Impact(current_policy()[incident.priority].default_impact)
    affected = {service: impact for service, impact in current.values()}
    for service_id, service in reading.services.items():
        level = reading.levels[service_id]
        wanted = _monitoring_impact(service, level)
        if service_id not in current:
            if level is None:
                continue  # named only by resolved alerts: nothing to add
            affected[service] = wanted or default
            if wanted is not None:
                set_now[service_id] = wanted.value
        elif wanted is not None and set_before.get(service_id) == current[service_id][1].value:
            affected[service] = wanted  # monitoring's own impact, not changed by a lead since
            set_now[service_id] = wanted.value
    group.impacts_set = json.dumps({str(k): v for k, v in set_now.items()}, sort_keys=True)
    if {s.id: i for s, i in affected.items()} == {sid: i for sid, (_, i) in current.items()}:
        return None
    return Scope(title=incident.title, affected=affected)


# --- monitoring status: staff only ------------------------------------------------------------


def monitoring_statuses(services: Iterable[Service]) -> dict[int, ServiceStatus]:
    """Service id -> monitoring status for the given services that follow monitoring: the worst
    level of the firing alerts of any group that names them (rules.Level.impact)."""
    following = [s.id for s in services if s.follows_monitoring]
    found = {service_id: ServiceStatus.OPERATIONAL for service_id in following}
    if not following:
        return found
    rows = db.session.execute(
        select(AlertGroupService.service_id, AlertGroupService.level)
        .join(AlertGroup, AlertGroup.id == AlertGroupService.group_id)
        .where(
            AlertGroupService.service_id.in_(following),
            AlertGroup.status == GroupStatus.FIRING.value,
            AlertGroupService.level.is_not(None),
        )
    )
    for service_id, level in rows:
        impact = Level(level).impact
        if impact is not None:
            status = ServiceStatus.from_impact(impact)
            if status.rank > found[service_id].rank:
                found[service_id] = status
    return found


def _involved(group: AlertGroup, reading: Reading) -> dict[int, Service]:
    """The services a notification may move: those it names and those the group named before."""
    return {**{row.service_id: row.service for row in group.services}, **reading.services}


def _record_statuses(group, involved: dict[int, Service], before: dict, by: User,
                     incident=None) -> None:  # fmt: skip
    """One audit entry per following service whose monitoring status moved."""
    db.session.flush()
    after = monitoring_statuses(involved.values())
    for service_id, status in after.items():
        was = before.get(service_id, ServiceStatus.OPERATIONAL)
        if status is not was:
            service = involved[service_id]
            audit.record(
                "monitoring_status_changed", actor=by, agency_id=service.agency_id,
                incident=incident or group.incident, service=service.slug,
                **{"from": was.label, "to": status.label}, group=group.group_key[:300],
            )  # fmt: skip


# --- what the incident page offers ------------------------------------------------------------


def group_of(incident: Incident) -> AlertGroup | None:
    """The alert group that opened (or now follows) this incident, if any."""
    return db.session.scalars(
        select(AlertGroup).where(AlertGroup.incident_id == incident.id)
        .order_by(AlertGroup.last_received_at.desc())
    ).first()  # fmt: skip


def suggests_resolution(group: AlertGroup | None, incident: Incident) -> bool:
    return group is not None and not group.is_firing and incident.is_open


def drafted_template_key(group: AlertGroup, incident: Incident) -> str:
    """Which update template the drafted message starts from: the resolution when the alerts
    have resolved; else the first notice for a major outage or for a slower, partial service."""
    if suggests_resolution(group, incident):
        return "resolution"
    worst_impact = max((row.impact_enum for row in incident.affected),
                       key=lambda impact: impact.severity, default=Impact.MAJOR_OUTAGE)  # fmt: skip
    return "p1_initial" if worst_impact is Impact.MAJOR_OUTAGE else "partial_initial"


def offers_drafted_message(group: AlertGroup | None, incident: Incident) -> bool:
    """A drafted message is offered for the first publication of a firing group's incident,
    and for its resolution once the alerts resolved."""
    if group is None or not incident.is_open or incident.state_enum is State.CLOSED:
        return False
    return suggests_resolution(group, incident) or not is_public(incident)
