"""Which incidents the public may see: the policy's P1-P4 rules in one place."""

from __future__ import annotations

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement

from .models import Incident, State

# P1 and P2 are always public once communicated; a P3 only when a lead makes it public; P4 never.
ALWAYS_PUBLIC_PRIORITIES = (1, 2)
PUBLIC_ON_REQUEST_PRIORITY = 3


def priority_allows_public(priority: int, made_public: bool) -> bool:
    """True when an incident of this priority may be shown to the public."""
    if priority in ALWAYS_PUBLIC_PRIORITIES:
        return True
    return priority == PUBLIC_ON_REQUEST_PRIORITY and made_public


def is_public(incident: Incident) -> bool:
    """True when the incident is on the public site (allowed and already communicated)."""
    return incident.first_public_at is not None and priority_allows_public(
        incident.priority, incident.made_public
    )


def public_clause() -> ColumnElement[bool]:
    """The same rule as ``is_public`` as an SQL condition."""
    return and_(
        Incident.first_public_at.is_not(None),
        or_(
            Incident.priority.in_(ALWAYS_PUBLIC_PRIORITIES),
            and_(Incident.priority == PUBLIC_ON_REQUEST_PRIORITY, Incident.made_public.is_(True)),
        ),
    )


def open_clause() -> ColumnElement[bool]:
    return Incident.state.not_in((State.RESOLVED.value, State.CLOSED.value))
