"""A second factor: an authenticator app (TOTP) with recovery codes, required of site admins and
service owners by REQUIRE_SECOND_FACTOR_FOR, throttled like the password, audited."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from statuspage import clock
from statuspage.audit import AuditEntry
from statuspage.extensions import db
from statuspage.users.models import RecoveryCode, Role, TotpFactor, UserSession
from tests.factories import login, make_agency, make_user


@pytest.fixture
def app_config():
    return {"REQUIRE_SECOND_FACTOR_FOR": ["site_admin", "service_owner"]}


@pytest.fixture
def lead(app):
    return make_user(make_agency(), Role.COMMUNICATIONS_LEAD, email="lead@example.gov")


@pytest.fixture
def new_client(app):
    """Another browser: its own cookies, each request in its own app context."""
    from tests.conftest import FreshContextClient

    app.test_client_class = FreshContextClient
    return app.test_client


def code_for(user, at=None) -> str:
    secret = db.session.scalars(select(TotpFactor.secret).where(TotpFactor.user_id == user.id)).one()
    return pyotp.TOTP(secret).at(at or clock.now())


def turn_on_app(client, user) -> list[str]:
    """Set up the authenticator app through the pages; returns the recovery codes shown."""
    client.get("/admin/account/authenticator-app")
    response = client.post("/admin/account/authenticator-app", data={"code": code_for(user)})
    assert response.status_code == 200, response.text
    return re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", response.text)


def actions(user) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor_id == user.id).order_by(AuditEntry.id)
        )
    )


def enter_code(client, code, address="203.0.113.5"):
    return client.post(
        "/admin/login/second-factor", data={"code": code}, environ_base={"REMOTE_ADDR": address}
    )


def test_the_setup_page_shows_the_key_as_text_and_a_qr_code_made_on_the_server(client, lead):
    login(client, lead)
    page = client.get("/admin/account/authenticator-app").text
    secret = db.session.scalars(select(TotpFactor.secret)).one()
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in page
    assert "otpauth://totp/" in page and f"secret={secret}" in page
    assert 'src="data:image/svg+xml' in page  # no request to anyone else for the QR code
    assert "https://" not in page.split("<main", 1)[1].split("</main>")[0]
    # Not on until a first code confirms it: signing in still takes the password alone.
    assert db.session.scalars(select(TotpFactor.confirmed_at)).one() is None


def test_a_first_code_turns_the_app_on_and_then_signing_in_asks_for_a_code(client, lead, pinned_now):
    login(client, lead)
    client.get("/admin/account/authenticator-app")
    wrong = client.post("/admin/account/authenticator-app", data={"code": "000000"})
    assert wrong.status_code == 400 and "That code is not right" in wrong.text
    codes = turn_on_app(client, lead)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "second_factor_added" in actions(lead)

    client.post("/admin/logout")
    with clock.pinned(pinned_now + timedelta(minutes=1)):
        response = login(client, lead)
        assert response.headers["Location"] == "/admin/login/second-factor"
        assert client.get("/admin/").status_code == 302  # not signed in yet
        assert client.get("/admin/login/second-factor").status_code == 200
        response = enter_code(client, code_for(lead))
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_is_refused(client, lead, pinned_now):
    login(client, lead)
    turn_on_app(client, lead)
    client.post("/admin/logout")
    login(client, lead)
    right = code_for(lead, pinned_now + timedelta(minutes=1))
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = enter_code(client, wrong)
    assert response.status_code == 401 and "That code is not right" in response.text
    assert client.get("/admin/").status_code == 302


def test_a_code_is_refused_the_second_time_within_its_window(new_client, lead, pinned_now):
    setup, first, second = new_client(), new_client(), new_client()
    login(setup, lead)
    turn_on_app(setup, lead)
    at = pinned_now + timedelta(minutes=2)
    with clock.pinned(at):
        code = code_for(lead)
        login(first, lead)
        assert enter_code(first, code).status_code == 302
        # The same code, still within its 30 seconds (and the step either side), from elsewhere.
        login(second, lead)
        assert enter_code(second, code).status_code == 401
    with clock.pinned(at + timedelta(seconds=20)):
        assert enter_code(second, code).status_code == 401
    with clock.pinned(at + timedelta(seconds=30)):
        assert enter_code(second, code_for(lead)).status_code == 302  # the next code works


def test_a_recovery_code_works_once_and_its_use_is_audited(new_client, lead):
    client = new_client()
    login(client, lead)
    codes = turn_on_app(client, lead)
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and all(h.startswith("$argon2id$") for h in stored)
    assert not any(code.replace("-", "") in h for h in stored for code in codes)

    client.post("/admin/logout")
    login(client, lead)
    response = enter_code(client, " " + codes[3].upper() + " ")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "recovery_code_used")
    ).one()
    assert entry.actor_id == lead.id and json.loads(entry.details) == {"codes_left": 9}

    other = new_client()
    login(other, lead)
    assert enter_code(other, codes[3]).status_code == 401  # used once, never again
    assert enter_code(other, codes[4]).status_code == 302


def test_new_recovery_codes_replace_the_old_ones(client, lead):
    login(client, lead)
    old = turn_on_app(client, lead)
    response = client.post("/admin/account/recovery-codes")
    new = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", response.text)
    assert len(new) == 10 and not set(new) & set(old)
    assert "recovery_codes_made" in actions(lead)
    client.post("/admin/logout")
    login(client, lead)
    assert enter_code(client, old[0]).status_code == 401
    assert enter_code(client, new[0]).status_code == 302


def test_guessing_codes_is_slowed_per_account_and_address_without_locking_out_the_person(
    new_client, lead, pinned_now
):
    setup, guesser, person = new_client(), new_client(), new_client()
    login(setup, lead)
    turn_on_app(setup, lead)
    at = pinned_now + timedelta(minutes=5)
    with clock.pinned(at):
        right = code_for(lead)
        wrong = f"{(int(right) + 500) % 1_000_000:06d}"
        login(guesser, lead)
        for _ in range(5):
            assert enter_code(guesser, wrong, address="198.51.100.66").status_code == 401
        throttled = enter_code(guesser, right, address="198.51.100.66")
        assert throttled.status_code == 429 and "Too many wrong codes. Try again in 15 minutes" in throttled.text
        login(person, lead)
        assert enter_code(person, right, address="203.0.113.5").status_code == 302


def test_site_admins_and_service_owners_must_set_up_a_second_factor_before_anything_else(
    new_client,
):
    agency = make_agency()
    admin = make_user(site_admin=True, email="admin@example.gov")
    owner = make_user(agency, Role.SERVICE_OWNER, email="owner@example.gov")
    lead = make_user(agency, Role.COMMUNICATIONS_LEAD, email="lead@example.gov")
    for person in (admin, owner):
        client = new_client()
        login(client, person)
        for path in ("/admin/", "/admin/incidents/new", "/admin/account", "/admin/users"):
            response = client.get(path)
            assert response.status_code == 302, path
            assert response.headers["Location"] == "/admin/account/second-factor"
        page = client.get("/admin/account/second-factor")
        assert page.status_code == 200 and "Add a second factor to go on" in page.text
        turn_on_app(client, person)
        assert client.get("/admin/").status_code == 200
    client = new_client()
    login(client, lead)
    assert client.get("/admin/").status_code == 200  # a lead may add one, but need not


def test_adding_or_removing_the_app_ends_every_other_session(new_client, lead):
    here, elsewhere = new_client(), new_client()
    login(here, lead)
    login(elsewhere, lead)
    turn_on_app(here, lead)
    assert elsewhere.get("/admin/").status_code == 302  # ended
    assert here.get("/admin/").status_code == 200  # kept
    assert db.session.scalars(
        select(UserSession.end_reason).where(UserSession.ended_at.isnot(None))
    ).all() == ["second_factor"]

    login(elsewhere, lead)
    enter_code(elsewhere, code_for(lead, clock.now() + timedelta(seconds=30)))
    with clock.pinned(clock.now() + timedelta(seconds=30)):
        assert elsewhere.get("/admin/").status_code == 200
        response = here.post("/admin/account/authenticator-app/remove")
        assert response.status_code == 302
        assert elsewhere.get("/admin/").status_code == 302
        assert here.get("/admin/").status_code == 200
    assert actions(lead)[-1] == "second_factor_removed"
    assert db.session.scalars(select(RecoveryCode)).all() == []  # they went with the last factor
    here.post("/admin/logout")
    assert login(here, lead).headers["Location"] == "/admin/"  # the password alone again
