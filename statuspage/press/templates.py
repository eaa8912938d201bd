"""The media statement template and the talking points template, filled from an incident.

What the public update already says (in plain words, checked when it was published) fills the
statement; what nobody has said yet is left as a gap, "[to fill: …]", which the author must
replace before asking for approval.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from string import Template

from flask import current_app, has_request_context, url_for
from sqlalchemy import select

from ..communications.templates import service_names
from ..extensions import db
from ..incidents import cadence
from ..incidents.models import Incident, State
from ..internal.models import Contact, Position
from ..timefmt import format_absolute

GAP = re.compile(r"\[to fill: ([^\]]+)\]")

HEADLINE = "$agency statement: $title"

STATEMENT = """\
$opening

$what_happened

The problem started at $started. $people_can_do

$next_update You can follow every update at $incident_url.

$apology

**Media enquiries:** $press_contact
"""

APOLOGY_OPEN = "We are sorry for the trouble this causes, and we are working to fix it."
APOLOGY_RESOLVED = "We are sorry for the trouble this caused."

TALKING_POINTS = """\
Internal: for spokespeople only. Do not publish or forward.

Key messages
- $agency knows about the problem with $services and $progress.
- $people_can_do
- We post every update at $incident_url.

Questions and answers

Q: What happened?
A: $what_happened

Q: Who is affected?
A: $who_affected

Q: When did it start?
A: At $started.

Q: Why did it happen?
A: $cause

Q: When will it be fixed?
A: $fixed_by

Q: What can people do now?
A: $people_can_do
$security"""

SECURITY_QA = """
Q: Was anyone's personal information exposed?
A: [to fill: the answer agreed with the legal team and the CISO]
"""


def gap(what: str) -> str:
    return f"[to fill: {what}]"


def gaps(text: str) -> list[str]:
    """The gaps a text still has, in order, each once."""
    return list(dict.fromkeys(match.group(1).strip() for match in GAP.finditer(text or "")))


def _one_paragraph(text: str) -> str:
    return " ".join((text or "").split())


def _sentence(text: str) -> str:
    text = _one_paragraph(text)
    return text if not text or text[-1] in ".!?" else text + "."


@dataclass(frozen=True)
class PressContact:
    name: str
    email: str
    phone: str

    def __str__(self) -> str:
        return ", ".join(part for part in (self.name, self.email, self.phone) if part)


def press_contacts(agency_id: int) -> list[PressContact]:
    """The agency's public relations people on the duty roster (the main rota, else the backups;
    the site-wide press office when the agency has none)."""
    rows = db.session.scalars(
        select(Contact)
        .where(Contact.position == Position.PUBLIC_RELATIONS.value,
               (Contact.agency_id == agency_id) | Contact.agency_id.is_(None))
        .order_by(Contact.agency_id.is_(None), Contact.is_backup, Contact.id)
    ).all()  # fmt: skip
    for scope in (agency_id, None):
        here = [c for c in rows if c.agency_id == scope]
        chosen = [c for c in here if not c.is_backup] or here
        if chosen:
            return [PressContact(c.name, c.email, c.phone) for c in chosen]
    return []


def incident_address(incident: Incident) -> str:
    """The incident's public page at the site's own address (SITE_URL), whoever asks."""
    base = current_app.config["SITE_URL"].rstrip("/")
    if has_request_context():
        return base + url_for("public.incident", ref=incident.ref)
    with current_app.test_request_context():
        return base + url_for("public.incident", ref=incident.ref)


def _said(updates, name: str) -> str:
    """The latest thing the public updates said in this field (newest first), if any."""
    return next((getattr(u, name) for u in updates if getattr(u, name)), "")


def placeholders(incident: Incident) -> dict[str, str]:
    # The messages citizens read, newest first, without the closing note (it says "closed").
    updates = [u for u in incident.public_updates if u.status != State.CLOSED.value]
    latest = updates[0] if updates else None
    resolved = not incident.is_open
    since = incident.started_at or incident.detected_at
    # What happened: as the first public message described it, when the problem was news.
    what = (updates[-1].body if updates else _sentence(incident.impact_description)).strip()
    who = _sentence(_said(updates, "who_affected") or incident.impact_description)
    can_do = "" if resolved else _sentence(_said(updates, "workaround"))
    can_do = " ".join(part for part in (can_do, _sentence(_said(updates, "help"))) if part)
    timing = cadence.public_timing(incident) if not resolved else None
    if resolved:
        resolved_at = incident.resolved_at or (latest.published_at if latest else since)
        next_update = f"The service has worked normally again since {format_absolute(resolved_at)}."
        fixed_by = f"It was fixed at {format_absolute(resolved_at)}."
    else:
        next_by = (latest.next_update_at if latest else None) or (
            timing.next_update_by if timing else None
        )
        next_update = (
            f"We will give our next update by {format_absolute(next_by)}."
            if next_by else gap("when the next update will come")
        )  # fmt: skip
        expected = latest.expected_resolution_at if latest else None
        fixed_by = (
            f"We expect it to be fixed by {format_absolute(expected)}."
            if expected else "We do not know yet. We will say as soon as we do, in our updates."
        )  # fmt: skip
    contacts = press_contacts(incident.agency_id)
    services = service_names(incident)
    opening = (
        f"{incident.agency.name} had a problem with {services}, now fixed."
        if resolved
        else f"{incident.agency.name} is aware of a problem with {services}."
    )
    return {
        "agency": incident.agency.name,
        "opening": opening,
        "title": incident.title,
        "services": services,
        "what_happened": what or gap("what happened, in plain words"),
        "who_affected": who or gap("who is affected"),
        "started": format_absolute(since),
        "people_can_do": can_do or gap("what people can do meanwhile"),
        "next_update": next_update,
        "fixed_by": fixed_by,
        "cause": _sentence(_said(updates, "cause"))
        or "We are still finding out. We will explain once we know.",
        "progress": "has fixed it" if resolved else "is working to fix it",
        "apology": APOLOGY_RESOLVED if resolved else APOLOGY_OPEN,
        "press_contact": "; ".join(str(c) for c in contacts) or gap("the press office contact"),
        "incident_url": incident_address(incident),
        "security": SECURITY_QA if incident.is_security else "",
    }


@dataclass(frozen=True)
class Draft:
    headline: str
    body: str
    talking_points: str


def fill(incident: Incident) -> Draft:
    values = placeholders(incident)
    return Draft(
        headline=Template(HEADLINE).safe_substitute(values)[:200],
        body=Template(STATEMENT).safe_substitute(values).strip() + "\n",
        talking_points=Template(TALKING_POINTS).safe_substitute(values).strip() + "\n",
    )
