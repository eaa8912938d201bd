"""The review meeting: when, how long, where, who facilitates and who is invited; invitations as
internal messages with an iCalendar attachment (RFC 5546: METHOD:REQUEST, then METHOD:CANCEL).

The facilitator is never the incident commander (its assignee, its coordinator or the war room's
incident commander): a blameless review needs someone who did not run the response. The meeting
belongs within ``review_meeting_within`` of resolution; a later time needs a written reason, kept
in the audit log, because people are sometimes away and a late meeting beats no meeting.

The outbox row holds only its key; the invitation and its ``.ics`` are built when it is sent,
from the database, so a message queued before a reschedule never carries the old time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app, url_for
from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy import select

from .. import audit, clock
from ..characters import xml_safe
from ..extensions import db
from ..incidents import cadence
from ..incidents.deadlines import review_meeting_by
from ..incidents.models import Incident
from ..internal.messages import InternalMessage, Recipient, Skip, enqueue, renderer
from ..internal.models import WarRoomRole
from ..mail import Attachment
from ..policy import current_calendar, current_policy
from ..timefmt import format_absolute
from ..users.models import Membership, Role, User
from .models import PostIncidentReport
from .reviews import ReviewError

KIND = "review_meeting"
SCHEDULED = ("review_meeting_scheduled", "review_meeting_rescheduled")
REQUEST, CANCEL = "request", "cancel"
SCHEDULER = Role.COMMUNICATIONS_LEAD  # who may schedule: the review's writers and above
SHORTEST, LONGEST = 15, 480  # minutes a meeting may last
PLACE_LIMIT = 500
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class MeetingPlan:
    at: datetime  # aware UTC
    minutes: int
    place: str
    facilitator_id: int | None
    invitee_ids: list[int]
    late_reason: str = ""


# --- who ---------------------------------------------------------------------------------------


def staff(agency_id: int) -> list[User]:
    """The agency's people who can be invited: active members, not service accounts."""
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.agency_id == agency_id,
                User.active.is_(True),
                User.is_service_account.is_(False),
            )
            .order_by(User.name, User.id)
        )
    )


def commanders(incident: Incident) -> set[int]:
    """Who led the response: the assignee, a shared incident's coordinator, the war room's
    incident commander."""
    found = {incident.assignee_id, incident.coordinator_id}
    found |= {r.user_id for r in incident.roles if r.role == WarRoomRole.INCIDENT_COMMANDER.value}
    return {person for person in found if person is not None}


def suggested_invitees(incident: Incident) -> list[int]:
    """The assignee, the agency's service owners and its communications leads."""
    wanted = {Role.SERVICE_OWNER.value, Role.COMMUNICATIONS_LEAD.value}
    people = [incident.assignee_id] + list(
        db.session.scalars(
            select(Membership.user_id).where(
                Membership.agency_id == incident.agency_id, Membership.role.in_(wanted)
            )
        )
    )
    ids = {user.id for user in staff(incident.agency_id)}
    return [person for person in dict.fromkeys(people) if person in ids]


def invitees(report: PostIncidentReport) -> list[User]:
    ids = json.loads(report.meeting_invitees or "[]")
    return [user for user in (db.session.get(User, i) for i in ids) if user is not None]


def deadline(incident: Incident) -> datetime | None:
    """When the meeting is due, or None when the policy asks for no review."""
    facts = cadence.facts_for(incident, with_recurrence=True)
    return review_meeting_by(facts, current_policy(), current_calendar())


def late_reason(report: PostIncidentReport) -> str:
    """The reason written when the meeting was set after its deadline (kept in the audit log)."""
    entry = db.session.scalars(
        select(audit.AuditEntry)
        .where(
            audit.AuditEntry.incident_id == report.incident_id,
            audit.AuditEntry.action.in_(SCHEDULED),
        )
        .order_by(audit.AuditEntry.at.desc(), audit.AuditEntry.id.desc())
    ).first()
    return entry.reason if entry is not None else ""


def is_scheduled(report: PostIncidentReport) -> bool:
    """Set and invited; a cancelled meeting keeps its time (for the cancellation) but not
    ``meeting_invited_at``."""
    return report.meeting_at is not None and report.meeting_invited_at is not None


# --- the rules ---------------------------------------------------------------------------------


def clean_place(text: str) -> str:
    """A room or a call link: one line, no control characters; a link must be http(s) with a
    host (never javascript: or a file)."""
    place = xml_safe(_SPACES.sub(" ", text or "")).strip()
    if not place:
        raise ReviewError("Say where the meeting is: a room or a call link.", "place")
    if len(place) > PLACE_LIMIT:
        raise ReviewError(f"Keep the place under {PLACE_LIMIT} characters.", "place")
    first = place.split(" ", 1)[0]
    if "://" in first and place_link(place) is None:
        raise ReviewError("A call link starts with https:// (or http://) and a host name.",
                          "place")  # fmt: skip
    return place


def place_link(place: str) -> str | None:
    """The place's link when it is one, for the page to show as a link."""
    first = place.split(" ", 1)[0]
    parts = urlsplit(first)
    return first if parts.scheme in ("http", "https") and parts.netloc else None


def check(incident: Incident, plan: MeetingPlan, now: datetime) -> str:
    """The plan's clean place, or a ReviewError naming the field and the rule."""
    if plan.at <= now:
        raise ReviewError("Choose a time in the future.", "at")
    if not SHORTEST <= plan.minutes <= LONGEST:
        raise ReviewError(f"A meeting lasts {SHORTEST} to {LONGEST} minutes.", "minutes")
    place = clean_place(plan.place)
    people = {user.id: user for user in staff(incident.agency_id)}
    if plan.facilitator_id not in people:
        raise ReviewError(f"Choose a facilitator from {incident.agency.name}'s staff.",
                          "facilitator")  # fmt: skip
    if plan.facilitator_id in commanders(incident):
        raise ReviewError(
            f"{people[plan.facilitator_id].name} led the response (assignee, coordinator or "
            "incident commander); the policy asks for a facilitator who did not: choose "
            "someone else.",
            "facilitator",
        )
    if not plan.invitee_ids:
        raise ReviewError("Invite at least one person.", "invitees")
    if any(person not in people for person in plan.invitee_ids):
        raise ReviewError(f"Invite people from {incident.agency.name}'s staff.", "invitees")
    due = deadline(incident)
    if due is not None and plan.at > due and not plan.late_reason.strip():
        raise ReviewError(
            f"The policy asks for the meeting by {format_absolute(due)} "
            f"({current_policy().rules.review_meeting_within} after resolution). Say why it "
            "cannot be held by then.",
            "late_reason",
        )
    return place


# --- scheduling, rescheduling, cancelling ------------------------------------------------------


def schedule(report: PostIncidentReport, plan: MeetingPlan, *, by: User) -> bool:
    """Set the meeting and send the invitations; a change to a meeting already set sends them
    again with the next SEQUENCE (and a cancellation to anyone no longer invited). Returns True
    when it was a reschedule."""
    incident = report.incident
    now = clock.now()
    place = check(incident, plan, now)
    invited = list(dict.fromkeys([*plan.invitee_ids, plan.facilitator_id]))
    before = json.loads(report.meeting_invitees or "[]") if is_scheduled(report) else []
    rescheduled = report.meeting_at is not None  # after a cancellation too: calendars want more
    if rescheduled:
        report.meeting_sequence += 1
    report.meeting_at = plan.at
    report.meeting_minutes = plan.minutes
    report.meeting_place = place
    report.facilitator_id = plan.facilitator_id
    report.meeting_invitees = json.dumps(invited)
    report.meeting_invited_at = now
    audit.record(
        "review_meeting_rescheduled" if rescheduled else "review_meeting_scheduled",
        actor=by,
        agency_id=incident.agency_id,
        incident=incident,
        reason=plan.late_reason.strip(),
        at=plan.at.isoformat(),
        minutes=plan.minutes,
        sequence=report.meeting_sequence,
    )
    db.session.flush()
    _send(report, invited, REQUEST)
    dropped = [person for person in before if person not in invited]
    if dropped:
        _send(report, dropped, CANCEL)
    db.session.commit()
    return rescheduled


def cancel(report: PostIncidentReport, *, by: User) -> None:
    """Call the meeting off: everyone invited gets a cancellation (METHOD:CANCEL)."""
    if not is_scheduled(report):
        raise ReviewError("No meeting is scheduled.")
    report.meeting_sequence += 1
    invited = json.loads(report.meeting_invitees or "[]")
    audit.record("review_meeting_cancelled", actor=by, agency_id=report.incident.agency_id,
                 incident=report.incident, sequence=report.meeting_sequence)  # fmt: skip
    report.meeting_invited_at = None  # the time stays, for the cancellation to name
    db.session.flush()
    _send(report, invited, CANCEL)
    db.session.commit()


def _send(report: PostIncidentReport, people: list[int], method: str) -> int:
    users = [db.session.get(User, person) for person in people]
    return enqueue(
        [Recipient(u.name, u.email) for u in users if u is not None and u.active],
        KIND,
        f"{report.id}:{report.meeting_sequence}:{method}",
        incident_id=report.incident_id,
    )


# --- the invitation ----------------------------------------------------------------------------


def uid(report: PostIncidentReport) -> str:
    """The same for every invitation of a review, so calendars update one event."""
    host = urlsplit(current_app.config["SITE_URL"]).hostname or "statuspage"
    return f"review-meeting-{report.id}@{host}"


def _address(user: User, role: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{user.email}")
    address.params["cn"] = vText(user.name)
    address.params["role"] = vText(role)
    return address


def ics(report: PostIncidentReport, method: str, at: datetime, minutes: int) -> str:
    """The iCalendar text of the invitation (or its cancellation), as the database says now."""
    incident = report.incident
    calendar = Calendar()
    calendar.add("prodid", f"-//{current_app.config['SITE_NAME']}//Review meeting//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method.upper())
    event = Event()
    event.add("uid", uid(report))
    event.add("sequence", report.meeting_sequence)
    event.add("dtstamp", clock.now())
    event.add("dtstart", at)
    event.add("dtend", at + timedelta(minutes=minutes))
    event.add("summary", xml_safe(f"Post-incident review: {incident.title} ({incident.ref})"))
    event.add("location", report.meeting_place)
    event.add("description", xml_safe(f"The review of {incident.ref}. The review page: "
                                      f"{review_link(incident)}"))  # fmt: skip
    event.add("status", "CANCELLED" if method == CANCEL else "CONFIRMED")
    if report.facilitator is not None:
        event["organizer"] = _address(report.facilitator, "CHAIR")
    for person in invitees(report):
        role = "CHAIR" if person.id == report.facilitator_id else "REQ-PARTICIPANT"
        attendee = _address(person, role)
        attendee.params["partstat"] = vText("NEEDS-ACTION")
        attendee.params["rsvp"] = vText("TRUE")
        event.add("attendee", attendee, encode=0)
    calendar.add_component(event)
    return calendar.to_ical().decode()


def review_link(incident: Incident) -> str:
    base = current_app.config["SITE_URL"].rstrip("/")
    return base + url_for("admin.review", ref=incident.ref)


@renderer(KIND)
def render(detail: str, incident_id: int | None) -> InternalMessage:
    report_id, sequence, method = detail.split(":")
    report = db.session.get(PostIncidentReport, int(report_id))
    if report is None:
        raise Skip("the review no longer exists")
    if int(sequence) != report.meeting_sequence:
        raise Skip("a newer invitation replaces this one")
    incident = report.incident
    title = f"{incident.title} ({incident.ref})"
    at, minutes = report.meeting_at, report.meeting_minutes
    if method == CANCEL:
        for_you = " for you" if is_scheduled(report) else ""  # still on, without this person
        text = (
            f"The post-incident review meeting for {incident.ref} on {format_absolute(at)} is "
            f"cancelled{for_you}. The attachment removes it from your calendar.\n\n"
            f"Incident: {incident.title}"
        )
        subject = f"Cancelled: review meeting, {title}"
    else:
        if not is_scheduled(report):
            raise Skip("the meeting was cancelled before this invitation went")
        facilitator = report.facilitator.name if report.facilitator else "to be named"
        names = ", ".join(person.name for person in invitees(report))
        text = (
            f"You are invited to the post-incident review meeting for {incident.ref}"
            f"{' (the time or place changed)' if report.meeting_sequence else ''}.\n\n"
            f"When: {format_absolute(at)}, {report.meeting_minutes} minutes\n"
            f"Where: {report.meeting_place}\n"
            f"Facilitator: {facilitator}\n"
            f"Invited: {names}\n\n"
            "The review is blameless: it looks at what happened and how to prevent it, not at "
            f"who is to blame. Read the draft before the meeting: {review_link(incident)}"
        )
        subject = f"Review meeting {format_absolute(at)}: {title}"
    attachment = Attachment(
        "invite.ics" if method == REQUEST else "cancel.ics",
        "text/calendar",
        ics(report, method, at, minutes),
        (("method", method.upper()),),
    )
    return InternalMessage(subject, text, incident.id, attachments=(attachment,))

