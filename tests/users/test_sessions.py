"""Sessions end on the server: a copied cookie is worth nothing after signing out, a password
change, "sign out everywhere" or a while without activity."""

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from statuspage import clock
from statuspage.extensions import db
from statuspage.incidents.models import IncidentUpdate
from statuspage.users.models import Role, UserSession
from statuspage.users.operations import end_sessions
from tests.factories import PASSWORD, login, make_agency, make_incident, make_service, make_user


@pytest.fixture
def setting(app):
    agency = make_agency()
    lead = make_user(agency, Role.COMMUNICATIONS_LEAD, email="lead@example.gov")
    incident = make_incident([make_service(agency)], priority=2)
    return {"lead": lead, "ref": incident.ref}


def updates() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(IncidentUpdate))


def publish(client, ref: str, body: str):
    return client.post(
        f"/admin/incidents/{ref}/updates",
        data={"status": "identified", "body": body, "action": "publish"},
    )


def copy_of(client) -> FlaskClient:
    """Another browser holding the same session cookie (as a thief would)."""
    other = client.application.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def test_a_copied_session_cookie_is_refused_after_signing_out(client, setting):
    login(client, setting["lead"])
    thief = copy_of(client)
    assert signed_in(thief)  # the copy works while the session runs...
    before = updates()
    assert publish(thief, setting["ref"], "Published with the copy.").status_code == 302
    assert updates() == before + 1

    client.post("/admin/logout")
    response = publish(thief, setting["ref"], "Published after sign-out.")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")
    assert updates() == before + 1  # nothing published
    assert not signed_in(thief)


def test_signing_out_ends_only_that_session(client, setting):
    login(client, setting["lead"])
    phone = client.application.test_client()
    login(phone, setting["lead"])
    client.post("/admin/logout")
    assert not signed_in(client)
    assert signed_in(phone)


def test_sign_out_everywhere_ends_every_session_of_the_person(client, setting):
    login(client, setting["lead"])
    phone = client.application.test_client()
    login(phone, setting["lead"])
    thief = copy_of(client)
    response = client.post("/admin/account/sign-out-everywhere")
    assert response.headers["Location"] == "/admin/login"
    assert not signed_in(client) and not signed_in(phone) and not signed_in(thief)


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(client, setting):
    login(client, setting["lead"])
    phone = client.application.test_client()
    login(phone, setting["lead"])
    new = "a brand new long passphrase"
    response = client.post(
        "/admin/account/password",
        data={"current_password": PASSWORD, "password": new, "confirm": new},
    )
    assert response.status_code == 302
    assert signed_in(client)
    assert not signed_in(phone)
    assert login(phone, setting["lead"]).status_code == 401  # the old password is gone
    assert login(phone, setting["lead"], new).status_code == 302


def test_a_wrong_current_password_changes_nothing_and_keeps_what_was_typed(client, setting):
    login(client, setting["lead"])
    response = client.post(
        "/admin/account/password",
        data={"current_password": "not it", "password": "short", "confirm": "other"},
    )
    assert response.status_code == 400
    assert '<a href="#password">Enter at least 12 characters.</a>' in response.text
    assert '<a href="#confirm">The two passwords are not the same.</a>' in response.text
    response = client.post(
        "/admin/account/password",
        data={"current_password": "not it", "password": "long enough here", "confirm": "long enough here"},
    )
    assert '<a href="#current_password">Your current password is not right.</a>' in response.text
    assert login(client.application.test_client(), setting["lead"]).status_code == 302


def test_a_session_ends_after_the_idle_timeout(client, setting, pinned_now):
    login(client, setting["lead"])
    thief = copy_of(client)
    with clock.pinned(pinned_now + timedelta(minutes=29)):
        assert signed_in(client)  # activity moves the idle clock on
    with clock.pinned(pinned_now + timedelta(minutes=58)):
        assert signed_in(client)
    with clock.pinned(pinned_now + timedelta(minutes=58 + 30)):
        response = client.get("/admin/")
        assert response.status_code == 302
        assert "signed out after a while without activity" in client.get("/admin/login").text
        assert not signed_in(thief)
    row = db.session.scalars(select(UserSession)).one()
    assert row.end_reason == "idle"


@pytest.mark.parametrize("app_config", [{"SESSION_IDLE_MINUTES": 5}])
def test_the_idle_timeout_is_a_setting(client, setting, pinned_now):
    login(client, setting["lead"])
    with clock.pinned(pinned_now + timedelta(minutes=5)):
        assert not signed_in(client)


def test_a_session_ends_after_its_lifetime_however_active(client, setting, pinned_now):
    login(client, setting["lead"])
    for minutes in range(20, 12 * 60, 20):
        with clock.pinned(pinned_now + timedelta(minutes=minutes)):
            assert signed_in(client), minutes
    with clock.pinned(pinned_now + timedelta(hours=12)):
        assert not signed_in(client)


def test_end_sessions_is_the_one_call_for_other_features(client, setting):
    """What a second factor change will call: every session of the user ends."""
    login(client, setting["lead"])
    assert end_sessions(setting["lead"], reason="second_factor") == 1
    db.session.commit()
    assert not signed_in(client)


def test_a_cookie_from_before_server_side_sessions_is_refused(client, setting):
    """A cookie naming a user but no session (as every cookie did before) signs nobody in."""
    with client.session_transaction() as session:
        session["_user_id"] = str(setting["lead"].id)
        session["_fresh"] = True
    assert not signed_in(client)


def test_only_the_hash_of_the_session_token_is_stored(client, setting):
    login(client, setting["lead"])
    with client.session_transaction() as session:
        token = session["session_token"]
    stored = db.session.scalars(select(UserSession.token_hash)).one()
    assert token not in stored and len(stored) == 64


def test_signing_in_records_the_time_and_the_session(client, setting, pinned_now):
    login(client, setting["lead"])
    db.session.expire_all()
    assert setting["lead"].last_sign_in_at == pinned_now
    row = db.session.scalars(select(UserSession)).one()
    assert row.created_at == pinned_now and row.ended_at is None
