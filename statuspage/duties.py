"""Separation of duties: whoever wrote something or asked for a decision does not approve,
decide or publish it. The policy's approvers are other people than the authors.

One rule and one form of message for every kind of decision (a request to lower the priority or to
close, a post-incident review, a monthly report), so a lead reads the same sentence wherever they
meet it. Someone who holds the approving role and makes a change on their own authority (a service
manager lowering a priority) is not asking for a decision: that stays as the policy has it.
When an agency has nobody else in the role, its site administrators decide (the decision emails
already go to them then: `internal/recipients.deciders`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from .audit import AuditEntry
from .extensions import db
from .users.models import Role, User


def refusal(
    by: User, authors: Iterable[int | None], role: Role | None, *, did: str, decide: str
) -> str | None:
    """The message refusing `by` when they are one of the authors, else None. Worded as the
    incident approvals' own refusal ("Only a service manager can decide this request.")."""
    if by.id not in {author for author in authors if author is not None}:
        return None
    who = role.label.lower() if role is not None else "person"
    return f"Only a {who} who did not {did} can {decide}."


def audited_actors(actions: tuple[str, ...], mentioning: str | None = None, **where) -> set[int]:
    """Everyone the audit log records doing one of `actions` (e.g. saving a review's draft),
    where each column in `where` has that value and the details mention `mentioning`."""
    query = select(AuditEntry.actor_id).where(
        AuditEntry.action.in_(actions), AuditEntry.actor_id.is_not(None)
    )
    if mentioning is not None:
        query = query.where(AuditEntry.details.contains(mentioning))
    for column, value in where.items():
        attribute = getattr(AuditEntry, column)
        query = query.where(attribute.is_(None) if value is None else attribute == value)
    return set(db.session.scalars(query.distinct()))
