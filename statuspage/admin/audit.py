"""The audit log, for site administrators and each agency's managers."""

from __future__ import annotations

from flask import g, render_template
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..audit import AuditEntry
from ..extensions import db
from ..users.models import Role
from . import admin
from .permissions import allow

AUDIT_PAGE_SIZE = 200


@admin.get("/audit")
@allow.role(Role.SERVICE_MANAGER, any_agency=True)
def audit_log():
    query = select(AuditEntry).options(
        selectinload(AuditEntry.actor), selectinload(AuditEntry.incident)
    )
    if not current_user.is_site_admin:
        query = query.where(AuditEntry.agency_id.in_(g.agency_ids))
    entries = db.session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(AUDIT_PAGE_SIZE)
    ).all()
    return render_template("admin/audit.html", audit_entries=entries, show_incident=True)
