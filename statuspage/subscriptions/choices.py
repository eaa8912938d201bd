"""What a subscriber follows, in the words and addresses people see: a choice read from
`?service=<slug>&agency=<slug>` (unknown slugs ignored), written back as such a query, and named
("Tax filing (Department of Revenue)", "All of Department of Roads")."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from ..catalog.models import Agency, Service
from ..catalog.operations import SLUG
from ..extensions import db
from .operations import Choice

EVERYTHING = "Everything: all agencies and services"


def from_slugs(
    agency_slugs: Iterable[str], service_slugs: Iterable[str], everything: bool = False
) -> Choice:
    """The agencies and services named by slug; a slug that names nothing is left out (one that
    could not be a slug, such as a NUL byte PostgreSQL refuses, is not even looked up)."""
    agency_slugs = {slug for slug in agency_slugs if _could_be_slug(slug)}
    service_slugs = {slug for slug in service_slugs if _could_be_slug(slug)}
    agency_ids = (
        set(db.session.scalars(select(Agency.id).where(Agency.slug.in_(agency_slugs))))
        if agency_slugs
        else set()
    )
    service_ids = (
        set(db.session.scalars(select(Service.id).where(Service.slug.in_(service_slugs))))
        if service_slugs
        else set()
    )
    return Choice(everything=everything, agency_ids=agency_ids, service_ids=service_ids)


def _could_be_slug(text: str) -> bool:
    return len(text) <= 80 and SLUG.fullmatch(text) is not None


def from_args(args) -> Choice:
    """A choice from a request's query (`everything=1`, repeated `agency=` and `service=`)."""
    return from_slugs(
        args.getlist("agency"), args.getlist("service"), everything=bool(args.get("everything"))
    )


def as_args(choice: Choice) -> dict[str, list[str] | str]:
    """The query that names this choice (for `url_for`), slugs in a stable order."""
    if choice.everything:
        return {"everything": "1"}
    args: dict[str, list[str] | str] = {}
    if choice.agency_ids:
        args["agency"] = sorted(
            db.session.scalars(select(Agency.slug).where(Agency.id.in_(choice.agency_ids)))
        )
    if choice.service_ids:
        args["service"] = sorted(
            db.session.scalars(select(Service.slug).where(Service.id.in_(choice.service_ids)))
        )
    return args


def names(choice: Choice) -> list[str]:
    """What the choice covers, in the order of the site's lists: whole agencies, then services
    (with their agency, since two agencies may both have a "Payments" service)."""
    if choice.everything:
        return [EVERYTHING]
    found = []
    if choice.agency_ids:
        agencies = db.session.scalars(
            select(Agency)
            .where(Agency.id.in_(choice.agency_ids))
            .order_by(Agency.display_order, Agency.name)
        )
        found += [f"All of {agency.name}" for agency in agencies]
    if choice.service_ids:
        services = db.session.execute(
            select(Service.name, Agency.name)
            .join(Agency, Service.agency_id == Agency.id)
            .where(Service.id.in_(choice.service_ids))
            .order_by(Agency.display_order, Agency.name, Service.display_order, Service.name)
        )
        found += [f"{service} ({agency})" for service, agency in services]
    return found


def of_subscriber(subscriber) -> Choice:
    return Choice(
        everything=subscriber.everything,
        agency_ids=subscriber.agency_ids,
        service_ids=subscriber.service_ids,
    )
