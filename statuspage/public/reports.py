"""Published reports: each incident's post-incident report, and the monthly reports."""

from __future__ import annotations

from flask import abort, render_template
from sqlalchemy import select

from ..extensions import db
from ..incidents import queries as incident_queries
from ..incidents.references import is_reference
from ..reports.models import ReportRevision
from . import public


def published_revisions(incident_id: int) -> list[ReportRevision]:
    return list(
        db.session.scalars(
            select(ReportRevision)
            .where(ReportRevision.incident_id == incident_id)
            .order_by(ReportRevision.number.desc())
        )
    )


@public.get("/incidents/<ref>/report")
def incident_report(ref: str):
    if not is_reference(ref):
        abort(404)
    incident = incident_queries.public_incident(ref) or abort(404)
    revisions = published_revisions(incident.id) or abort(404)
    return render_template(
        "public/reports/incident_report.html",
        incident=incident,
        revision=revisions[0],
        earlier=revisions[1:],
    )
