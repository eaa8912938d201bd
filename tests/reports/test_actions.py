"""Preventive actions as the policy describes them: category, impact and effort with the priority
they give, actions that keep who they are across saves, completion dates, and the check of their
effectiveness some time after completion (a reminder when it falls due, a result recorded)."""

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from statuspage import clock, jobs
from statuspage.audit import AuditEntry
from statuspage.extensions import db
from statuspage.incidents.deadlines import effectiveness_check_due
from statuspage.incidents.models import State
from statuspage.policy import BusinessCalendar, build_policy, load_policy
from statuspage.reports.actions import Priority, priority_of
from statuspage.reports.models import PostIncidentReport, PreventiveAction, ReportRevision
from statuspage.subscriptions import outbox
from statuspage.subscriptions.models import Notification
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_incident, make_service, make_user
from tests.reports.test_reviews import COMPLETE

SITE = "https://status.example.gov"
MONITOR = {"description": "Monitor certificate expiry", "owner": "Platform team",
           "due_on": "2026-12-15", "status": "open", "category": "monitoring",
           "impact": "high", "effort": "low"}  # fmt: skip
RUNBOOK = {"description": "Write a renewal runbook", "owner": "Ops", "due_on": "2026-12-20",
           "status": "open", "category": "documentation", "impact": "medium",
           "effort": "medium"}  # fmt: skip


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
        "other_service": make_service(other, "Road permits", "road-permits"),
        "lead": make_user(agency, Role.COMMUNICATIONS_LEAD, email="lead@revenue.gov"),
        "second_lead": make_user(agency, Role.COMMUNICATIONS_LEAD, email="lead2@revenue.gov"),
        "viewer": make_user(agency, Role.VIEWER, email="viewer@revenue.gov"),
        "manager": make_user(agency, Role.SERVICE_MANAGER, email="manager@revenue.gov"),
        "owner": make_user(agency, Role.SERVICE_OWNER, email="owner@revenue.gov"),
        "other_lead": make_user(other, Role.COMMUNICATIONS_LEAD, email="lead@roads.gov"),
    }


def resolved_p1(service):
    return make_incident(
        [service], priority=1, title="Tax filing unavailable",
        detected_at=clock.now() - timedelta(hours=3),
        updates=(State.INVESTIGATING, State.IDENTIFIED, State.RESOLVED),
    )  # fmt: skip


def switch(client, user):
    client.post("/admin/logout")
    login(client, user)


def review_path(incident, action: str = "") -> str:
    return f"/admin/incidents/{incident.ref}/review" + (f"/{action}" if action else "")


def rows(*actions: dict) -> dict:
    return {f"actions-{i}-{name}": value for i, row in enumerate(actions)
            for name, value in row.items()}  # fmt: skip


def write(client, incident, *actions: dict, **changes):
    return client.post(review_path(incident), data={**COMPLETE, **rows(*actions), **changes})


def actions_of(incident) -> list[PreventiveAction]:
    db.session.expire_all()
    report = db.session.scalars(
        select(PostIncidentReport).where(PostIncidentReport.incident_id == incident.id)
    ).one()
    return sorted(report.actions, key=lambda a: a.id)


def started(client, team, incident, *actions: dict):
    login(client, team["lead"])
    client.post(review_path(incident, "start"))
    assert write(client, incident, *actions).status_code == 302


def published(client, team, incident, *actions: dict):
    started(client, team, incident, *actions)
    switch(client, team["owner"])
    client.post(review_path(incident, "approve"))
    assert (
        "Published on the incident"
        in client.post(review_path(incident, "publish"), follow_redirects=True).text
    )
    switch(client, team["lead"])


def mark(client, incident, action, status: str):
    return client.post(review_path(incident, "actions"), data={f"status-{action.id}": status})


# --- the priority and the policy's "when" (pure) ------------------------------------------------

MATRIX = [
    ("high", "low", Priority.DO_FIRST),
    ("high", "medium", Priority.DO_FIRST),
    ("high", "high", Priority.DO_NEXT),
    ("medium", "low", Priority.DO_NEXT),
    ("medium", "medium", Priority.DO_NEXT),
    ("medium", "high", Priority.WHEN_TIME_ALLOWS),
    ("low", "low", Priority.WHEN_TIME_ALLOWS),
    ("low", "medium", Priority.RECONSIDER),
    ("low", "high", Priority.RECONSIDER),
]


@pytest.mark.parametrize(("impact", "effort", "expected"), MATRIX)
def test_every_cell_of_the_impact_by_effort_matrix_gives_its_priority(impact, effort, expected):
    assert priority_of(impact, effort) is expected


def test_an_action_without_impact_or_effort_has_no_priority_and_the_words_say_the_order():
    assert priority_of("", "low") is None and priority_of("high", "") is None
    assert [p.label for p in sorted(Priority, key=lambda p: p.rank)] == [
        "Do first", "Do next", "When time allows", "Reconsider",
    ]  # fmt: skip


def test_the_effectiveness_check_falls_due_as_long_after_completion_as_the_policy_says():
    calendar = BusinessCalendar(ZoneInfo("America/New_York"), "US")
    assert effectiveness_check_due(date(2026, 11, 23), build_policy(), calendar) == date(
        2026, 12, 23
    )
    # Ten business days from Monday 23 November skip Thanksgiving and two weekends.
    policy = build_policy({"rules": {"effectiveness_check_after": "10 business days"}})
    assert effectiveness_check_due(date(2026, 11, 23), policy, calendar) == date(2026, 12, 8)


# --- writing the actions ------------------------------------------------------------------------


def test_a_new_action_needs_a_category_an_impact_and_an_effort(client, team):
    incident = resolved_p1(team["service"])
    login(client, team["lead"])
    client.post(review_path(incident, "start"))
    for missing, message in (
        ("category", "Preventive action 2: choose a category"),
        ("impact", "Preventive action 2: choose its impact (high, medium or low)."),
        ("effort", "Preventive action 2: choose its effort (high, medium or low)."),
    ):
        response = write(client, incident, MONITOR, {**RUNBOOK, missing: ""})
        assert response.status_code == 400
        assert message in response.text
        assert f'href="#actions-1-{missing}"' in response.text
        assert "Write a renewal runbook" in response.text  # nothing typed is lost
    assert actions_of(incident) == []


def test_saving_keeps_each_actions_id_and_completion_and_adds_and_removes_rows(client, team):
    incident = resolved_p1(team["service"])
    started(client, team, incident, MONITOR, RUNBOOK)
    monitor, runbook = actions_of(incident)
    runbook_id = runbook.id
    assert (monitor.category, monitor.impact, monitor.effort) == ("monitoring", "high", "low")
    write(client, incident, {**MONITOR, "status": "done", "id": monitor.id},
          {**RUNBOOK, "id": runbook_id})  # fmt: skip
    assert actions_of(incident)[0].completed_on == date(2026, 11, 23)

    with clock.pinned(clock.now() + timedelta(days=3)):
        switch(client, team["lead"])
        page = client.get(review_path(incident)).text
        assert f'name="actions-0-id" type="hidden" value="{monitor.id}"' in page
        assert "Priority: Do first (high impact, low effort)." in page
        # The runbook's row is emptied (removed), a new row is added, the first is reworded.
        response = write(
            client, incident,
            {**MONITOR, "description": "Alert 30 days before a certificate expires",
             "status": "done", "id": monitor.id},
            {"description": "", "owner": "", "due_on": "", "id": runbook_id},
            {**RUNBOOK, "description": "Train the on-call team on renewals",
             "category": "training"},
        )  # fmt: skip
    assert response.status_code == 302
    first, added = actions_of(incident)
    assert first.id == monitor.id and first.description.startswith("Alert 30 days")
    assert first.completed_on == date(2026, 11, 23)  # kept, not the day of the later save
    assert added.id not in (monitor.id, runbook_id) and added.category == "training"
    assert db.session.get(PreventiveAction, runbook_id) is None


def test_a_row_naming_another_agencys_action_is_refused_and_that_action_is_untouched(client, team):
    theirs = resolved_p1(team["other_service"])
    login(client, team["other_lead"])
    client.post(review_path(theirs, "start"))
    write(client, theirs, MONITOR)
    [their_action] = actions_of(theirs)

    ours = resolved_p1(team["service"])
    switch(client, team["lead"])
    client.post(review_path(ours, "start"))
    response = write(client, ours, {**MONITOR, "description": "Hijacked", "id": their_action.id})
    assert response.status_code == 404
    assert write(client, ours, {**MONITOR, "id": "not-a-number"}).status_code == 404
    assert actions_of(theirs)[0].description == "Monitor certificate expiry"
    assert actions_of(ours) == []


# --- completion ---------------------------------------------------------------------------------


def test_marking_an_action_done_dates_it_in_the_sites_zone_and_reopening_clears_it(client, team):
    incident = resolved_p1(team["service"])
    published(client, team, incident, MONITOR)
    [action] = actions_of(incident)
    # 03:00 UTC on the 24th is still the evening of the 23rd in New York.
    with clock.pinned(datetime(2026, 11, 24, 3, 0, tzinfo=UTC)):
        switch(client, team["lead"])
        assert mark(client, incident, action, "done").status_code == 302
    assert actions_of(incident)[0].completed_on == date(2026, 11, 23)
    with clock.pinned(datetime(2026, 11, 24, 3, 0, tzinfo=UTC)):
        mark(client, incident, action, "in_progress")
    assert actions_of(incident)[0].completed_on is None


# --- the effectiveness check --------------------------------------------------------------------


def test_a_done_action_shows_when_its_effectiveness_check_is_due(client, team):
    incident = resolved_p1(team["service"])
    published(client, team, incident, MONITOR)
    [action] = actions_of(incident)
    mark(client, incident, action, "done")
    page = client.get(review_path(incident)).text
    assert "the policy checks whether it worked 30 days later" in page
    assert 'effectiveness check due <time datetime="2026-12-23">23 December 2026</time>' in page
    assert "(due now)" not in page


def test_a_policy_toml_override_moves_the_check_and_its_words(client, team, tmp_path):
    (tmp_path / "policy.toml").write_text('[rules]\neffectiveness_check_after = "14 days"\n')
    client.application.extensions["policy"] = load_policy(tmp_path)
    incident = resolved_p1(team["service"])
    published(client, team, incident, MONITOR)
    mark(client, incident, actions_of(incident)[0], "done")
    page = client.get(review_path(incident)).text
    assert "the policy checks whether it worked 14 days later" in page
    assert 'effectiveness check due <time datetime="2026-12-07">7 December 2026</time>' in page


def test_the_reminder_is_queued_once_when_the_check_falls_due_and_not_before(client, team, smtp):
    incident = resolved_p1(team["service"])
    published(client, {**team, "lead": team["manager"]}, incident, MONITOR)  # a manager writes
    mark(client, incident, actions_of(incident)[0], "done")
    outbox.dispatch()
    smtp.messages.clear()

    def reminders() -> int:
        return (
            db.session.query(Notification)
            .filter(Notification.event_key.like("action_effectiveness_due:%"))
            .count()
        )

    day_before = datetime(2026, 12, 23, 4, 0, tzinfo=UTC)  # 22 December, 11 PM EST
    assert jobs.run_effectiveness_checks(day_before) == 0
    assert reminders() == 0
    due = datetime(2026, 12, 23, 14, 0, tzinfo=UTC)
    queued = jobs.run_effectiveness_checks(due)
    assert jobs.run_effectiveness_checks(due + timedelta(hours=1)) == 0
    assert reminders() == queued == 3  # the writer and the agency's two leads, once each
    with clock.pinned(due):
        outbox.dispatch()
    to = sorted(str(m["To"]) for m in smtp.messages if "Effectiveness check due" in m["Subject"])
    assert to == ["lead2@revenue.gov", "lead@revenue.gov", "manager@revenue.gov"]
    [message] = [m for m in smtp.messages if m["To"] == "lead2@revenue.gov"]
    body = message.get_body(("plain",)).get_content()
    assert "Monitor certificate expiry" in body and "30 days after it is done" in body
    assert f"{SITE}/admin/incidents/{incident.ref}/review#tracking-heading" in body


def test_a_lead_records_the_result_and_not_effective_needs_a_note(client, team):
    incident = resolved_p1(team["service"])
    published(client, team, incident, MONITOR)
    [action] = actions_of(incident)
    mark(client, incident, action, "done")
    path = review_path(incident, "effectiveness")
    prefix = f"check-{action.id}"

    response = client.post(path, data={"action": action.id, f"{prefix}-result": "not_effective",
                                       f"{prefix}-note": ""})  # fmt: skip
    assert response.status_code == 400
    assert "a note is needed when the action was not fully effective" in response.text
    assert f'<input checked id="{prefix}-result-2"' in response.text  # the choice is kept
    assert f'href="#{prefix}-note"' in response.text
    assert actions_of(incident)[0].effectiveness == ""

    switch(client, team["viewer"])
    assert client.post(path, data={"action": action.id}).status_code == 403
    switch(client, team["second_lead"])
    response = client.post(
        path,
        data={"action": action.id, f"{prefix}-result": "not_effective",
              f"{prefix}-note": "Two certificates still expired unnoticed."},
        follow_redirects=True,
    )  # fmt: skip
    assert "Effectiveness check recorded." in response.text
    assert "Not effective</strong>, checked" in response.text
    assert "Two certificates still expired unnoticed." in response.text
    assert "A follow-up action is needed:" in response.text
    recorded = actions_of(incident)[0]
    assert (recorded.effectiveness, recorded.effectiveness_checked_on) == (
        "not_effective", date(2026, 11, 23),
    )  # fmt: skip
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "action_effectiveness_recorded")
    ).one()
    assert entry.actor_id == team["second_lead"].id
    assert entry.reason == "Two certificates still expired unnoticed."


def test_another_agencys_action_or_incident_is_refused_when_recording_a_check(client, team):
    theirs = resolved_p1(team["other_service"])
    published_by_them = {**team, "lead": team["other_lead"],
                         "owner": make_user(theirs.agency, Role.SERVICE_OWNER)}  # fmt: skip
    published(client, published_by_them, theirs, MONITOR)
    [their_action] = actions_of(theirs)
    mark(client, theirs, their_action, "done")

    ours = resolved_p1(team["service"])
    switch(client, team["lead"])
    client.post(review_path(ours, "start"))
    data = {"action": their_action.id, f"check-{their_action.id}-result": "effective"}
    assert client.post(review_path(ours, "effectiveness"), data=data).status_code == 404
    assert client.post(review_path(theirs, "effectiveness"), data=data).status_code == 403
    assert actions_of(theirs)[0].effectiveness == ""


def test_the_dashboard_lists_checks_due_for_the_readers_agencies(client, team):
    incident = resolved_p1(team["service"])
    published(client, team, incident, MONITOR)
    mark(client, incident, actions_of(incident)[0], "done")
    assert "Effectiveness checks due" not in client.get("/admin/").text
    with clock.pinned(datetime(2026, 12, 23, 15, 0, tzinfo=UTC)):
        switch(client, team["viewer"])
        page = client.get("/admin/").text
        assert "Effectiveness checks due" in page
        section = page[page.index("Effectiveness checks due") :]
        assert "Monitor certificate expiry" in section and incident.ref in section
        assert '<time datetime="2026-12-23">23 December 2026</time>' in section
        switch(client, team["other_lead"])
        assert "Monitor certificate expiry" not in client.get("/admin/").text


# --- the public report --------------------------------------------------------------------------


def test_the_public_report_shows_each_actions_category_and_priority_in_words(client, team):
    incident = resolved_p1(team["service"])
    published(client, team, incident, MONITOR)
    page = client.get(f"/incidents/{incident.ref}/report").text
    assert '<th scope="col">Category</th><th scope="col">Priority</th>' in page
    assert "<td>Monitoring</td>" in page
    assert 'Do first <span class="meta">(high impact, low effort)</span>' in page
    [revision] = db.session.scalars(select(ReportRevision)).all()
    assert revision.sections["actions"][0] | {"due_on": ""} == {
        "description": "Monitor certificate expiry", "owner": "Platform team", "due_on": "",
        "status": "open", "category": "monitoring", "impact": "high", "effort": "low",
        "priority": "do_first",
    }  # fmt: skip


def test_a_revision_published_before_categories_still_renders(client, team):
    incident = resolved_p1(team["service"])
    published(client, team, incident, MONITOR)
    [first] = db.session.scalars(select(ReportRevision)).all()
    old = first.sections
    old["actions"] = [{"description": "Renew by hand", "owner": "Ops", "due_on": "2026-12-01",
                       "status": "done"}]  # fmt: skip
    db.session.add(ReportRevision(
        report_id=first.report_id, number=2, incident_id=incident.id,
        root_cause_category="configuration", content=json.dumps(old),
        correction_note="Older shape.", published_at=clock.now(),
    ))  # fmt: skip
    db.session.commit()
    page = client.get(f"/incidents/{incident.ref}/report")
    assert page.status_code == 200
    assert "Renew by hand" in page.text
