"""What each manage API request changes, through the same operations and policy as the admin.

The key acts as its service account (``by=g.api_actor``, a communications lead of its agency), so
permissions, approvals, separation of duties, the cadence and the audit log apply as for a person.
A request is checked in full before the first operation runs, so a refused one changes nothing.

Rules that are ours rather than Statuspage's (README, "Manage API"):
- An incident is always about at least one service (component).
- Becoming public: the incident is logged privately; it becomes public only with a message for
  citizens (the ``body``) and only when its priority allows (P1/P2 at once; a P3 when a lead
  marks it public in the admin; a P4 never). That message notifies the subscribers as the policy
  says: ``deliver_notifications: false`` does not silence a public update.
- A component's status comes from its incidents and maintenance (see ``set_component_status``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import clock
from ..catalog.models import Agency, Service
from ..catalog.status import ServiceStatus
from ..extensions import db
from ..incidents import queries as incident_queries
from ..incidents.models import (
    UPDATE_STATUSES,
    ApprovalKind,
    Impact,
    Incident,
    Source,
    State,
)
from ..incidents.operations import (
    IncidentRuleError,
    NewIncident,
    Scope,
    UpdateContent,
    change_priority,
    change_scope,
    check_priority,
    check_scope,
    create_incident,
    pending_approval,
    publish_update,
)
from ..maintenance.models import MaintenanceWindow, WindowStatus
from ..maintenance.operations import MaintenanceError, cancel_window, save_window
from ..policy import current_policy
from ..reports import reviews
from ..reports.models import RootCause
from ..reports.timeline import Entry, TimelineError, parse_lines
from ..timefmt import site_zone
from ..users.models import Role, User
from .statuspage_shapes import (
    PRIORITY_BY_IMPACT,
    IncidentRequest,
    incident_status,
    priority_for,
    sections_from_markdown,
)


class ApiRefusal(Exception):
    """A request refused with an HTTP status and a reason, nothing changed."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


IMPACT_BY_STATUS = {impact.value: impact for impact in Impact}
MAINTENANCE_ONLY = (
    "under_maintenance comes from a scheduled maintenance: POST /pages/{page}/incidents with "
    "scheduled_for, scheduled_until and the components."
)


def _rule(error: IncidentRuleError | MaintenanceError | reviews.ReviewError, status: int = 422):
    return ApiRefusal(status, error.message)


def _services(agency: Agency, ids, *, also: list[Agency] = ()) -> dict[str, Service]:
    """Component id (slug) -> service, from the page's services (and, for a shared incident, its
    other agencies'); an unknown id is refused, naming it."""
    known = {s.slug: s for a in (agency, *also) for s in a.services}
    unknown = [str(i) for i in ids if i not in known]
    if unknown:
        raise ApiRefusal(
            422, f"Unknown component {', '.join(repr(u) for u in unknown)} on page "
            f"'{agency.slug}': use the ids GET /pages/{agency.slug}/components lists.",
        )  # fmt: skip
    return {i: known[i] for i in ids}


def _check_lead(incident: Incident, by: User) -> None:
    if not by.can(Role.COMMUNICATIONS_LEAD, incident.agency_id):
        raise ApiRefusal(
            403, f"{incident.ref} is {incident.agency.name}'s incident: its own leads update it."
        )


# --- incidents ---------------------------------------------------------------------------------


def open_incident(agency: Agency, asked: IncidentRequest, *, by: User) -> Incident:
    """Log an incident; with a body, post its first update (public when its priority allows)."""
    if not asked.name:
        raise ApiRefusal(422, "incident[name] is required.")
    if asked.impact_override == "maintenance":
        raise ApiRefusal(422, "impact_override maintenance is for a scheduled maintenance.")
    if not asked.components:
        raise ApiRefusal(
            422, "Name the affected components (incident[components] or incident[component_ids]): "
            "an incident here is always about at least one service.",
        )  # fmt: skip
    if "under_maintenance" in asked.components.values():
        raise ApiRefusal(422, MAINTENANCE_ONLY.format(page=agency.slug))
    services = _services(agency, asked.components)
    body = (asked.body or "").strip()
    status = asked.status or State.INVESTIGATING.value
    if not body and status != State.INVESTIGATING.value:
        raise ApiRefusal(
            422, f"Write incident[body] with the status {status}: a status is announced with a "
            "message for citizens.",
        )  # fmt: skip
    priority, why = priority_for(
        asked.impact_override, asked.statuses(), [s.tier for s in services.values()]
    )
    data = NewIncident(
        agency=agency,
        title=asked.name,
        priority=priority,
        source=Source.STAFF,
        detected_at=clock.now(),
        affected={services[i]: IMPACT_BY_STATUS.get(s or "") for i, s in asked.components.items()},
        suggestion=why,
    )
    try:
        incident = create_incident(data, by=by)
    except IncidentRuleError as error:
        db.session.rollback()
        raise _rule(error) from None
    if body:
        # Checked above (a status and a body): the first update cannot be refused now.
        publish_update(incident, UpdateContent(status=status, body=body), by=by)
    return incident


@dataclass(frozen=True)
class Outcome:
    """What a PATCH did beyond what the incident now shows: a priority waiting for approval."""

    waiting_for: str | None = None  # "a service manager"
    requested: str | None = None  # "lower the priority to P3"


def update_incident(incident: Incident, asked: IncidentRequest, *, by: User) -> Outcome:
    """A new update (body and status), the title and components, and the priority from
    impact_override; each through its operation, in one go where the operations allow."""
    _check_lead(incident, by)
    if asked.is_scheduled:
        raise ApiRefusal(422, f"{incident.ref} is an incident, not a scheduled maintenance.")
    if asked.impact_override == "maintenance":
        raise ApiRefusal(422, "impact_override maintenance is for a scheduled maintenance.")
    content = _content(incident, asked)
    resolving = content is not None and content.status == State.RESOLVED.value
    scope = _scope(incident, asked, resolving=resolving)
    to = PRIORITY_BY_IMPACT.get(asked.impact_override or "")
    if to == incident.priority:
        to = None
    if incident.state_enum is State.CLOSED and (content or scope or to):
        raise ApiRefusal(409, f"{incident.ref} is closed; it takes no more changes.")
    if to is not None:
        try:
            check_priority(to, incident.is_security)
        except IncidentRuleError as error:
            raise _rule(error) from None
        if to > incident.priority and pending_approval(incident, ApprovalKind.DE_ESCALATION):
            raise ApiRefusal(409, "A request to lower the priority is already waiting for "
                             f"{_approver_words()}'s approval.")  # fmt: skip
    try:
        if to is None:
            if content is not None:
                publish_update(incident, content, by=by, scope=scope)
            elif scope is not None:
                change_scope(incident, scope, by=by)
            return Outcome()
        if scope is not None:
            change_scope(incident, scope, by=by)
        reason = f"Statuspage impact_override '{asked.impact_override}' sent through the API"
        done = change_priority(incident, to=to, reason=reason, by=by, message=content)
    except IncidentRuleError as error:
        db.session.rollback()
        raise _rule(error) from None
    if done == "requested":
        return Outcome(waiting_for=_approver_words(), requested=f"lower the priority to P{to}")
    return Outcome()


def _approver_words() -> str:
    return f"a {current_policy().rules.deescalation_approver.label.lower()}"


def _content(incident: Incident, asked: IncidentRequest) -> UpdateContent | None:
    """The update a PATCH posts: Statuspage makes one when the status or the body changes; here
    it needs the body (a message for citizens)."""
    if asked.body is not None and not asked.body.strip():
        raise ApiRefusal(422, "incident[body] is empty: write the update for citizens.")
    current = incident_status(incident.state)
    if asked.body is None:
        if asked.status is not None and asked.status != current:
            raise ApiRefusal(
                422, f"Write incident[body] with the status {asked.status}: a status is "
                "announced with a message for citizens.",
            )  # fmt: skip
        return None
    status = asked.status or (
        incident.state if State(incident.state) in UPDATE_STATUSES else State.INVESTIGATING.value
    )
    if status == State.RESOLVED.value and incident.state_enum is State.CLOSED:
        raise ApiRefusal(409, f"{incident.ref} is closed; it takes no more updates.")
    return UpdateContent(status=status, body=asked.body.strip())


def _scope(incident: Incident, asked: IncidentRequest, *, resolving: bool) -> Scope | None:
    """The title and affected services a PATCH asks for, or None when it asks for no change.
    ``component_ids`` lists the affected components (the others are taken out); ``components``
    sets their statuses. "operational" takes a service out of an open incident; the services
    of a resolution stay as they were (the resolution makes them operational); an incident keeps
    at least one service, so when all would go, they stay."""
    if asked.name is None and asked.components is None:
        return None
    if asked.name is not None and not asked.name:
        raise ApiRefusal(422, "incident[name] is empty.")
    affected = {a.service: a.impact_enum for a in incident.affected}
    if asked.components is not None:
        if "under_maintenance" in asked.components.values():
            raise ApiRefusal(422, MAINTENANCE_ONLY.format(page=incident.agency.slug))
        others = sorted({a.service.agency for a in incident.affected} - {incident.agency},
                        key=lambda a: a.id)  # fmt: skip
        services = _services(incident.agency, asked.components, also=others)
        named_only = [i for i, status in asked.components.items() if status is None]
        if named_only:  # component_ids: the list of affected components
            keep = set(services.values())
            affected = {s: i for s, i in affected.items() if s in keep}
        default = Impact(current_policy()[incident.priority].default_impact)
        for component_id, status in asked.components.items():
            service = services[component_id]
            if status == ServiceStatus.OPERATIONAL.value:
                if not resolving:
                    affected.pop(service, None)
                continue
            impact = IMPACT_BY_STATUS.get(status or "")
            affected[service] = impact or affected.get(service) or default
        if not affected:
            affected = {a.service: a.impact_enum for a in incident.affected}
    scope = Scope(title=asked.name or incident.title, affected=affected)
    try:
        check_scope(incident, scope)
    except IncidentRuleError as error:
        raise _rule(error) from None
    return scope


# --- components ----------------------------------------------------------------------------------


def set_component_status(agency: Agency, service: Service, status: str, *, by: User) -> None:
    """A component's status set through the API. Here a service's status comes from its open
    incidents (and running maintenance), so the status goes into the open incident it is in:
    that incident's impact on the service changes (audited, as a lead's scope change), and the
    public colour follows once the incident is public. A service in no open incident is not
    given a status without a message for citizens: the answer says to create an incident."""
    candidates = [
        incident for incident in _open_incidents_of(service)
        if by.can(Role.COMMUNICATIONS_LEAD, incident.agency_id)
    ]  # fmt: skip
    if status == ServiceStatus.UNDER_MAINTENANCE.value:
        if _public_status(service) is ServiceStatus.UNDER_MAINTENANCE:
            return
        raise ApiRefusal(422, MAINTENANCE_ONLY.format(page=agency.slug))
    if not candidates:
        if status == _public_status(service).value:
            return
        if status == ServiceStatus.OPERATIONAL.value:
            raise ApiRefusal(
                409, f"{service.name} shows {_public_status(service).label.lower()} because of "
                "a maintenance window or another agency's incident; it returns to operational "
                "when that ends.",
            )  # fmt: skip
        raise ApiRefusal(
            409, f"{service.name} is in no open incident. A service's status here comes from its "
            f"incidents, each with a message for citizens: create one (POST /pages/{agency.slug}"
            f'/incidents with "components": {{"{service.slug}": "{status}"}} and a body).',
        )  # fmt: skip
    if len(candidates) > 1:
        refs = ", ".join(incident.ref for incident in candidates)
        raise ApiRefusal(
            409, f"{service.name} is in several open incidents ({refs}): set its status on the "
            "one it belongs to (PATCH /pages/{page}/incidents/{id} with components).".replace(
                "{page}", agency.slug),
        )  # fmt: skip
    incident = candidates[0]
    affected = {a.service: a.impact_enum for a in incident.affected}
    if status == ServiceStatus.OPERATIONAL.value:
        if service not in affected:
            return
        del affected[service]
        if not affected:
            raise ApiRefusal(
                409, f"{service.name} is the only service of {incident.ref}: resolve the incident "
                f"(PATCH /pages/{agency.slug}/incidents/{incident.ref} with status resolved and "
                "a body).",
            )  # fmt: skip
    else:
        affected[service] = Impact(status)
    try:
        change_scope(incident, Scope(incident.title, affected), by=by)
    except IncidentRuleError as error:
        db.session.rollback()
        raise _rule(error) from None


def _open_incidents_of(service: Service) -> list[Incident]:
    from sqlalchemy import select

    from ..incidents.models import AffectedService
    from ..incidents.visibility import open_clause

    return list(db.session.scalars(
        select(Incident)
        .where(open_clause(), Incident.is_exercise.is_(False),
               Incident.affected.any(AffectedService.service_id == service.id))
        .order_by(Incident.detected_at)
    ))  # fmt: skip


def _public_status(service: Service) -> ServiceStatus:
    return incident_queries.service_statuses().get(service.id, ServiceStatus.OPERATIONAL)


# --- scheduled maintenance -----------------------------------------------------------------------


def plan_maintenance(agency: Agency, asked: IncidentRequest, *, by: User) -> MaintenanceWindow:
    if not asked.name:
        raise ApiRefusal(422, "incident[name] is required.")
    if asked.scheduled_for is None or asked.scheduled_until is None:
        raise ApiRefusal(
            422, "A scheduled maintenance needs incident[scheduled_for] and "
            "incident[scheduled_until].",
        )  # fmt: skip
    if not asked.components:
        raise ApiRefusal(422, "Name the components under maintenance (incident[component_ids]).")
    services = _services(agency, asked.components)
    try:
        return save_window(
            None, title=asked.name, description=asked.body or "",
            starts_at=asked.scheduled_for, ends_at=asked.scheduled_until,
            services=list(services.values()), by=by,
        )  # fmt: skip
    except MaintenanceError as error:
        db.session.rollback()
        raise _rule(error) from None


def change_maintenance(window: MaintenanceWindow, asked: IncidentRequest, *, by: User) -> None:
    """Its name, notice, times or components; "completed" ends a running window now. A window
    starts and ends at its times by itself, so another status is refused unless it is so."""
    from ..public.api import _maintenance_status

    now = clock.now()
    current = _maintenance_status(window, now)
    ends_at = asked.scheduled_until or window.ends_at
    if asked.status is not None and asked.status != current:
        if asked.status == "completed" and current == "in_progress":
            ends_at = now
        elif asked.status == "completed" and current == "scheduled":
            raise ApiRefusal(
                409, "This maintenance has not started: DELETE it to cancel it, or change "
                "scheduled_for and scheduled_until.",
            )  # fmt: skip
        else:
            raise ApiRefusal(
                409, f"This maintenance is {current.replace('_', ' ')}: a window starts and ends "
                "at its scheduled times; change scheduled_for or scheduled_until instead.",
            )  # fmt: skip
    services = window.services
    if asked.components is not None:
        services = list(_services(window.agency, asked.components).values())
    unchanged = (
        asked.name in (None, window.title) and asked.body in (None, window.description)
        and asked.scheduled_for in (None, window.starts_at) and ends_at == window.ends_at
        and set(services) == set(window.services)
    )  # fmt: skip
    if unchanged:
        return
    try:
        save_window(
            window, title=asked.name or window.title,
            description=window.description if asked.body is None else asked.body,
            starts_at=asked.scheduled_for or window.starts_at, ends_at=ends_at,
            services=list(services), by=by,
        )  # fmt: skip
    except MaintenanceError as error:
        db.session.rollback()
        raise _rule(error, 409 if error.field is None else 422) from None


def cancel_maintenance(window: MaintenanceWindow, *, by: User) -> None:
    if window.status_enum is WindowStatus.CANCELLED:
        return
    try:
        cancel_window(window, by=by)
    except MaintenanceError as error:
        db.session.rollback()
        raise _rule(error, 409) from None


# --- postmortem ----------------------------------------------------------------------------------


def save_postmortem(incident: Incident, body_draft: str, *, by: User):
    """The draft of the post-incident report from a postmortem body: each section the body
    names ("## Root cause") replaces ours; the sections it does not name are kept."""
    _check_lead(incident, by)
    sections = sections_from_markdown(body_draft)
    if not sections:
        raise ApiRefusal(422, "postmortem[body_draft] is empty.")
    report = reviews.report_for(incident)
    current = reviews.content_of(report) if report is not None else None
    timeline = None
    if "timeline" in sections:
        try:
            timeline = parse_lines(sections["timeline"], site_zone())
        except TimelineError as error:
            raise ApiRefusal(422, str(error)) from None
    category = sections.get("root_cause_category")
    if category is not None:
        category = _root_cause(category)
    report = report or reviews.start_review(incident, by=by)
    current = current or reviews.content_of(report)
    content = reviews.ReviewContent(
        **{name: sections.get(name, current[name]) for name in reviews.TEXT_SECTIONS},
        root_cause_category=current["root_cause_category"] if category is None else category,
        timeline=timeline if timeline is not None else [Entry.from_dict(e)
                                                        for e in current["timeline"]],
        correction_note=report.correction_note,
        actions=[reviews.ActionDraft.of(action) for action in report.actions],
        # The analysis has no place in a postmortem body: kept as the review page left it.
        five_whys=current["five_whys"], fishbone=current["fishbone"],
        contributors=[reviews.Contributor(**c) for c in current["contributors"]],
        people_affected_count=current["people_affected_count"],
        downtime_cost=current["downtime_cost"],
    )  # fmt: skip
    try:
        reviews.save_draft(report, content, by=by)
    except reviews.ReviewError as error:
        db.session.rollback()
        raise _rule(error) from None
    return report


def _root_cause(text: str) -> str:
    words = " ".join(text.split()).lower()
    if not words:
        return ""
    for cause in RootCause:
        if words in (cause.value, cause.label.lower()):
            return cause.value
    raise ApiRefusal(
        422, "The root cause category must be one of: "
        f"{', '.join(cause.label for cause in RootCause)}.",
    )  # fmt: skip


def publish_postmortem(incident: Incident, *, by: User):
    """Publish the approved report. The policy asks a service owner to approve it and someone
    who did not write it to publish it: a key that wrote the draft is refused, naming who."""
    _check_lead(incident, by)
    report = reviews.report_for(incident)
    if report is None:
        raise ApiRefusal(409, "This incident has no postmortem draft: PUT one first.")
    try:
        return reviews.publish(report, by=by)
    except reviews.ReviewError as error:
        db.session.rollback()
        raise _rule(error, 409) from None
