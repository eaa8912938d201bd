"""A statement's approval reaches the deciders, and their word goes back to the author: internal
messages in the outbox (internal/messages.py), written in the caller's transaction, each saying
what is asked or decided, by whom, and linking to the page where it is done. A message whose
question was settled before it went is skipped. None of them carries the talking points."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app, url_for

from ..extensions import db
from ..internal.messages import InternalMessage, Recipient, Skip, enqueue, renderer
from ..internal.recipients import deciders
from ..timefmt import format_absolute
from ..users.models import Role, User
from .models import PressStatement, StatementStatus

PRESS_REQUEST = "press_request"
PRESS_DECIDED = "press_decided"


def _link(endpoint: str, **values) -> str:
    return current_app.config["SITE_URL"].rstrip("/") + url_for(endpoint, **values)


def _statement(detail: str) -> PressStatement:
    statement = db.session.get(PressStatement, int(detail.split(":")[0]))
    if statement is None:
        raise Skip("the statement no longer exists")
    return statement


def approval_requested(statement: PressStatement, approver: Role, authors: Iterable[int]) -> int:
    """Ask everyone who may approve (the role or higher), none of the statement's authors."""
    db.session.flush()
    author_emails = {u.email.lower() for i in authors if (u := db.session.get(User, i))}
    asked = [r for r in deciders(approver, statement.agency_id, besides=statement.submitted_by_id)
             if r.email.lower() not in author_emails]  # fmt: skip
    return enqueue(
        asked, PRESS_REQUEST, f"{statement.id}:{statement.round}:{approver.key}",
        incident_id=statement.incident_id,
    )  # fmt: skip


def decided(statement: PressStatement, by: User) -> int:
    """Tell whoever submitted it (and whoever started it) what the approver decided."""
    people = {u.id: u for u in (statement.submitted_by, statement.created_by)
              if u is not None and u.active and u.id != by.id}  # fmt: skip
    return enqueue(
        [Recipient(u.name, u.email) for u in people.values()], PRESS_DECIDED,
        f"{statement.id}:{statement.round}:{statement.status}", incident_id=statement.incident_id,
    )  # fmt: skip


@renderer(PRESS_REQUEST)
def render_request(detail: str, incident_id: int | None) -> InternalMessage:
    statement = _statement(detail)
    _, round_, role_key = detail.split(":", 2)
    if statement.status_enum is not StatementStatus.SUBMITTED or statement.round != int(round_):
        raise Skip(f"the statement was {statement.status_enum.label.lower()} before this went")
    incident = statement.incident
    role = Role.from_key(role_key)
    who = statement.submitted_by.name if statement.submitted_by else "A lead"
    correction = (
        "It corrects the statement released "
        f"{format_absolute(statement.supersedes.released_at)}.\n"
        if statement.supersedes else ""
    )  # fmt: skip
    text = (
        f"{who} asks you to approve a media statement about {incident.ref} before it is "
        f"released ({format_absolute(statement.submitted_at)}).\n\n"
        f"Incident: {incident.title}\n"
        f"Headline: {statement.headline}\n"
        f"{correction}\n"
        f"A {role.label.lower()} (or a higher role) who did not write it decides. Read the "
        f"preview, then approve it or ask for changes with a note: "
        f"{_link('admin.press_review', ref=incident.ref, statement_id=statement.id)}"
    )
    subject = f"[P{incident.priority}] Media statement waiting for your approval: {incident.ref}"
    return InternalMessage(subject, text, incident.id)


@renderer(PRESS_DECIDED)
def render_decided(detail: str, incident_id: int | None) -> InternalMessage:
    statement = _statement(detail)
    _, round_, status = detail.split(":", 2)
    incident = statement.incident
    who = statement.decided_by.name if statement.decided_by else "The approver"
    if status == StatementStatus.RELEASED.value:
        text = (
            f"{who} approved your media statement about {incident.ref}; it was released "
            f"{format_absolute(statement.released_at)}.\n\n"
            f"Headline: {statement.headline}\n"
            f"Note: {statement.decision_note or 'none'}\n\n"
            f"The public page: {_link('public.press_statement', slug=statement.slug)}"
        )
        subject = f"[P{incident.priority}] Media statement released: {incident.ref}"
        return InternalMessage(subject, text, incident.id)
    if statement.status_enum is not StatementStatus.CHANGES_REQUESTED or (
        statement.round != int(round_)
    ):
        raise Skip("the statement moved on before this message went")
    text = (
        f"{who} asks for changes to your media statement about {incident.ref} "
        f"({format_absolute(statement.decided_at)}).\n\n"
        f"Headline: {statement.headline}\n"
        f"What to change: {statement.decision_note}\n\n"
        f"Edit it and ask again: "
        f"{_link('admin.press_statement', ref=incident.ref, statement_id=statement.id)}"
    )
    subject = f"[P{incident.priority}] Changes asked for in the media statement: {incident.ref}"
    return InternalMessage(subject, text, incident.id)
