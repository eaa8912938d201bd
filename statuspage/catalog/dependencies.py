"""Services that rely on shared platforms (identity, payments, notifications): recorded so an
incident on a platform affects its dependents too. A cycle is refused."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..internal.models import ServiceDependency
from ..users.models import User
from .models import Service


class DependencyError(ValueError):
    """A dependency the catalog refuses, with the reason."""


def dependency_edges() -> dict[int, set[int]]:
    """service id -> the ids of the services it depends on."""
    edges: dict[int, set[int]] = {}
    for service_id, depends_on_id in db.session.execute(
        select(ServiceDependency.service_id, ServiceDependency.depends_on_id)
    ):
        edges.setdefault(service_id, set()).add(depends_on_id)
    return edges


def reaches(edges: dict[int, set[int]], start: int, goal: int) -> bool:
    seen, stack = set(), [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            stack.extend(edges.get(node, ()))
    return False


def add_dependency(service: Service, platform: Service, *, by: User | None = None) -> None:
    """``service`` relies on ``platform``."""
    if service.id == platform.id:
        raise DependencyError(f"{service.name} cannot depend on itself.")
    edges = dependency_edges()
    if platform.id in edges.get(service.id, set()):
        raise DependencyError(f"{service.name} already depends on {platform.name}.")
    if reaches(edges, platform.id, service.id):
        raise DependencyError(
            f"{platform.name} already depends on {service.name} (directly or through other "
            "services): a service cannot depend on itself in a circle."
        )
    db.session.add(ServiceDependency(service_id=service.id, depends_on_id=platform.id))
    audit.record("dependency_added", actor=by, agency_id=service.agency_id,
                 service=service.slug, depends_on=platform.slug)  # fmt: skip
    db.session.commit()


def dependents(platform_ids: Iterable[int]) -> list[Service]:
    """Every service that relies on these platforms, directly or through other services."""
    edges = dependency_edges()
    reverse: dict[int, set[int]] = {}
    for service_id, platforms in edges.items():
        for platform_id in platforms:
            reverse.setdefault(platform_id, set()).add(service_id)
    found: set[int] = set()
    stack = list(platform_ids)
    while stack:
        for service_id in reverse.get(stack.pop(), ()):
            if service_id not in found:
                found.add(service_id)
                stack.append(service_id)
    found -= set(platform_ids)
    if not found:
        return []
    return list(db.session.scalars(
        select(Service).where(Service.id.in_(found))
        .order_by(Service.agency_id, Service.display_order, Service.name)
    ))  # fmt: skip
