"""Changes to agencies and services, each checked and written to the audit log with what it was
before and after. The admin screens call these; nothing else writes the catalog."""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..extensions import db
from ..incidents.models import AffectedService, Incident
from ..incidents.visibility import public_clause
from ..internal.models import ServiceDependency
from ..maintenance.models import MaintenanceWindow, window_services
from ..reports.models import SITE_SLUG, MonthlyReport, MonthlyReportStatus
from ..social.compose import parse_hashtags
from ..users.models import User
from .dependencies import dependency_edges, reaches
from .models import Agency, Service

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_HINT = "lower-case letters, digits and single hyphens, for example tax-filing"
# Slugs the public URLs already give a meaning: /reports/all/<month> is the whole site's report.
RESERVED_AGENCY_SLUGS = frozenset({SITE_SLUG})
TIERS = (1, 2, 3, 4)


class CatalogError(ValueError):
    """A change the catalog refuses: the message says why, ``field`` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class AgencyDetails:
    """What the public pages show about an agency."""

    name: str
    slug: str
    description: str = ""
    display_order: int = 0
    hashtags: str = ""  # added to its social media posts: "#TaxDay #Outage"


@dataclass
class ServiceDetails:
    name: str
    slug: str
    tier: int
    description: str = ""  # plain text, shown under the service's name on its public page
    availability_target: float | None = None  # percent; None: the tier's default
    group_name: str = ""
    display_order: int = 0
    depends_on: list[Service] = field(default_factory=list)  # shared platforms it relies on
    follows_monitoring: bool = False  # its monitoring status follows its alerts (alerts/rules.py)


# --- agencies ----------------------------------------------------------------------------------


def create_agency(details: AgencyDetails, *, by: User | None) -> Agency:
    _check_agency(details, None)
    agency = Agency(**asdict(details))
    with _slug_taken(f"Another agency has the address /agencies/{details.slug}."):
        db.session.add(agency)
        db.session.flush()
        audit.record("agency_created", actor=by, agency_id=agency.id, **asdict(details))
        db.session.commit()
    return agency


def update_agency(agency: Agency, details: AgencyDetails, *, by: User | None) -> dict:
    """Apply the details; returns what changed ({} when nothing did, and nothing is recorded)."""
    _check_agency(details, agency)
    before = _agency_values(agency)
    changed = audit.changes(before, asdict(details))
    if not changed:
        return {}
    for name, (_, value) in changed.items():
        setattr(agency, name, value)
    audit.record("agency_changed", actor=by, agency_id=agency.id, agency=before["slug"],
                 changes=changed)  # fmt: skip
    with _slug_taken(f"Another agency has the address /agencies/{details.slug}."):
        db.session.commit()
    return changed


def update_agency_hashtags(agency: Agency, hashtags: str, *, by: User | None) -> dict:
    """The agency's hashtags alone (its service owners set them on its social media page),
    checked and audited as any other change to the agency."""
    return update_agency(agency, AgencyDetails(**{**_agency_values(agency), "hashtags": hashtags}),
                         by=by)  # fmt: skip


def _agency_values(agency: Agency) -> dict:
    return {name: getattr(agency, name) for name in AgencyDetails.__dataclass_fields__}


def _check_agency(details: AgencyDetails, agency: Agency | None) -> None:
    _check_text(details.name, "name", "Enter the agency's name.")
    try:
        details.hashtags = " ".join(parse_hashtags(details.hashtags))
    except ValueError as error:
        raise CatalogError(str(error), "hashtags") from None
    _check_slug(details.slug)
    if details.slug in RESERVED_AGENCY_SLUGS:
        raise CatalogError(
            f"“{details.slug}” is taken by the public site (/reports/{details.slug}/… is every "
            "agency's report): choose another.", "slug"
        )  # fmt: skip
    others = select(Agency.id)
    if agency is not None:
        others = others.where(Agency.id != agency.id)
    if db.session.scalar(others.where(Agency.slug == details.slug).limit(1)):
        raise CatalogError(f"Another agency has the address /agencies/{details.slug}.", "slug")
    if db.session.scalar(others.where(func.lower(Agency.name) == details.name.lower()).limit(1)):
        raise CatalogError(f"Another agency is called “{details.name}”.", "name")
    if agency is not None and details.slug != agency.slug and agency_has_public_history(agency):
        raise CatalogError(
            f"The address /agencies/{agency.slug} cannot change: the agency has public history "
            "(incidents, maintenance or reports people have read, linked and subscribed to by "
            "that address). Keep it, or change the name only.", "slug"
        )  # fmt: skip


def agency_has_public_history(agency: Agency) -> bool:
    """True once the public has seen something of the agency beyond its empty pages: a public
    incident (its own or on one of its services), a maintenance window, a published report."""
    service_ids = select(Service.id).where(Service.agency_id == agency.id)
    incident = exists().where(
        public_clause(),
        (Incident.agency_id == agency.id)
        | Incident.id.in_(
            select(AffectedService.incident_id).where(AffectedService.service_id.in_(service_ids))
        ),
    )
    maintenance = exists().where(MaintenanceWindow.agency_id == agency.id)
    report = exists().where(
        MonthlyReport.agency_id == agency.id,
        MonthlyReport.status == MonthlyReportStatus.PUBLISHED.value,
    )
    return bool(db.session.scalar(select(incident | maintenance | report)))


# --- services ----------------------------------------------------------------------------------


def create_service(agency: Agency, details: ServiceDetails, *, by: User | None) -> Service:
    _check_service(details, None)
    values = _service_values_from(details)
    service = Service(agency_id=agency.id, **values)
    with _slug_taken(f"Another service has the address /services/{details.slug}."):
        db.session.add(service)
        db.session.flush()
        _set_dependencies(service, details.depends_on)
        audit.record("service_created", actor=by, agency_id=agency.id, agency=agency.slug,
                     **values, depends_on=_slugs(details.depends_on))  # fmt: skip
        db.session.commit()
    return service


def update_service(service: Service, details: ServiceDetails, *, by: User | None) -> dict:
    """Apply the details; returns what changed ({} when nothing did, and nothing is recorded)."""
    _check_service(details, service)
    before = {**_service_values(service), "depends_on": _slugs(platforms_of(service))}
    after = {**_service_values_from(details), "depends_on": _slugs(details.depends_on)}
    changed = audit.changes(before, after)
    if not changed:
        return {}
    for name, (_, value) in changed.items():
        if name != "depends_on":
            setattr(service, name, value)
    if "depends_on" in changed:
        _set_dependencies(service, details.depends_on)
    audit.record("service_changed", actor=by, agency_id=service.agency_id,
                 service=before["slug"], changes=changed)  # fmt: skip
    with _slug_taken(f"Another service has the address /services/{details.slug}."):
        db.session.commit()
    return changed


def platforms_of(service: Service) -> list[Service]:
    """The services this one relies on directly, by name."""
    return list(db.session.scalars(
        select(Service).join(ServiceDependency, ServiceDependency.depends_on_id == Service.id)
        .where(ServiceDependency.service_id == service.id).order_by(Service.name)
    ))  # fmt: skip


def _slugs(services: list[Service]) -> list[str]:
    return sorted(service.slug for service in services)


_SERVICE_COLUMNS = ("name", "slug", "tier", "description", "availability_target", "group_name",
                    "display_order", "follows_monitoring")  # fmt: skip


def _service_values(service: Service) -> dict:
    return {name: getattr(service, name) for name in _SERVICE_COLUMNS}


def _service_values_from(details: ServiceDetails) -> dict:
    return {name: getattr(details, name) for name in _SERVICE_COLUMNS}


def _check_service(details: ServiceDetails, service: Service | None) -> None:
    _check_text(details.name, "name", "Enter the service's name.")
    _check_slug(details.slug)
    if details.tier not in TIERS:
        raise CatalogError("Choose a tier from 1 (most critical) to 4.", "tier")
    target = details.availability_target
    if target is not None and not 0 < target <= 100:
        raise CatalogError(
            "Enter the availability target as a percentage above 0 and at most 100, for "
            "example 99.9, or leave it empty for the tier's default.", "availability_target"
        )  # fmt: skip
    others = select(Service.id)
    if service is not None:
        others = others.where(Service.id != service.id)
    if db.session.scalar(others.where(Service.slug == details.slug).limit(1)):
        raise CatalogError(f"Another service has the address /services/{details.slug}.", "slug")
    if service is not None and details.slug != service.slug and service_has_public_history(service):
        raise CatalogError(
            f"The address /services/{service.slug} cannot change: the service has public history "
            "(incidents or maintenance people have read, linked and subscribed to by that "
            "address). Keep it, or change the name only.", "slug"
        )  # fmt: skip
    if service is not None:  # nothing depends on a new service yet: it cannot close a circle
        _check_no_circle(service, details.depends_on)


def service_has_public_history(service: Service) -> bool:
    incident = exists().where(
        public_clause(),
        Incident.id.in_(
            select(AffectedService.incident_id).where(AffectedService.service_id == service.id)
        ),
    )
    maintenance = exists().where(window_services.c.service_id == service.id)
    return bool(db.session.scalar(select(incident | maintenance)))


def _check_no_circle(service: Service, platforms: list[Service]) -> None:
    edges = dependency_edges()
    for platform in platforms:
        if platform.id == service.id:
            raise CatalogError(f"{service.name} cannot depend on itself.", "depends_on")
        if reaches(edges, platform.id, service.id):
            raise CatalogError(
                f"{platform.name} already depends on {service.name} (directly or through other "
                "services): a service cannot depend on itself in a circle.", "depends_on"
            )  # fmt: skip


def _set_dependencies(service: Service, platforms: list[Service]) -> None:
    wanted = {platform.id for platform in platforms}
    for row in db.session.scalars(
        select(ServiceDependency).where(ServiceDependency.service_id == service.id)
    ):
        if row.depends_on_id not in wanted:
            db.session.delete(row)
        wanted.discard(row.depends_on_id)
    for platform_id in sorted(wanted):
        db.session.add(ServiceDependency(service_id=service.id, depends_on_id=platform_id))


# --- shared checks -----------------------------------------------------------------------------


@contextmanager
def _slug_taken(message: str):
    """Two people saving the same new slug at once: the database's unique key refuses the second,
    who is told as if the check above had seen it."""
    try:
        yield
    except IntegrityError:
        db.session.rollback()
        raise CatalogError(message, "slug") from None


def _check_text(value: str, field_name: str, missing: str) -> None:
    if not (value or "").strip():
        raise CatalogError(missing, field_name)


def _check_slug(slug: str) -> None:
    if not slug:
        raise CatalogError("Enter the web address name (slug).", "slug")
    if len(slug) > 80 or not SLUG.match(slug):
        raise CatalogError(f"Use {SLUG_HINT}, at most 80 characters.", "slug")
