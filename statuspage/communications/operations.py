"""Changes to the update templates and the jargon list, each written to the audit log with what
it was before and after (site-wide: no agency)."""

from __future__ import annotations

from .. import audit, clock
from ..extensions import db
from ..users.models import User
from .models import JargonTerm, UpdateTemplate
from .templates import TEMPLATE_FIELDS, jargon_list


class CommunicationsError(ValueError):
    """A change refused, with the reason and the form field it concerns."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def save_template(template: UpdateTemplate, values: dict[str, str], *, by: User | None) -> dict:
    """Set the template's name, status and fields; returns what changed ({} when nothing did,
    and nothing is recorded)."""
    names = ("name", "status", *TEMPLATE_FIELDS)
    before = {name: getattr(template, name) or "" for name in names}
    changed = audit.changes(before, {name: values.get(name) or "" for name in names})
    if not changed:
        return {}
    for name, (_, value) in changed.items():
        setattr(template, name, value)
    template.updated_at = clock.now()
    template.updated_by_id = by.id if by else None
    audit.record("template_changed", actor=by, agency_id=None, template=template.key,
                 changes=changed)  # fmt: skip
    db.session.commit()
    return changed


def add_jargon(term: str, plainer: str, *, by: User | None) -> JargonTerm:
    term = term.strip().lower()
    if term in jargon_list():
        raise CommunicationsError(f"“{term}” is already on the list.", "term")
    row = JargonTerm(term=term, plainer=plainer.strip())
    db.session.add(row)
    audit.record("jargon_added", actor=by, agency_id=None, term=row.term, plainer=row.plainer)
    db.session.commit()
    return row


def remove_jargon(row: JargonTerm, *, by: User | None) -> None:
    audit.record("jargon_removed", actor=by, agency_id=None, term=row.term, plainer=row.plainer)
    db.session.delete(row)
    db.session.commit()
