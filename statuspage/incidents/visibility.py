"""Which incidents the public may see: read from the policy table's `public` column.

An exercise (drill) is never public, whatever its priority: `is_public` and `public_clause` refuse
it here, so no page, feed, API answer, static export, subscriber email or webhook carries it. Its
updates are still written as they would be for citizens (the update's `is_public`, the incident's
`first_public_at`), so the drill's clock, reminders and internal messages run as a real
incident's would."""

from __future__ import annotations

from sqlalchemy import and_, false, or_
from sqlalchemy.sql.elements import ColumnElement

from ..policy import Visibility, current_policy
from .models import Incident, State


def priority_allows_public(priority: int, made_public: bool) -> bool:
    """True when an incident of this priority may be shown to the public."""
    visibility = current_policy()[priority].public
    return visibility is Visibility.ALWAYS or (visibility is Visibility.WHEN_MARKED and made_public)


def is_public(incident: Incident) -> bool:
    """True when the incident is on the public site (allowed and already communicated)."""
    return (
        not incident.is_exercise
        and incident.first_public_at is not None
        and priority_allows_public(incident.priority, incident.made_public)
    )


def public_clause() -> ColumnElement[bool]:
    """The same rule as ``is_public`` as an SQL condition."""
    policy = current_policy()
    always = policy.public_priorities(Visibility.ALWAYS)
    when_marked = policy.public_priorities(Visibility.WHEN_MARKED)
    return and_(
        Incident.is_exercise.is_(False),
        Incident.first_public_at.is_not(None),
        or_(
            Incident.priority.in_(always) if always else false(),
            and_(Incident.priority.in_(when_marked), Incident.made_public.is_(True))
            if when_marked
            else false(),
        ),
    )


def open_clause() -> ColumnElement[bool]:
    return Incident.state.not_in((State.RESOLVED.value, State.CLOSED.value))
