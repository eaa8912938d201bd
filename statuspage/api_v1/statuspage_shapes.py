"""Atlassian Statuspage's manage API v1 shapes, to and from ours: pure functions, no database.

Reading a request: the incident, component, incident update and postmortem bodies Statuspage
clients send (JSON inside a container such as ``{"incident": {...}}``, or the form-encoded
``incident[name]=...`` of its documentation's curl examples), checked for types and values; unknown
fields are ignored as Statuspage ignores them. Writing an answer: the JSON objects Statuspage
answers with, from our records and the facts the caller looked up.

The mapping between Statuspage's impact and our priority lives here, once:

    impact_override  critical -> P1, major -> P2, minor -> P3, none -> P4 (and back, for "impact")

Without an ``impact_override`` the policy's urgency x impact matrix suggests the priority, read
from the request: urgency from the worst component status (major outage high, partial outage
medium, degraded performance low) and impact from the most critical tier among the components
(tier 1 high, tier 2 medium, tiers 3-4 low): a tier-1 service in a major outage is a P1.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..policy import IMPACT_BY_TIER, suggest_priority
from ..timefmt import iso_utc

# --- the vocabulary ------------------------------------------------------------------------------

IMPACT_BY_PRIORITY = {1: "critical", 2: "major", 3: "minor", 4: "none"}
PRIORITY_BY_IMPACT = {impact: priority for priority, impact in IMPACT_BY_PRIORITY.items()}
URGENCY_BY_COMPONENT_STATUS = {
    "major_outage": "high",
    "partial_outage": "medium",
    "degraded_performance": "low",
}

REALTIME_STATUSES = ("investigating", "identified", "monitoring", "resolved")
SCHEDULED_STATUSES = ("scheduled", "in_progress", "verifying", "completed")
COMPONENT_STATUSES = (
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
)
# The longest name Statuspage takes; ours (an incident's title) is shorter.
NAME_LENGTH = 200


class ShapeError(ValueError):
    """A request Statuspage would refuse too: a wrong type or value. ``status`` is the HTTP
    status to answer with (400 for a body that is not an object, 422 for a bad value)."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message = message
        self.status = status


# --- reading requests ----------------------------------------------------------------------------

_FORM_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def nest_form(items: Iterable[tuple[str, str]]) -> dict:
    """Rails-style form fields (``incident[components][abc]=major_outage``,
    ``incident[component_ids][]=abc``) as the nested object a JSON client would send."""
    result: dict = {}
    for key, value in items:
        match = _FORM_KEY.match(key)
        if match is None:
            continue
        parts = [match[1], *re.findall(r"\[([^\[\]]*)\]", match[2])]
        node = result
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            following = None if last else parts[index + 1]
            if part == "":
                continue  # "[]" handled by the parent: a list
            if last:
                node[part] = value
            elif following == "":
                listed = node.setdefault(part, [])
                if isinstance(listed, list):
                    listed.append(value)
                break
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    break
                node = child
    return result


def _container(payload, name: str) -> dict:
    """The object inside ``{name: {...}}``; a body without the container is read as the object
    itself (lenient, as some clients send it so)."""
    if not isinstance(payload, dict):
        raise ShapeError(f"Send a JSON object with an '{name}' object inside.", 400)
    inner = payload.get(name)
    if inner is None:
        return payload
    if not isinstance(inner, dict):
        raise ShapeError(f"'{name}' must be an object.")
    return inner


def _text(data: dict, key: str, *, where: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ShapeError(f"{where}[{key}] must be a string.")
    return value


def _boolean(data: dict, key: str, *, where: str) -> bool | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise ShapeError(f"{where}[{key}] must be true or false.")


def parse_time(value, *, what: str) -> datetime | None:
    """An ISO 8601 time as an aware UTC datetime; one without a zone is read as UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ShapeError(f"{what} must be an ISO 8601 time, like 2026-11-23T14:30:00Z.")
    try:
        moment = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        raise ShapeError(
            f"{what} must be an ISO 8601 time, like 2026-11-23T14:30:00Z: “{value[:40]}”."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass
class IncidentRequest:
    """What an incident's POST or PATCH asks for (None: not given)."""

    name: str | None = None
    status: str | None = None
    body: str | None = None
    impact_override: str | None = None
    # Component id -> the status asked for, or None when only named (component_ids). None for
    # the whole field when the request names no components at all.
    components: dict[str, str | None] | None = None
    deliver_notifications: bool | None = None
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None
    scheduled_remind_prior: bool | None = None

    @property
    def is_scheduled(self) -> bool:
        """A scheduled maintenance rather than a realtime incident."""
        return (
            self.scheduled_for is not None
            or self.scheduled_until is not None
            or self.status in SCHEDULED_STATUSES
        )

    def statuses(self) -> list[str]:
        return [status for status in (self.components or {}).values() if status]


def incident_request(payload) -> IncidentRequest:
    data = _container(payload, "incident")
    where = "incident"
    found = IncidentRequest(
        name=_text(data, "name", where=where),
        status=_text(data, "status", where=where),
        body=_text(data, "body", where=where),
        impact_override=_text(data, "impact_override", where=where),
        deliver_notifications=_boolean(data, "deliver_notifications", where=where),
        scheduled_for=parse_time(data.get("scheduled_for"), what="incident[scheduled_for]"),
        scheduled_until=parse_time(data.get("scheduled_until"), what="incident[scheduled_until]"),
        scheduled_remind_prior=_boolean(data, "scheduled_remind_prior", where=where),
    )
    if found.name is not None:
        found.name = " ".join(found.name.split())
        if len(found.name) > NAME_LENGTH:
            raise ShapeError(f"incident[name] must be at most {NAME_LENGTH} characters.")
    if found.status is not None:
        found.status = found.status.strip().lower()
        if found.status not in REALTIME_STATUSES + SCHEDULED_STATUSES:
            raise ShapeError(
                "incident[status] must be investigating, identified, monitoring or resolved "
                "(or scheduled, in_progress, verifying or completed for a scheduled maintenance)."
            )
    if found.impact_override is not None:
        found.impact_override = found.impact_override.strip().lower() or None
        if found.impact_override not in (None, "maintenance", *PRIORITY_BY_IMPACT):
            raise ShapeError(
                "incident[impact_override] must be none, minor, major or critical "
                "(or maintenance for a scheduled maintenance)."
            )
    found.components = _components_asked(data)
    if found.is_scheduled and found.status in REALTIME_STATUSES:
        raise ShapeError(
            "A scheduled maintenance's status is scheduled, in_progress, verifying or completed."
        )
    return found


def _components_asked(data: dict) -> dict[str, str | None] | None:
    components = data.get("components")
    ids = data.get("component_ids")
    if components is None and ids is None:
        return None
    asked: dict[str, str | None] = {}
    if ids is not None:
        if isinstance(ids, str):
            ids = [part for part in re.split(r"[\s,]+", ids) if part]
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ShapeError("incident[component_ids] must be a list of component ids.")
        asked.update({component_id: None for component_id in ids})
    if components is not None:
        if not isinstance(components, dict):
            raise ShapeError(
                "incident[components] must be an object of component id to status, like "
                '{"tax-filing": "major_outage"}.'
            )
        for component_id, status in components.items():
            if not isinstance(status, str) or status not in COMPONENT_STATUSES:
                raise ShapeError(
                    f"incident[components][{component_id}] must be one of "
                    f"{', '.join(COMPONENT_STATUSES)}."
                )
            asked[component_id] = status
    return asked


@dataclass
class ComponentRequest:
    status: str | None = None
    # Fields of the catalog a key does not change; given with a different value, they are refused.
    catalog: dict[str, object] = field(default_factory=dict)


CATALOG_FIELDS = ("name", "description", "group_id", "showcase", "only_show_if_degraded",
                  "start_date")  # fmt: skip


def component_request(payload) -> ComponentRequest:
    data = _container(payload, "component")
    status = _text(data, "status", where="component")
    if status is not None:
        status = status.strip().lower()
        if status not in COMPONENT_STATUSES:
            raise ShapeError(f"component[status] must be one of {', '.join(COMPONENT_STATUSES)}.")
    return ComponentRequest(
        status=status, catalog={k: data[k] for k in CATALOG_FIELDS if k in data}
    )


@dataclass
class UpdateEditRequest:
    body: str | None = None
    display_at: datetime | None = None
    deliver_notifications: bool | None = None


def update_edit_request(payload) -> UpdateEditRequest:
    data = _container(payload, "incident_update")
    return UpdateEditRequest(
        body=_text(data, "body", where="incident_update"),
        display_at=parse_time(data.get("display_at"), what="incident_update[display_at]"),
        deliver_notifications=_boolean(data, "deliver_notifications", where="incident_update"),
    )


def postmortem_draft(payload) -> str:
    data = _container(payload, "postmortem")
    body = _text(data, "body_draft", where="postmortem")
    if body is None:
        raise ShapeError("postmortem[body_draft] is required: the text of the postmortem.")
    return body


def postmortem_publish_request(payload) -> bool | None:
    """``notify_subscribers`` as asked (None: not said)."""
    data = _container(payload if payload is not None else {}, "postmortem")
    return _boolean(data, "notify_subscribers", where="postmortem")


# --- the priority ---------------------------------------------------------------------------------


def priority_for(impact_override: str | None, statuses: Iterable[str],
                 tiers: Iterable[int]) -> tuple[int, str]:  # fmt: skip
    """The priority an incident gets, and the words that say why (audited with it)."""
    if impact_override is not None:
        priority = PRIORITY_BY_IMPACT[impact_override]
        return priority, f"P{priority} from Statuspage impact_override '{impact_override}'"
    urgencies = [URGENCY_BY_COMPONENT_STATUS[s] for s in statuses
                 if s in URGENCY_BY_COMPONENT_STATUS]  # fmt: skip
    order = ("high", "medium", "low")
    urgency = min(urgencies, key=order.index, default="low")
    reach = min((IMPACT_BY_TIER[t] for t in tiers), key=order.index, default="low")
    priority = suggest_priority(urgency, reach)
    return priority, (
        f"P{priority} from {urgency} urgency (the worst component status) and {reach} impact "
        "(the most critical tier)"
    )


def impact_of(priority: int) -> str:
    return IMPACT_BY_PRIORITY[priority]


# --- writing answers ------------------------------------------------------------------------------


def time(moment: datetime | None) -> str | None:
    return iso_utc(moment) if moment else None


def incident_status(state: str) -> str:
    """Statuspage's status for our state: a logged incident not yet updated is investigating;
    our internal "closed" is Statuspage's resolved."""
    return {"new": "investigating", "closed": "resolved"}.get(state, state)


def component_json(public: dict, *, page_id: str) -> dict:
    """One of our services as a manage API component, from its public API v2 object (the same
    status and times the public sees): the page is its agency, so it belongs to no group."""
    return {
        "id": public["id"], "page_id": page_id, "group_id": None,
        "created_at": public["created_at"], "updated_at": public["updated_at"],
        "group": False, "name": public["name"], "description": public["description"],
        "position": public["position"], "status": public["status"],
        "showcase": public["showcase"], "only_show_if_degraded": False,
        "automation_email": None, "start_date": public["start_date"],
    }  # fmt: skip


def affected_components(services: list[tuple[str, str, str]], statuses: list[str]) -> list:
    """Statuspage's affected_components for each update (given newest first, as their statuses),
    from the incident's services (slug, name, impact): each goes from operational to its impact
    with the first update and back with a resolution. Newest first, like the updates."""
    shown, before = [], "operational"
    for status in reversed(statuses):
        resolved = status in ("resolved", "closed")
        entries = [
            {"code": slug, "name": name, "old_status": before if before != "impact" else impact,
             "new_status": "operational" if resolved else impact}
            for slug, name, impact in services
        ]  # fmt: skip
        before = "operational" if resolved else "impact"
        shown.append(entries or None)
    return list(reversed(shown))


@dataclass(frozen=True)
class UpdateFacts:
    id: int
    status: str
    body: str
    published_at: datetime
    # Subscribers were told of it (a public update of an incident whose priority emails them).
    delivered: bool


def update_json(update: UpdateFacts, *, incident_id: str, affected: list | None) -> dict:
    return {
        "id": str(update.id), "incident_id": incident_id,
        "affected_components": affected, "body": update.body,
        "created_at": time(update.published_at), "custom_tweet": None,
        "deliver_notifications": update.delivered, "display_at": time(update.published_at),
        "status": incident_status(update.status), "tweet_id": None,
        "twitter_updated_at": None, "updated_at": time(update.published_at),
        "wants_twitter_update": False,
    }  # fmt: skip


@dataclass(frozen=True)
class PostmortemFacts:
    body: str | None  # the published text (None: not published)
    body_updated_at: datetime | None
    body_draft: str | None
    body_draft_updated_at: datetime | None
    published_at: datetime | None
    notified_subscribers: bool
    created_at: datetime | None
    ignored: bool  # the policy asks for no review of this incident


NO_POSTMORTEM = PostmortemFacts(None, None, None, None, None, False, None, False)


@dataclass(frozen=True)
class IncidentFacts:
    ref: str
    title: str
    state: str
    priority: int
    detected_at: datetime
    started_at: datetime | None
    resolved_at: datetime | None
    shortlink: str
    updates: list[UpdateFacts]  # newest first
    services: list[tuple[str, str, str]]  # (slug, name, impact)
    metadata: dict


def incident_json(facts: IncidentFacts, *, page_id: str, components: list[dict],
                  postmortem: PostmortemFacts = NO_POSTMORTEM) -> dict:  # fmt: skip
    updates = facts.updates
    affected = affected_components(facts.services, [u.status for u in updates])
    monitoring = [u.published_at for u in updates if u.status == "monitoring"]
    latest = max((u.published_at for u in updates), default=facts.detected_at)
    impact = impact_of(facts.priority)
    return {
        "id": facts.ref, "components": components,
        "created_at": time(facts.detected_at), "impact": impact, "impact_override": impact,
        "incident_updates": [update_json(u, incident_id=facts.ref, affected=a)
                             for u, a in zip(updates, affected)],
        "metadata": facts.metadata,
        "monitoring_at": time(min(monitoring) if monitoring else None),
        "name": facts.title, "page_id": page_id,
        "postmortem_body": postmortem.body,
        "postmortem_body_last_updated_at": time(postmortem.body_updated_at),
        "postmortem_ignored": postmortem.ignored,
        "postmortem_notified_subscribers": postmortem.notified_subscribers,
        "postmortem_notified_twitter": False,
        "postmortem_published_at": time(postmortem.published_at),
        "resolved_at": time(facts.resolved_at),
        "scheduled_auto_completed": False, "scheduled_auto_in_progress": False,
        "scheduled_for": None,
        "auto_transition_deliver_notifications_at_end": False,
        "auto_transition_deliver_notifications_at_start": False,
        "auto_transition_to_maintenance_state": False,
        "auto_transition_to_operational_state": False,
        "scheduled_remind_prior": False, "scheduled_reminded_at": None, "scheduled_until": None,
        "shortlink": facts.shortlink, "status": incident_status(facts.state),
        "updated_at": time(latest),
        "started_at": time(facts.started_at or facts.detected_at),
        "reminder_intervals": None,
    }  # fmt: skip


def maintenance_json(public: dict, *, page_id: str, components: list[dict]) -> dict:
    """A maintenance window as a scheduled incident, from its public API v2 object: the windows
    start and end at their times by themselves, so the auto transitions are always on."""
    return {
        **public, "page_id": page_id, "components": components,
        "incident_updates": [{**u, "wants_twitter_update": False, "twitter_updated_at": None}
                             for u in public["incident_updates"]],
        "impact_override": None, "metadata": {},
        "postmortem_body": None, "postmortem_body_last_updated_at": None,
        "postmortem_ignored": True, "postmortem_notified_subscribers": False,
        "postmortem_notified_twitter": False, "postmortem_published_at": None,
        "scheduled_auto_completed": True, "scheduled_auto_in_progress": True,
        "auto_transition_deliver_notifications_at_end": False,
        "auto_transition_deliver_notifications_at_start": False,
        "auto_transition_to_maintenance_state": True,
        "auto_transition_to_operational_state": True,
        "scheduled_remind_prior": False, "scheduled_reminded_at": None,
    }  # fmt: skip


def postmortem_json(facts: PostmortemFacts, *, preview_key: str | None = None) -> dict:
    return {
        "preview_key": preview_key, "body": facts.body,
        "body_updated_at": time(facts.body_updated_at), "body_draft": facts.body_draft,
        "body_draft_updated_at": time(facts.body_draft_updated_at),
        "published_at": time(facts.published_at),
        "notify_subscribers": facts.notified_subscribers, "notify_twitter": False,
        "custom_tweet": None, "created_at": time(facts.created_at),
        "updated_at": time(facts.body_draft_updated_at),
    }  # fmt: skip


# --- a postmortem's one Markdown body and our report's sections -----------------------------------

# Our post-incident report's sections, in the order of its page, with the headings a Statuspage
# postmortem body uses for them. A body's text before any of these headings is the summary.
SECTION_HEADINGS = {
    "summary": "Executive summary",
    "timeline": "Timeline",
    "people_affected": "People affected",
    "duration": "Duration",
    "transactions_lost": "Transactions lost",
    "root_cause": "Root cause",
    "root_cause_category": "Root cause category",
    "contributing_factors": "Contributing factors",
    "resolution": "Resolution",
    "went_well": "What went well",
    "went_wrong": "What went wrong",
    "lessons": "Lessons learned",
    "apology": "Apology",
}
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
_KEYS = {label.lower(): key for key, label in SECTION_HEADINGS.items()}
_KEYS.update({"summary": "summary", "lessons": "lessons", "impact": "people_affected"})


def sections_from_markdown(text: str) -> dict[str, str]:
    """A postmortem body as our report's sections: each heading named like one of them ("##
    Root cause") starts that section; other headings stay in the text of the section they are
    in. Text before the first such heading is the executive summary."""
    sections: dict[str, list[str]] = {}
    current = "summary"
    for line in (text or "").replace("\r\n", "\n").split("\n"):
        match = _HEADING.match(line.strip())
        key = _KEYS.get(match[1].strip().rstrip(":").lower()) if match else None
        if key is not None:
            current = key
            sections.setdefault(current, [])
            continue
        sections.setdefault(current, []).append(line)
    return {key: "\n".join(lines).strip() for key, lines in sections.items()
            if "\n".join(lines).strip() or key != "summary"}  # fmt: skip


def markdown_from_sections(sections: dict[str, str]) -> str:
    """Our report's sections as one Markdown body, each under its heading (empty ones left
    out)."""
    parts = []
    for key, label in SECTION_HEADINGS.items():
        value = (sections.get(key) or "").strip()
        if value:
            parts.append(f"## {label}\n\n{value}")
    return "\n\n".join(parts)
