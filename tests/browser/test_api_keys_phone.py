"""An owner creates an API key on a phone (390 px wide) in Chromium: the form and its errors, the
page that shows the key once with its Copy button, and revoking it after the confirmation, with
axe-core on each page (the walk reaches neither the key's page nor the form's errors)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from statuspage.api_keys.models import ApiKey
from statuspage.catalog.models import Agency
from statuspage.extensions import db
from statuspage.users.models import User
from tests.browser.conftest import screenshot
from tests.browser.test_accessibility import check, sign_in

pytestmark = pytest.mark.browser
NAME = "Phone test bot"


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(bypass_csp=True, viewport={"width": 390, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    yield context.new_page()
    context.close()
    app = live_server["app"]
    with app.app_context():  # the walk's demo data shares this database: take back only ours
        ours = db.session.scalars(select(ApiKey).where(ApiKey.name == NAME)).all()
        accounts = [key.user_id for key in ours]
        db.session.execute(delete(ApiKey).where(ApiKey.name == NAME))
        db.session.execute(delete(User).where(User.id.in_(accounts)))
        db.session.commit()
        db.session.remove()


def fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width} px)"


def test_creating_copying_and_revoking_a_key_at_390_px(phone, live_server):
    page, base = phone, live_server["url"]
    with live_server["app"].app_context():
        revenue = db.session.scalars(select(Agency).where(Agency.slug == "revenue")).one().id
        db.session.remove()
    sign_in(page, live_server)
    page.goto(base + "/admin/api-keys")
    page.get_by_role("link", name="Department of Revenue").click()
    page.wait_for_url(f"**/admin/agencies/{revenue}/api-keys")
    fits(page)

    page.get_by_label("Name").fill(NAME)
    page.get_by_role("button", name="Create key").click()
    assert "Choose at least one thing the key may do." in page.inner_text(".error-summary")
    assert page.get_by_label("Name").input_value() == NAME
    check(page, "API keys form with errors")
    fits(page)

    page.get_by_label("incidents: Open and update incidents").check()
    page.get_by_label("read: Read the agency's page", exact=False).check()
    page.get_by_role("button", name="Create key").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Copy the new API key"
    box = page.get_by_label("API key", exact=True)
    key = box.input_value()
    assert key.startswith("sp_") and box.is_visible()
    assert "only time the key is shown" in page.inner_text("main")
    assert "read, incidents" in page.inner_text("main")
    copy = page.get_by_role("button", name="Copy the API key")
    assert copy.is_visible()  # the static script shows it
    check(page, "the new key")
    fits(page)
    screenshot(page, "admin-api-key-phone")
    copy.click()
    status = page.locator('[data-copied="new-api-key"]')
    status.wait_for(state="attached")
    page.wait_for_function(
        "document.querySelector('[data-copied=\"new-api-key\"]').textContent.length > 0"
    )
    assert status.inner_text() in ("Copied.", "Selected: press Ctrl+C (or ⌘C) to copy.")
    answer = page.request.get(base + "/api/v1/pages", headers={"Authorization": f"OAuth {key}"})
    assert answer.status == 200 and answer.json()[0]["id"] == "revenue"

    page.get_by_role("link", name="I have copied it").click()
    assert key not in page.content()
    page.get_by_role("link", name=f"Revoke {NAME}").click()
    check(page, "revoke confirmation")
    fits(page)
    page.get_by_role("button", name="Revoke the key").click()
    assert "is revoked: it stops working at once" in page.inner_text("main")
    fits(page)
    answer = page.request.get(base + "/api/v1/pages", headers={"Authorization": f"OAuth {key}"})
    assert answer.status == 401
