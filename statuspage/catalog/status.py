"""A service's public status and the overall banner, derived from open public incidents."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from ..incidents.models import Impact


class ServiceStatus(enum.StrEnum):
    """Statuses as the public sees them; values follow Statuspage's component statuses."""

    OPERATIONAL = "operational"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    UNDER_MAINTENANCE = "under_maintenance"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def colour(self) -> str:
        return _COLOURS[self]

    @property
    def icon(self) -> str:
        """The name of the icon shape, so colour is never the only signal."""
        return _ICONS[self]

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @classmethod
    def from_impact(cls, impact: Impact) -> ServiceStatus:
        return cls(impact.value)


_LABELS = {
    ServiceStatus.OPERATIONAL: "Operational",
    ServiceStatus.DEGRADED_PERFORMANCE: "Degraded performance",
    ServiceStatus.PARTIAL_OUTAGE: "Partial outage",
    ServiceStatus.MAJOR_OUTAGE: "Major outage",
    ServiceStatus.UNDER_MAINTENANCE: "Under maintenance",
}
_COLOURS = {
    ServiceStatus.OPERATIONAL: "green",
    ServiceStatus.DEGRADED_PERFORMANCE: "yellow",
    ServiceStatus.PARTIAL_OUTAGE: "yellow",
    ServiceStatus.MAJOR_OUTAGE: "red",
    ServiceStatus.UNDER_MAINTENANCE: "blue",
}
_ICONS = {
    ServiceStatus.OPERATIONAL: "check",
    ServiceStatus.DEGRADED_PERFORMANCE: "triangle",
    ServiceStatus.PARTIAL_OUTAGE: "diamond",
    ServiceStatus.MAJOR_OUTAGE: "cross",
    ServiceStatus.UNDER_MAINTENANCE: "wrench",
}
# Which status wins when several apply; an outage outranks maintenance.
_RANKS = {
    ServiceStatus.OPERATIONAL: 0,
    ServiceStatus.UNDER_MAINTENANCE: 1,
    ServiceStatus.DEGRADED_PERFORMANCE: 2,
    ServiceStatus.PARTIAL_OUTAGE: 3,
    ServiceStatus.MAJOR_OUTAGE: 4,
}


def worst(statuses: Iterable[ServiceStatus]) -> ServiceStatus:
    return max(statuses, key=lambda status: status.rank, default=ServiceStatus.OPERATIONAL)


def statuses_from_impacts(pairs: Iterable[tuple[int, Impact]]) -> dict[int, ServiceStatus]:
    """Map service id -> status from (service id, impact) pairs of open public incidents."""
    result: dict[int, ServiceStatus] = {}
    for service_id, impact in pairs:
        status = ServiceStatus.from_impact(impact)
        result[service_id] = worst((result.get(service_id, ServiceStatus.OPERATIONAL), status))
    return result


@dataclass(frozen=True)
class Banner:
    status: ServiceStatus
    headline: str


def overall_banner(statuses: Iterable[ServiceStatus]) -> Banner:
    """The sentence at the top of the page, for the worst status of any service."""
    statuses = list(statuses)
    counts = {status: statuses.count(status) for status in ServiceStatus}
    top = worst(statuses)
    if top is ServiceStatus.OPERATIONAL:
        return Banner(top, "All services are operating normally")
    if top is ServiceStatus.MAJOR_OUTAGE:
        n = counts[top]
        return Banner(top, f"Major outage: {n} {'service is' if n == 1 else 'services are'} down")
    if top is ServiceStatus.UNDER_MAINTENANCE:
        return Banner(top, "Planned maintenance is in progress")
    n = counts[ServiceStatus.PARTIAL_OUTAGE] + counts[ServiceStatus.DEGRADED_PERFORMANCE]
    return Banner(top, f"{n} {'service is' if n == 1 else 'services are'} having problems")


# The embedded banner's headline for its worst status: words beside the colour and the icon.
_EMBED_HEADLINES = {
    ServiceStatus.MAJOR_OUTAGE: "Major outage",
    ServiceStatus.PARTIAL_OUTAGE: "Partial outage",
    ServiceStatus.DEGRADED_PERFORMANCE: "Degraded performance",
    ServiceStatus.UNDER_MAINTENANCE: "Maintenance in progress",
    ServiceStatus.OPERATIONAL: "Working normally",
}


def embed_status(impacts: Iterable[Impact], maintenance_running: bool) -> ServiceStatus:
    """The embedded banner's status for one service or one agency: the worst impact of its open
    public incidents on its own services, else maintenance when a window of its runs."""
    statuses = [ServiceStatus.from_impact(impact) for impact in impacts]
    if maintenance_running:
        statuses.append(ServiceStatus.UNDER_MAINTENANCE)
    return worst(statuses)


def embed_headline(status: ServiceStatus) -> str:
    return _EMBED_HEADLINES[status]
