"""Logging incidents, publishing updates, priority, approvals and closure: form -> operation ->
redirect."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import clock
from ..audit import AuditEntry
from ..catalog.models import Agency
from ..communications.plain_language import advise
from ..communications.templates import (
    all_templates,
    jargon_list,
    merge,
    service_names,
    template_by_key,
)
from ..extensions import db
from ..incidents import cadence
from ..incidents.models import (
    AffectedService,
    ApprovalStatus,
    Incident,
    IncidentUpdate,
    UPDATE_STATUSES,
    Source,
    State,
)
from ..incidents import policy_text
from ..incidents.operations import (
    IncidentRuleError,
    NewIncident,
    Scope,
    UpdateContent,
    acknowledge,
    assign,
    change_priority,
    change_scope,
    close_incident,
    create_incident,
    decide_approval,
    hide_from_public,
    publish_update,
    required_approver,
)
from ..incidents.visibility import is_public
from ..policy import IMPACT_CRITERIA, URGENCY_CRITERIA, current_policy, suggest_priority
from ..press import queries as press_queries
from ..reports import actions, reviews
from ..timefmt import format_absolute, site_zone
from ..users.models import Role, User
from . import admin
from .forms import (
    ActionForm,
    AssignForm,
    DecisionForm,
    HideForm,
    PriorityForm,
    ScopeForm,
    UpdateForm,
    incident_form,
    scope_form,
    with_services,
)
from .permissions import agency_ids_for, allow, people_with, services_for

RECENT_LIMIT = 25
# Other areas add what they show on the incident page (war room, triage, internal messages):
# name -> function(incident, forms) giving the template variable of that name.
INCIDENT_CONTEXT: dict[str, Callable] = {}


def incident_context(name: str):
    """Register what one panel of the incident page needs (see INCIDENT_CONTEXT)."""

    def register(function):
        INCIDENT_CONTEXT[name] = function
        return function

    return register

EXERCISE_NOT_PUBLIC = (
    "This is an exercise: its updates count for the clock as a real incident's would, but they "
    "are never shown to the public or sent to subscribers."
)
# The standalone scope form shares the page with the update form's scope fields: its own ids.
SCOPE_PREFIX = "scope"
UPDATE_FIELDS = (
    "status", "body", "what_affected", "who_affected", "affected_since", "cause", "workaround",
    "help", "next_update_at", "expected_resolution_at", "resolved_at",
)  # fmt: skip


@admin.get("/")
@allow.signed_in
def dashboard():
    agency_ids = agency_ids_for(current_user, Role.VIEWER)
    incidents = db.session.scalars(
        select(Incident)
        .where(Incident.agency_id.in_(agency_ids))
        .options(
            selectinload(Incident.affected).selectinload(AffectedService.service),
            selectinload(Incident.agency),
            selectinload(Incident.updates),
            selectinload(Incident.priority_changes),
            selectinload(Incident.approvals),
        )
        .order_by(Incident.detected_at.desc())
        .limit(200)
    ).all()
    now = clock.now()
    readings = {i.id: cadence.reading(i, now) for i in incidents if i.is_open}
    open_incidents = sorted(
        (i for i in incidents if i.is_open),
        key=lambda i: (readings[i.id].urgency, i.priority, i.detected_at),
    )
    awaiting = [
        a
        for i in incidents
        for a in i.approvals
        if a.is_pending and current_user.can(required_approver(a) or Role.VIEWER, i.agency_id)
    ]
    recent = [i for i in incidents if not i.is_open][:RECENT_LIMIT]
    return render_template(
        "admin/dashboard.html",
        open_incidents=open_incidents,
        readings=readings,
        awaiting=awaiting,
        statements_awaiting=press_queries.waiting_for(current_user, agency_ids),
        recent=recent,
        reviews_owed=reviews.outstanding_reviews(agency_ids, now),
        actions_overdue=reviews.overdue_actions(agency_ids, now.astimezone(site_zone()).date()),
        checks_due=actions.checks_due(agency_ids, now.astimezone(site_zone()).date()),
        can_create=bool(agency_ids_for(current_user, Role.COMMUNICATIONS_LEAD)),
        now=now,
    )


def _explain_incident_form(form) -> None:
    """The hints that explain the policy, from the policy table (an override changes them)."""
    policy = current_policy()
    form.priority.description = policy_text.priority_hint(policy)
    form.is_security.label.text = policy_text.security_label(policy)
    form.made_public.label.text = policy_text.made_public_label(policy)
    form.services.description = policy_text.default_impact_hint(policy)
    form.urgency.description = " ".join(
        f"{level.capitalize()}: {words}" for level, words in URGENCY_CRITERIA.items()
    )
    form.reach.description = " ".join(
        f"{level.capitalize()}: {words}" for level, words in IMPACT_CRITERIA.items()
    )


def _suggestion(form) -> tuple[int | None, str]:
    """The matrix's priority for the urgency and impact given, and the words that say so."""
    if not (form.urgency.data in ("high", "medium", "low") and form.reach.data in
            ("high", "medium", "low")):  # fmt: skip
        return None, ""
    suggested = suggest_priority(form.urgency.data, form.reach.data)
    return suggested, (
        f"P{suggested} from {form.urgency.data} urgency and {form.reach.data} impact"
    )


@admin.route("/incidents/new", methods=["GET", "POST"])
@allow.role(Role.COMMUNICATIONS_LEAD, any_agency=True)
def new_incident():
    services = services_for(current_user, Role.COMMUNICATIONS_LEAD)
    form = incident_form(services)
    _explain_incident_form(form)
    coordinators = {str(u.id): u for u in _coordinators()}
    form.coordinator.choices.update({key: u.name for key, u in coordinators.items()})
    if not form.is_submitted():
        form.detected_at.data = clock.now().replace(second=0, microsecond=0)
    suggested, suggestion = _suggestion(form) if form.is_submitted() else (None, "")
    if form.is_submitted() and request.form.get("action") == "suggest":
        # No JavaScript needed: the form comes back as typed, with the matrix's priority chosen.
        if suggested is None:
            form.add_error("urgency", "Choose an urgency and an impact to get a suggestion.")
            return render_template("admin/incident_new.html", form=form, services=services), 400
        form.priority.data = str(suggested)
        return render_template(
            "admin/incident_new.html", form=form, services=services, suggestion=suggestion
        )
    if form.validate_on_submit():
        priority = int(form.priority.data) if form.priority.data else suggested
        by_id = {service.id: service for service in services}
        chosen = [by_id[service_id] for service_id in form.services.data]
        agencies = {service.agency_id for service in chosen}
        try:
            if priority is None:
                raise IncidentRuleError(
                    "Choose a priority, or an urgency and an impact to suggest one.", "priority"
                )
            if len(agencies) > 1:
                raise IncidentRuleError(
                    "Choose services of one agency; log a separate incident for each agency.",
                    "services",
                )
            agency = db.session.get(Agency, agencies.pop())
            incident = create_incident(
                NewIncident(
                    agency=agency,
                    title=form.title.data,
                    priority=priority,
                    is_security=form.is_security.data,
                    made_public=form.made_public.data,
                    source=Source(form.source.data),
                    impact_description=form.impact_description.data,
                    detected_at=form.detected_at.data,
                    started_at=form.started_at.data,
                    affected={s: form[f"impact_{s.id}"].data or None for s in chosen},
                    suggestion=suggestion,
                    is_exercise=form.is_exercise.data,
                    coordinator=coordinators.get(form.coordinator.data),
                ),
                by=current_user,
            )
        except IncidentRuleError as error:
            form.add_error(error.field, error.message)
        else:
            flash(
                f"Exercise {incident.ref} logged. It runs like a real incident but is never "
                "public."
                if incident.is_exercise
                else f"Incident {incident.ref} logged. It is not public until you post its first "
                "public update.",
                "success",
            )
            return redirect(url_for("admin.incident", ref=incident.ref))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "admin/incident_new.html", form=form, services=services, suggestion=suggestion
    ), status


def _coordinators() -> list[User]:
    """Who may coordinate a shared platform incident: site administrators and the CDO."""
    from ..internal.models import Contact

    cdo = select(Contact.user_id).where(Contact.position == "cdo", Contact.user_id.is_not(None))
    return list(db.session.scalars(
        select(User).where(User.active.is_(True),
                           User.is_site_admin.is_(True) | User.id.in_(cdo))
        .order_by(User.name)
    ))  # fmt: skip


def _agency_services(incident: Incident):
    """The services the incident's scope may name: its agency's, and for a shared platform
    incident those of every agency it affects."""
    agencies = {incident.agency, *(a.service.agency for a in incident.affected)}
    return sorted((s for agency in agencies for s in agency.services),
                  key=lambda s: (s.agency_id != incident.agency_id, s.agency_id,
                                 s.display_order, s.name))  # fmt: skip


def _update_form_class(incident: Incident, with_scope: bool):
    """The update form; with the scope fields when the lead changes the scope with it."""
    if not with_scope:
        return UpdateForm
    return with_services(type("UpdateWithScope", (UpdateForm, ScopeForm), {}),
                         _agency_services(incident))  # fmt: skip


def _fill_scope(form, incident: Incident) -> None:
    """The scope fields as the incident stands."""
    form.services.choices = {s.id: s.name for s in _agency_services(incident)}
    form.title.data = incident.title
    form.services.data = [a.service_id for a in incident.affected]
    for row in incident.affected:
        form[f"impact_{row.service_id}"].data = row.impact


def _scope_from(form, incident: Incident) -> Scope:
    by_id = {s.id: s for s in _agency_services(incident)}
    return Scope(
        title=form.title.data or "",
        affected={by_id[i]: form[f"impact_{i}"].data for i in form.services.data or []},
    )


def _prefilled_update_form(incident: Incident) -> UpdateForm:
    """The update form as a lead first sees it: the current status, the facts that stay true,
    and the latest next-update time the cadence allows. The cause and the workaround are not
    carried over (a fix may have made them wrong); the last ones are shown as hints."""
    latest = incident.latest_update
    form = _update_form_class(incident, True)(
        formdata=None,
        status=incident.state
        if incident.state_enum in UPDATE_STATUSES
        else State.INVESTIGATING.value,
        what_affected=_what_affected(incident, latest),
        who_affected=latest.who_affected if latest else incident.impact_description,
        affected_since=(latest.affected_since if latest else None)
        or incident.started_at
        or incident.detected_at,
        help=latest.help if latest else "",
        next_update_at=cadence.prefilled_promise(incident),
    )
    _fill_scope(form, incident)
    template = template_by_key(request.args.get("template", ""))
    if template is not None:
        _apply_template(form, template, incident)
    return form


def _what_affected(incident: Incident, latest) -> str:
    """The last update's words while they still name every affected service; after the scope
    has changed, the services as they are now."""
    names = [a.service.name for a in incident.affected]
    if latest and latest.what_affected and all(n in latest.what_affected for n in names):
        return latest.what_affected
    return service_names(incident)


def _apply_template(form, template, incident: Incident) -> None:
    typed = {name: form[name].data for name in UPDATE_FIELDS}
    for name, value in merge(template, incident, typed).items():
        form[name].data = value
        form[name].raw_data = None  # show the merged value, not what was posted


def _explain_update_form(form, incident: Incident) -> None:
    policy = current_policy()
    form.next_update_at.description = policy_text.promise_hint(incident.priority, policy)
    latest = incident.latest_update
    if latest and latest.cause:
        form.cause.description = f"The last update said: “{latest.cause}”. Say it again if true."
    if latest and latest.workaround:
        form.workaround.description = (
            f"The last update said: “{latest.workaround}”. Say it again if it still works."
        )
    if hasattr(form, "services"):
        form.services.description = "Add or remove services and change each one's impact; " \
            "the public colours change when you publish."  # fmt: skip


def _assignable(incident: Incident) -> list[User]:
    return people_with(Role.COMMUNICATIONS_LEAD, incident.agency_id)


def _render_incident(incident: Incident, *, status=200, **forms):
    now = clock.now()
    update_form = forms.get("update_form") or _prefilled_update_form(incident)
    _explain_update_form(update_form, incident)
    scope = forms.get("scope_form")
    if scope is None:
        scope = scope_form(_agency_services(incident), formdata=None, prefix=SCOPE_PREFIX)
        _fill_scope(scope, incident)
    policy = current_policy()
    assign_form = forms.get("assign_form") or AssignForm(
        formdata=None, assignee=str(incident.assignee_id or "")
    )
    assign_form.assignee.choices = {
        "": "Nobody",
        **{str(u.id): u.name for u in _assignable(incident)},
    }
    can_see_audit = current_user.can(Role.SERVICE_MANAGER, incident.agency_id)
    audit_entries = (
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.incident_id == incident.id)
            .options(selectinload(AuditEntry.actor))
            .order_by(AuditEntry.at, AuditEntry.id)
        ).all()
        if can_see_audit
        else []
    )
    return (
        render_template(
            "admin/incident.html",
            incident=incident,
            update_form=update_form,
            priority_form=forms.get("priority_form")
            or PriorityForm(formdata=None, priority=str(incident.priority)),
            scope_form=scope,
            hide_form=forms.get("hide_form") or HideForm(formdata=None),
            agency_services=_agency_services(incident),
            can_mark_public=incident.priority in policy_text.marked_priorities(policy),
            hints={
                "priority": policy_text.priority_change_hint(policy),
                "closure": policy_text.closure_hint(incident.priority, policy),
                "not_public": EXERCISE_NOT_PUBLIC if incident.is_exercise
                else policy_text.not_public_reason(incident.priority, incident.made_public, policy),
                "approvers": {
                    a.id: policy_text.approver_hint(required_approver(a))
                    for a in incident.approvals
                },
            },
            public_timing=cadence.public_timing(incident, now) if incident.is_open else None,
            **{name: provide(incident, forms) for name, provide in INCIDENT_CONTEXT.items()},
            assign_form=assign_form,
            decision_form=forms.get("decision_form") or DecisionForm(formdata=None),
            action_form=ActionForm(formdata=None),
            preview=forms.get("preview"),
            advice=forms.get("advice"),
            deadlines=cadence.deadlines_for(incident) if incident.is_open else [],
            reading=cadence.reading(incident, now),
            templates=all_templates(),
            audit_entries=audit_entries,
            can_decide={
                a.id: current_user.can(required_approver(a) or Role.VIEWER, incident.agency_id)
                and a.requested_by_id != current_user.id
                for a in incident.approvals
            },
            is_public=is_public(incident),
            review_need=reviews.owed_by(incident).need,
            review=reviews.report_for(incident),
            can_publish=current_user.can(Role.COMMUNICATIONS_LEAD, incident.agency_id),
            now=now,
        ),
        status,
    )


@admin.get("/incidents/<ref>")
@allow.role(Role.VIEWER, incident="ref")
def incident(ref: str):
    return _render_incident(g.incident)


def _update_content(form: UpdateForm) -> UpdateContent:
    return UpdateContent(**{name: form[name].data for name in UPDATE_FIELDS})


@admin.post("/incidents/<ref>/updates")
@allow.role(Role.COMMUNICATIONS_LEAD, incident="ref")
def post_update(ref: str):
    found = g.incident
    with_scope = "title" in request.form
    form = _update_form_class(found, with_scope)()
    if with_scope:
        form.services.choices = {s.id: s.name for s in _agency_services(found)}
    template = template_by_key(request.form.get("template", ""))
    if template is not None:
        # Choosing a template keeps what was typed: it fills the empty fields and sets the status.
        if not form.validate_on_submit():
            for field in form:
                field.errors = []
        _apply_template(form, template, found)
        return _render_incident(found, update_form=form)
    if not form.validate_on_submit():
        return _render_incident(found, update_form=form, status=400)
    content = _update_content(form)
    content.make_public = bool(form.make_public.data)
    if request.form.get("action") == "preview":
        advice = advise(
            {
                name: form[name].data
                for name in UPDATE_FIELDS
                if name not in ("status", "resolved_at", "expected_resolution_at")
            },
            jargon_list(),
            resolved=content.status == State.RESOLVED.value,
        )
        preview = IncidentUpdate(  # never added to the session: exactly what citizens would see
            published_at=clock.now(),
            **{name: getattr(content, name) for name in UPDATE_FIELDS if name != "resolved_at"},
        )
        return _render_incident(found, update_form=form, preview=preview, advice=advice)
    try:
        publish_update(
            found, content, by=current_user, scope=_scope_from(form, found) if with_scope else None
        )
    except IncidentRuleError as error:
        db.session.rollback()
        db.session.refresh(found)
        form.add_error(error.field, error.message)
        return _render_incident(found, update_form=form, status=400)
    where = "on the public site" if found.latest_update.is_public else "internally (not public)"
    if found.is_exercise:
        where = "in the exercise (never public)"
    flash(f"Update published {where}.", "success")
    return redirect(url_for("admin.incident", ref=ref))


@admin.post("/incidents/<ref>/scope")
@allow.role(Role.COMMUNICATIONS_LEAD, incident="ref")
def post_scope(ref: str):
    found = g.incident
    form = scope_form(_agency_services(found), prefix=SCOPE_PREFIX)
    if not form.validate_on_submit():
        return _render_incident(found, scope_form=form, status=400)
    return _run(
        found,
        lambda: change_scope(found, _scope_from(form, found), by=current_user),
        form=form,
        form_name="scope_form",
        success=lambda changed: (
            "Title and affected services saved. The public page shows them now."
            if changed and is_public(found)
            else "Title and affected services saved." if changed else "Nothing changed."
        ),
    )


def _run(found: Incident, action, *, form=None, form_name=None, success=None):
    """Run an operation; a refusal is shown on the incident page and changes nothing."""
    try:
        outcome = action()
    except IncidentRuleError as error:
        db.session.rollback()
        db.session.refresh(found)
        if form is not None:
            form.add_error(error.field, error.message)
            return _render_incident(found, status=400, **{form_name: form})
        flash(error.message, "error")
        return redirect(url_for("admin.incident", ref=found.ref))
    flash(success(outcome) if callable(success) else success, "success")
    return redirect(url_for("admin.incident", ref=found.ref))


PRIORITY_OUTCOMES = {
    "escalated": "Priority raised to P{to}. The new deadlines apply now.",
    "lowered": "Priority lowered to P{to}.",
    "requested": "Your request to lower the priority to P{to} is waiting for {approver}.",
}


def _priority_outcome(incident: Incident, outcome: str, to: int) -> str:
    approver = current_policy().rules.deescalation_approver
    said = PRIORITY_OUTCOMES[outcome].format(to=to, approver=f"a {approver.label.lower()}")
    if outcome != "escalated" or is_public(incident):
        return said
    first = next((d for d in cadence.deadlines_for(incident) if d.kind.value ==
                  "first_communication" and not d.is_met()), None)  # fmt: skip
    if first is None:
        return said
    return (
        f"{said} It is not public yet: post its first public update by "
        f"{format_absolute(first.due)}."
    )


@admin.post("/incidents/<ref>/priority")
@allow.role(Role.COMMUNICATIONS_LEAD, incident="ref")
def post_priority(ref: str):
    found = g.incident
    form = PriorityForm()
    if not form.validate_on_submit():
        return _render_incident(found, priority_form=form, status=400)
    to = int(form.priority.data)
    message = None
    if form.message.data:
        status = found.state if found.state_enum in UPDATE_STATUSES[:-1] else "investigating"
        message = UpdateContent(status=status, body=form.message.data)
    return _run(
        found,
        lambda: change_priority(
            found, to=to, reason=form.reason.data, by=current_user, message=message
        ),
        form=form,
        form_name="priority_form",
        success=lambda outcome: _priority_outcome(found, outcome, to),
    )


@admin.post("/incidents/<ref>/acknowledge")
@allow.role(Role.COMMUNICATIONS_LEAD, incident="ref")
def post_acknowledge(ref: str):
    found = g.incident
    if not ActionForm().validate_on_submit():
        abort(400)
    return _run(found, lambda: acknowledge(found, by=current_user), success="Acknowledged.")


@admin.post("/incidents/<ref>/assign")
@allow.role(Role.COMMUNICATIONS_LEAD, incident="ref")
def post_assign(ref: str):
    found = g.incident
    form = AssignForm()
    form.assignee.choices = {"": "Nobody", **{str(u.id): u.name for u in _assignable(found)}}
    if not form.validate_on_submit():
        return _render_incident(found, assign_form=form, status=400)
    assignee = db.session.get(User, int(form.assignee.data)) if form.assignee.data else None
    return _run(
        found,
        lambda: assign(found, assignee, by=current_user),
        form=form,
        form_name="assign_form",
        success=f"Assigned to {assignee.name}." if assignee else "Nobody is assigned now.",
    )


@admin.post("/incidents/<ref>/close")
@allow.role(Role.COMMUNICATIONS_LEAD, incident="ref")
def post_close(ref: str):
    found = g.incident
    if not ActionForm().validate_on_submit():
        abort(400)
    return _run(
        found,
        lambda: close_incident(found, by=current_user),
        success=lambda outcome: (
            "Incident closed." if outcome == "closed" else "Closing is waiting for approval."
        ),
    )


@admin.post("/incidents/<ref>/approvals/<int:approval_id>/<any(approve, refuse):decision>")
@allow.role(Role.VIEWER, incident="ref", approval="approval_id")  # the approver: decide_approval
def post_decision(ref: str, approval_id: int, decision: str):
    found, approval = g.incident, g.approval
    if approval.requested_by_id == current_user.id and approval.status == ApprovalStatus.PENDING:
        flash("Someone else must decide your own request.", "error")
        return redirect(url_for("admin.incident", ref=ref))
    form = DecisionForm()
    if not form.validate_on_submit():
        return _render_incident(found, decision_form=form, status=400)
    approve = decision == "approve"
    return _run(
        found,
        lambda: decide_approval(approval, approve=approve, by=current_user, note=form.note.data),
        form=form,
        form_name="decision_form",
        success="Approved." if approve else "Refused.",
    )


@admin.post("/incidents/<ref>/hide")
@allow.role(Role.COMMUNICATIONS_LEAD, incident="ref")
def post_hide(ref: str):
    found = g.incident
    form = HideForm()
    if not form.validate_on_submit():
        return _render_incident(found, hide_form=form, status=400)
    return _run(
        found,
        lambda: hide_from_public(found, reason=form.reason.data, by=current_user),
        form=form,
        form_name="hide_form",
        success="The incident is off the public site.",
    )
