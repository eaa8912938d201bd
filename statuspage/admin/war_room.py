"""The incident page's war room panel: who holds which role, the private working log, and the war
room of a grave incident (open, close with a hand-over). Form -> operation -> redirect; a refusal
shows the incident page again with what was typed."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import g
from flask_login import current_user
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length

from ..extensions import db
from ..forms import BaseForm, ChoiceField
from ..incidents.models import Incident
from ..internal import war_room
from ..internal.models import NoteKind, WarRoomRole
from ..policy import current_policy
from ..users.models import Role, User
from . import admin
from .incidents import _render_incident, _run, incident_context
from .permissions import allow, people_with

WRITER = Role.COMMUNICATIONS_LEAD
READER = Role.VIEWER
NOBODY = ""
ROLES_PREFIX, NOTE_PREFIX, OPEN_PREFIX, CLOSE_PREFIX = "roles", "log", "war-room", "hand-over"
LOG_KINDS = {NoteKind.NOTE.value: "Note", NoteKind.DECISION.value: "Decision"}


# --- forms ------------------------------------------------------------------------------------


def _person(label: str) -> SelectField:
    return SelectField(label, choices=[], validate_choice=False)


class RolesForm(BaseForm):
    """One person for each war room role, or nobody."""

    incident_commander = _person(WarRoomRole.INCIDENT_COMMANDER.label)
    technical_lead = _person(WarRoomRole.TECHNICAL_LEAD.label)
    communications_lead = _person(WarRoomRole.COMMUNICATIONS_LEAD.label)
    scribe = _person(WarRoomRole.SCRIBE.label)
    agency_liaison = _person(WarRoomRole.AGENCY_LIAISON.label)


class NoteForm(BaseForm):
    kind = ChoiceField(
        "Kind of entry", choices=LOG_KINDS, default=NoteKind.NOTE.value,
        invalid_message="Choose a note or a decision.",
    )  # fmt: skip
    text = TextAreaField(
        "What happened, or what was decided",
        validators=[Length(max=war_room.NOTE_LIMIT)],
    )
    rationale = TextAreaField(
        "Why (for a decision)",
        description="A decision needs its rationale: the reasons, and the options set aside.",
        validators=[Length(max=war_room.NOTE_LIMIT)],
    )


class OpenWarRoomForm(BaseForm):
    paged = TextAreaField(
        "Who was paged",
        description="One name a line, for example “On-call engineer (Sam Lee)”.",
        validators=[Length(max=war_room.PAGED_LIMIT)],
    )
    bridge_url = StringField(
        "Bridge link",
        description="The call or chat everyone joins, starting https://.",
        validators=[Length(max=war_room.BRIDGE_LIMIT)],
    )


class CloseWarRoomForm(BaseForm):
    handover = TextAreaField(
        "Hand-over note",
        description="What is still going on, who holds what now, and what comes next.",
        validators=[Length(max=war_room.NOTE_LIMIT)],
    )


# --- the panel --------------------------------------------------------------------------------


@dataclass
class Panel:
    """What the war room panel of the incident page shows (template admin/_war_room.html)."""

    incident: Incident
    can_write: bool
    roles: list[tuple[WarRoomRole, User | None]]
    is_open: bool
    may_open: bool
    show_open_form: bool  # may open, or a refused attempt to show again with what was typed
    show_close_form: bool
    priorities: str
    paged: list[str]
    review_due: str
    roles_form: RolesForm
    note_form: NoteForm
    open_form: OpenWarRoomForm
    close_form: CloseWarRoomForm
    forms: list = field(default_factory=list)


def _eligible(incident: Incident) -> list[User]:
    """Everyone who may hold a role: active users with access to the incident's agency."""
    return people_with(Role.VIEWER, incident.agency_id)


def _roles_form(incident: Incident, form: RolesForm | None = None) -> RolesForm:
    if form is None:
        form = RolesForm(
            formdata=None,
            prefix=ROLES_PREFIX,
            **{role.value: str(p.id) if (p := war_room.holder(incident, role)) else NOBODY
               for role in WarRoomRole},
        )  # fmt: skip
    people = {str(u.id): u.name for u in _eligible(incident)}
    for role in WarRoomRole:
        if (p := war_room.holder(incident, role)) is not None:
            people.setdefault(str(p.id), p.name)
    for role in WarRoomRole:
        form[role.value].choices = [(NOBODY, "Nobody"), *people.items()]
    return form


@incident_context("war_room")
def war_room_panel(incident: Incident, forms: dict) -> Panel:
    allowed = war_room.war_room_priorities(current_policy())
    is_open = war_room.war_room_is_open(incident)
    panel = Panel(
        incident=incident,
        can_write=current_user.can(WRITER, incident.agency_id),
        roles=[(role, war_room.holder(incident, role)) for role in WarRoomRole],
        is_open=is_open,
        may_open=(may_open := incident.is_open and incident.priority in allowed and not is_open),
        show_open_form=may_open or "war_room_open_form" in forms,
        show_close_form=is_open or "war_room_close_form" in forms,
        priorities=war_room.priorities_text(allowed),
        paged=war_room.paged_list(incident.paged),
        review_due=war_room.review_due_text(incident)
        if incident.war_room_closed_at is not None else "",
        roles_form=_roles_form(incident, forms.get("war_room_roles_form")),
        note_form=forms.get("war_room_note_form") or NoteForm(formdata=None, prefix=NOTE_PREFIX),
        open_form=forms.get("war_room_open_form")
        or OpenWarRoomForm(formdata=None, prefix=OPEN_PREFIX),
        close_form=forms.get("war_room_close_form")
        or CloseWarRoomForm(formdata=None, prefix=CLOSE_PREFIX),
    )  # fmt: skip
    panel.forms = [panel.open_form, panel.close_form, panel.roles_form, panel.note_form]
    return panel


# --- the routes -------------------------------------------------------------------------------


@admin.post("/incidents/<ref>/roles")
@allow.role(WRITER, incident="ref")
def post_roles(ref: str):
    found = g.incident
    form = _roles_form(found, RolesForm(prefix=ROLES_PREFIX))
    if not form.validate_on_submit():
        return _render_incident(found, status=400, war_room_roles_form=form)
    chosen: dict[WarRoomRole, User | None] = {}
    for role in WarRoomRole:
        value = form[role.value].data or NOBODY
        person = db.session.get(User, int(value)) if value.isdigit() else None
        if value != NOBODY and person is None:
            form.add_error(role.value, "Choose someone from the list, or nobody.")
        chosen[role] = person
    if any(form[role.value].errors for role in WarRoomRole):
        return _render_incident(found, status=400, war_room_roles_form=form)
    return _run(
        found,
        lambda: war_room.set_roles(found, chosen, by=current_user),
        form=form,
        form_name="war_room_roles_form",
        success=lambda changed: (
            "Roles saved: " + ", ".join(r.label.lower() for r in changed) + ". "
            "Each person named is told by email."
            if changed
            else "Nothing changed."
        ),
    )


@admin.post("/incidents/<ref>/working-log")
@allow.role(WRITER, incident="ref")
def post_note(ref: str):
    found = g.incident
    form = NoteForm(prefix=NOTE_PREFIX)
    if not form.validate_on_submit():
        return _render_incident(found, status=400, war_room_note_form=form)
    kind = NoteKind(form.kind.data)
    return _run(
        found,
        lambda: war_room.add_note(
            found, kind, form.text.data or "", form.rationale.data or "", by=current_user
        ),
        form=form,
        form_name="war_room_note_form",
        success=f"{LOG_KINDS[kind.value]} added to the working log (private).",
    )


@admin.post("/incidents/<ref>/war-room/open")
@allow.role(WRITER, incident="ref")
def post_open_war_room(ref: str):
    found = g.incident
    form = OpenWarRoomForm(prefix=OPEN_PREFIX)
    if not form.validate_on_submit():
        return _render_incident(found, status=400, war_room_open_form=form)
    return _run(
        found,
        lambda: war_room.open_war_room(
            found, paged=form.paged.data or "", bridge_url=form.bridge_url.data or "",
            by=current_user,
        ),  # fmt: skip
        form=form,
        form_name="war_room_open_form",
        success="War room open. Leadership has been told; briefings run while it is open.",
    )


@admin.post("/incidents/<ref>/war-room/close")
@allow.role(WRITER, incident="ref")
def post_close_war_room(ref: str):
    found = g.incident
    form = CloseWarRoomForm(prefix=CLOSE_PREFIX)
    if not form.validate_on_submit():
        return _render_incident(found, status=400, war_room_close_form=form)
    return _run(
        found,
        lambda: war_room.close_war_room(found, handover=form.handover.data or "", by=current_user),
        form=form,
        form_name="war_room_close_form",
        success=_closed_words,
    )


def _closed_words(closed: war_room.Closed) -> str:
    said = "War room closed; the hand-over note is in the working log."
    if closed.review_due:
        started = " A draft is started." if closed.review_started else ""
        said += f" The post-incident review is {closed.review_due}.{started}"
        said += f" {closed.told} has been told." if closed.told else ""
    return said
