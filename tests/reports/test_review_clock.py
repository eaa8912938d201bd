"""The review's deadlines on the clock: a reminder before the meeting, the review and the public
report are due; once one passes undone, the service owner is told, then the next position up the
ladder each further business day; nothing once it is done; each message once, however often the
job runs. Mail goes to a real SMTP server."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from statuspage import clock, jobs
from statuspage.extensions import db
from statuspage.incidents.deadlines import (
    BEFORE,
    OVERDUE,
    IncidentFacts,
    ReviewStep,
    review_deadlines,
    review_notices,
)
from statuspage.incidents.models import State
from statuspage.incidents.operations import assign
from statuspage.internal.models import Contact
from statuspage.policy import BusinessCalendar, build_policy
from statuspage.reports import meetings, reviews
from statuspage.reports.meetings import MeetingPlan
from statuspage.users.models import Role
from tests.factories import make_agency, make_incident, make_service, make_user

EASTERN = ZoneInfo("America/New_York")
POLICY = build_policy()
CALENDAR = BusinessCalendar(EASTERN, "US")


def eastern(*args) -> datetime:
    return datetime(*args, tzinfo=EASTERN).astimezone(UTC)


# Resolved on Monday 23 November 2026 at 11:33 AM EST (make_incident's third update).
RESOLVED = eastern(2026, 11, 23, 11, 33)


def p1_facts() -> IncidentFacts:
    return IncidentFacts(
        detected_at=RESOLVED - timedelta(hours=3),
        priorities=((RESOLVED - timedelta(hours=3), 1),),
        resolved_at=RESOLVED,
    )


def test_the_meeting_is_due_a_day_after_resolution_and_the_review_two():
    found = review_deadlines(p1_facts(), POLICY, CALENDAR)
    assert found[ReviewStep.MEETING] == eastern(2026, 11, 24, 11, 33)
    assert found[ReviewStep.REVIEW] == eastern(2026, 11, 25, 11, 33)
    # Five business days, skipping the weekend and Thanksgiving (Thursday 26 November).
    assert found[ReviewStep.REPORT] == eastern(2026, 12, 1, 11, 33)


def test_no_review_deadlines_when_the_policy_asks_for_no_review():
    facts = IncidentFacts(detected_at=RESOLVED, priorities=((RESOLVED, 4),), resolved_at=RESOLVED)
    assert review_deadlines(facts, POLICY, CALENDAR) == {}


def test_a_passed_deadline_climbs_the_ladder_a_business_day_at_a_time():
    # Friday 27 November: the meeting (due Tuesday) has gone to the owner, the CIO, the CDO.
    now = eastern(2026, 11, 27, 12, 0)
    notices = review_notices(p1_facts(), set(), now, POLICY, CALENDAR)
    meeting = [(n.stage, n.position, n.at) for n in notices if n.step is ReviewStep.MEETING]
    assert meeting == [
        (OVERDUE, "service_owner", eastern(2026, 11, 24, 11, 33)),
        (OVERDUE, "agency_cio", eastern(2026, 11, 25, 11, 33)),
        (OVERDUE, "cdo", eastern(2026, 11, 27, 11, 33)),  # Thanksgiving skipped
    ]
    # The public report is due on 1 December: reminded one business day before, not yet.
    assert not [n for n in notices if n.step is ReviewStep.REPORT]
    assert review_notices(p1_facts(), set(ReviewStep), now, POLICY, CALENDAR) == []


def test_the_reminder_comes_a_business_day_before():
    notices = review_notices(p1_facts(), set(), eastern(2026, 11, 23, 14, 30), POLICY, CALENDAR)
    assert [(n.step, n.stage) for n in notices] == [(ReviewStep.MEETING, BEFORE)]


# --- the job, with mail ------------------------------------------------------------------------


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port}


@pytest.fixture
def review(app, pinned_now):
    agency = make_agency("Department of Revenue", "revenue")
    people = {
        "lead": make_user(agency, Role.COMMUNICATIONS_LEAD, email="lead@revenue.gov"),
        "owner": make_user(agency, Role.SERVICE_OWNER, email="owner@revenue.gov"),
        "assignee": make_user(agency, Role.SERVICE_MANAGER, email="assignee@revenue.gov"),
        "facilitator": make_user(agency, Role.SERVICE_MANAGER, email="chair@revenue.gov"),
    }
    db.session.add(Contact(agency_id=agency.id, position="agency_cio", name="CIO",
                           email="cio@revenue.gov", created_at=clock.now()))  # fmt: skip
    incident = make_incident(
        [make_service(agency, "Tax filing", "tax-filing")], priority=1,
        detected_at=clock.now() - timedelta(hours=3),
        updates=(State.INVESTIGATING, State.IDENTIFIED, State.RESOLVED),
    )  # fmt: skip
    assert incident.resolved_at == RESOLVED
    assign(incident, people["assignee"], by=people["lead"])
    db.session.commit()
    report = reviews.start_review(incident, by=people["lead"])
    return {**people, "incident": incident, "report": report}


def mail_to(smtp) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for message in smtp.messages:
        found.setdefault(str(message["To"]), []).append(str(message["Subject"]))
    return found


def test_the_review_people_are_reminded_once_before_the_meeting_is_due(review, smtp):
    now = clock.now()  # Monday 2:30 PM EST: the meeting is due Tuesday 11:33 AM
    assert jobs.run_review_clock(now) == 2  # the assignee, and the writer (the agency's lead)
    assert jobs.run_review_clock(now) == 0
    jobs.run_dispatcher()
    sent = mail_to(smtp)
    assert set(sent) == {"assignee@revenue.gov", "lead@revenue.gov"}
    assert sent["lead@revenue.gov"] == [
        f"Due 24 Nov 2026, 11:33 AM EST: review meeting invitations for {review['incident'].ref}"
    ]


def test_an_undone_meeting_goes_to_the_service_owner_then_the_cio(review, smtp):
    tuesday = eastern(2026, 11, 24, 12, 0)
    jobs.run_review_clock(tuesday)
    with clock.pinned(tuesday):
        jobs.run_dispatcher()
    ref = review["incident"].ref
    assert f"OVERDUE: review meeting invitations for {ref}" in mail_to(smtp)["owner@revenue.gov"]
    assert "cio@revenue.gov" not in mail_to(smtp)
    smtp.messages.clear()
    wednesday = eastern(2026, 11, 25, 12, 0)
    jobs.run_review_clock(wednesday)
    jobs.run_review_clock(wednesday)
    with clock.pinned(wednesday):
        jobs.run_dispatcher()
    sent = mail_to(smtp)
    assert sent["cio@revenue.gov"] == [f"OVERDUE: review meeting invitations for {ref}"]
    assert f"OVERDUE: review meeting invitations for {ref}" not in sent.get("owner@revenue.gov", [])


def test_nothing_is_sent_for_a_meeting_scheduled_meanwhile_or_before(review, smtp):
    jobs.run_review_clock(clock.now())  # the reminder is queued...
    meetings.schedule(
        review["report"],
        MeetingPlan(eastern(2026, 11, 24, 10, 0), 60, "Room 4.12", review["facilitator"].id,
                    [review["owner"].id]),
        by=review["lead"],
    )  # ... and the meeting set before it went  # fmt: skip
    jobs.run_dispatcher()
    assert not [s for s in sum(mail_to(smtp).values(), []) if s.startswith("Due")]
    smtp.messages.clear()
    tuesday = eastern(2026, 11, 24, 12, 0)  # the meeting's deadline has passed: it was done
    jobs.run_review_clock(tuesday)
    with clock.pinned(tuesday):
        jobs.run_dispatcher()
    subjects = sum(mail_to(smtp).values(), [])
    assert not [s for s in subjects if "meeting" in s]
    assert f"Due 25 Nov 2026, 11:33 AM EST: post-incident review for {review['incident'].ref}" \
        in subjects  # the review itself is next  # fmt: skip


@pytest.mark.parametrize(
    ("status", "review_done"),
    [("draft", False), ("changes_requested", False), ("approved", True), ("published", True)],
)
def test_a_review_sent_back_for_changes_is_still_owed(app, status, review_done):
    from statuspage.reports.models import PostIncidentReport
    from statuspage.reports.review_clock import done_steps

    steps = done_steps(PostIncidentReport(status=status, revisions=[]))
    assert (ReviewStep.REVIEW in steps) is review_done
    assert ReviewStep.REPORT not in steps
