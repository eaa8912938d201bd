"""The audit log, for site administrators and each agency's managers."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..audit import AuditEntry
from ..extensions import db
from ..users.models import Role
from . import admin
from .permissions import agency_ids_for

AUDIT_PAGE_SIZE = 200


@admin.get("/audit")
def audit_log():
    agency_ids = agency_ids_for(current_user, Role.SERVICE_MANAGER)
    if not agency_ids and not current_user.is_site_admin:
        abort(403)
    query = select(AuditEntry).options(
        selectinload(AuditEntry.actor), selectinload(AuditEntry.incident)
    )
    if not current_user.is_site_admin:
        query = query.where(AuditEntry.agency_id.in_(agency_ids))
    entries = db.session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(AUDIT_PAGE_SIZE)
    ).all()
    return render_template("admin/audit.html", audit_entries=entries, show_incident=True)
