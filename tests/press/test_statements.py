"""Media statements: what the policy asks for each priority, a draft from the template with the
plain-language check, approval by the policy's approver who is never the author (with a request
for changes and a note back), release on the public press page, immutability and corrections."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import select

from statuspage import clock
from statuspage.audit import AuditEntry
from statuspage.extensions import db
from statuspage.incidents.models import State
from statuspage.incidents.operations import publish_update
from statuspage.internal import messages
from statuspage.internal.models import Contact
from statuspage.policy import build_policy
from statuspage.press import operations as press
from statuspage.press.models import PressStatement, ReleasedStatementIsFinal, StatementStatus
from statuspage.publication import current_version
from statuspage.subscriptions.models import Notification
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_incident, make_service, make_user

FILLED = "If you cannot file online, you can file on paper at any tax office."


@pytest.fixture
def app_config():
    return {"SITE_URL": "https://status.example.gov"}


@pytest.fixture
def team(app, pinned_now):
    agency = make_agency("Department of Revenue", "revenue")
    other = make_agency("Department of Roads", "roads")
    service = make_service(agency, "Tax filing", "tax-filing")
    make_service(other, "Road permits", "road-permits")
    db.session.add(Contact(agency_id=agency.id, position="public_relations", name="Pat Press",
                           email="press@revenue.example.gov", phone="555-0199",
                           created_at=clock.now()))  # fmt: skip
    db.session.commit()
    return {
        "agency": agency,
        "service": service,
        "lead": make_user(agency, Role.COMMUNICATIONS_LEAD, email="lead@revenue.example.gov"),
        "manager": make_user(agency, Role.SERVICE_MANAGER, email="manager@revenue.example.gov"),
        "owner": make_user(agency, Role.SERVICE_OWNER, email="owner@revenue.example.gov"),
        "owner2": make_user(agency, Role.SERVICE_OWNER, email="owner2@revenue.example.gov"),
        "outsider": make_user(other, Role.SERVICE_OWNER, email="someone@roads.example.gov"),
    }


def p1(team, **kwargs):
    """A public P1 whose latest update says what people can do and when the next update is."""
    incident = make_incident([team["service"]], priority=1, updates=(), **kwargs)
    publish_update(
        incident, status=State.INVESTIGATING, by=team["lead"],
        body="People cannot file their tax return online.",
        who_affected="Everyone filing a tax return online.",
        workaround="You can file on paper at any tax office.",
        help="Call 555-0100 for help.",
        next_update_at=clock.now() + timedelta(minutes=30),
    )  # fmt: skip
    return incident


def actions(incident) -> list[str]:
    return list(db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.incident_id == incident.id,
                                        AuditEntry.action.like("press%"))
        .order_by(AuditEntry.id)
    ))  # fmt: skip


def staff_messages(kind: str) -> list[tuple[str, messages.InternalMessage]]:
    db.session.expire_all()  # see what the requests committed
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.channel == "staff", Notification.event_key.startswith(kind + ":"))
        .order_by(Notification.id)
    ).all()
    found = []
    site = current_app.config["SITE_URL"]
    for row in rows:
        try:
            with current_app.test_request_context(base_url=site):  # as the dispatcher renders
                found.append((row.address, messages.render(row.event_key)))
        except messages.Skip:  # settled before it went (the dispatcher would not send it)
            continue
    return found


def statement_of(incident) -> PressStatement:
    db.session.expire_all()
    return db.session.scalars(
        select(PressStatement).where(PressStatement.incident_id == incident.id)
        .order_by(PressStatement.id.desc())
    ).first()  # fmt: skip


def editor_data(statement: PressStatement, **changes) -> dict:
    data = {"headline": statement.headline, "body": statement.body,
            "talking_points": statement.talking_points.text}  # fmt: skip
    data.update(changes)
    return data


def textarea(html: str, name: str) -> str:
    found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\n?(.*?)</textarea>', html, re.DOTALL)
    return found.group(1) if found else ""


# --- what the policy asks ---------------------------------------------------------------------


def test_a_p1_owes_a_statement_and_the_incident_page_says_so(client, team):
    incident = p1(team)
    login(client, team["lead"])
    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert 'id="press-heading">Media</h2>' in page
    assert "The policy asks for a media statement at P1" in page
    assert "approved before release by a service owner who did not write it" in page
    assert "Owed: not started yet." in page
    assert "Draft the media statement</button>" in page


def test_a_p3_owes_nothing_and_gets_none_while_it_is_not_public(client, team):
    incident = make_incident([team["service"]], priority=3)
    login(client, team["lead"])
    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert "The policy asks for no media statement at P3." in page
    assert "Owed" not in page.split('id="press-heading"')[1].split("</section>")[0]
    assert "media statement</button>" not in page and "anyway</button>" not in page
    response = client.post(f"/admin/incidents/{incident.ref}/press", follow_redirects=True)
    assert "The policy asks for no media statement at P3." in response.text
    assert statement_of(incident) is None


def test_a_lead_may_choose_to_prepare_one_for_a_public_p3(client, team):
    incident = make_incident([team["service"]], priority=3, made_public=True)
    login(client, team["lead"])
    assert (
        "Prepare a media statement anyway</button>"
        in client.get(f"/admin/incidents/{incident.ref}").text
    )
    assert client.post(f"/admin/incidents/{incident.ref}/press").status_code == 302
    statement = statement_of(incident)
    assert statement.chosen
    # No closure approver for a P3: the policy's de-escalation approver approves it.
    assert press.approver_for(incident) is Role.SERVICE_MANAGER
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "press_statement_started")
    ).one()
    assert ("owed", "no: chosen by a lead") in entry.detail_items


def test_the_policy_table_decides_which_priorities_owe_one(app, team):
    incident = make_incident([team["service"]], priority=3)
    assert not press.owes_statement(incident)
    policy = build_policy()
    app.extensions["policy"] = replace(
        policy, priorities={**policy.priorities, 3: replace(policy[3], media_statement=True)}
    )
    assert press.owes_statement(incident)
    exercise = make_incident([team["service"]], priority=1)
    exercise.is_exercise = True
    assert not press.owes_statement(exercise) and not press.may_prepare(exercise)


# --- the whole path -----------------------------------------------------------------------------


def test_draft_check_submit_changes_approve_release(client, team, app):
    incident = p1(team)
    version_before = current_version().number
    login(client, team["lead"])

    # A draft from the template, with the incident's facts.
    response = client.post(f"/admin/incidents/{incident.ref}/press")
    statement = statement_of(incident)
    assert response.headers["Location"].endswith(f"/press/{statement.id}")
    page = client.get(response.headers["Location"]).text
    body = textarea(page, "body")
    assert "Department of Revenue is aware of a problem with Tax filing.\n\nPeople cannot" in body
    assert "People cannot file their tax return online." in body
    assert "The problem started at 23 Nov 2026, 1:30 PM EST." in body
    assert "You can file on paper at any tax office. Call 555-0100 for help." in body
    assert "We will give our next update by 23 Nov 2026, 3:00 PM EST." in body
    assert "Pat Press, press@revenue.example.gov, 555-0199" in body
    assert f"https://status.example.gov/incidents/{incident.ref}" in body
    points = textarea(page, "talking_points")
    assert "Q: When will it be fixed?" in points and "Internal: for spokespeople only" in points
    # A draft is not public: the public pages' version did not move.
    assert current_version().number == version_before

    # The plain-language check, before submitting: warnings, with what was typed kept.
    url = f"/admin/incidents/{incident.ref}/press/{statement.id}"
    vague = body + "\nWe will fix it ASAP.\n"
    checked = client.post(url, data=editor_data(statement, body=vague, action="check"))
    assert checked.status_code == 200
    assert "“ASAP” is an unclear time" in checked.text
    assert "Preview: what the press page will show" in checked.text
    assert "We will fix it ASAP." in textarea(checked.text, "body")
    assert statement_of(incident).body == statement.body  # a check saves nothing

    # A gap left: refused, the text kept.
    gappy = editor_data(statement, body=body + "\n[to fill: the minister's quote]",
                        action="submit")  # fmt: skip
    refused = client.post(url, data=gappy)
    assert refused.status_code == 400
    assert "Fill the gaps marked “[to fill: …]” before asking for approval: the minister" in (
        refused.text
    )
    assert "[to fill: the minister&#39;s quote]" in textarea(refused.text, "body")
    assert statement_of(incident).status == StatementStatus.DRAFT.value

    # Submitted: the policy's approver for a P1 (a service owner) is asked by email.
    assert client.post(url, data=editor_data(statement, action="submit")).status_code == 302
    assert statement_of(incident).status == StatementStatus.SUBMITTED.value
    asked = staff_messages("press_request")
    assert {address for address, _ in asked} == {"owner@revenue.example.gov",
                                                 "owner2@revenue.example.gov"}  # fmt: skip
    subject, text = asked[0][1].subject, asked[0][1].text
    assert subject == f"[P1] Media statement waiting for your approval: {incident.ref}"
    assert f"/admin/incidents/{incident.ref}/press/{statement.id}/review" in text
    assert "Q: When" not in text  # the talking points stay on the admin pages

    # The author may not approve it.
    review = f"/admin/incidents/{incident.ref}/press/{statement.id}/review"
    assert "Only a service owner can approve this statement." in client.get(review).text
    assert client.post(review, data={"action": "approve"}).status_code == 403
    assert statement_of(incident).status == StatementStatus.SUBMITTED.value

    # The approver asks for changes, with a note back to the author.
    client.post("/admin/logout")
    login(client, team["owner"])
    preview = client.get(review).text
    assert "Preview: the public page as it will read" in preview
    assert "Approve and release</button>" in preview
    no_note = client.post(review, data={"action": "changes", "note": ""})
    assert no_note.status_code == 400 and "Say what should change" in no_note.text
    note = "Say how long paper returns take to process."
    assert client.post(review, data={"action": "changes", "note": note}).status_code == 302
    assert statement_of(incident).status == StatementStatus.CHANGES_REQUESTED.value
    [(address, message)] = staff_messages("press_decided")
    assert address == "lead@revenue.example.gov"
    assert note in message.text and "Changes asked for" in message.subject

    # The author sees the note, edits and asks again: the approver is asked again.
    client.post("/admin/logout")
    login(client, team["lead"])
    assert note in client.get(url).text
    edited = body.replace("Call 555-0100", "Paper returns take 2 weeks. Call 555-0100")
    assert client.post(url, data=editor_data(statement, body=edited, action="submit")
                       ).status_code == 302  # fmt: skip
    rows = db.session.scalars(select(Notification.event_key).where(
        Notification.event_key.startswith("press_request:"))).all()  # fmt: skip
    assert len(rows) == 4  # two owners, two rounds
    assert len(staff_messages("press_request")) == 2  # the first round's are no longer sent

    # Approved: released at once on the public press page.
    client.post("/admin/logout")
    login(client, team["owner2"])
    assert client.post(review, data={"action": "approve", "note": "Good."}).status_code == 302
    released = statement_of(incident)
    assert released.status == StatementStatus.RELEASED.value
    assert released.slug == f"{incident.ref.lower()}-statement-1"
    assert released.released_at == clock.now()
    assert current_version().number > version_before
    told = staff_messages("press_decided")
    assert ("lead@revenue.example.gov", "[P1] Media statement released: " + incident.ref) in [
        (a, m.subject) for a, m in told
    ]
    admin_page = client.get(f"/admin/incidents/{incident.ref}").text
    assert f'href="/press/{released.slug}"' in admin_page and "Released." in admin_page
    client.post("/admin/logout")

    listing = client.get("/press")
    assert listing.status_code == 200
    assert f'href="/press/{released.slug}"' in listing.text
    assert '<time datetime="2026-11-23T19:30:00Z" data-ago>23 Nov 2026, 2:30 PM EST</time>' in (
        listing.text
    )
    assert "Department of Revenue" in listing.text
    assert f'href="/incidents/{incident.ref}"' in listing.text
    page = client.get(f"/press/{released.slug}").text
    assert "Paper returns take 2 weeks." in page
    assert "Pat Press" in page and "Q: When" not in page
    assert f'href="/press/{released.slug}"' in client.get(f"/incidents/{incident.ref}").text
    assert f'href="/press/{released.slug}"' in client.get("/agencies/revenue/press").text
    assert released.slug not in client.get("/agencies/roads/press").text
    assert 'href="/press">Media statements</a>' in client.get("/").text

    assert actions(incident) == [
        "press_statement_started",
        "press_statement_submitted",
        "press_changes_requested",
        "press_statement_saved",
        "press_statement_submitted",
        "press_statement_released",
    ]


def test_the_author_cannot_approve_even_holding_the_approving_role(team):
    incident = p1(team)
    statement = press.start_statement(incident, by=team["owner"])
    content = press.StatementContent(statement.headline, statement.body.replace(
        "[to fill", "(fill"), statement.talking_points.text)  # fmt: skip
    press.submit(statement, content, by=team["owner"])
    with pytest.raises(press.PressError, match="Only a service owner who did not write this "
                       "statement can approve it."):  # fmt: skip
        press.approve(statement, by=team["owner"])
    # Someone who only edited it is an author too.
    assert team["owner"].id in press.authors(statement)
    with pytest.raises(press.PressError, match="Only a service owner can approve"):
        press.approve(statement, by=team["manager"])  # P1: a service manager is not enough
    press.approve(statement, by=team["owner2"])
    assert statement.is_released


def test_the_dashboard_lists_a_statement_for_those_who_may_approve_it(client, team):
    incident = p1(team)
    statement = press.start_statement(incident, by=team["owner"])
    content = press.StatementContent(statement.headline, statement.body.replace(
        "[to fill", "(fill"), statement.talking_points.text)  # fmt: skip
    press.submit(statement, content, by=team["owner"])
    review = f"/admin/incidents/{incident.ref}/press/{statement.id}/review"
    for person, listed in (("owner2", True), ("owner", False), ("manager", False),
                           ("outsider", False)):  # fmt: skip
        reader = client.application.test_client()
        login(reader, team[person])
        assert (review in reader.get("/admin/").text) is listed, person
    press.approve(statement, by=team["owner2"])
    login(client, team["owner2"])
    assert review not in client.get("/admin/").text


def test_a_statement_waits_for_the_incident_to_be_public(team):
    incident = make_incident([team["service"]], priority=1, updates=())
    statement = press.start_statement(incident, by=team["lead"])
    content = press.StatementContent("Statement", "We know about the problem.", "")
    press.submit(statement, content, by=team["lead"])
    with pytest.raises(press.PressError, match="not on the public site yet"):
        press.approve(statement, by=team["owner"])
    assert statement_of(incident).status == StatementStatus.SUBMITTED.value


def test_one_statement_is_written_at_a_time(team):
    incident = p1(team)
    press.start_statement(incident, by=team["lead"])
    with pytest.raises(press.PressError, match="already being written"):
        press.start_statement(incident, by=team["lead"])


# --- released is final; a correction supersedes -------------------------------------------------


def release(incident, team, body="We know about the problem and are fixing it.") -> PressStatement:
    statement = press.start_statement(incident, by=team["lead"])
    press.submit(statement, press.StatementContent("Tax filing statement", body, "Q: A?"),
                 by=team["lead"])  # fmt: skip
    press.approve(statement, by=team["owner"])
    return statement


def test_a_released_statement_never_changes(team):
    incident = p1(team)
    statement = release(incident, team)
    with pytest.raises(press.PressError, match="never changes. Write a correction"):
        press.save_draft(statement, press.StatementContent("New", "New", ""), by=team["lead"])
    db.session.rollback()
    statement = statement_of(incident)
    statement.body = "Quietly rewritten."
    with pytest.raises(ReleasedStatementIsFinal):
        db.session.commit()
    db.session.rollback()
    statement = statement_of(incident)
    statement.talking_points.text = "Quietly rewritten."
    with pytest.raises(ReleasedStatementIsFinal):
        db.session.commit()
    db.session.rollback()
    assert statement_of(incident).body.startswith("We know about the problem")


def test_a_correction_is_a_new_statement_that_supersedes_the_released_one(client, team):
    incident = p1(team)
    first = release(incident, team, body="Filing will work again at 5 PM.")
    login(client, team["lead"])
    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert "Correct the released statement</button>" in page
    assert client.post(f"/admin/incidents/{incident.ref}/press/{first.id}/correct"
                       ).status_code == 302  # fmt: skip
    correction = statement_of(incident)
    assert correction.supersedes_id == first.id and correction.body == first.body
    with clock.pinned(clock.now() + timedelta(minutes=20)):
        press.submit(correction, press.StatementContent(
            "Tax filing statement (corrected)", "Filing will work again at 6 PM.", ""),
            by=team["lead"])  # fmt: skip
        press.approve(correction, by=team["owner"])
    client.post("/admin/logout")
    old = client.get(f"/press/{first.slug}").text
    assert "Filing will work again at 5 PM." in old  # as it was released
    assert "This statement has been corrected" in old
    assert f'href="/press/{correction.slug}"' in old
    new = client.get(f"/press/{correction.slug}").text
    assert "This statement corrects and replaces" in new and f'href="/press/{first.slug}"' in new
    listing = client.get("/press").text
    assert listing.index(correction.slug) < listing.index(first.slug)  # newest first
    with pytest.raises(press.PressError, match="already been corrected"):
        press.start_statement(incident, by=team["lead"], corrects=first)


def test_the_approvers_preview_is_the_public_page(client, team):
    incident = p1(team)
    statement = press.start_statement(incident, by=team["lead"])
    press.submit(statement, press.StatementContent("Tax filing", "**Paper** works.", ""),
                 by=team["lead"])  # fmt: skip
    login(client, team["owner"])
    url = f"/admin/incidents/{incident.ref}/press/{statement.id}"
    preview = client.get(url + "/preview").text
    press.approve(statement_of(incident), by=team["owner"])
    client.post("/admin/logout")
    public = client.get(f"/press/{statement_of(incident).slug}").text

    def article(html: str) -> str:
        found = re.search(r"<article.*?</article>", html, re.DOTALL).group(0)
        return re.sub(r"<dt>Released</dt><dd>.*?</dd>", "", found, flags=re.DOTALL)

    assert "Preview for the approver: not released." in preview
    assert article(preview) == article(public)
    assert "<strong>Paper</strong> works." in article(public)


# --- who may, and what is refused ---------------------------------------------------------------


def test_another_agencys_staff_get_403(client, team):
    incident = p1(team)
    statement = press.start_statement(incident, by=team["lead"])
    login(client, team["outsider"])
    base = f"/admin/incidents/{incident.ref}/press"
    for method, path in (("GET", f"{base}/{statement.id}"), ("GET", f"{base}/{statement.id}/review"),
                         ("GET", f"{base}/{statement.id}/preview"), ("POST", base),
                         ("POST", f"{base}/{statement.id}"),
                         ("POST", f"{base}/{statement.id}/review"),
                         ("POST", f"{base}/{statement.id}/correct")):  # fmt: skip
        response = client.open(path, method=method, data={"action": "approve", "body": "x"})
        assert response.status_code == 403, (method, path)
    other = make_incident([team["service"]], priority=1)
    assert client.get(f"/admin/incidents/{other.ref}/press/{statement.id}").status_code == 403
    client.post("/admin/logout")
    login(client, team["lead"])
    assert client.get(f"/admin/incidents/{other.ref}/press/{statement.id}").status_code == 404


def test_a_viewer_reads_but_cannot_write_or_decide(client, team):
    incident = p1(team)
    statement = press.start_statement(incident, by=team["lead"])
    viewer = make_user(team["agency"], Role.VIEWER)
    login(client, viewer)
    url = f"/admin/incidents/{incident.ref}/press/{statement.id}"
    assert client.get(url).status_code == 200
    assert client.post(url, data=editor_data(statement, action="save")).status_code == 403
    assert client.post(f"/admin/incidents/{incident.ref}/press").status_code == 403


def test_control_characters_and_a_huge_statement_are_refused_with_the_text_kept(client, team):
    incident = p1(team)
    statement = press.start_statement(incident, by=team["lead"])
    login(client, team["lead"])
    url = f"/admin/incidents/{incident.ref}/press/{statement.id}"
    bell = client.post(url, data=editor_data(statement, body="Filing is down.\x07 " + FILLED,
                                             action="save"))  # fmt: skip
    assert bell.status_code == 400
    assert "Remove the control character (U+0007) from the statement." in bell.text
    assert FILLED in textarea(bell.text, "body")
    huge = "Filing is down. " * 700 + "THE-END-MARK"
    too_long = client.post(url, data=editor_data(statement, body=huge, action="submit"))
    assert too_long.status_code == 400
    assert "Keep the statement to 10,000 characters or fewer." in too_long.text
    assert "THE-END-MARK" in textarea(too_long.text, "body")
    long_points = client.post(url, data=editor_data(statement, talking_points="Q? " * 7000,
                                                    action="save"))  # fmt: skip
    assert long_points.status_code == 400
    assert "Keep the talking points to 20,000 characters or fewer." in long_points.text
    assert statement_of(incident).body == statement.body
    assert actions(incident) == ["press_statement_started"]


def test_saving_is_audited_with_what_changed(client, team):
    incident = p1(team)
    statement = press.start_statement(incident, by=team["lead"])
    login(client, team["lead"])
    url = f"/admin/incidents/{incident.ref}/press/{statement.id}"
    response = client.post(url, data=editor_data(statement, headline="Tax filing is down",
                                                 action="save"), follow_redirects=True)  # fmt: skip
    assert "Draft saved." in response.text
    assert statement_of(incident).headline == "Tax filing is down"
    response = client.post(url, data=editor_data(statement_of(incident), action="save"),
                           follow_redirects=True)  # fmt: skip
    assert "Nothing changed." in response.text
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "press_statement_saved")
    ).one()
    assert ("changed", "['headline']") in entry.detail_items
