"""What the public press pages read: released statements of incidents on the public site."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..catalog.models import Agency
from ..extensions import db
from ..incidents.models import Incident
from ..incidents.visibility import public_clause
from .models import PressStatement, StatementStatus

# The press page lists this many statements; older ones are in each agency's list.
PAGE_SIZE = 100


def _released():
    return (
        select(PressStatement)
        .join(Incident, Incident.id == PressStatement.incident_id)
        .where(PressStatement.status == StatementStatus.RELEASED.value, public_clause())
        .options(selectinload(PressStatement.agency), selectinload(PressStatement.incident))
        .order_by(PressStatement.released_at.desc(), PressStatement.id.desc())
    )


def released_statements(agency: Agency | None = None, limit: int | None = PAGE_SIZE):
    """Released statements, newest first (one agency's, or every agency's)."""
    query = _released()
    if agency is not None:
        query = query.where(PressStatement.agency_id == agency.id)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def released_for_incident(incident_id: int) -> list[PressStatement]:
    return list(db.session.scalars(_released().where(PressStatement.incident_id == incident_id)))


def released_statement(slug: str) -> PressStatement | None:
    return db.session.scalars(_released().where(PressStatement.slug == slug)).first()


def agencies_with_statements() -> list[Agency]:
    ids = (
        select(PressStatement.agency_id)
        .join(Incident, Incident.id == PressStatement.incident_id)
        .where(PressStatement.status == StatementStatus.RELEASED.value, public_clause())
    )
    return list(db.session.scalars(
        select(Agency).where(Agency.id.in_(ids)).order_by(Agency.display_order, Agency.name)
    ))  # fmt: skip


def correction_of(statement: PressStatement) -> PressStatement | None:
    """The released statement that corrects this one."""
    return db.session.scalars(
        _released().where(PressStatement.supersedes_id == statement.id)
    ).first()


def waiting_for(user, agency_ids) -> list[PressStatement]:
    """Statements submitted in these agencies that ``user`` may approve (the priority's approver,
    not one of their authors), oldest first: the dashboard's "waiting for your approval"."""
    from .operations import decision_refusal

    submitted = db.session.scalars(
        select(PressStatement)
        .join(Incident, Incident.id == PressStatement.incident_id)
        .where(
            PressStatement.status == StatementStatus.SUBMITTED.value,
            Incident.agency_id.in_(agency_ids),
        )
        .options(selectinload(PressStatement.incident))
        .order_by(PressStatement.submitted_at)
    ).all()
    return [s for s in submitted if decision_refusal(s, user) is None]
