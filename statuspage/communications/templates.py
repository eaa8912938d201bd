"""Update templates filled from an incident, and the jargon list as a dict."""

from __future__ import annotations

from string import Template

from flask import url_for
from sqlalchemy import select

from ..extensions import db
from ..incidents.models import Incident
from ..timefmt import format_absolute
from .models import JargonTerm, UpdateTemplate

TEMPLATE_FIELDS = ("body", "what_affected", "who_affected", "cause", "workaround", "help")


def all_templates() -> list[UpdateTemplate]:
    return list(db.session.scalars(select(UpdateTemplate).order_by(UpdateTemplate.id)))


def template_by_key(key: str) -> UpdateTemplate | None:
    return db.session.scalars(select(UpdateTemplate).where(UpdateTemplate.key == key)).first()


def service_names(incident: Incident) -> str:
    """'Tax filing', 'Tax filing and Payments', 'A, B and C'. Templates are written so that the
    sentence works whatever the number ("You cannot use $services", never "$services is")."""
    services = sorted(
        (a.service for a in incident.affected), key=lambda s: (s.display_order, s.name)
    )
    names = [service.name for service in services]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def placeholders(incident: Incident, next_update=None) -> dict[str, str]:
    services = service_names(incident)
    since = incident.started_at or incident.detected_at
    return {
        "title": incident.title,
        "services": services,
        "agency": incident.agency.name,
        "ref": incident.ref,
        "detected": format_absolute(incident.detected_at),
        "since": format_absolute(since),
        "next_update": format_absolute(next_update) if next_update else "",
        "incident_url": url_for("public.incident", ref=incident.ref, _external=True),
    }


def fill(template: UpdateTemplate, incident: Incident, next_update=None) -> dict[str, str]:
    """The template's fields with $placeholders replaced; unknown ones are left as typed."""
    values = placeholders(incident, next_update)
    filled = {name: Template(getattr(template, name) or "").safe_substitute(values)
              for name in TEMPLATE_FIELDS}  # fmt: skip
    filled["status"] = template.status
    return filled


def merge(template: UpdateTemplate, incident: Incident, typed: dict[str, object]) -> dict:
    """A template laid over what the lead has typed: it fills the empty fields only and sets
    its status. A resolution clears the times that only an open incident has."""
    merged = dict(typed)
    for name, value in fill(template, incident).items():
        if name == "status" or not (typed.get(name) or ""):
            merged[name] = value
    if template.status == "resolved":
        merged["next_update_at"] = None
        merged["expected_resolution_at"] = None
    return merged


def jargon_list() -> dict[str, str]:
    return {
        t.term: t.plainer for t in db.session.scalars(select(JargonTerm).order_by(JargonTerm.term))
    }
