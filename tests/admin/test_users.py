"""User administration: invitations by email, roles per agency, deactivation; a service owner
manages the users of their own agencies only, checked for every route, id and method."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from statuspage import clock
from statuspage.audit import AuditEntry
from statuspage.extensions import db
from statuspage.subscriptions import outbox
from statuspage.users.models import Membership, Role, User, UserSession
from tests.factories import PASSWORD, login, make_agency, make_user

SITE = "https://status.example.gov"
NEW = "my own long passphrase"


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "SITE_URL": SITE}


@pytest.fixture
def team(app):
    ours = make_agency("Department of Revenue", "revenue")
    theirs = make_agency("Department of Transport", "transport")
    return {
        "ours": ours,
        "theirs": theirs,
        "admin": make_user(site_admin=True, email="admin@example.gov"),
        "owner": make_user(ours, Role.SERVICE_OWNER, email="owner@revenue.gov"),
        "lead": make_user(ours, Role.COMMUNICATIONS_LEAD, email="lead@revenue.gov"),
        "their_owner": make_user(theirs, Role.SERVICE_OWNER, email="owner@transport.gov"),
        "their_lead": make_user(theirs, Role.COMMUNICATIONS_LEAD, email="lead@transport.gov"),
    }


def invitation_path(smtp, to: str) -> str:
    outbox.dispatch()
    [message] = [m for m in smtp.messages if m["To"] == to]
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"https://\S+/invitation/\S+", text).group(0)
    return link.removeprefix(SITE)


def invite(client, **data):
    fields = {"name": "Nia Lead", "email": "nia@revenue.gov", "agency": "", "role": "viewer"}
    fields.update(data)
    return client.post("/admin/users/invite", data=fields)


def audit_actions() -> list[str]:
    return db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()


# --- inviting ----------------------------------------------------------------------------------


def test_an_owner_invites_a_lead_who_sets_a_password_once_and_signs_in(client, team, smtp):
    login(client, team["owner"])
    response = invite(client, agency=str(team["ours"].id), role="communications_lead")
    nia = db.session.scalars(select(User).where(User.email == "nia@revenue.gov")).one()
    assert response.headers["Location"] == f"/admin/users/{nia.id}"
    assert nia.role_in(team["ours"].id) == Role.COMMUNICATIONS_LEAD and not nia.has_password
    assert audit_actions() == ["user_invited"]

    path = invitation_path(smtp, "nia@revenue.gov")
    outbox.dispatch()
    [message] = smtp.messages
    assert message["Subject"] == "You are invited to Government Service Status"
    text = message.get_body(("plain",)).get_content()
    assert "communications lead for Department of Revenue" in text
    assert "I have seen this" not in text

    newcomer = client.application.test_client()
    page = newcomer.get(path)
    assert page.status_code == 200 and "Choose your password" in page.text
    response = newcomer.post(path, data={"password": NEW, "confirm": NEW})
    assert response.headers["Location"] == "/admin/login"
    assert login(newcomer, nia, NEW).status_code == 302
    assert newcomer.get("/admin/").status_code == 200
    # The link works once.
    other = client.application.test_client()
    again = other.post(path, data={"password": "somebody else's pass", "confirm": "somebody else's pass"})
    assert again.status_code == 400 and "has been used already" in again.text
    assert login(other, nia, "somebody else's pass").status_code == 401
    assert "invitation_accepted" in audit_actions()


def test_an_invitation_expires_after_72_hours(client, team, smtp, pinned_now):
    login(client, team["owner"])
    invite(client, agency=str(team["ours"].id))
    path = invitation_path(smtp, "nia@revenue.gov")
    with clock.pinned(pinned_now + timedelta(hours=71)):
        assert client.application.test_client().get(path).status_code == 200
    with clock.pinned(pinned_now + timedelta(hours=72, minutes=1)):
        response = client.application.test_client().post(path, data={"password": NEW, "confirm": NEW})
        assert response.status_code == 400 and "has expired" in response.text
        login(client, team["owner"])  # the first session has long timed out
        users = client.get("/admin/users").text
        assert "Invitation expired" in users


def test_sending_the_invitation_again_retires_the_first_link(client, team, smtp):
    login(client, team["owner"])
    invite(client, agency=str(team["ours"].id))
    first = invitation_path(smtp, "nia@revenue.gov")
    smtp.messages.clear()
    nia = db.session.scalars(select(User).where(User.email == "nia@revenue.gov")).one()
    assert client.post(f"/admin/users/{nia.id}/invitation").status_code == 302
    second = invitation_path(smtp, "nia@revenue.gov")
    newcomer = client.application.test_client()
    assert newcomer.get(first).status_code == 400
    assert newcomer.post(second, data={"password": NEW, "confirm": NEW}).status_code == 302


def test_the_invite_form_keeps_what_was_typed_and_links_each_error(client, team):
    login(client, team["owner"])
    response = invite(client, name="", email="nia@revenue.gov", agency="")
    assert response.status_code == 400
    assert '<a href="#name">Enter the person&#39;s name.</a>' in response.text
    assert '<a href="#agency">Choose an agency.</a>' in response.text
    assert 'value="nia@revenue.gov"' in response.text
    response = invite(client, email="lead@revenue.gov", agency=str(team["ours"].id))
    assert response.status_code == 400
    assert '<a href="#email">An account already uses this address.' in response.text
    assert 'value="Nia Lead"' in response.text
    assert db.session.scalar(select(func.count()).select_from(User)) == 5


def test_an_owner_cannot_invite_into_another_agency_or_a_site_admin(client, team):
    login(client, team["owner"])
    response = invite(client, agency=str(team["theirs"].id))
    assert response.status_code == 400 and "Choose an agency from the list." in response.text
    response = invite(client, agency="", site_admin="y")
    assert response.status_code == 400
    assert "Site administrator" not in client.get("/admin/users/invite").text
    assert db.session.scalar(select(func.count()).select_from(User)) == 5


def test_a_site_admin_invites_a_site_admin(client, team, smtp):
    login(client, team["admin"])
    invite(client, email="root@example.gov", site_admin="y")
    root = db.session.scalars(select(User).where(User.email == "root@example.gov")).one()
    assert root.is_site_admin and root.memberships == []
    outbox.dispatch()
    [message] = smtp.messages
    assert "as site administrator" in message.get_body(("plain",)).get_content()


# --- the list ----------------------------------------------------------------------------------


def test_the_list_shows_roles_state_and_last_sign_in_in_the_site_zone(client, team, pinned_now):
    login(client, team["lead"])  # signs in at 14:30 EST
    client.post("/admin/logout")
    login(client, team["owner"])
    html = client.get("/admin/users").text
    assert "Department of Revenue: Communications lead" in html
    assert '<time datetime="2026-11-23T19:30:00Z" data-ago>' in html
    assert "EST" in html and "Active" in html
    # Only the owner's agency: nobody from the other agency, no site admin.
    assert "transport.gov" not in html and "admin@example.gov" not in html


def test_the_site_admin_sees_everyone(client, team):
    login(client, team["admin"])
    html = client.get("/admin/users").text
    for key in ("owner", "lead", "their_owner", "their_lead"):
        assert team[key].email in html


def test_a_lead_cannot_use_the_user_screens(client, team):
    login(client, team["lead"])
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/users/invite").status_code == 403
    assert invite(client, agency=str(team["ours"].id)).status_code == 403
    assert 'href="/admin/users"' not in client.get("/admin/").text


# --- roles and deactivation --------------------------------------------------------------------


def test_roles_are_added_changed_and_removed_through_audited_operations(client, team):
    login(client, team["admin"])
    lead = team["lead"]
    transport = str(team["theirs"].id)
    assert client.post(f"/admin/users/{lead.id}/roles", data={"agency": transport, "role": "viewer"}).status_code == 302
    assert client.post(f"/admin/users/{lead.id}/roles/{transport}", data={"role": "service_manager"}).status_code == 302
    db.session.expire_all()
    assert lead.role_in(team["theirs"].id) == Role.SERVICE_MANAGER
    assert client.post(f"/admin/users/{lead.id}/roles/{transport}/remove").status_code == 302
    db.session.expire_all()
    assert lead.role_in(team["theirs"].id) is None
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["role_added", "role_changed", "role_removed"]
    assert all(e.actor_id == team["admin"].id and e.agency_id == team["theirs"].id for e in entries)
    assert dict(entries[1].detail_items)["before"] == "viewer"


def test_deactivation_ends_every_session_at_once_and_reactivation_lets_them_back(client, team):
    lead = team["lead"]
    laptop = client.application.test_client()
    login(laptop, lead)
    assert laptop.get("/admin/").status_code == 200
    login(client, team["owner"])
    assert client.post(f"/admin/users/{lead.id}/deactivate").status_code == 302
    assert laptop.get("/admin/").status_code == 302
    assert login(laptop, lead).status_code == 401
    db.session.expire_all()
    assert db.session.scalars(select(UserSession.end_reason)).all().count("deactivated") == 1
    assert "Deactivated" in client.get("/admin/users").text
    assert client.post(f"/admin/users/{lead.id}/reactivate").status_code == 302
    assert laptop.get("/admin/").status_code == 302  # the old session stays ended
    assert login(laptop, lead).status_code == 302
    assert audit_actions()[-2:] == ["user_deactivated", "user_reactivated"]


def test_nobody_changes_their_own_access(client, team):
    owner = team["owner"]
    login(client, owner)
    ours = team["ours"].id
    client.post(f"/admin/users/{owner.id}/deactivate")
    client.post(f"/admin/users/{owner.id}/roles/{ours}", data={"role": "viewer"})
    client.post(f"/admin/users/{owner.id}/roles/{ours}/remove")
    db.session.expire_all()
    assert owner.active and owner.role_in(ours) == Role.SERVICE_OWNER
    assert "You cannot change your own access" in client.get(f"/admin/users/{owner.id}").text


def test_an_owner_may_not_deactivate_someone_who_also_works_for_another_agency(client, team):
    lead = team["lead"]
    db.session.add(Membership(user_id=lead.id, agency_id=team["theirs"].id, role=int(Role.VIEWER)))
    db.session.commit()
    login(client, team["owner"])
    assert client.get(f"/admin/users/{lead.id}").status_code == 200
    assert client.post(f"/admin/users/{lead.id}/deactivate").status_code == 403
    db.session.expire_all()
    assert lead.active


# --- another agency's users: every route, every method -----------------------------------------


def user_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin.") and "user_id" in rule.arguments:
            yield rule, sorted(rule.methods - {"HEAD", "OPTIONS"})


def snapshot():
    db.session.expire_all()
    users = db.session.scalars(select(User).order_by(User.id)).all()
    return (
        [(u.id, u.email, u.name, u.active, u.is_site_admin, u.password_hash) for u in users],
        sorted(db.session.execute(select(Membership.user_id, Membership.agency_id, Membership.role)).all()),
        db.session.scalar(select(func.count()).select_from(AuditEntry)),
    )


def test_an_owner_can_neither_see_nor_change_another_agencys_user(app, client, team):
    login(client, team["owner"])
    before = snapshot()
    data = {"agency": str(team["ours"].id), "role": "service_owner", "site_admin": "yes"}
    checked = 0
    for target in ("their_lead", "their_owner", "admin"):
        for rule, methods in user_routes(app):
            values = {"user_id": team[target].id, "agency_id": team["theirs"].id}
            path = rule.build({k: values[k] for k in rule.arguments})[1]
            for method in methods:
                response = client.open(path, method=method, data=data)
                assert response.status_code in (403, 404), (rule.rule, method, target)
                assert team[target].email not in response.text
                checked += 1
    assert checked >= 3 * 8  # the user page and seven actions, for each of three users
    assert snapshot() == before


def test_an_owner_cannot_change_their_own_users_role_in_another_agency(app, client, team):
    login(client, team["owner"])
    lead, theirs = team["lead"], team["theirs"].id
    db.session.add(Membership(user_id=lead.id, agency_id=theirs, role=int(Role.VIEWER)))
    db.session.commit()
    before = snapshot()
    assert client.post(f"/admin/users/{lead.id}/roles/{theirs}", data={"role": "service_owner"}).status_code == 403
    assert client.post(f"/admin/users/{lead.id}/roles/{theirs}/remove").status_code == 403
    response = client.post(f"/admin/users/{lead.id}/roles", data={"agency": str(theirs), "role": "viewer"})
    assert response.status_code == 400
    assert client.post(f"/admin/users/{lead.id}/site-admin", data={"site_admin": "yes"}).status_code == 403
    page = client.get(f"/admin/users/{lead.id}").text
    assert "Department of Transport" not in page and "1 other agency" in page
    assert snapshot() == before


def test_a_lead_gets_no_user_route(app, client, team):
    login(client, team["lead"])
    before = snapshot()
    for rule, methods in user_routes(app):
        values = {"user_id": team["lead"].id, "agency_id": team["ours"].id}
        path = rule.build({k: values[k] for k in rule.arguments})[1]
        for method in methods:
            assert client.open(path, method=method, data={"role": "service_owner"}).status_code in (403, 404)
    assert snapshot() == before


def test_a_stranger_reaches_only_the_password_pages(client, team):
    for path in ("/admin/users", "/admin/users/invite", f"/admin/users/{team['lead'].id}", "/admin/account"):
        assert client.get(path).headers["Location"].startswith("/admin/login?next=")
    for path in ("/admin/forgot-password", "/admin/forgot-password/sent"):
        assert client.get(path).status_code == 200
    assert client.get("/admin/invitation/nonsense").status_code == 400
    assert client.get("/admin/reset-password/nonsense").status_code == 400


def test_the_new_pages_sign_in_with_the_same_password(client, team):
    assert login(client, team["owner"], PASSWORD).status_code == 302
    assert client.get("/admin/account").status_code == 200
