"""The text-message sign-up as a person uses it in Chromium, with axe-core on each of its pages
(the accessibility walk sees them only with text messages off): the form, its errors, the code
page, its errors and the confirmation. The code arrives at a loopback stand-in of Twilio."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import delete
from werkzeug.serving import make_server

from statuspage.catalog.models import Agency, Service
from statuspage.extensions import db
from statuspage.sms.models import SmsSubscriber
from statuspage.subscriptions import outbox
from statuspage.subscriptions.models import Notification
from tests.browser.conftest import screenshot
from tests.browser.test_accessibility import check
from tests.conftest import make_app
from tests.factories import make_agency, make_service
from tests.sms.conftest import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, twilio  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def sms_server(migrated, twilio):  # noqa: F811
    app = make_app(
        migrated, WTF_CSRF_ENABLED=True, SMS_PROVIDER="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_FROM_NUMBER=FROM_NUMBER,
        TWILIO_API_BASE_URL=twilio.url,
    )  # fmt: skip
    with app.app_context():
        agency = make_agency("Department of Texts", "texts-dept")
        make_service(agency, "Text filing", "text-filing", tier=1)
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "app": app}
    server.shutdown()
    with app.app_context():  # the walk's demo data shares this database: take back only ours
        db.session.execute(delete(Notification).where(Notification.channel == "sms"))
        db.session.execute(delete(SmsSubscriber))
        db.session.execute(delete(Service).where(Service.slug == "text-filing"))
        db.session.execute(delete(Agency).where(Agency.slug == "texts-dept"))
        db.session.commit()
        db.engine.dispose()


@pytest.fixture
def axe_page(browser):
    context = browser.new_context(bypass_csp=True, viewport={"width": 390, "height": 800})
    yield context.new_page()
    context.close()


def test_signing_up_for_texts_reads_well_and_passes_axe_at_390_px(axe_page, sms_server, twilio):  # noqa: F811
    base = sms_server["url"]
    page = axe_page
    page.goto(base + "/subscribe/sms?service=text-filing")
    assert page.get_by_label("Text filing").is_checked()
    check(page, "/subscribe/sms")
    page.get_by_label("Mobile number").fill("+44 7400 123456")
    page.get_by_role("button", name="Send me a code").click()
    assert "We cannot send text messages to numbers from United Kingdom" in page.inner_text(
        ".error-summary"
    )
    check(page, "/subscribe/sms with errors")

    page.get_by_label("Mobile number").fill("202-555-0143")
    page.get_by_role("button", name="Send me a code").click()
    page.wait_for_url("**/subscribe/sms/confirm")
    assert "Text filing (Department of Texts)" in page.inner_text("main")
    check(page, "/subscribe/sms/confirm")
    with sms_server["app"].app_context():
        assert outbox.dispatch().sent == 1
    code = re.search(r"\b(\d{6})\b", twilio.to("+12025550143")[-1]).group(1)

    page.get_by_label("Code").fill("12")
    page.get_by_role("button", name="Confirm").click()
    assert "6-digit code" in page.inner_text(".error-summary")
    check(page, "/subscribe/sms/confirm with errors")

    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Confirm").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You will get text messages"
    assert "Text filing (Department of Texts)" in page.inner_text("main")
    check(page, "the texts confirmation")
    width = page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "sms-confirmed-390")
    assert width <= 390
