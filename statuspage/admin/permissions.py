"""Who may do what, checked on the server for every admin action, per agency."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from ..catalog.models import Agency, Service
from ..extensions import db
from ..incidents.models import Incident
from ..users.models import Membership, Role, User


def agency_ids_for(user: User, role: Role) -> list[int]:
    """The agencies in which the user holds at least ``role``."""
    if user.is_site_admin:
        return list(db.session.scalars(select(Agency.id)))
    return [m.agency_id for m in user.memberships if m.role >= role]


def incident_for(ref: str, role: Role) -> Incident:
    """The incident, if the signed-in user holds ``role`` in its agency; 404 or 403 otherwise."""
    incident = db.session.scalars(select(Incident).where(Incident.ref == ref)).first()
    if incident is None:
        abort(404)
    if not (incident.is_shared and incident.coordinator_id == current_user.id):
        require(role, incident.agency_id)  # a shared incident's coordinator may act on it
    return incident


def require(role: Role, agency_id: int) -> None:
    if not current_user.can(role, agency_id):
        abort(403)


def people_with(role: Role, agency_id: int) -> list[User]:
    """Active users holding at least ``role`` in the agency, and site administrators."""
    return list(
        db.session.scalars(
            select(User)
            .outerjoin(Membership, Membership.user_id == User.id)
            .where(
                User.active.is_(True),
                User.is_site_admin.is_(True)
                | ((Membership.agency_id == agency_id) & (Membership.role >= int(role))),
            )
            .distinct()
            .order_by(User.name, User.id)
        )
    )


def services_for(user: User, role: Role) -> list[Service]:
    """The services of every agency in which the user holds at least ``role``."""
    return list(
        db.session.scalars(
            select(Service)
            .join(Agency)
            .where(Service.agency_id.in_(agency_ids_for(user, role)))
            .order_by(Agency.display_order, Service.display_order, Service.name)
        )
    )
