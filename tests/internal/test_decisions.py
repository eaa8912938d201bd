"""Decisions reach the deciders: each approval request is emailed to exactly the people who may
decide it (never the requester), each decision to the requester, an assignment to the assignee;
sent through the outbox like citizen email, once."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from statuspage import clock, jobs
from statuspage.extensions import db
from statuspage.incidents.models import Approval, State
from statuspage.incidents.operations import (
    assign,
    change_priority,
    close_incident,
    decide_approval,
    publish_update,
)
from statuspage.internal import decisions
from statuspage.reports import publishing
from statuspage.subscriptions import outbox
from statuspage.subscriptions.models import Notification
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_incident, make_service, make_user

SITE = "https://status.example.gov"


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "SITE_URL": SITE}


@pytest.fixture
def team(app, pinned_now):
    agency = make_agency("Department of Revenue", "revenue")
    other = make_agency("Department of Roads", "roads")
    return {
        "agency": agency,
        "service": make_service(agency, "Tax filing", "tax-filing"),
        "lead": make_user(agency, Role.COMMUNICATIONS_LEAD, email="lead@revenue.gov"),
        "second_lead": make_user(agency, Role.COMMUNICATIONS_LEAD, email="lead2@revenue.gov"),
        "viewer": make_user(agency, Role.VIEWER, email="viewer@revenue.gov"),
        "manager": make_user(agency, Role.SERVICE_MANAGER, email="manager@revenue.gov"),
        "owner": make_user(agency, Role.SERVICE_OWNER, email="owner@revenue.gov"),
        "other_owner": make_user(other, Role.SERVICE_OWNER, email="owner@roads.gov"),
        "admin": make_user(site_admin=True, email="admin@digital.gov"),
    }


def sent(smtp, containing: str) -> list[str]:
    """Who received a message whose subject contains these words, sorted."""
    return sorted(str(m["To"]) for m in smtp.messages if containing in str(m["Subject"]))


def body(smtp, to: str, containing: str) -> str:
    [message] = [m for m in smtp.messages
                 if str(m["To"]) == to and containing in str(m["Subject"])]  # fmt: skip
    return message.get_body(("plain",)).get_content()


def test_a_request_to_lower_the_priority_reaches_exactly_the_deciders(team, smtp):
    incident = make_incident([team["service"]], priority=1, by=team["lead"])
    outcome = change_priority(incident, to=3, reason="Only one office is affected",
                              by=team["lead"])  # fmt: skip
    assert outcome == "requested"
    assert outbox.dispatch().sent == 2

    # A service manager decides, or anyone higher in the agency; not the lead who asked, not
    # another agency, not a site administrator while the agency has deciders.
    assert sent(smtp, "Approval needed") == ["manager@revenue.gov", "owner@revenue.gov"]
    [subject] = set(smtp.subjects())
    assert subject == f"[P1] Approval needed: lower the priority of {incident.ref} to P3"
    text = body(smtp, "manager@revenue.gov", "Approval needed")
    assert f"{team['lead'].name} asks to lower the priority of {incident.ref} from P1 to P3." in text
    assert "Why: Only one office is affected" in text
    assert f"{SITE}/admin/incidents/{incident.ref}#approvals-heading" in text
    assert "Clock: " in text  # the incident's clock, as in every internal message
    assert f"{SITE}/acknowledge/" in text


def test_a_decision_reaches_the_requester_with_the_note(team, smtp):
    incident = make_incident([team["service"]], priority=1, by=team["lead"])
    change_priority(incident, to=3, reason="Only one office is affected", by=team["lead"])
    outbox.dispatch()
    smtp.messages.clear()
    approval = db.session.scalars(select(Approval)).one()
    decide_approval(approval, approve=False, by=team["manager"], note="Calls are still rising")
    outbox.dispatch()

    assert sent(smtp, "") == ["lead@revenue.gov"]
    assert smtp.subjects() == [f"[P1] Refused: lower the priority of {incident.ref} to P3"]
    text = body(smtp, "lead@revenue.gov", "Refused")
    assert f"{team['manager'].name} refused your request" in text
    assert "Why refused: Calls are still rising" in text
    assert "Your reason: Only one office is affected" in text


def test_an_approval_reaches_the_requester(team, smtp):
    incident = make_incident([team["service"]], priority=1, by=team["lead"])
    change_priority(incident, to=3, reason="Contained", by=team["lead"])
    approval = db.session.scalars(select(Approval)).one()
    decide_approval(approval, approve=True, by=team["owner"], note="Agreed")
    run = outbox.dispatch()

    # The request went out after it was decided: not needed any more, so skipped.
    assert (run.sent, run.skipped) == (1, 2)
    assert smtp.subjects() == [f"[P3] Approved: lower the priority of {incident.ref} to P3"]
    assert sent(smtp, "Approved") == ["lead@revenue.gov"]
    assert "Note: Agreed" in body(smtp, "lead@revenue.gov", "Approved")


def test_a_closure_waiting_for_approval_reaches_the_service_owners_only(team, smtp):
    incident = make_incident([team["service"]], priority=1, by=team["lead"],
                             updates=(State.INVESTIGATING, State.RESOLVED))  # fmt: skip
    assert close_incident(incident, by=team["manager"]) == "requested"
    outbox.dispatch()
    # A P1 closes with a service owner's approval: the manager who asked is not one.
    assert sent(smtp, "Approval needed") == ["owner@revenue.gov"]
    assert smtp.subjects() == [f"[P1] Approval needed: close {incident.ref}"]
    assert f"{team['manager'].name} asks to close {incident.ref}, resolved" in body(
        smtp, "owner@revenue.gov", "Approval needed"
    )

    decide_approval(db.session.scalars(select(Approval)).one(), approve=True, by=team["owner"])
    outbox.dispatch()
    assert sent(smtp, "Approved: close") == ["manager@revenue.gov"]


def test_the_24_hour_rule_asks_the_deciders_to_close(team, smtp):
    incident = make_incident([team["service"]], priority=2, by=team["lead"],
                             detected_at=clock.now() - timedelta(hours=30),
                             updates=(State.INVESTIGATING, State.RESOLVED))  # fmt: skip
    assert jobs.run_auto_close(clock.now()) == {"closed": 0, "requested": 1, "blocked": 0}
    outbox.dispatch()
    # A P2 closes with a service manager's approval (or anyone higher).
    assert sent(smtp, "Approval needed") == ["manager@revenue.gov", "owner@revenue.gov"]
    text = body(smtp, "owner@revenue.gov", "Approval needed")
    assert f"The 24-hour rule asks to close {incident.ref}" in text
    assert "Why: Resolved more than 24 hours ago" in text
    # Nobody asked, so nobody is told of the decision.
    smtp.messages.clear()
    decide_approval(db.session.scalars(select(Approval)).one(), approve=True, by=team["owner"])
    assert outbox.dispatch().sent == 0


def test_nobody_is_asked_when_the_requester_may_decide(team, smtp):
    incident = make_incident([team["service"]], priority=1, by=team["lead"])
    assert change_priority(incident, to=2, reason="Contained", by=team["manager"]) == "lowered"
    assert outbox.dispatch().claimed == 0


def test_the_site_administrators_decide_when_the_agency_has_nobody_else(app, pinned_now, smtp):
    agency = make_agency()
    service = make_service(agency)
    lead = make_user(agency, Role.COMMUNICATIONS_LEAD)
    make_user(site_admin=True, email="admin@digital.gov")
    incident = make_incident([service], priority=1, by=lead)
    change_priority(incident, to=3, reason="Contained", by=lead)
    outbox.dispatch()
    assert sent(smtp, "Approval needed") == ["admin@digital.gov"]


def test_assignment_reaches_the_new_assignee_only(team, smtp):
    incident = make_incident([team["service"]], priority=2, by=team["lead"])
    assign(incident, team["second_lead"], by=team["lead"])
    outbox.dispatch()
    assert sent(smtp, "") == ["lead2@revenue.gov"]
    assert smtp.subjects() == [f"[P2] Assigned to you: {incident.title} ({incident.ref})"]
    text = body(smtp, "lead2@revenue.gov", "Assigned")
    assert f"{team['lead'].name} assigned {incident.ref} to you" in text
    assert f"{SITE}/admin/incidents/{incident.ref}" in text

    assign(incident, team["lead"], by=team["lead"])  # taking it yourself tells nobody
    assert outbox.dispatch().claimed == 0


def test_an_assignment_changed_before_it_went_is_skipped(team, smtp):
    incident = make_incident([team["service"]], priority=2, by=team["lead"])
    assign(incident, team["second_lead"], by=team["lead"])
    assign(incident, team["manager"], by=team["lead"])
    run = outbox.dispatch()
    assert (run.sent, run.skipped) == (1, 1)
    assert sent(smtp, "Assigned") == ["manager@revenue.gov"]


COMPLETE_REVIEW = {
    "summary": "Tax filing was down for 40 minutes on Monday morning.",
    "timeline": "2026-11-23 09:00 EST  Monitoring alerted the team.\n"
    "2026-11-23 09:40 EST  Service restored.",
    "people_affected": "About 3,000 people could not file.",
    "duration": "40 min",
    "root_cause": "A certificate expired on the filing server.",
    "root_cause_category": "configuration",
    "resolution": "We renewed the certificate.",
    "lessons": "Certificate expiry was not monitored.",
    "apology": "We are sorry for the trouble this caused.",
    "contributing_factors": "Nobody watched the certificate's expiry date.",
    "why_1": "The certificate expired.",
    "went_well": "The team found the cause within minutes.",
    "went_wrong": "The first alert went to an inbox nobody watched.",
}


def test_a_review_waiting_for_approval_reaches_the_service_owners_once(client, team, smtp):
    incident = make_incident([team["service"]], priority=1, by=team["lead"],
                             detected_at=clock.now() - timedelta(hours=3),
                             updates=(State.INVESTIGATING, State.RESOLVED))  # fmt: skip
    review = f"/admin/incidents/{incident.ref}/review"
    login(client, team["lead"])
    client.post(review + "/start")
    client.post(review, data={**COMPLETE_REVIEW, "lessons": ""})  # not complete: nobody asked
    assert outbox.dispatch().claimed == 0
    client.post(review, data=COMPLETE_REVIEW)
    client.post(review, data={**COMPLETE_REVIEW, "duration": "41 min"})  # saved again: once
    outbox.dispatch()
    assert sent(smtp, "Review waiting") == ["owner@revenue.gov"]
    text = body(smtp, "owner@revenue.gov", "Review waiting")
    assert f"{team['lead'].name} has written the post-incident review of {incident.ref}" in text
    assert "Summary: Tax filing was down for 40 minutes on Monday morning." in text
    assert f"{SITE}/admin/incidents/{incident.ref}/review" in text

    client.post("/admin/logout")
    login(client, team["owner"])
    assert client.post(review + "/approve").status_code == 302
    outbox.dispatch()
    assert sent(smtp, "Review approved") == ["lead@revenue.gov"]
    assert "It can now be published." in body(smtp, "lead@revenue.gov", "Review approved")

    # Changed after approval: a new round, so the owner is asked again.
    client.post("/admin/logout")
    login(client, team["lead"])
    client.post(review, data={**COMPLETE_REVIEW, "duration": "42 min"})
    outbox.dispatch()
    assert sent(smtp, "Review waiting") == ["owner@revenue.gov"] * 2


def test_a_monthly_draft_reaches_those_who_publish_it(team, smtp):
    october = date(2026, 10, 1)
    drafted = publishing.draft_last_month(clock.now())
    assert {report.month for report in drafted} == {october}
    publishing.draft_last_month(clock.now())  # again: nothing new, nobody asked twice
    outbox.dispatch()
    # Each agency's owners for its report; the site administrators for the whole site's.
    assert sent(smtp, "Monthly report waiting") == [
        "admin@digital.gov", "owner@revenue.gov", "owner@roads.gov",
    ]  # fmt: skip
    text = body(smtp, "owner@revenue.gov", "Monthly report waiting")
    assert "The October 2026 report for Department of Revenue is drafted by the monthly job" in text
    revenue = next(r for r in drafted if r.agency_id == team["agency"].id)
    assert f"{SITE}/admin/reports/{revenue.id}" in text
    assert "Monthly report waiting to be published: Department of Revenue, October 2026" in (
        smtp.subjects()
    )
    # Published by an owner: the job asked, so nobody is told; a request still waiting is
    # not sent once the report is out.
    publishing.publish(revenue, "A quiet month.", by=team["owner"])
    assert outbox.dispatch().claimed == 0


def test_a_monthly_report_published_tells_whoever_prepared_it(team, smtp):
    second_owner = make_user(team["agency"], Role.SERVICE_OWNER, email="owner2@revenue.gov")
    report = publishing.prepare_draft(date(2026, 10, 1), team["agency"], by=team["owner"])
    outbox.dispatch()
    assert sent(smtp, "Monthly report waiting") == ["owner2@revenue.gov"]
    publishing.publish(report, "A quiet month.", by=second_owner)
    outbox.dispatch()
    assert sent(smtp, "Monthly report published") == ["owner@revenue.gov"]
    text = body(smtp, "owner@revenue.gov", "Monthly report published")
    assert f"{second_owner.name} published the October 2026 report for Department of Revenue" in text
    assert "Commentary: A quiet month." in text


def test_a_request_written_twice_is_one_message_and_is_sent_once(team, smtp):
    incident = make_incident([team["service"]], priority=1, by=team["lead"])
    change_priority(incident, to=3, reason="Contained", by=team["lead"])
    approval = db.session.scalars(select(Approval)).one()
    # A retried request writes nothing new: the outbox's key is the message and the person.
    assert decisions.approval_requested(approval, Role.SERVICE_MANAGER) == 0
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 2
    assert outbox.dispatch().sent == 2
    assert outbox.dispatch().claimed == 0
    assert len(smtp.messages) == 2


def test_a_failed_internal_message_is_retried_by_the_dispatcher_and_from_the_outbox_page(
    client, team, smtp
):
    incident = make_incident([team["service"]], priority=2, by=team["lead"])
    assign(incident, team["second_lead"], by=team["lead"])
    smtp.refuse_with = "550 mailbox unavailable"
    for attempt in range(outbox.MAX_ATTEMPTS):
        outbox.dispatch(clock.now() + timedelta(hours=attempt + 1))
    row = db.session.scalars(select(Notification)).one()
    assert row.status == "failed" and "550" in row.last_error
    smtp.refuse_with = None

    login(client, team["admin"])
    page = client.get("/admin/outbox").text
    assert "lead2@revenue.gov (staff)" in page
    assert f"Internal: assigned, <a href=\"/admin/incidents/{incident.ref}\">{incident.ref}</a>" in page
    client.post(f"/admin/outbox/{row.id}/retry")
    assert outbox.dispatch().sent == 1
    assert outbox.dispatch().claimed == 0
    assert sent(smtp, "Assigned") == ["lead2@revenue.gov"]


def test_an_update_published_sends_no_internal_message(team, smtp):
    incident = make_incident([team["service"]], priority=2, by=team["lead"], updates=())
    publish_update(incident, status=State.INVESTIGATING, body="Down.", by=team["lead"])
    assert outbox.dispatch().claimed == 0
