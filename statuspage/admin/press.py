"""Media statements in the admin: the incident page's Media panel (what the policy asks, the
statements), the editor (template, plain-language check, submit) and the approval page (the
public page's preview, approve or ask for changes). Form -> operation -> redirect; a refusal
shows the page again with what was typed."""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from ..communications.plain_language import Advice, advise
from ..communications.templates import jargon_list
from ..extensions import db
from ..forms import BaseForm
from ..incidents.models import Incident
from ..incidents.visibility import is_public
from ..policy import current_policy
from ..press import operations as press
from ..press.models import PressStatement
from ..press.queries import correction_of
from ..press.templates import gaps
from ..users.models import Role
from . import admin
from .forms import ActionForm
from .incidents import incident_context
from .permissions import allow

WRITER = Role.COMMUNICATIONS_LEAD
READER = Role.VIEWER
# A little over the operation's limits, so the operation's own words are the ones shown.
FORM_SLACK = 1


class StatementForm(BaseForm):
    headline = StringField(
        "Headline", validators=[Length(max=press.HEADLINE_LIMIT + FORM_SLACK,
                                       message="Keep the headline to 200 characters or fewer.")],
    )  # fmt: skip
    body = TextAreaField(
        "Statement",
        description="What the agency says to the press, released on the public press page once "
        "approved. Markdown: **bold**, lists, links.",
        validators=[Length(max=press.BODY_LIMIT,
                           message=f"Keep the statement to {press.BODY_LIMIT:,} characters or "
                           "fewer.")],
    )  # fmt: skip
    talking_points = TextAreaField(
        "Talking points and Q&A (internal)",
        description="For spokespeople only: never shown on the public site, in feeds, the API, "
        "emails to subscribers or the static export.",
        validators=[Length(max=press.POINTS_LIMIT,
                           message=f"Keep the talking points to {press.POINTS_LIMIT:,} characters "
                           "or fewer.")],
    )  # fmt: skip


class ReviewForm(BaseForm):
    note = TextAreaField(
        "Note to the author",
        description="Required when you ask for changes: say what should change.",
        validators=[Length(max=2000, message="Keep the note to 2,000 characters or fewer.")],
    )


# --- the incident page's panel ------------------------------------------------------------------


@dataclass
class Panel:
    owed: bool
    may_prepare: bool
    can_write: bool
    priority: int
    approver: str
    statements: list[PressStatement]
    unreleased: PressStatement | None
    latest_released: PressStatement | None
    form: ActionForm


@incident_context("press")
def press_panel(incident: Incident, forms: dict) -> Panel:
    statements = press.statements_of(incident)
    released = [s for s in statements if s.is_released]
    return Panel(
        owed=press.owes_statement(incident),
        may_prepare=press.may_prepare(incident),
        can_write=current_user.can(WRITER, incident.agency_id),
        priority=incident.priority,
        approver=press.approver_for(incident).label.lower(),
        statements=statements,
        unreleased=next((s for s in statements if not s.is_released), None),
        latest_released=released[-1] if released else None,
        form=ActionForm(formdata=None),
    )


# --- starting -----------------------------------------------------------------------------------


def _refused(error: press.PressError, ref: str):
    db.session.rollback()
    flash(error.message, "error")
    return redirect(url_for("admin.incident", ref=ref, _anchor="press-heading"))


@admin.post("/incidents/<ref>/press")
@allow.role(WRITER, incident="ref")
def start_press_statement(ref: str):
    if not ActionForm().validate_on_submit():
        return redirect(url_for("admin.incident", ref=ref))
    try:
        statement = press.start_statement(g.incident, by=current_user)
    except press.PressError as error:
        return _refused(error, ref)
    flash("Draft started from the template. Fill the gaps, check it, then ask for approval.",
          "success")  # fmt: skip
    return redirect(url_for("admin.press_statement", ref=ref, statement_id=statement.id))


@admin.post("/incidents/<ref>/press/<int:statement_id>/correct")
@allow.role(WRITER, incident="ref", statement="statement_id")
def correct_press_statement(ref: str, statement_id: int):
    if not ActionForm().validate_on_submit():
        return redirect(url_for("admin.incident", ref=ref))
    try:
        statement = press.start_statement(g.incident, by=current_user, corrects=g.statement)
    except press.PressError as error:
        return _refused(error, ref)
    flash("Correction started from the released statement. Once approved, it replaces it.",
          "success")  # fmt: skip
    return redirect(url_for("admin.press_statement", ref=ref, statement_id=statement.id))


# --- the editor ---------------------------------------------------------------------------------


def _advice(content: press.StatementContent) -> dict[str, Advice]:
    """The plain-language check of updates, on the statement and on the talking points; the
    missing elements are the template's gaps left to fill."""
    jargon = jargon_list()
    statement = advise({"headline": content.headline, "body": content.body}, jargon,
                       resolved=True)  # fmt: skip
    statement.missing = gaps(content.headline + "\n" + content.body)
    points = advise({"talking_points": content.talking_points}, jargon, resolved=True)
    points.missing = gaps(content.talking_points)
    return {"statement": statement, "talking_points": points}


def _content(form: StatementForm) -> press.StatementContent:
    return press.StatementContent(
        headline=form.headline.data or "", body=form.body.data or "",
        talking_points=form.talking_points.data or "",
    )  # fmt: skip


def _preview(statement: PressStatement, content: press.StatementContent) -> PressStatement:
    """What the public page would show for this text: never added to the session."""
    return PressStatement(
        id=statement.id, headline=content.headline, body=content.body,
        agency=statement.agency, incident=statement.incident, supersedes=statement.supersedes,
    )  # fmt: skip


def _render_editor(statement: PressStatement, form: StatementForm | None = None, *, status=200,
                   advice=None, preview=None):  # fmt: skip
    if form is None:
        form = StatementForm(
            formdata=None, headline=statement.headline, body=statement.body,
            talking_points=statement.talking_points.text if statement.talking_points else "",
        )  # fmt: skip
    return render_template(
        "admin/press_statement.html",
        incident=statement.incident,
        statement=statement,
        form=form,
        advice=advice,
        preview=preview,
        approver=press.approver_for(statement.incident).label.lower(),
        editable=statement.status_enum.editable and current_user.can(WRITER, statement.agency_id),
        is_public=is_public(statement.incident),
    ), status


@admin.get("/incidents/<ref>/press/<int:statement_id>")
@allow.role(READER, incident="ref", statement="statement_id")
def press_statement(ref: str, statement_id: int):
    return _render_editor(g.statement)


@admin.post("/incidents/<ref>/press/<int:statement_id>")
@allow.role(WRITER, incident="ref", statement="statement_id")
def post_press_statement(ref: str, statement_id: int):
    statement = g.statement
    form = StatementForm()
    if not form.validate_on_submit():
        return _render_editor(statement, form, status=400)
    content = _content(form)
    action = request.form.get("action", "save")
    if action == "check":
        return _render_editor(statement, form, advice=_advice(content),
                              preview=_preview(statement, content))  # fmt: skip
    try:
        if action == "submit":
            role = press.submit(statement, content, by=current_user)
            said = (f"Sent for approval: a {role.label.lower()} who did not write it approves it "
                    "before release. They have been emailed.")  # fmt: skip
        else:
            changed = press.save_draft(statement, content, by=current_user)
            said = "Draft saved." if changed else "Nothing changed."
    except press.PressError as error:
        db.session.rollback()
        db.session.refresh(statement)
        form.add_error(error.field, error.message)
        return _render_editor(statement, form, status=400)
    flash(said, "success")
    if action == "submit":
        return redirect(url_for("admin.incident", ref=ref, _anchor="press-heading"))
    return redirect(url_for("admin.press_statement", ref=ref, statement_id=statement.id))


# --- approval -----------------------------------------------------------------------------------


def _render_review(statement: PressStatement, form: ReviewForm | None = None, *, status=200):
    content = press.StatementContent(
        statement.headline, statement.body,
        statement.talking_points.text if statement.talking_points else "",
    )  # fmt: skip
    return render_template(
        "admin/press_review.html",
        incident=statement.incident,
        statement=statement,
        correction=correction_of(statement) if statement.is_released else None,
        form=form or ReviewForm(formdata=None),
        refusal=press.decision_refusal(statement, current_user),
        approver=press.approver_for(statement.incident).label.lower(),
        advice=_advice(content),
        is_public=is_public(statement.incident),
        policy_row=current_policy()[statement.incident.priority],
    ), status


@admin.get("/incidents/<ref>/press/<int:statement_id>/review")
@allow.role(READER, incident="ref", statement="statement_id")
def press_review(ref: str, statement_id: int):
    return _render_review(g.statement)


@admin.post("/incidents/<ref>/press/<int:statement_id>/review")
@allow.role(READER, incident="ref", statement="statement_id")  # the approver: press.approve
def post_press_review(ref: str, statement_id: int):
    statement = g.statement
    form = ReviewForm()
    if not form.validate_on_submit():
        return _render_review(statement, form, status=400)
    try:
        if request.form.get("action") == "approve":
            press.approve(statement, by=current_user, note=form.note.data or "")
            said = "Approved and released: the statement is on the public press page now."
        else:
            press.request_changes(statement, by=current_user, note=form.note.data or "")
            said = "Sent back to the author with your note."
    except press.PressError as error:
        db.session.rollback()
        db.session.refresh(statement)
        form.add_error(error.field, error.message)
        return _render_review(statement, form, status=403 if _not_theirs(error) else 400)
    flash(said, "success")
    return redirect(url_for("admin.incident", ref=ref, _anchor="press-heading"))


def _not_theirs(error: press.PressError) -> bool:
    return error.field is None and error.message.startswith("Only a ")


@admin.get("/incidents/<ref>/press/<int:statement_id>/preview")
@allow.role(READER, incident="ref", statement="statement_id")
def press_preview(ref: str, statement_id: int):
    """The public page itself, with this statement as it stands (released or not)."""
    statement = g.statement
    return render_template(
        "public/press/statement.html",
        statement=statement,
        correction=correction_of(statement) if statement.is_released else None,
        preview=not statement.is_released,
    )
