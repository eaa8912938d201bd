"""'I have seen this' for internal messages: a page with one button (a link alone must change
nothing: mail scanners open links), then the acknowledgement recorded once."""

from __future__ import annotations

from flask import render_template

from ..extensions import db
from ..incidents.models import Incident
from ..internal import messages
from ..internal.ack import BadLink, acknowledge, notification_for
from . import public
from .forms import UnsubscribeForm as ConfirmForm


def _about(notification) -> tuple[str, Incident | None]:
    try:
        subject = messages.render(notification.event_key).subject
    except Exception:  # a message that can no longer be rendered still has its acknowledgement
        subject = "an internal message"
    incident = db.session.get(Incident, notification.incident_id) if notification.incident_id \
        else None  # fmt: skip
    return subject, incident


@public.route("/acknowledge/<token>", methods=["GET", "POST"])
def acknowledge_message(token: str):
    try:
        notification = notification_for(token)
    except BadLink as error:
        return render_template("public/acknowledge.html", problem=str(error)), 404
    form = ConfirmForm()
    recorded = None
    if form.validate_on_submit():
        notification, recorded = acknowledge(token)
    subject, incident = _about(notification)
    return render_template(
        "public/acknowledge.html", form=form, token=token, notification=notification,
        subject=subject, incident=incident, recorded=recorded,
    )  # fmt: skip
