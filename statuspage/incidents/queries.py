"""Reads of incidents for the public pages and the admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from .. import clock
from ..catalog.models import Service
from ..catalog.status import ServiceStatus, statuses_from_impacts, worst
from ..maintenance.queries import under_maintenance
from ..extensions import db
from .models import AffectedService, Impact, Incident
from .visibility import open_clause, public_clause

HISTORY_PAGE_SIZE = 20


def of_agency(agency_id: int):
    """Incidents an agency's public pages show: its own, and shared ones (a platform failure)
    that affect one of its services."""
    return or_(
        Incident.agency_id == agency_id,
        Incident.affected.any(AffectedService.service.has(Service.agency_id == agency_id)),
    )


def _with_details(query: Select) -> Select:
    return query.options(
        selectinload(Incident.affected).joinedload(AffectedService.service),
        selectinload(Incident.updates),
        joinedload(Incident.agency),
        selectinload(Incident.priority_changes),
    )


def service_statuses() -> dict[int, ServiceStatus]:
    """Service id -> status for every service touched by an open public incident or running
    maintenance (an outage outranks maintenance)."""
    rows = db.session.execute(
        select(AffectedService.service_id, AffectedService.impact)
        .join(Incident)
        .where(public_clause(), open_clause())
    )
    statuses = statuses_from_impacts((service_id, Impact(impact)) for service_id, impact in rows)
    return _with_maintenance(statuses, under_maintenance(clock.now()))


def statuses_of(open_incidents, running_windows) -> dict[int, ServiceStatus]:
    """What `service_statuses` returns, from the open public incidents (with their services) and
    the running maintenance windows a page has already loaded: no more queries."""
    statuses = statuses_from_impacts(
        (item.service_id, item.impact_enum)
        for incident in open_incidents
        for item in incident.affected
    )
    return _with_maintenance(
        statuses, {service.id for window in running_windows for service in window.services}
    )


def _with_maintenance(
    statuses: dict[int, ServiceStatus], maintained: set[int]
) -> dict[int, ServiceStatus]:
    """Services in a running window are under maintenance, unless an outage outranks it."""
    for service_id in maintained:
        statuses[service_id] = worst(
            (statuses.get(service_id, ServiceStatus.OPERATIONAL), ServiceStatus.UNDER_MAINTENANCE)
        )
    return statuses


def open_public_incidents(*, agency_id: int | None = None, service_id: int | None = None):
    query = _with_details(select(Incident).where(public_clause(), open_clause()))
    if agency_id is not None:
        query = query.where(of_agency(agency_id))
    if service_id is not None:
        query = query.where(Incident.affected.any(AffectedService.service_id == service_id))
    return db.session.scalars(query.order_by(Incident.priority, Incident.detected_at.desc())).all()


def recent_public_incidents(
    *, agency_id: int | None = None, service_id: int | None = None, limit: int = 10
):
    query = _with_details(select(Incident).where(public_clause()))
    if agency_id is not None:
        query = query.where(of_agency(agency_id))
    if service_id is not None:
        query = query.where(Incident.affected.any(AffectedService.service_id == service_id))
    return db.session.scalars(query.order_by(Incident.detected_at.desc()).limit(limit)).all()


def public_incident(ref: str) -> Incident | None:
    return db.session.scalars(
        _with_details(select(Incident).where(Incident.ref == ref, public_clause()))
    ).first()


@dataclass(frozen=True)
class HistoryFilter:
    agency_id: int | None = None
    service_id: int | None = None
    priority: int | None = None
    start: datetime | None = None  # UTC bounds of the chosen month
    end: datetime | None = None


@dataclass(frozen=True)
class Page:
    items: list[Incident]
    number: int
    pages: int
    total: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def history_page(filters: HistoryFilter, number: int) -> Page:
    """One page of public incidents, newest first; a page past the end shows the last."""
    query = select(Incident).where(public_clause())
    if filters.agency_id is not None:
        query = query.where(of_agency(filters.agency_id))
    if filters.service_id is not None:
        query = query.where(Incident.affected.any(AffectedService.service_id == filters.service_id))
    if filters.priority is not None:
        query = query.where(Incident.priority == filters.priority)
    if filters.start is not None:
        query = query.where(Incident.detected_at >= filters.start)
    if filters.end is not None:
        query = query.where(Incident.detected_at < filters.end)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // HISTORY_PAGE_SIZE))
    number = min(max(1, number), pages)
    items = db.session.scalars(
        _with_details(query)
        .order_by(Incident.detected_at.desc(), Incident.id.desc())
        .offset((number - 1) * HISTORY_PAGE_SIZE)
        .limit(HISTORY_PAGE_SIZE)
    ).all()
    return Page(list(items), number, pages, total)
