"""Post-incident reviews end to end: the prefilled draft, refusals that keep what was typed, the
service owner's approval, publication to the incident page, the feeds and subscribers, and
corrections as new revisions beside a published report that never changes."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from statuspage import clock
from statuspage.extensions import db
from statuspage.incidents.models import State
from statuspage.reports.models import PublishedIsFrozen, ReportRevision
from statuspage.subscriptions import outbox
from statuspage.subscriptions.models import Subscriber
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_incident, make_service, make_user

COMPLETE = {
    "summary": "Tax filing was down for 40 minutes on Monday morning.",
    "timeline": "2026-11-23 09:00 EST  Monitoring alerted the team.\n"
    "2026-11-23 09:40 EST  Service restored.",
    "people_affected": "About 3,000 people could not file.",
    "duration": "40 min",
    "transactions_lost": "",
    "root_cause": "A certificate expired on the filing server.",
    "root_cause_category": "configuration",
    "resolution": "We renewed the certificate.",
    "lessons": "Certificate expiry was not monitored.",
    "apology": "We are sorry for the trouble this caused.",
    "correction_note": "",
    "contributing_factors": "Nobody watched the certificate's expiry date.",
    "why_1": "The certificate expired.",
    "went_well": "The team found the cause within minutes.",
    "went_wrong": "The first alert went to an inbox nobody watched.",
}


@pytest.fixture
def app_config(smtp):
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "SITE_URL": "https://status.example.gov",
    }


@pytest.fixture
def team(app, pinned_now):
    agency = make_agency("Department of Revenue", "revenue")
    other = make_agency("Department of Roads", "roads")
    return {
        "agency": agency,
        "service": make_service(agency, "Tax filing", "tax-filing"),
        "lead": make_user(agency, Role.COMMUNICATIONS_LEAD),
        "owner": make_user(agency, Role.SERVICE_OWNER),
        "stranger": make_user(other, Role.SERVICE_OWNER),
    }


def resolved_p1(team, hours_ago: int = 3):
    incident = make_incident(
        [team["service"]],
        priority=1,
        title="Tax filing unavailable",
        detected_at=clock.now() - timedelta(hours=hours_ago),
        updates=(State.INVESTIGATING, State.IDENTIFIED, State.RESOLVED),
    )
    return incident


def switch(client, user):
    client.post("/admin/logout")
    login(client, user)


def review_path(incident, action: str = "") -> str:
    return f"/admin/incidents/{incident.ref}/review" + (f"/{action}" if action else "")


def write(client, incident, **changes):
    return client.post(review_path(incident), data={**COMPLETE, **changes})


def test_the_draft_starts_from_the_incidents_record(client, team):
    incident = resolved_p1(team)
    login(client, team["lead"])
    client.post(review_path(incident, "start"))
    page = client.get(review_path(incident)).text
    # Detection at 16:30 UTC is 11:30 AM EST; the updates follow a minute apart.
    assert "2026-11-23 11:30 EST  Detected (reported by: Monitoring)." in page
    assert "2026-11-23 11:31 EST  Investigating: Update: investigating." in page
    assert "2026-11-23 11:33 EST  Resolved: Update: resolved." in page
    assert "People cannot sign in." in page  # the incident's impact, as a start
    assert "mandatory for P1" in page


def test_approval_is_refused_until_every_required_section_is_written(client, team):
    incident = resolved_p1(team)
    login(client, team["lead"])
    client.post(review_path(incident, "start"))
    write(client, incident, summary="", apology="", root_cause_category="")
    switch(client, team["owner"])
    response = client.post(review_path(incident, "approve"), follow_redirects=True)
    assert (
        "The report cannot be approved yet. Fill in: Executive summary, Root cause category, "
        "Apology." in response.text
    )
    assert db.session.scalars(select(ReportRevision)).all() == []


def test_an_action_without_an_owner_is_refused_and_everything_typed_is_kept(client, team):
    incident = resolved_p1(team)
    login(client, team["lead"])
    client.post(review_path(incident, "start"))
    response = write(
        client,
        incident,
        summary="Draft summary I typed",
        **{"actions-0-description": "Monitor certificate expiry", "actions-0-owner": "",
           "actions-0-due_on": "2026-12-15", "actions-0-status": "open"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Preventive action 1 has no owner: name who will do it." in response.text
    assert "Draft summary I typed" in response.text
    assert "Monitor certificate expiry" in response.text and 'value="2026-12-15"' in response.text
    assert 'href="#actions-0-owner"' in response.text


def test_a_timeline_line_without_a_time_is_refused_with_its_number(client, team):
    incident = resolved_p1(team)
    login(client, team["lead"])
    client.post(review_path(incident, "start"))
    response = write(
        client,
        incident,
        timeline="2026-11-23 09:00  Alerted\nthen we fixed it",
        **{"actions-0-description": "Add a second provider", "actions-0-due_on": "soon"},
    )
    assert response.status_code == 400
    assert "Timeline line 2 must start with a date and time" in response.text
    assert "Preventive action 1: “soon” is not a date; use YYYY-MM-DD." in response.text
    assert "then we fixed it" in response.text and "Add a second provider" in response.text


def test_only_the_agencys_service_owner_approves_and_nobody_else_touches_it(client, team):
    incident = resolved_p1(team)
    login(client, team["lead"])
    client.post(review_path(incident, "start"))
    write(client, incident)
    assert client.post(review_path(incident, "approve")).status_code == 403
    switch(client, team["stranger"])
    assert client.get(review_path(incident)).status_code == 403
    assert write(client, incident).status_code == 403
    assert client.post(review_path(incident, "publish")).status_code == 403


def publish_review(client, team, incident):
    login(client, team["lead"])
    client.post(review_path(incident, "start"))
    write(
        client,
        incident,
        **{"actions-0-description": "Monitor certificate expiry", "actions-0-owner": "Platform team",
           "actions-0-due_on": "2026-12-15", "actions-0-status": "open",
           "actions-0-category": "monitoring", "actions-0-impact": "high",
           "actions-0-effort": "low"},
    )  # fmt: skip
    switch(client, team["owner"])
    assert client.post(review_path(incident, "approve")).status_code == 302
    # Not the lead who wrote it: the service owner who approved it publishes it.
    response = client.post(review_path(incident, "publish"), follow_redirects=True)
    assert "Published on the incident" in response.text
    switch(client, team["lead"])


def test_publishing_shows_the_report_links_it_and_tells_subscribers(client, team, smtp):
    now = clock.now()
    db.session.add(
        Subscriber(email="ann@example.com", everything=True, confirmed_at=now, created_at=now)
    )
    db.session.commit()
    incident = resolved_p1(team)
    outbox.dispatch()
    smtp.messages.clear()
    publish_review(client, team, incident)

    report = client.get(f"/incidents/{incident.ref}/report")
    assert report.status_code == 200
    assert "A certificate expired on the filing server." in report.text
    assert "Configuration" in report.text and "Platform team" in report.text
    assert '<time datetime="2026-11-23T14:00:00Z">23 Nov 2026, 9:00 AM EST</time>' in report.text
    assert "Read the post-incident report" in client.get(f"/incidents/{incident.ref}").text
    feed = client.get("/feed.atom").text
    assert f"Post-incident report: {incident.title}" in feed
    assert f"/incidents/{incident.ref}/report" in feed

    outbox.dispatch()
    # Once to the subscriber (the staff messages of the approval go to the team, not to her).
    [message] = [m for m in smtp.messages if m["To"] == "ann@example.com"]
    assert message["Subject"] == f"Post-incident report: {incident.title} (Department of Revenue)"
    body = message.get_body(("plain",)).get_content()
    assert "We are sorry for the trouble this caused." in body
    assert f"https://status.example.gov/incidents/{incident.ref}/report" in body


def test_an_unapproved_or_unresolved_report_is_not_published(client, team):
    incident = make_incident([team["service"]], priority=1)  # still investigating
    login(client, team["lead"])
    client.post(review_path(incident, "start"))
    write(client, incident)
    response = client.post(review_path(incident, "publish"), follow_redirects=True)
    assert "The service owner must approve the report before it is published." in response.text
    switch(client, team["owner"])
    client.post(review_path(incident, "approve"))
    response = client.post(review_path(incident, "publish"), follow_redirects=True)
    assert "Publish the report once the incident is resolved." in response.text
    assert client.get(f"/incidents/{incident.ref}/report").status_code == 404


def test_a_correction_is_a_new_dated_revision_and_the_first_stays_as_published(client, team):
    incident = resolved_p1(team)
    publish_review(client, team, incident)
    public = lambda: client.application.test_client().get(f"/incidents/{incident.ref}/report")  # noqa: E731
    first = public().text

    # Editing after publication prepares a correction; the public report does not move.
    write(client, incident, root_cause="The certificate was renewed on the wrong server.")
    assert public().text == first
    switch(client, team["owner"])
    response = client.post(review_path(incident, "approve"), follow_redirects=True)
    assert "Say what this correction changes" in response.text

    with clock.pinned(clock.now() + timedelta(days=2)):
        switch(client, team["lead"])  # signed in again two days later (sessions end when idle)
        write(
            client,
            incident,
            root_cause="The certificate was renewed on the wrong server.",
            correction_note="The first report named the wrong server.",
        )
        switch(client, team["owner"])
        client.post(review_path(incident, "approve"))
        client.post(review_path(incident, "publish"))
    page = client.get(f"/incidents/{incident.ref}/report").text
    assert "The first report named the wrong server." in page
    assert "The certificate was renewed on the wrong server." in page
    assert "Revision 1, published" in page
    assert "A certificate expired on the filing server." in page  # kept in revision 1
    numbers = db.session.scalars(select(ReportRevision.number).order_by(ReportRevision.number))
    assert list(numbers) == [1, 2]


def test_a_published_revision_cannot_be_changed_even_by_code(client, team):
    incident = resolved_p1(team)
    publish_review(client, team, incident)
    revision = db.session.scalars(select(ReportRevision)).one()
    revision.content = "{}"
    with pytest.raises(PublishedIsFrozen):
        db.session.commit()
    db.session.rollback()


def test_the_dashboard_lists_reviews_owed_and_actions_past_due(client, team):
    overdue = resolved_p1(team, hours_ago=60)  # resolved 60 h ago: the 48 h review is overdue
    due = resolved_p1(team, hours_ago=3)
    make_incident([team["service"]], priority=4, updates=(State.RESOLVED,))  # no review needed
    login(client, team["lead"])
    page = client.get("/admin/").text
    section = page[page.index("Post-incident reviews owed") :]
    assert section.index(overdue.ref) < section.index(due.ref)
    assert "OVERDUE" in section[: section.index(due.ref)]

    publish_review(client, team, due)
    with clock.pinned(clock.now() + timedelta(days=30)):
        switch(client, team["lead"])  # a month later: a new session
        page = client.get("/admin/").text
    assert "Preventive actions past their due date" in page
    assert "Monitor certificate expiry" in page and "Platform team" in page
    client.post(review_path(due, "actions"), data={f"status-{_action_id(due)}": "done"})
    with clock.pinned(clock.now() + timedelta(days=30)):
        page = client.get("/admin/").text
    # Done, so no longer overdue: the check of its effectiveness is what is listed now.
    assert "Preventive actions past their due date" not in page
    assert "Effectiveness checks due" in page


def _action_id(incident) -> int:
    from statuspage.reports.models import PostIncidentReport

    report = db.session.scalars(
        select(PostIncidentReport).where(PostIncidentReport.incident_id == incident.id)
    ).one()
    return report.actions[0].id


def test_a_recurring_p3_needs_a_review_and_a_single_one_does_not(client, team):
    first = make_incident([team["service"]], priority=3, updates=(State.RESOLVED,))
    login(client, team["lead"])
    page = client.get(f"/admin/incidents/{first.ref}").text
    assert "Needed:" not in page
    assert "The policy does not ask for a review of this incident; you may still write one." in page
    assert f'href="/admin/incidents/{first.ref}/review">Write a review</a>' in page
    for _ in range(2):
        third = make_incident([team["service"]], priority=3, updates=(State.RESOLVED,))
    page = client.get(f"/admin/incidents/{third.ref}").text
    assert "recurring: 3 incidents on the same service within 30 days" in page
