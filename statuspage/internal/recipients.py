"""Who holds a position for an agency: members with that role (service manager, service owner)
or people on the duty roster (CIO, CDO, CISO, legal, public relations, on call). A backup is told
only when nobody in the main rota holds the position."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select

from ..extensions import db
from ..users.models import Membership, Role, User
from .messages import Recipient
from .models import SITE_WIDE, Contact, Position

MEMBER_ROLES = {Position.SERVICE_MANAGER: Role.SERVICE_MANAGER,
                Position.SERVICE_OWNER: Role.SERVICE_OWNER}  # fmt: skip


def holders(position: Position, agency_ids: Iterable[int]) -> list[Recipient]:
    """The people to tell for ``position`` in these agencies (site-wide positions once)."""
    agency_ids = sorted(set(agency_ids))
    if position in MEMBER_ROLES:
        return members(MEMBER_ROLES[position], agency_ids)
    scope = Contact.agency_id.is_(None) if position in SITE_WIDE else or_(
        Contact.agency_id.in_(agency_ids), Contact.agency_id.is_(None)
    )  # fmt: skip
    contacts = db.session.scalars(
        select(Contact).where(Contact.position == position.value, scope).order_by(Contact.id)
    ).all()
    found: list[Recipient] = []
    for agency_id in [*agency_ids, None]:
        here = [c for c in contacts if c.agency_id == agency_id]
        main = [c for c in here if not c.is_backup]
        found += [Recipient(c.name, c.email) for c in (main or here)]
    return _unique(found)


def members(role: Role, agency_ids: Iterable[int]) -> list[Recipient]:
    """Active members holding exactly ``role`` in these agencies."""
    rows = db.session.execute(
        select(User.name, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.agency_id.in_(list(agency_ids)),
            Membership.role == int(role),
            User.active.is_(True),
            User.is_service_account.is_(False),
        )
        .order_by(User.email)
    )
    return _unique(Recipient(name, email) for name, email in rows)


def deciders(role: Role, agency_id: int, *, besides: int | None = None) -> list[Recipient]:
    """Everyone who may decide what needs ``role`` in the agency (that role or higher, and site
    administrators when the agency has nobody), except the person asking."""
    rows = db.session.execute(
        select(User.id, User.name, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.agency_id == agency_id, Membership.role >= int(role),
               User.active.is_(True), User.is_service_account.is_(False))  # fmt: skip
        .order_by(User.email)
    ).all()
    if not [r for r in rows if r.id != besides]:
        rows = db.session.execute(
            select(User.id, User.name, User.email)
            .where(User.is_site_admin.is_(True), User.active.is_(True))
            .order_by(User.email)
        ).all()
    return _unique(Recipient(r.name, r.email) for r in rows if r.id != besides)


def _unique(recipients: Iterable[Recipient]) -> list[Recipient]:
    seen, found = set(), []
    for recipient in recipients:
        if recipient.email.lower() not in seen:
            seen.add(recipient.email.lower())
            found.append(recipient)
    return found
