"""Reads for the manage API: a page's incidents, maintenance windows, components and
postmortems, as Statuspage's JSON (statuspage_shapes.py does the shaping).

The manage API is the agency's own view, as its leads see the admin: every incident of the page,
private ones too (``metadata.policy.public`` says whether citizens see it), with every update.
Component statuses are the public ones (what citizens see)."""

from __future__ import annotations

import json

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .. import clock
from ..catalog.models import Agency
from ..extensions import db
from ..incidents.models import AffectedService, Incident
from ..incidents.queries import of_agency
from ..incidents.visibility import is_public, open_clause
from ..maintenance import queries as maintenance_queries
from ..maintenance.models import MaintenanceWindow
from ..policy import EmailSubscribers, current_policy
from ..public import api as public_api
from ..reports import reviews
from .statuspage_shapes import (
    IncidentFacts,
    PostmortemFacts,
    UpdateFacts,
    component_json,
    incident_json,
    maintenance_json,
    markdown_from_sections,
    postmortem_json,
)

PER_PAGE = 100


def components(agency: Agency) -> list[dict]:
    """The page's components: its agency's services, with their public statuses."""
    group = f"agency-{agency.slug}"
    return [component_json(c, page_id=agency.slug) for c in public_api._components()
            if c.get("group_id") == group]  # fmt: skip


def _all_components() -> dict[str, dict]:
    found = {}
    for item in public_api._components():
        if not item["group"]:
            page = item["group_id"].removeprefix("agency-")
            found[item["id"]] = component_json(item, page_id=page)
    return found


def _incidents():
    return select(Incident).options(
        selectinload(Incident.affected).joinedload(AffectedService.service),
        selectinload(Incident.updates),
        selectinload(Incident.approvals),
        joinedload(Incident.agency),
    )


def incident(agency: Agency, ref: str) -> Incident | None:
    """One of the page's incidents by its id (our reference)."""
    return db.session.scalars(_incidents().where(Incident.ref == ref, of_agency(agency.id))).first()


def incidents(agency: Agency, *, unresolved: bool = False, limit: int = PER_PAGE,
              page: int = 1, q: str = "") -> list[Incident]:  # fmt: skip
    query = _incidents().where(of_agency(agency.id))
    if unresolved:
        query = query.where(open_clause())
    if q:
        query = query.where(Incident.title.icontains(q, autoescape=True))
    query = query.order_by(Incident.detected_at.desc(), Incident.id.desc())
    return list(db.session.scalars(query.limit(limit).offset((page - 1) * limit)))


def window(agency: Agency, window_id: str) -> MaintenanceWindow | None:
    if not window_id.isdigit() or len(window_id) > 18:
        return None
    found = db.session.get(MaintenanceWindow, int(window_id))
    return found if found is not None and found.agency_id == agency.id else None


def windows(agency: Agency, which: str) -> list[MaintenanceWindow]:
    """ "scheduled" (not yet started), "upcoming" (the same, as Statuspage lists them),
    "active" (running) or "all" (including the last 30 days' and cancelled ones)."""
    now = clock.now()
    ahead = maintenance_queries.ANNOUNCE_AHEAD * 26
    if which == "active":
        found = maintenance_queries.active_windows(now)
    elif which in ("scheduled", "upcoming"):
        found = maintenance_queries.upcoming_windows(now, ahead=ahead)
    else:
        found = (maintenance_queries.active_windows(now)
                 + maintenance_queries.upcoming_windows(now, ahead=ahead)
                 + maintenance_queries.recent_windows(now))  # fmt: skip
    return [w for w in found if w.agency_id == agency.id]


def _delivered(incident: Incident) -> bool:
    rule = current_policy()[incident.priority].email_subscribers
    return not incident.is_exercise and rule is not EmailSubscribers.NO


def _awaiting(incident: Incident) -> dict | None:
    from ..incidents.operations import required_approver

    for approval in incident.approvals:
        if approval.is_pending:
            role = required_approver(approval)
            what = (f"lower the priority to P{approval.to_priority}"
                    if approval.to_priority else approval.kind_enum.label)  # fmt: skip
            return {"request": what, "approver": role.label.lower() if role else "a lead"}
    return None


def facts(incident: Incident) -> IncidentFacts:
    delivered = _delivered(incident)
    return IncidentFacts(
        ref=incident.ref,
        title=incident.title,
        state=incident.state,
        priority=incident.priority,
        detected_at=incident.detected_at,
        started_at=incident.started_at,
        resolved_at=incident.resolved_at,
        shortlink=url_for("public.incident", ref=incident.ref, _external=True),
        updates=[
            UpdateFacts(u.id, u.status, u.body, u.published_at, delivered and u.is_public)
            for u in incident.updates
        ],
        services=[(a.service.slug, a.service.name, a.impact) for a in incident.affected],
        metadata={
            "policy": {
                "ref": incident.ref,
                "priority": f"P{incident.priority}",
                "state": incident.state,
                "public": is_public(incident),
                "exercise": incident.is_exercise,
                "awaiting_approval": _awaiting(incident),
            }
        },
    )


def incident_answer(incident: Incident, agency: Agency, known: dict | None = None) -> dict:
    known = known if known is not None else _all_components()
    shown = [
        {**known[a.service.slug], "status": known[a.service.slug]["status"]}
        if a.service.slug in known
        else {"id": a.service.slug, "name": a.service.name, "status": a.impact}
        for a in incident.affected
    ]
    return incident_json(facts(incident), page_id=agency.slug, components=shown,
                         postmortem=postmortem_facts(incident))  # fmt: skip


def incidents_answer(found: list[Incident], agency: Agency) -> list[dict]:
    known = _all_components()
    return [incident_answer(i, agency, known) for i in found]


def windows_answer(found: list[MaintenanceWindow], agency: Agency) -> list[dict]:
    known = _all_components()
    answers = []
    for public in public_api._maintenances(found):
        window_services = [c["id"] for c in public["components"]]
        shown = [{**known[s], **({"status": "under_maintenance"} if public["status"] ==
                                 "in_progress" else {})}
                 for s in window_services if s in known]  # fmt: skip
        answers.append(maintenance_json(public, page_id=agency.slug, components=shown))
    return answers


# --- postmortems ---------------------------------------------------------------------------------


def postmortem_facts(incident: Incident) -> PostmortemFacts:
    report = reviews.report_for(incident)
    if report is None:
        ignored = incident.resolved_at is not None and not reviews.owed_by(incident).need.required
        return PostmortemFacts(None, None, None, None, None, False, None, ignored)
    latest = report.latest_revision
    published = None
    if latest is not None:
        published = _markdown(json.loads(latest.content), public=True)
    return PostmortemFacts(
        body=published,
        body_updated_at=latest.published_at if latest else None,
        body_draft=_markdown(reviews.content_of(report)),
        body_draft_updated_at=report.updated_at,
        published_at=latest.published_at if latest else None,
        notified_subscribers=latest is not None and is_public(incident) and _delivered(incident),
        created_at=report.created_at,
        ignored=False,
    )


def _markdown(content: dict, *, public: bool = False) -> str:
    """The report as a postmortem body; the published body, like the public report, leaves out
    the internal moments and who did what (the draft keeps them, so it reads back as written)."""
    from ..reports.models import RootCause
    from ..reports.timeline import Entry, format_lines, public_entries
    from ..timefmt import site_zone

    sections = {key: content.get(key, "") for key in reviews.TEXT_SECTIONS}
    category = content.get("root_cause_category")
    if category:
        try:
            sections["root_cause_category"] = RootCause(category).label
        except ValueError:
            sections["root_cause_category"] = category
    entries = [Entry.from_dict(entry) for entry in content.get("timeline", [])]
    sections["timeline"] = format_lines(public_entries(entries) if public else entries, site_zone())
    return markdown_from_sections(sections)


def postmortem_answer(incident: Incident) -> dict:
    return postmortem_json(postmortem_facts(incident))
