"""What each outbox row says: emails (plain text and HTML) and webhook JSON. Rendered once per
event; only the personal links differ per subscriber."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app, render_template, url_for

from ..extensions import db
from ..incidents.cadence import public_timing
from ..incidents.models import IncidentUpdate
from ..maintenance.models import MaintenanceWindow
from ..reports.models import ReportRevision
from ..timefmt import iso_utc
from . import choices
from .models import Subscriber, SubscriptionAddition
from .operations import Choice
from .tokens import addition_token, confirm_token, manage_token

MANAGE = "__MANAGE_URL__"
UNSUBSCRIBE = "__UNSUBSCRIBE_URL__"


class EventGone(LookupError):
    """The event a row refers to no longer exists."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    payload: dict | None = None  # for webhooks
    sender_name: str | None = None  # the From name: the agency's, when the mail is one agency's
    list_id: str | None = None  # RFC 2919, so mail clients can sort and filter an agency's mail

    def personal(self, manage_url: str, unsubscribe_url: str) -> tuple[str, str]:
        def fill(body: str) -> str:
            return body.replace(MANAGE, manage_url).replace(UNSUBSCRIBE, unsubscribe_url)

        return fill(self.text), fill(self.html)


def personal_link_builder():
    """A function (subscriber id, email) -> (manage URL, unsubscribe URL); the URLs are built
    once and only the signed token changes per subscriber."""
    manage = url_for("public.manage_subscription", token="TOKEN", _external=True)
    leave = url_for("public.unsubscribe", token="TOKEN", _external=True)

    def links(subscriber_id: int, email: str) -> tuple[str, str]:
        token = manage_token(subscriber_id, email)
        return manage.replace("TOKEN", token), leave.replace("TOKEN", token)

    return links


def render_event(
    event: str, event_key: str, subscriber_id: int | None = None, email: str | None = None
) -> Rendered:
    """The shared content of an event (personal events are rendered per row)."""
    links = {"manage_url": MANAGE, "unsubscribe_url": UNSUBSCRIBE}
    if event == "incident_update":
        update = db.session.get(IncidentUpdate, int(event_key))
        if update is None:
            raise EventGone(f"update {event_key} no longer exists")
        incident = update.incident
        timing = public_timing(incident) if incident.is_open else None
        context = {
            "incident": incident,
            "update": update,
            "severity": severity(incident, update),
            "next_update": timing.next_update_by if timing else None,
            "expected_fix": update.expected_resolution_at if incident.is_open else None,
            "incident_url": url_for("public.incident", ref=incident.ref, _external=True),
            **links,
        }
        subject = f"{update.status_label}: {incident.title} ({incident.agency.name})"
        return _rendered(
            "incident_update", subject, context,
            _incident_payload(incident, update, context["incident_url"]),
        )  # fmt: skip
    if event == "report":
        revision = db.session.get(ReportRevision, int(event_key))
        if revision is None:
            raise EventGone(f"report revision {event_key} no longer exists")
        incident = revision.incident
        context = {
            "incident": incident,
            "revision": revision,
            "sections": revision.sections,
            "report_url": url_for("public.incident_report", ref=incident.ref, _external=True),
            **links,
        }
        kind = "Corrected post-incident report" if revision.number > 1 else "Post-incident report"
        return _rendered(
            "report", f"{kind}: {incident.title} ({incident.agency.name})", context,
            _report_payload(incident, revision, context["report_url"]),
        )  # fmt: skip
    if event == "maintenance":
        window = db.session.get(MaintenanceWindow, int(event_key.split(":")[0]))
        if window is None:
            raise EventGone(f"maintenance window {event_key} no longer exists")
        context = {
            "window": window,
            "page_url": url_for("public.maintenance_calendar", _external=True),
            **links,
        }
        verb = "Cancelled" if window.status == "cancelled" else "Planned maintenance"
        subject = f"{verb}: {window.title} ({window.agency.name})"
        return _rendered("maintenance", subject, context, _maintenance_payload(window))
    subscriber = db.session.get(Subscriber, subscriber_id) if subscriber_id else None
    if event in ("confirmation", "manage_link", "add_choices") and subscriber is None:
        raise EventGone("the subscriber has left")
    if event == "confirmation":
        context = {
            "confirm_url": url_for(
                "public.confirm_subscription",
                token=confirm_token(subscriber_id, email),
                _external=True,
            ),
            "chosen": choices.names(choices.of_subscriber(subscriber)),
            **links,
        }
        subject = "Confirm your subscription to service status updates"
    elif event == "add_choices":
        addition = db.session.get(SubscriptionAddition, int(event_key))
        if addition is None:
            raise EventGone(f"subscription addition {event_key} no longer exists")
        adding = Choice(addition.everything, set(addition.agency_ids), set(addition.service_ids))
        context = {
            "confirm_url": url_for(
                "public.confirm_addition",
                token=addition_token(subscriber_id, email, addition.id),
                _external=True,
            ),
            "adding": choices.names(adding),
            "chosen": choices.names(choices.of_subscriber(subscriber)),
            **links,
        }
        subject = "Confirm adding to your service status updates"
    elif event == "manage_link":
        context = {"chosen": choices.names(choices.of_subscriber(subscriber)), **links}
        subject = "Your subscription to service status updates"
    else:
        raise EventGone(f"unknown event {event}")
    return _rendered(event, subject, context)


def _rendered(template: str, subject: str, context: dict, payload: dict | None = None) -> Rendered:
    """The text and HTML emails of emails/<template>.txt and .html, and the webhook payload."""
    about = context.get("incident") or context.get("window")  # what the mail is about, if any
    agency = about.agency if about is not None else None
    one_agency = agency is not None and not getattr(about, "is_shared", False)
    return Rendered(
        subject,
        render_template(f"emails/{template}.txt", **context),
        render_template(f"emails/{template}.html", **context),
        payload,
        sender_name=agency.name if one_agency else None,  # None: the site's name
        list_id=list_id(agency.slug) if agency is not None else None,
    )


def list_id(agency_slug: str) -> str:
    """E.g. "<revenue.status.example.gov>": the agency's slug under the site's host name (with
    "status." before it unless the host already starts so)."""
    host = (urlsplit(current_app.config["SITE_URL"]).hostname or "localhost").lower()
    if not host.startswith("status."):
        host = f"status.{host}"
    return f"<{agency_slug}.{host}>"


def severity(incident, update) -> list[str]:
    """The incident's severity in words for an email: status, each service's impact (worst
    first) and the priority as the public pages name it."""
    resolved = update.status in ("resolved", "closed")
    worst_first = sorted(incident.affected, key=lambda a: -a.impact_enum.severity)
    impacts = "; ".join(f"{a.impact_enum.label} ({a.service.name})" for a in worst_first)
    return [
        f"Status: {'Resolved' if resolved else update.status_label}",
        *([f"{'Impact while it lasted' if resolved else 'Impact'}: {impacts}"] if impacts else []),
        f"Priority: {incident.priority_label}",
    ]


def _incident_payload(incident, update, url: str) -> dict:
    """Field names follow Statuspage's webhook and API shapes where they fit."""
    return {
        "type": "incident.update",
        "incident": {
            "id": incident.ref,
            "name": incident.title,
            "status": incident.state if incident.state != "closed" else "resolved",
            "priority": f"P{incident.priority}",
            "shortlink": url,
            "created_at": iso_utc(incident.detected_at),
            "resolved_at": iso_utc(incident.resolved_at) if incident.resolved_at else None,
            "components": [
                {"id": a.service.slug, "name": a.service.name, "status": a.impact}
                for a in incident.affected
            ],
        },
        "incident_update": {
            "id": update.id,
            "status": update.status,
            "body": update.body,
            "created_at": iso_utc(update.published_at),
        },
    }


def _report_payload(incident, revision, url: str) -> dict:
    sections = revision.sections
    return {
        "type": "incident.postmortem",
        "incident": {"id": incident.ref, "name": incident.title, "shortlink": url},
        "postmortem": {
            "revision": revision.number,
            "published_at": iso_utc(revision.published_at),
            "correction_note": revision.correction_note,
            "summary": sections["summary"],
            "root_cause_category": revision.root_cause_category,
            "url": url,
        },
    }


def _maintenance_payload(window) -> dict:
    return {
        "type": "maintenance." + ("cancelled" if window.status == "cancelled" else "scheduled"),
        "scheduled_maintenance": {
            "id": window.id,
            "name": window.title,
            "status": window.status,
            "scheduled_for": iso_utc(window.starts_at),
            "scheduled_until": iso_utc(window.ends_at),
            "components": [{"id": s.slug, "name": s.name} for s in window.services],
        },
    }


def webhook_body(rendered: Rendered, event: str, event_key: str) -> bytes:
    payload = {"id": f"{event}:{event_key}", **(rendered.payload or {})}
    return json.dumps(payload, sort_keys=True).encode()
