"""A forgotten password: the same answer whether or not the address has an account (and the same
work), a link that works once and expires, every session ended."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from statuspage import clock
from statuspage.audit import AuditEntry
from statuspage.extensions import db
from statuspage.subscriptions import outbox
from statuspage.users.models import Role
from tests.factories import PASSWORD, login, make_agency, make_user

SITE = "https://status.example.gov"
NEW = "a new and rather long passphrase"


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "SITE_URL": SITE}


@pytest.fixture
def lead(app):
    return make_user(make_agency(), Role.COMMUNICATIONS_LEAD, email="lead@example.gov")


def ask(client, email, address="203.0.113.5"):
    return client.post(
        "/admin/forgot-password", data={"email": email}, environ_base={"REMOTE_ADDR": address}
    )


def sent_text(smtp, to: str) -> str:
    outbox.dispatch()
    [message] = [m for m in smtp.messages if m["To"] == to]
    return message.get_body(("plain",)).get_content()


def reset_path(smtp, to="lead@example.gov") -> str:
    link = re.search(r"https://\S+/reset-password/\S+", sent_text(smtp, to)).group(0)
    assert link.startswith(f"{SITE}/admin/reset-password/")
    return link.removeprefix(SITE)


def choose(client, path, password=NEW):
    return client.post(path, data={"password": password, "confirm": password})


def test_the_login_page_offers_a_reset(client):
    assert 'href="/admin/forgot-password">Forgot your password?</a>' in client.get("/admin/login").text


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(client, lead, smtp):
    known, unknown = ask(client, "lead@example.gov"), ask(client, "nobody@example.gov")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"] == "/admin/forgot-password/sent"
    page = client.get("/admin/forgot-password/sent").text
    assert "If the address you gave has an account" in page
    # Each address gets an email: the account its link, the stranger's inbox a note.
    assert "/admin/reset-password/" in sent_text(smtp, "lead@example.gov")
    note = sent_text(smtp, "nobody@example.gov")
    assert "no active account uses this address" in note and "reset-password" not in note


def test_asking_does_the_same_work_for_a_known_and_an_unknown_address(client, lead):
    """No answer by timing: the same statements run either way (one outbox row is written)."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement.split()[0].upper())

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        ask(client, "lead@example.gov")
        known = list(statements)
        statements.clear()
        ask(client, "nobody@example.gov")
        unknown = list(statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert known == unknown
    assert "INSERT" in known


def test_a_deactivated_account_is_answered_like_an_unknown_address(client, lead, smtp):
    lead.active = False
    db.session.commit()
    assert ask(client, "lead@example.gov").status_code == 302
    assert "no active account uses this address" in sent_text(smtp, "lead@example.gov")


def test_the_link_sets_a_new_password_once_and_ends_every_session(client, lead, smtp):
    phone = client.application.test_client()
    login(phone, lead)
    ask(client, "lead@example.gov")
    path = reset_path(smtp)
    page = client.get(path)
    assert page.status_code == 200 and "Choose a new password" in page.text
    response = choose(client, path)
    assert response.headers["Location"] == "/admin/login"
    assert phone.get("/admin/").status_code == 302  # signed out everywhere
    assert login(client, lead).status_code == 401  # the old password no longer works
    assert login(client, lead, NEW).status_code == 302
    # Once: the same link again is refused and changes nothing.
    fresh = client.application.test_client()
    again = choose(fresh, path, "yet another long passphrase")
    assert again.status_code == 400 and "has been used already" in again.text
    assert fresh.get(path).status_code == 400
    assert login(fresh, lead, NEW).status_code == 302
    assert db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action == "password_reset")
    ).all() == ["password_reset"]


def test_the_link_expires_after_an_hour(client, lead, smtp, pinned_now):
    ask(client, "lead@example.gov")
    path = reset_path(smtp)
    with clock.pinned(pinned_now + timedelta(minutes=61)):
        response = choose(client, path)
    assert response.status_code == 400 and "has expired" in response.text
    assert login(client, lead).status_code == 302  # the password is unchanged


def test_a_tampered_link_is_refused(client, lead, smtp):
    ask(client, "lead@example.gov")
    path = reset_path(smtp)
    response = choose(client, path[:-3] + "abc")
    assert response.status_code == 400 and "not valid" in response.text


def test_a_short_password_is_refused_with_the_reason_and_the_link_still_works(client, lead, smtp):
    ask(client, "lead@example.gov")
    path = reset_path(smtp)
    response = choose(client, path, "short")
    assert response.status_code == 400
    assert '<a href="#password">Enter at least 12 characters.</a>' in response.text
    assert choose(client, path).status_code == 302


def test_a_badly_typed_address_is_an_error_on_the_field(client):
    response = ask(client, "not an address")
    assert response.status_code == 400
    assert 'href="#email"' in response.text and 'value="not an address"' in response.text


def test_asking_is_rate_limited_per_address(client, lead, smtp):
    for n in range(3):
        assert ask(client, "lead@example.gov", address=f"198.51.100.{n}").status_code == 302
    assert ask(client, "lead@example.gov", address="198.51.100.9").status_code == 429
    # The same for an address with no account: the limit says nothing either.
    for n in range(3):
        assert ask(client, "nobody@example.gov", address=f"198.51.100.{n}").status_code == 302
    assert ask(client, "nobody@example.gov", address="198.51.100.9").status_code == 429


def test_asking_is_rate_limited_per_client(client, lead):
    for n in range(10):
        assert ask(client, f"person{n}@example.gov").status_code == 302
    assert ask(client, "lead@example.gov").status_code == 429


def test_a_password_is_still_the_only_way_in(client, lead):
    assert ask(client, "lead@example.gov").status_code == 302
    assert login(client, lead, PASSWORD).status_code == 302  # asking changes nothing by itself
