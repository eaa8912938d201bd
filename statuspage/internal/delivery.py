"""An internal message as an email: what happened, the incident's clock, the link to the
incident, and the "I have seen this" link."""

from __future__ import annotations

from flask import current_app, url_for
from markupsafe import escape

from ..extensions import db
from ..incidents import cadence
from ..incidents.models import Incident
from ..mail import Message
from ..timefmt import format_absolute
from . import messages
from .ack import token_for


def clock_lines(incident: Incident) -> list[str]:
    """The incident's clock in words, for every internal message about it."""
    lines = [
        f"{incident.ref} · {incident.priority_label} · {incident.state_enum.label}"
        + (" · EXERCISE" if incident.is_exercise else ""),
        f"Detected {format_absolute(incident.detected_at)}.",
    ]
    if incident.is_open:
        lines.append(f"Clock: {cadence.reading(incident).text}.")
        for deadline in cadence.deadlines_for(incident):
            state = (
                f"met {format_absolute(deadline.met_at)}" if deadline.met_at
                else f"due {format_absolute(deadline.due)}"
            )  # fmt: skip
            lines.append(f"- {deadline.kind.label.capitalize()}: {state}")
    elif incident.resolved_at:
        lines.append(f"Resolved {format_absolute(incident.resolved_at)}.")
    return lines


def staff_message(notification_id: int, address: str, key: str) -> Message:
    """The email for one internal outbox row (raises messages.Skip when no longer needed)."""
    rendered = messages.render(key)
    base = current_app.config["SITE_URL"].rstrip("/")
    text = rendered.text
    subject = rendered.subject
    if rendered.incident_id:
        incident = db.session.get(Incident, rendered.incident_id)
        if incident is not None:
            link = base + url_for("admin.incident", ref=incident.ref)
            text += "\n\n" + "\n".join(clock_lines(incident)) + f"\n\nOpen the incident: {link}"
            if incident.is_exercise and not subject.startswith("[EXERCISE]"):
                subject = "[EXERCISE] " + subject
    if rendered.acknowledge:
        ack = base + url_for("public.acknowledge_message", token=token_for(notification_id))
        text += f"\n\nI have seen this: {ack}\n"
    html = "".join(f"<p>{escape(paragraph)}</p>" for paragraph in text.split("\n\n"))
    html = html.replace("\n", "<br>")
    return Message(
        to=(address,), subject=subject, text=text, html=html,
        headers=(("Auto-Submitted", "auto-generated"),),  # RFC 3834: no out-of-office replies
        attachments=rendered.attachments,
    )  # fmt: skip
