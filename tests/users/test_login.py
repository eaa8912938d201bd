"""Signing in: hashed passwords, throttling, safe redirects, careful cookies."""

import pytest
from sqlalchemy import select

from statuspage.extensions import db
from statuspage.users.models import LoginFailure, Role, User
from tests.factories import PASSWORD, login, make_agency, make_user


@pytest.fixture
def lead(app):
    return make_user(make_agency(), Role.COMMUNICATIONS_LEAD, email="lead@example.gov")


def attempt(client, email, password, address="203.0.113.5", next_url=None):
    path = "/admin/login" + (f"?next={next_url}" if next_url else "")
    return client.post(
        path,
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_passwords_are_stored_as_argon2_hashes(lead):
    stored = db.session.scalars(select(User.password_hash).where(User.id == lead.id)).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_signing_in_opens_the_dashboard(client, lead):
    response = attempt(client, "LEAD@example.gov ", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_wrong_password_says_so_without_saying_which_part_was_wrong(client, lead):
    for email in ("lead@example.gov", "nobody@example.gov"):
        response = attempt(client, email, "wrong password")
        assert response.status_code == 401
        assert "The email address or password is not right." in response.text
        assert f'value="{email}"' in response.text  # the email is kept, the password is not
        assert "wrong password" not in response.text


def test_five_wrong_passwords_from_another_address_do_not_stop_the_real_person(client, lead):
    for _ in range(5):
        attempt(client, "lead@example.gov", "guess", address="198.51.100.66")
    assert attempt(client, "lead@example.gov", "guess", address="198.51.100.66").status_code == 429
    response = attempt(client, "lead@example.gov", PASSWORD, address="203.0.113.5")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_failures_are_throttled_per_account_and_address_with_the_wait_in_minutes(
    client, lead, pinned_now
):
    from datetime import timedelta

    from statuspage import clock

    for minute in range(5):
        with clock.pinned(pinned_now + timedelta(minutes=minute)):
            attempt(client, "lead@example.gov", "guess")
    with clock.pinned(pinned_now + timedelta(minutes=4, seconds=30)):
        response = attempt(client, "lead@example.gov", PASSWORD)
    assert response.status_code == 429
    # The first failure leaves the 15-minute window at 15:00, ten and a half minutes from now.
    assert "Too many failed attempts to sign in from here. Try again in 11 minutes" in response.text
    assert client.get("/admin/").status_code == 302  # still signed out
    with clock.pinned(pinned_now + timedelta(minutes=15)):
        assert attempt(client, "lead@example.gov", PASSWORD).status_code == 302


def test_failures_are_throttled_per_address(client, lead):
    for n in range(20):
        attempt(client, f"someone{n}@example.gov", "guess", address="192.0.2.7")
    assert attempt(client, "lead@example.gov", PASSWORD, address="192.0.2.7").status_code == 429
    assert attempt(client, "lead@example.gov", PASSWORD, address="192.0.2.8").status_code == 302


@pytest.mark.parametrize("app_config", [{"LOGIN_MAX_FAILURES_PER_ACCOUNT": 12}])
def test_a_ceiling_bounds_guessing_one_account_from_many_addresses(client, lead):
    """A crowd of addresses, a few guesses each, hits the account's ceiling; the addresses the
    person has signed in from lately still get through."""
    assert attempt(client, "lead@example.gov", PASSWORD, address="203.0.113.5").status_code == 302
    client.post("/admin/logout")
    for n in range(12):
        attempt(client, "lead@example.gov", "guess", address=f"198.51.100.{n}")
    # A new address (a stranger, or a guess that happens to be right) is held back...
    response = attempt(client, "lead@example.gov", PASSWORD, address="198.51.100.200")
    assert response.status_code == 429 and "Try again in 15 minutes" in response.text
    # ...the person's usual address is not.
    assert attempt(client, "lead@example.gov", PASSWORD, address="203.0.113.5").status_code == 302


def test_throttling_ends_after_the_window(client, lead, pinned_now):
    from datetime import timedelta

    from statuspage import clock

    for _ in range(5):
        attempt(client, "lead@example.gov", "guess")
    with clock.pinned(pinned_now + timedelta(minutes=16)):
        assert attempt(client, "lead@example.gov", PASSWORD).status_code == 302
    # A success forgets the account's failures from that address.
    assert (
        db.session.scalars(
            select(LoginFailure).where(LoginFailure.email == "lead@example.gov")
        ).all()
        == []
    )


def test_a_success_does_not_forget_a_strangers_failures_elsewhere(client, lead):
    for _ in range(3):
        attempt(client, "lead@example.gov", "guess", address="198.51.100.66")
    assert attempt(client, "lead@example.gov", PASSWORD).status_code == 302
    addresses = db.session.scalars(select(LoginFailure.address)).all()
    assert addresses == ["198.51.100.66"] * 3


def test_an_invited_account_without_a_password_cannot_sign_in(client, lead):
    from statuspage.users.operations import invite_user

    admin = make_user(site_admin=True)
    invite_user(admin, name="New Lead", email="new@example.gov", site_admin=True)
    for password in ("", "!invited", "guess"):
        assert attempt(client, "new@example.gov", password or "x").status_code == 401


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/admin/incidents/new", "/admin/incidents/new"),
        ("https://evil.example/phish", "/admin/"),
        ("//evil.example/phish", "/admin/"),
        ("/\\evil.example", "/admin/"),
        ("javascript:alert(1)", "/admin/"),
        ("admin", "/admin/"),
    ],
)
def test_next_only_ever_redirects_inside_the_site(client, lead, next_url, expected):
    from urllib.parse import quote

    response = attempt(client, "lead@example.gov", PASSWORD, next_url=quote(next_url, safe=""))
    assert response.headers["Location"] == expected


def test_a_stranger_returns_to_the_page_they_asked_for_after_signing_in(client, lead):
    first = client.get("/admin/incidents/new")
    assert first.headers["Location"] == "/admin/login?next=/admin/incidents/new"
    response = attempt(client, "lead@example.gov", PASSWORD, next_url="/admin/incidents/new")
    assert response.headers["Location"] == "/admin/incidents/new"


def test_session_cookie_is_httponly_lax_and_secure_over_https(client, lead):
    cookie = attempt(client, "lead@example.gov", PASSWORD).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    https = client.post(
        "/admin/login",
        data={"email": "lead@example.gov", "password": PASSWORD},
        base_url="https://status.example.gov",
    )
    assert "Secure" in https.headers["Set-Cookie"]


def test_signing_out_ends_the_session(client, lead):
    login(client, lead)
    client.post("/admin/logout")
    assert client.get("/admin/").status_code == 302


def test_a_deactivated_account_cannot_sign_in(client, lead):
    lead.active = False
    db.session.commit()
    assert attempt(client, "lead@example.gov", PASSWORD).status_code == 401
