"""The review as a process, walked through the pages like a person: the meeting and its calendar
invitations (sent to a real SMTP server), the facilitator rule, writing, a request for changes,
the approver's preview (the public page's own body) and publication."""

import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import icalendar
import pytest
from sqlalchemy import select

from statuspage import clock, jobs
from statuspage.communications.models import JargonTerm
from statuspage.extensions import db
from statuspage.incidents.models import State
from statuspage.incidents.operations import assign
from statuspage.reports import reviews
from statuspage.reports.models import PostIncidentReport
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_incident, make_service, make_user
from tests.reports.test_reviews import COMPLETE, review_path, switch

# NOW is Monday 23 November 2026, 2:30 PM EST; the incident is resolved at 11:33 AM EST, so the
# meeting is due by Tuesday 11:33 AM EST (24 hours).
TUESDAY_10AM = "2026-11-24T10:00"  # 15:00 UTC
TUESDAY_1030AM = "2026-11-24T10:30"


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port,
            "SITE_URL": "https://status.example.gov"}  # fmt: skip


@pytest.fixture
def team(app, pinned_now):
    agency = make_agency("Department of Revenue", "revenue")
    other = make_agency("Department of Roads", "roads")
    people = {
        "agency": agency,
        "service": make_service(agency, "Tax filing", "tax-filing"),
        "lead": make_user(agency, Role.COMMUNICATIONS_LEAD),
        "owner": make_user(agency, Role.SERVICE_OWNER),
        "commander": make_user(agency, Role.SERVICE_MANAGER),
        "facilitator": make_user(agency, Role.SERVICE_MANAGER),
        "outsider": make_user(other, Role.SERVICE_OWNER),
    }
    incident = make_incident(
        [people["service"]], priority=1, title="Tax filing unavailable",
        detected_at=clock.now() - timedelta(hours=3),
        updates=(State.INVESTIGATING, State.IDENTIFIED, State.RESOLVED),
    )  # fmt: skip
    assign(incident, people["commander"], by=people["lead"])
    db.session.commit()
    people["incident"] = incident
    return people


def meeting(team, at: str, **changes) -> dict:
    return {
        "at": at,
        "minutes": "60",
        "place": "https://meet.example.gov/review-42",
        "facilitator": str(team["facilitator"].id),
        "invitees": [str(team[name].id) for name in ("commander", "owner", "lead")],
        "late_reason": "",
        **changes,
    }


def sent_to(smtp, user) -> list[EmailMessage]:
    return [m for m in smtp.messages if user.email in str(m["To"])]


def invitation(message: EmailMessage) -> icalendar.Calendar:
    """The .ics attached to a message, parsed back."""
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_filename().endswith(".ics")
    return icalendar.Calendar.from_ical(part.get_content())


def event_of(calendar: icalendar.Calendar) -> icalendar.Event:
    (event,) = calendar.walk("VEVENT")
    return event


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def preview_body(page: str) -> str:
    opening = '<div class="report-preview" id="report-preview">\n'
    match = re.search(re.escape(opening) + r"(.*?)\n</div>\n</section>", page, re.S)
    assert match, "no preview on the page"
    return match.group(1)


def test_a_review_goes_from_meeting_invitation_to_publication_with_changes_on_the_way(
    client, team, smtp
):
    incident = team["incident"]
    login(client, team["lead"])
    client.post(review_path(incident, "start"))

    # The page says when the meeting is due and suggests who to invite.
    page = client.get(review_path(incident)).text
    assert "The policy asks for the review meeting within 24 hours of resolution: by" in page
    assert "24 Nov 2026, 11:33 AM EST" in page
    for name in ("commander", "owner", "lead"):
        assert f'value="{team[name].id}" id="invitees-{team[name].id}" checked' in page

    # The incident commander (the assignee) may not facilitate; what was typed is kept.
    refused = client.post(
        review_path(incident, "meeting"),
        data=meeting(team, TUESDAY_10AM, facilitator=str(team["commander"].id),
                     place="Room 4.12"),
    )  # fmt: skip
    assert refused.status_code == 400
    assert (
        f"{team['commander'].name} led the response (assignee, coordinator or incident "
        "commander); the policy asks for a facilitator who did not" in refused.text
    )
    assert 'value="Room 4.12"' in refused.text

    # Scheduled: everyone invited gets an invitation with an .ics.
    response = client.post(review_path(incident, "meeting"), data=meeting(team, TUESDAY_10AM))
    assert response.status_code == 302
    jobs.run_dispatcher()
    (to_owner,) = sent_to(smtp, team["owner"])
    first = invitation(to_owner)
    event = event_of(first)
    assert str(first["METHOD"]) == "REQUEST"
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    assert event["LOCATION"] == "https://meet.example.gov/review-42"
    attendees = {str(a).lower() for a in event["ATTENDEE"]}
    assert f"mailto:{team['owner'].email}" in attendees
    assert f"mailto:{team['facilitator'].email}" in attendees
    assert str(event["ORGANIZER"]).lower() == f"mailto:{team['facilitator'].email}"
    assert "Tax filing unavailable" in str(event["SUMMARY"])
    assert len(sent_to(smtp, team["facilitator"])) == 1

    # Moved by half an hour: the same event, the next SEQUENCE, the new time.
    smtp.messages.clear()
    client.post(review_path(incident, "meeting"), data=meeting(team, TUESDAY_1030AM))
    jobs.run_dispatcher()
    moved = event_of(invitation(sent_to(smtp, team["owner"])[0]))
    assert moved["UID"] == event["UID"]
    assert moved["SEQUENCE"] == 1
    assert moved.decoded("DTSTART") == datetime(2026, 11, 24, 15, 30, tzinfo=UTC)

    # Written, then sent back with a note that reaches the writer by email and on the page.
    client.post(review_path(incident), data={**COMPLETE, "people_affected": "Many people."})
    switch(client, team["owner"])
    approval_page = client.get(review_path(incident, "approve"))
    assert approval_page.status_code == 200
    assert "Plain-language check" in approval_page.text
    empty = client.post(review_path(incident, "changes"), data={"note": "  "})
    assert empty.status_code == 400 and "Say what needs to change." in empty.text
    smtp.messages.clear()
    note = "Say how many people could not file: a number, not “many”."
    client.post(review_path(incident, "changes"), data={"note": note})
    jobs.run_dispatcher()
    (to_writer,) = [m for m in sent_to(smtp, team["lead"]) if "Changes asked for" in m["Subject"]]
    assert note in text_of(to_writer)
    switch(client, team["lead"])
    page = client.get(review_path(incident)).text
    assert "Changes asked for" in page and "a number, not “many”" in page
    assert "Changes requested" in page

    # Fixed: the note goes, the report waits for approval again.
    client.post(review_path(incident), data=COMPLETE)
    page = client.get(review_path(incident)).text
    assert "Changes asked for" not in page and "Status</dt><dd>Draft" in page

    # Approved on the preview page; the writer is told.
    switch(client, team["owner"])
    approval_page = client.get(review_path(incident, "approve")).text
    preview = preview_body(approval_page)
    assert "About 3,000 people could not file." in preview
    smtp.messages.clear()
    assert client.post(review_path(incident, "approve")).status_code == 302
    jobs.run_dispatcher()
    assert any("Review approved" in m["Subject"] for m in sent_to(smtp, team["lead"]))

    # Published (by someone who did not write it): the public report's body is the preview the
    # approver read.
    assert client.post(review_path(incident, "publish")).status_code == 302
    public = client.get(f"/incidents/{incident.ref}/report").text
    assert re.sub(r"<(/?)h3>", r"<\1h2>", preview) in public


def test_cancelling_the_meeting_sends_a_cancellation_for_the_same_event(client, team, smtp):
    incident = team["incident"]
    login(client, team["lead"])
    client.post(review_path(incident, "start"))
    client.post(review_path(incident, "meeting"), data=meeting(team, TUESDAY_10AM))
    client.post(review_path(incident, "meeting/cancel"))
    jobs.run_dispatcher()
    to_owner = sent_to(smtp, team["owner"])
    # The invitation queued before the cancellation is not sent: only the cancellation goes.
    (cancelled,) = [invitation(m) for m in to_owner]
    assert str(cancelled["METHOD"]) == "CANCEL"
    assert event_of(cancelled)["SEQUENCE"] == 1
    assert "was cancelled" in client.get(review_path(incident)).text


def test_a_meeting_later_than_the_policy_asks_needs_a_reason_which_is_kept(client, team):
    incident = team["incident"]
    login(client, team["lead"])
    client.post(review_path(incident, "start"))
    late = meeting(team, "2026-11-26T10:00")
    refused = client.post(review_path(incident, "meeting"), data=late)
    assert refused.status_code == 400
    assert "Say why it cannot be held by then." in refused.text
    reason = "The service owner is at the budget hearing until Wednesday."
    response = client.post(review_path(incident, "meeting"), data={**late, "late_reason": reason})
    assert response.status_code == 302
    assert reason in client.get(review_path(incident)).text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"place": "javascript://alert(1)"}, "A call link starts with https://"),
        ({"place": "Room\x07 4"}, "Remove the control character"),
        ({"at": "9999-12-31T10:00"}, "Enter a date and time between 2000 and 2099."),
        ({"at": "2026-11-20T10:00"}, "Choose a time in the future."),
        ({"minutes": "5000"}, "A meeting lasts 15 to 480 minutes."),
        ({"invitees": []}, "Invite at least one person."),
    ],
)
def test_a_bad_meeting_is_refused_on_its_field(client, team, changes, message):
    incident = team["incident"]
    login(client, team["lead"])
    client.post(review_path(incident, "start"))
    data = {**meeting(team, TUESDAY_10AM), **changes}
    response = client.post(review_path(incident, "meeting"), data=data)
    assert response.status_code == 400
    assert message in response.text


def test_people_of_another_agency_cannot_be_invited_or_facilitate(client, team):
    incident = team["incident"]
    login(client, team["lead"])
    client.post(review_path(incident, "start"))
    outsider = str(team["outsider"].id)
    as_guest = client.post(review_path(incident, "meeting"),
                           data=meeting(team, TUESDAY_10AM, invitees=[outsider]))  # fmt: skip
    assert as_guest.status_code == 400
    assert "Invite people from the agency&#39;s staff." in as_guest.text
    as_chair = client.post(review_path(incident, "meeting"),
                           data=meeting(team, TUESDAY_10AM, facilitator=outsider))  # fmt: skip
    assert as_chair.status_code == 400
    assert "Choose a facilitator from Department of Revenue&#39;s staff." in as_chair.text


def test_the_approval_page_flags_jargon_in_the_public_text(client, team):
    incident = team["incident"]
    db.session.add(JargonTerm(term="failover", plainer="switching to a spare"))
    db.session.commit()
    login(client, team["lead"])
    client.post(review_path(incident, "start"))
    client.post(review_path(incident), data={**COMPLETE, "resolution": "A failover fixed it."})
    switch(client, team["owner"])
    page = client.get(review_path(incident, "approve")).text
    assert "“failover” is jargon: try “switching to a spare”." in page
    assert "Reading grade" in page


def test_the_writer_cannot_approve_or_ask_for_changes_to_their_own_report(client, team):
    incident = team["incident"]
    owner = team["owner"]
    login(client, owner)
    client.post(review_path(incident, "start"))
    client.post(review_path(incident), data=COMPLETE)
    client.post(review_path(incident, "changes"), data={"note": "Fix it."})
    report = db.session.scalars(select(PostIncidentReport)).one()
    db.session.refresh(report)
    assert report.status == "draft"
    response = client.post(review_path(incident, "changes"), data={"note": "Fix it."})
    assert "who did not write this report can ask for changes to it" in response.text


def test_the_demo_reports_pass_the_plain_language_check(app):
    from statuspage.communications.templates import jargon_list
    from statuspage.demo import load_demo_data

    load_demo_data()
    published = [r for r in db.session.scalars(select(PostIncidentReport)) if r.revisions]
    assert published
    for report in published:
        advice = reviews.plain_language(report, jargon_list())
        assert advice.is_clear, (report.incident.title, advice)
