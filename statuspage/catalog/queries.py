"""Reads of agencies and services."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from .models import Agency, Service


def agencies_with_services() -> list[Agency]:
    # One statement (joined) rather than two: the front page reads this on every render.
    return list(
        db.session.scalars(
            select(Agency)
            .options(joinedload(Agency.services))
            .order_by(Agency.display_order, Agency.name)
        ).unique()
    )


def agency_by_slug(slug: str) -> Agency | None:
    return db.session.scalars(
        select(Agency).options(selectinload(Agency.services)).where(Agency.slug == slug)
    ).first()


def service_by_slug(slug: str) -> Service | None:
    return db.session.scalars(select(Service).where(Service.slug == slug)).first()


def all_services() -> list[Service]:
    return list(
        db.session.scalars(
            select(Service).join(Agency).order_by(Agency.display_order, Service.display_order)
        )
    )
