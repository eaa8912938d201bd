"""The duty roster: who holds the positions the notification matrix names."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit, clock
from ..catalog.queries import agency_by_slug
from ..extensions import db
from ..users.models import User
from .models import SITE_WIDE, Contact, Position


class RosterError(ValueError):
    """A roster entry refused, with the reason."""


def add_contact(
    position: str,
    email: str,
    *,
    name: str,
    agency_slug: str | None = None,
    phone: str = "",
    backup: bool = False,
    by: User | None = None,
) -> Contact:
    try:
        held = Position(position)
    except ValueError:
        choices = ", ".join(p.value for p in Position if p.from_roster)
        raise RosterError(f"{position!r} is not a position on the roster; use {choices}.") \
            from None  # fmt: skip
    if not held.from_roster:
        raise RosterError(f"{held.label}s are agency members: give them that role instead.")
    try:
        address = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise RosterError(f"{email!r} is not an email address: {error}") from None
    agency = None
    if agency_slug:
        agency = agency_by_slug(agency_slug)
        if agency is None:
            raise RosterError(f"No agency {agency_slug!r}.")
        if held in SITE_WIDE:
            raise RosterError(f"The {held.label} is site-wide: leave out the agency.")
    elif held not in SITE_WIDE and held is not Position.CISO:
        raise RosterError(f"Name the agency this {held.label.lower()} serves (--agency).")
    user = db.session.scalars(select(User).where(User.email == address)).first()
    contact = Contact(
        agency_id=agency.id if agency else None, position=held.value, name=name.strip(),
        email=address, phone=phone.strip(), is_backup=backup, user_id=user.id if user else None,
        created_at=clock.now(),
    )  # fmt: skip
    db.session.add(contact)
    audit.record("contact_added", actor=by, agency_id=contact.agency_id, position=held.value,
                 email=address)  # fmt: skip
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise RosterError(f"{address} already holds that position there.") from None
    return contact
