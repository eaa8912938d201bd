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


def test_failures_are_throttled_per_account(client, lead):
    for n in range(5):
        attempt(client, "lead@example.gov", "guess", address=f"198.51.100.{n}")
    response = attempt(client, "lead@example.gov", PASSWORD, address="198.51.100.99")
    assert response.status_code == 429
    assert "Too many failed attempts" in response.text
    assert client.get("/admin/").status_code == 302  # still signed out


def test_failures_are_throttled_per_address(client, lead):
    for n in range(20):
        attempt(client, f"someone{n}@example.gov", "guess", address="192.0.2.7")
    assert attempt(client, "lead@example.gov", PASSWORD, address="192.0.2.7").status_code == 429
    assert attempt(client, "lead@example.gov", PASSWORD, address="192.0.2.8").status_code == 302


def test_throttling_ends_after_the_window(client, lead, pinned_now):
    from datetime import timedelta

    from statuspage import clock

    for _ in range(5):
        attempt(client, "lead@example.gov", "guess")
    with clock.pinned(pinned_now + timedelta(minutes=16)):
        assert attempt(client, "lead@example.gov", PASSWORD).status_code == 302
    # A success forgets the account's failures.
    assert (
        db.session.scalars(
            select(LoginFailure).where(LoginFailure.email == "lead@example.gov")
        ).all()
        == []
    )


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
