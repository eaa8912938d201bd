"""Passkeys in real Chromium, with its virtual authenticator (the DevTools WebAuthn domain): the
issue's path from an invitation to an incident, a passkey as the second factor after a password,
and axe on every new screen."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from statuspage.audit import AuditEntry
from statuspage.extensions import db
from statuspage.subscriptions import outbox
from statuspage.users.models import Passkey, User
from tests.browser.test_accessibility import AXE, WCAG_TAGS
from tests.conftest import make_app

pytestmark = pytest.mark.browser

ADMIN = "admin@example.gov"
NEW_LEAD = "lee.lead@example.gov"
PASSWORD = "a long passphrase for lee"


@pytest.fixture(scope="module")
def mail_server(live_server, _smtp_controller):
    """The demo site again (same database), sending its email to the SMTP sink, with SITE_URL
    its own address so the emailed links open it. Reached as localhost: a passkey's relying
    party must be a domain name, and Chromium refuses an IP address such as 127.0.0.1."""
    app = make_app(
        live_server["app"].config["SQLALCHEMY_DATABASE_URI"],
        WTF_CSRF_ENABLED=True,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=_smtp_controller.port,
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://localhost:{server.server_port}"
    app.config["SITE_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": base, "app": app, "logins": live_server["logins"], "sink": _smtp_controller.handler}
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def context(browser):
    # axe is injected by the test, not the site: let it past the site's CSP (the site's own
    # passkeys.js still runs under it).
    context = browser.new_context(bypass_csp=True, viewport={"width": 1024, "height": 800})
    yield context
    context.close()


def authenticator(page) -> tuple:
    """A platform authenticator that keeps passkeys and verifies the person (like Touch ID)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    made = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, made["authenticatorId"]


def axe(page, label: str) -> None:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    assert len(result["passes"]) >= 5, f"{label}: axe did not run"
    problems = [f"{v['id']}: {v['help']}" for v in result["violations"]]
    assert not problems, f"{label}:\n" + "\n".join(problems)


def sign_in_with_password(page, base: str, email: str, password: str) -> None:
    page.goto(base + "/admin/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page) -> None:
    page.get_by_role("button", name=re.compile("^Sign out")).click()
    page.wait_for_url("**/admin/login")


def invitation_link(sink, app, to: str) -> str:
    with app.app_context():
        outbox.dispatch_until_empty()
        db.session.remove()
    [message] = [m for m in sink.messages if m["To"] == to]
    return re.search(r"http://\S+/admin/invitation/\S+", message.get_body(("plain",)).get_content()).group(0)


def test_an_invited_lead_sets_a_password_and_a_passkey_signs_in_with_it_and_logs_an_incident(
    context, mail_server
):
    base, app = mail_server["url"], mail_server["app"]
    mail_server["sink"].messages.clear()

    # The admin invites a new person to the DMV, as a viewer for now.
    admin = context.browser.new_context(viewport={"width": 1024, "height": 800}).new_page()
    sign_in_with_password(admin, base, ADMIN, mail_server["logins"][ADMIN])
    admin.goto(base + "/admin/users/invite")
    admin.get_by_label("Full name").fill("Lee Lead")
    admin.get_by_label("Email address").fill(NEW_LEAD)
    admin.get_by_label("Agency", exact=True).select_option(label="Department of Motor Vehicles")
    admin.get_by_label("Role", exact=True).select_option("viewer")
    admin.get_by_role("button", name="Send the invitation").click()
    admin.wait_for_url("**/admin/users/*")
    invited_page = admin.url

    # The lead opens the emailed link and chooses a password, then signs in with it.
    page = context.new_page()
    cdp, authenticator_id = authenticator(page)
    page.goto(invitation_link(mail_server["sink"], app, NEW_LEAD))
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Type the new password again").fill(PASSWORD)
    page.get_by_role("button", name="Set my password").click()
    page.wait_for_url("**/admin/login")
    sign_in_with_password(page, base, NEW_LEAD, PASSWORD)
    page.wait_for_url(base + "/admin/")

    # ... and adds a passkey from their account.
    page.get_by_role("link", name="Your account").click()
    page.get_by_role("link", name="your second factors").click()
    axe(page, "second factors, none yet")
    page.get_by_role("link", name="Add a passkey").click()
    axe(page, "add a passkey")
    page.get_by_label("Name for this passkey").fill("Work laptop")
    page.get_by_role("button", name="Add the passkey").click()
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    assert len(page.locator(".recovery-codes li").all()) == 10
    axe(page, "recovery codes")
    assert len(cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]) == 1
    page.get_by_role("link", name="I have kept them: continue").click()
    assert "Work laptop" in page.locator("main").inner_text()
    axe(page, "second factors, with a passkey")

    # Signed out, the passkey alone signs them in: no email, no password.
    sign_out(page)
    page.get_by_role("link", name="Sign in with a passkey").click()
    axe(page, "sign in with a passkey")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(base + "/admin/")
    assert "Sign out (Lee Lead)" in page.locator("header").inner_text()

    # The admin makes them a communications lead.
    admin.goto(invited_page)
    admin.get_by_label("Role in Department of Motor Vehicles").select_option("communications_lead")
    admin.get_by_role("button", name="Change the role in Department of Motor Vehicles").click()
    admin.get_by_text("is now communications lead for Department of Motor Vehicles").wait_for()

    # ... and they log an incident.
    page.goto(base + "/admin/incidents/new")
    page.get_by_label("Title").fill("Renewal payments declined")
    page.get_by_label("P2 High").check()
    page.get_by_label("Driver license renewal", exact=False).first.check()
    page.get_by_role("button", name="Log incident").click()
    page.get_by_role("heading", name=re.compile("Renewal payments declined")).wait_for()

    with app.app_context():
        lee = db.session.scalars(select(User).where(User.email == NEW_LEAD)).one()
        assert [p.name for p in db.session.scalars(select(Passkey).where(Passkey.user_id == lee.id))] == ["Work laptop"]
        done = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == lee.id)))
        assert {"invitation_accepted", "second_factor_added"} <= done
        db.session.remove()
    admin.context.close()


def test_a_passkey_is_the_second_factor_after_the_password(context, mail_server):
    """Someone with a passkey who signs in with their password is asked for it (or a code)."""
    base = mail_server["url"]
    email = "lead.dmv@example.gov"
    page = context.new_page()
    authenticator(page)
    sign_in_with_password(page, base, email, mail_server["logins"][email])
    page.wait_for_url(base + "/admin/")
    page.goto(base + "/admin/account/passkeys/new")
    page.get_by_label("Name for this passkey").fill("Phone")
    page.get_by_role("button", name="Add the passkey").click()
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    sign_out(page)

    sign_in_with_password(page, base, email, mail_server["logins"][email])
    page.wait_for_url("**/admin/login/second-factor")
    axe(page, "second factor after the password")
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url(base + "/admin/")

    # A wrong code shows its error (checked by axe too), and the page still offers the passkey.
    sign_out(page)
    sign_in_with_password(page, base, email, mail_server["logins"][email])
    page.get_by_label("Code", exact=True).fill("123456")
    page.get_by_role("button", name="Continue").click()
    page.locator(".error-summary").wait_for()
    axe(page, "second factor with an error")

    # Clean up: remove the passkey, so the demo lead signs in with a password alone again.
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url(base + "/admin/")
    page.goto(base + "/admin/account/second-factor")
    page.get_by_role("button", name="Remove the passkey Phone").click()
    page.get_by_text("is removed").wait_for()


def test_the_authenticator_app_setup_passes_axe(context, mail_server):
    base = mail_server["url"]
    page = context.new_page()
    sign_in_with_password(page, base, ADMIN, mail_server["logins"][ADMIN])
    page.goto(base + "/admin/account/authenticator-app")
    assert page.locator("img.qr-code").get_attribute("src").startswith("data:image/svg+xml")
    axe(page, "authenticator app setup")
    page.get_by_role("button", name="Turn the app on").click()
    page.locator(".error-summary").wait_for()
    axe(page, "authenticator app setup with an error")
