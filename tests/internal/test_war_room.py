"""Incident roles, the private working log and the war room: who holds what (only people of the
agency), notes and decisions with their reasons, opening a war room for the priorities the policy
briefs leadership on, closing it with a hand-over that starts the review; and the proof that none
of it ever reaches the public site, feeds, the API, subscribers or the static export."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import select

from statuspage import clock
from statuspage.audit import AuditEntry
from statuspage.extensions import db
from statuspage.incidents.models import State
from statuspage.incidents.operations import IncidentRuleError, assign, publish_update
from statuspage.internal import messages, war_room
from statuspage.internal.models import Contact, IncidentNote, NoteKind, WarRoomRole
from statuspage.policy import build_policy
from statuspage.public.export import export_site
from statuspage.reports import reviews
from statuspage.reports.models import PostIncidentReport
from statuspage.subscriptions.messages import render_event, webhook_body
from statuspage.subscriptions.models import Notification
from statuspage.subscriptions.operations import (
    Choice,
    add_webhook,
    confirm_subscription,
    request_subscription,
)
from statuspage.subscriptions.tokens import confirm_token
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_incident, make_service, make_user


@pytest.fixture
def app_config():
    return {"WEBHOOKS_ALLOW_PRIVATE": True, "SITE_URL": "https://status.example.gov"}


@pytest.fixture
def team(app, pinned_now):
    agency = make_agency("Department of Revenue", "revenue")
    other = make_agency("Department of Roads", "roads")
    service = make_service(agency, "Tax filing", "tax-filing")
    make_service(other, "Road permits", "road-permits")
    now = clock.now()
    db.session.add_all([
        Contact(agency_id=agency.id, position="agency_cio", name="Cara CIO",
                email="cio@revenue.example.gov", created_at=now),
        Contact(agency_id=None, position="cdo", name="Dana CDO", email="cdo@example.gov",
                created_at=now),
    ])  # fmt: skip
    db.session.commit()
    return {
        "agency": agency,
        "service": service,
        "lead": make_user(agency, Role.COMMUNICATIONS_LEAD, email="lead@revenue.example.gov"),
        "engineer": make_user(agency, Role.VIEWER, email="engineer@revenue.example.gov"),
        "owner": make_user(agency, Role.SERVICE_OWNER, email="owner@revenue.example.gov"),
        "outsider": make_user(other, Role.SERVICE_OWNER, email="someone@roads.example.gov"),
    }


def p1(team, **kwargs):
    return make_incident([team["service"]], priority=1, **kwargs)


def roles_of(incident) -> dict[str, str]:
    db.session.refresh(incident)
    return {r.role: r.user.email for r in incident.roles}


def actions(incident) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.incident_id == incident.id)
            .order_by(AuditEntry.id)
        )
    )


def staff_messages(kind: str) -> list[tuple[str, messages.InternalMessage]]:
    """(address, rendered message) for each internal message of ``kind`` in the outbox."""
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.channel == "staff", Notification.event_key.startswith(kind + ":"))
        .order_by(Notification.id)
    ).all()
    return [(row.address, messages.render(row.event_key)) for row in rows]


def roles_data(**people) -> dict[str, str]:
    data = {f"roles-{role.value}": "" for role in WarRoomRole}
    data.update({f"roles-{name}": str(user.id) for name, user in people.items()})
    return data


# --- roles ------------------------------------------------------------------------------------


def test_a_lead_names_replaces_and_clears_roles_and_each_person_is_told(client, team):
    incident = p1(team)
    login(client, team["lead"])
    url = f"/admin/incidents/{incident.ref}/roles"

    response = client.post(url, data=roles_data(incident_commander=team["owner"],
                                                scribe=team["engineer"]))  # fmt: skip
    assert response.status_code == 302
    assert roles_of(incident) == {"incident_commander": "owner@revenue.example.gov",
                                  "scribe": "engineer@revenue.example.gov"}  # fmt: skip
    told = staff_messages(war_room.ROLE_NAMED)
    assert sorted(address for address, _ in told) == [
        "engineer@revenue.example.gov", "owner@revenue.example.gov"
    ]  # fmt: skip
    message = dict(told)["owner@revenue.example.gov"]
    assert message.subject == f"You are the incident commander for {incident.ref}: " \
        "Online filing unavailable"  # fmt: skip
    assert "You lead the response" in message.text and "- Scribe: User" in message.text

    # Replaced and cleared: one person each, and each change audited.
    client.post(url, data=roles_data(incident_commander=team["lead"]))
    assert roles_of(incident) == {"incident_commander": "lead@revenue.example.gov"}
    assert actions(incident)[-4:] == ["role_named", "role_named", "role_named", "role_cleared"]
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "role_cleared")
    ).one()
    assert json.loads(entry.details) == {"role": "Scribe", "from": team["engineer"].name,
                                         "to": "nobody"}  # fmt: skip
    assert entry.actor_id == team["lead"].id

    # A message to someone who no longer holds the role is not sent.
    key = db.session.scalars(
        select(Notification.event_key).where(Notification.address == "owner@revenue.example.gov")
    ).one()
    with pytest.raises(messages.Skip):
        messages.render(key)
    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert f'<option selected value="{team["lead"].id}">' in page


def test_the_same_roles_again_change_nothing(client, team):
    incident = p1(team)
    login(client, team["lead"])
    url = f"/admin/incidents/{incident.ref}/roles"
    client.post(url, data=roles_data(technical_lead=team["engineer"]))
    before = actions(incident)
    response = client.post(url, data=roles_data(technical_lead=team["engineer"]),
                           follow_redirects=True)  # fmt: skip
    assert "Nothing changed." in response.text
    assert actions(incident) == before


def test_a_role_for_someone_of_another_agency_is_refused_and_nothing_changes(client, team):
    incident = p1(team)
    login(client, team["lead"])
    response = client.post(
        f"/admin/incidents/{incident.ref}/roles",
        data=roles_data(technical_lead=team["engineer"], agency_liaison=team["outsider"]),
    )
    assert response.status_code == 400
    assert (
        f"{team['outsider'].name} has no access to Department of Revenue, so cannot be agency "
        "liaison." in response.text
    )
    assert 'href="#roles-agency_liaison"' in response.text  # the error summary links the field
    # What was typed for the other roles is kept.
    assert f'<option selected value="{team["engineer"].id}">' in response.text
    assert roles_of(incident) == {}
    assert "role_named" not in actions(incident)
    assert staff_messages(war_room.ROLE_NAMED) == []


def test_an_unknown_person_is_refused(client, team):
    incident = p1(team)
    login(client, team["lead"])
    data = roles_data()
    data["roles-scribe"] = "999999"
    response = client.post(f"/admin/incidents/{incident.ref}/roles", data=data)
    assert response.status_code == 400
    assert "Choose someone from the list, or nobody." in response.text
    assert roles_of(incident) == {}


def test_the_operation_refuses_someone_without_access(team):
    incident = p1(team)
    with pytest.raises(IncidentRuleError, match="has no access to Department of Revenue"):
        war_room.set_roles(incident, {WarRoomRole.SCRIBE: team["outsider"]}, by=team["lead"])
    team["engineer"].active = False
    db.session.commit()
    with pytest.raises(IncidentRuleError, match="no access"):
        war_room.set_roles(incident, {WarRoomRole.SCRIBE: team["engineer"]}, by=team["lead"])
    assert roles_of(incident) == {}


def test_a_viewer_reads_the_panel_but_cannot_change_it(client, team):
    incident = p1(team)
    war_room.set_roles(incident, {WarRoomRole.SCRIBE: team["engineer"]}, by=team["lead"])
    war_room.add_note(incident, NoteKind.NOTE, "Database failover started", by=team["lead"])
    login(client, team["engineer"])
    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert "Database failover started" in page and "Scribe" in page
    assert "Save roles" not in page and "Add to the log" not in page
    for path, data in [
        ("roles", roles_data(scribe=team["engineer"])),
        ("working-log", {"log-kind": "note", "log-text": "x"}),
        ("war-room/open", {"war-room-paged": "x", "war-room-bridge_url": "https://x.gov"}),
        ("war-room/close", {"hand-over-handover": "x"}),
    ]:
        assert client.post(f"/admin/incidents/{incident.ref}/{path}", data=data).status_code \
            == 403  # fmt: skip


# --- the working log --------------------------------------------------------------------------


def test_notes_and_decisions_are_logged_newest_first_with_who_and_when(client, team):
    incident = p1(team)
    login(client, team["lead"])
    url = f"/admin/incidents/{incident.ref}/working-log"
    response = client.post(url, data={"log-kind": "note", "log-text": "Error rate 40% since 14:10"})
    assert response.status_code == 302
    with clock.pinned(clock.now().replace(minute=45)):
        client.post(url, data={
            "log-kind": "decision", "log-text": "Roll back release 5.2",
            "log-rationale": "The errors began with it; a fix takes hours",
        })  # fmt: skip
    notes = db.session.scalars(select(IncidentNote).order_by(IncidentNote.id)).all()
    assert [(n.kind, n.text, n.rationale, n.author_id) for n in notes] == [
        ("note", "Error rate 40% since 14:10", "", team["lead"].id),
        ("decision", "Roll back release 5.2", "The errors began with it; a fix takes hours",
         team["lead"].id),
    ]  # fmt: skip
    page = client.get(f"/admin/incidents/{incident.ref}").text
    log = page[page.index('class="working-log"'):]
    assert log.index("Roll back release 5.2") < log.index("Error rate 40% since 14:10")
    assert "The errors began with it" in log and team["lead"].name in log
    assert "2:45 PM" in log  # when, in the site's zone
    assert actions(incident)[-2:] == ["note_logged", "decision_logged"]


def test_a_decision_without_its_rationale_is_refused_and_keeps_what_was_typed(client, team):
    incident = p1(team)
    login(client, team["lead"])
    response = client.post(
        f"/admin/incidents/{incident.ref}/working-log",
        data={"log-kind": "decision", "log-text": "Switch traffic to the standby site",
              "log-rationale": "   "},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Say why it was decided: a decision needs its rationale." in response.text
    assert 'href="#log-rationale"' in response.text
    assert "Switch traffic to the standby site</textarea>" in response.text
    assert incident.notes == [] and "decision_logged" not in actions(incident)


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        (NoteKind.NOTE, " ", "Write the note."),
        (NoteKind.DECISION, "", "Write the decision."),
        (NoteKind.HANDOVER, "A hand-over", "Choose a note or a decision."),
        (NoteKind.NOTE, "x" * 5001, "5000 characters or fewer"),
    ],
)
def test_the_log_refuses_what_it_cannot_keep(team, kind, text, message):
    incident = p1(team)
    with pytest.raises(IncidentRuleError, match=message):
        war_room.add_note(incident, kind, text, "because", by=team["lead"])
    db.session.rollback()
    assert db.session.scalars(select(IncidentNote)).all() == []


# --- the war room -----------------------------------------------------------------------------


def open_data(paged="On-call engineer\nDatabase team, Network team",
              bridge="https://meet.example.gov/revenue-p1"):  # fmt: skip
    return {"war-room-paged": paged, "war-room-bridge_url": bridge}


def test_opening_the_war_room_records_it_and_tells_leadership_at_once(client, team):
    incident = p1(team)
    login(client, team["lead"])
    response = client.post(f"/admin/incidents/{incident.ref}/war-room/open", data=open_data())
    assert response.status_code == 302
    db.session.refresh(incident)
    assert incident.war_room_opened_at == clock.now() and incident.war_room_closed_at is None
    assert incident.bridge_url == "https://meet.example.gov/revenue-p1"
    assert incident.paged == "On-call engineer\nDatabase team\nNetwork team"
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "war_room_opened")
    ).one()
    assert json.loads(entry.details) == {
        "bridge": "https://meet.example.gov/revenue-p1",
        "paged": "On-call engineer, Database team, Network team",
    }
    # Leadership as the notification matrix names it for P1: the service owner, the CIO, the CDO.
    told = staff_messages(war_room.WAR_ROOM_OPEN)
    assert sorted(address for address, _ in told) == [
        "cdo@example.gov", "cio@revenue.example.gov", "owner@revenue.example.gov"
    ]  # fmt: skip
    message = told[0][1]
    assert message.subject == f"[P1] War room open: Online filing unavailable ({incident.ref})"
    assert "Bridge: https://meet.example.gov/revenue-p1" in message.text
    assert "Paged: On-call engineer, Database team, Network team" in message.text
    assert "Leadership briefings come every 30 minutes while it lasts." in message.text

    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert 'href="https://meet.example.gov/revenue-p1"' in page and "<li>Network team</li>" in page
    assert "Close the war room" in page and "Open the war room</button>" not in page


def test_a_war_room_is_for_the_priorities_the_policy_briefs_leadership_on(client, team, app):
    incident = make_incident([team["service"]], priority=2)
    login(client, team["lead"])
    url = f"/admin/incidents/{incident.ref}/war-room/open"
    response = client.post(url, data=open_data())
    assert response.status_code == 400
    assert "A war room is for P1 incidents; this one is P2." in response.text
    assert "On-call engineer\nDatabase team, Network team</textarea>" in response.text
    db.session.refresh(incident)
    assert incident.war_room_opened_at is None and "war_room_opened" not in actions(incident)
    assert staff_messages(war_room.WAR_ROOM_OPEN) == []

    # A jurisdiction that briefs leadership on P2 incidents too may open one for a P2.
    policy = build_policy({"notify": {"briefings": {"P1": "30 minutes", "P2": "1 hour"}}})
    app.extensions["policy"] = policy
    assert war_room.war_room_priorities(policy) == (1, 2)
    assert client.post(url, data=open_data()).status_code == 302
    db.session.refresh(incident)
    assert incident.war_room_opened_at is not None


def test_without_a_matrix_the_war_room_is_for_the_gravest_priority(team):
    policy = replace(build_policy(), notify=None)
    assert war_room.war_room_priorities(policy) == (1,)


@pytest.mark.parametrize(
    ("data", "message", "field"),
    [
        (open_data(bridge="javascript:alert(1)"), "starting with https://", "bridge_url"),
        (open_data(bridge="ftp://files.example.gov/bridge"), "starting with https://",
         "bridge_url"),
        (open_data(bridge="https://"), "starting with https://", "bridge_url"),
        (open_data(bridge="meet.example.gov/p1"), "starting with https://", "bridge_url"),
        (open_data(bridge=""), "Enter the bridge link", "bridge_url"),
        (open_data(paged=" , \n"), "Say who was paged", "paged"),
    ],
)
def test_bad_war_room_details_are_refused_and_nothing_changes(client, team, data, message, field):
    incident = p1(team)
    login(client, team["lead"])
    response = client.post(f"/admin/incidents/{incident.ref}/war-room/open", data=data)
    assert response.status_code == 400
    assert message in response.text and f'href="#war-room-{field}"' in response.text
    db.session.refresh(incident)
    assert incident.war_room_opened_at is None and incident.bridge_url == ""
    assert "war_room_opened" not in actions(incident)
    assert staff_messages(war_room.WAR_ROOM_OPEN) == []


def test_a_war_room_opens_once_and_only_for_an_incident_in_progress(team):
    incident = p1(team)
    war_room.open_war_room(incident, paged="On call", bridge_url="http://bridge.example.gov/1",
                           by=team["lead"])  # fmt: skip
    with pytest.raises(IncidentRuleError, match="already open"):
        war_room.open_war_room(incident, paged="On call", bridge_url="https://b.example.gov",
                               by=team["lead"])  # fmt: skip
    db.session.rollback()
    resolved = p1(team, updates=(State.INVESTIGATING, State.RESOLVED))
    with pytest.raises(IncidentRuleError, match="resolved"):
        war_room.open_war_room(resolved, paged="On call", bridge_url="https://b.example.gov",
                               by=team["lead"])  # fmt: skip


def test_closing_needs_a_hand_over_note(client, team):
    incident = p1(team)
    war_room.open_war_room(incident, paged="On call", bridge_url="https://b.example.gov",
                           by=team["lead"])  # fmt: skip
    login(client, team["lead"])
    response = client.post(f"/admin/incidents/{incident.ref}/war-room/close",
                           data={"hand-over-handover": "  "})  # fmt: skip
    assert response.status_code == 400
    assert "Write the hand-over note" in response.text
    assert 'href="#hand-over-handover"' in response.text
    db.session.refresh(incident)
    assert war_room.war_room_is_open(incident)
    assert incident.notes == [] and "war_room_closed" not in actions(incident)
    assert db.session.scalars(select(PostIncidentReport)).all() == []


def test_closing_a_war_room_that_is_not_open_is_refused(client, team):
    incident = p1(team)
    login(client, team["lead"])
    response = client.post(
        f"/admin/incidents/{incident.ref}/war-room/close", data={"hand-over-handover": "All done"}
    )
    assert response.status_code == 400
    assert "The war room is not open." in response.text
    db.session.refresh(incident)
    assert incident.notes == [] and incident.war_room_closed_at is None
    assert "war_room_closed" not in actions(incident)


def test_closing_records_the_hand_over_starts_the_review_and_tells_the_commander(client, team):
    incident = p1(team)
    war_room.set_roles(incident, {WarRoomRole.INCIDENT_COMMANDER: team["owner"]}, by=team["lead"])
    war_room.open_war_room(incident, paged="On call", bridge_url="https://b.example.gov",
                           by=team["lead"])  # fmt: skip
    login(client, team["lead"])
    response = client.post(
        f"/admin/incidents/{incident.ref}/war-room/close",
        data={"hand-over-handover": "Service restored on the standby site.\nSam watches it."},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "War room closed; the hand-over note is in the working log." in response.text
    assert "The post-incident review is due within 48 hours of resolution. " \
        "A draft is started." in response.text  # fmt: skip
    db.session.refresh(incident)
    assert incident.war_room_closed_at == clock.now()
    handover = incident.notes[0]
    assert (handover.kind_enum, handover.author_id) == (NoteKind.HANDOVER, team["lead"].id)
    assert handover.text == "Service restored on the standby site.\nSam watches it."
    report = db.session.scalars(select(PostIncidentReport)).one()
    assert report.incident_id == incident.id
    assert actions(incident)[-3:] == ["handover_logged", "war_room_closed", "review_started"]

    [(address, message)] = staff_messages(war_room.WAR_ROOM_CLOSED)
    assert address == "owner@revenue.example.gov"
    assert message.subject == (f"War room closed: Online filing unavailable ({incident.ref}); "
                               "review due within 48 hours of resolution")  # fmt: skip
    assert "Sam watches it." in message.text and "a draft is started" in message.text

    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert "Post-incident review: due within 48 hours" in page
    assert "<strong>Handover</strong>" in page


def test_closed_after_resolution_the_assignee_hears_the_review_date(team):
    incident = p1(team)
    war_room.open_war_room(incident, paged="On call", bridge_url="https://b.example.gov",
                           by=team["lead"])  # fmt: skip
    assign(incident, team["lead"], by=team["owner"])
    publish_update(incident, status=State.RESOLVED, body="Fixed.", by=team["lead"])
    started = reviews.start_review(incident, by=team["owner"])
    closed = war_room.close_war_room(incident, handover="Fixed and quiet.", by=team["owner"])
    # P1: the review is due 48 hours after resolution (resolved now, 2:30 PM EST on Monday);
    # the review already started is kept.
    assert closed == war_room.Closed(False, "due 25 Nov 2026, 2:30 PM EST", team["lead"].name)
    assert db.session.scalars(select(PostIncidentReport)).all() == [started]
    [(address, message)] = staff_messages(war_room.WAR_ROOM_CLOSED)
    assert address == "lead@revenue.example.gov"
    assert "The post-incident review is due 25 Nov 2026, 2:30 PM EST" in message.text


# --- never public -----------------------------------------------------------------------------

SECRETS = ("ZEBRA-NOTE-7731", "QUOKKA-WHY-2290", "NARWHAL-HANDOVER-5512", "OCELOT-BRIDGE-4471",
           "AXOLOTL-PAGED-8803")  # fmt: skip


def public_paths(app, incident, team) -> list[str]:
    """Every public GET address about the incident: pages, feeds, the API, the embeds."""
    from statuspage.public.export import public_paths as exported

    slugs = ["revenue", "roads", "tax-filing", "road-permits"]
    paths = set()
    with app.test_request_context():
        paths.update(exported())
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(("admin.", "api_v1.")) or rule.endpoint == "static":
            continue  # the admin and the manage API (an agency's key) are staff's, not public
        if "GET" not in rule.methods or {"token", "name"} & set(rule.arguments):
            continue
        for slug in slugs if "slug" in rule.arguments else [None]:
            for fmt in ("rss", "atom") if "format" in rule.arguments else [None]:
                values = {"ref": incident.ref, "slug": slug, "format": fmt}
                paths.add(rule.build({k: values[k] for k in rule.arguments})[1])
    return sorted(paths)


def test_the_working_record_never_reaches_anything_public(client, team, app, tmp_path):
    request_subscription("citizen@example.org", Choice(everything=True))
    subscriber = db.session.scalars(select(Notification)).first().subscriber_id
    confirm_subscription(confirm_token(subscriber, "citizen@example.org"))
    add_webhook("Partner", "http://127.0.0.1:9/hook", None)
    incident = p1(team, updates=())

    war_room.set_roles(incident, {role: team["lead"] for role in WarRoomRole}, by=team["lead"])
    war_room.add_note(incident, NoteKind.NOTE, f"Logs show {SECRETS[0]}", by=team["lead"])
    war_room.add_note(incident, NoteKind.DECISION, "Fail over", SECRETS[1], by=team["lead"])
    bridge = f"https://meet.example.gov/{SECRETS[3]}"
    war_room.open_war_room(incident, paged=SECRETS[4], bridge_url=bridge, by=team["lead"])
    publish_update(incident, status=State.INVESTIGATING, body="Filing is down.", by=team["lead"])
    war_room.close_war_room(incident, handover=SECRETS[2], by=team["lead"])
    publish_update(incident, status=State.RESOLVED, body="Filing works again.", by=team["lead"])

    # The record is there, for staff.
    login(client, team["lead"])
    admin_page = client.get(f"/admin/incidents/{incident.ref}").text
    assert all(secret in admin_page for secret in SECRETS)
    client.post("/admin/logout")

    def leaks(text: str) -> list[str]:
        return [secret for secret in SECRETS if secret in text]

    # Every public page, feed and API answer.
    paths = public_paths(app, incident, team)
    assert f"/incidents/{incident.ref}" in paths and "/api/v2/incidents.json" in paths
    assert "/feed.atom" in paths and "/agencies/revenue/feed.rss" in paths
    checked = 0
    for path in paths:
        response = client.get(path)
        if response.status_code == 200:
            checked += 1
            assert leaks(response.get_data(as_text=True)) == [], path
    assert checked >= 20

    # Every email and webhook to subscribers (the staff messages are internal).
    rows = db.session.scalars(select(Notification).where(Notification.channel != "staff")).all()
    events = {(row.event, row.event_key) for row in rows if row.event == "incident_update"}
    assert len(events) == 2
    with app.test_request_context(base_url=app.config["SITE_URL"]):
        for event, key in events:
            rendered = render_event(event, key)
            body = webhook_body(rendered, event, key).decode()
            assert leaks(rendered.subject + rendered.text + rendered.html + body) == [], key

    # The static export, every file of it.
    export_site(app, tmp_path / "site")
    files = [p for p in (tmp_path / "site").rglob("*") if p.is_file() and p.suffix != ".gz"]
    assert len(files) >= 20
    for path in files:
        assert leaks(path.read_bytes().decode("utf-8", "replace")) == [], path
