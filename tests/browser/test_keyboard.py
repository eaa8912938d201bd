"""The main paths with a keyboard only: Tab, Shift+Tab, Space, arrows and Enter, never a click.

Every element that takes focus on the way must show it (WCAG 2.4.7, 2.4.11).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const label = el.labels && el.labels.length ? el.labels[0].innerText : '';
  return {
    text: (el.innerText || el.value || '').trim(),
    label: label.trim(),
    tag: el.tagName,
    visible: style.outlineStyle !== 'none' || style.boxShadow !== 'none',
  };
}"""


def tab_to(page, wanted: str, *, limit: int = 120) -> dict:
    """Press Tab until the focused element's text or label starts with `wanted`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["tag"] != "BODY":
            assert focused["visible"], f"no visible focus on {focused}"
        if focused["text"].startswith(wanted) or focused["label"].startswith(wanted):
            return focused
    raise AssertionError(f"Tab never reached {wanted!r}")


def test_a_citizen_reaches_the_open_incident_and_subscribes(browser, live_server):
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server["url"] + "/")
    tab_to(page, "Some people cannot upload supporting documents")
    page.keyboard.press("Enter")
    page.wait_for_url("**/incidents/INC-*")
    assert "What you can do meanwhile" in page.locator("main").inner_text()

    tab_to(page, "Get updates")
    page.keyboard.press("Enter")
    page.wait_for_url("**/subscribe")
    tab_to(page, "Email address")
    page.keyboard.type("keyboard.reader@example.org")
    tab_to(page, "Everything")
    page.keyboard.press("Space")
    tab_to(page, "Subscribe")
    page.keyboard.press("Enter")
    page.wait_for_url("**/subscribe/check-your-email?everything=1")
    assert page.locator("h1").inner_text() == "Check your email"
    context.close()


def test_a_lead_signs_in_and_posts_an_update_by_keyboard(browser, live_server):
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    page = context.new_page()
    page.goto(live_server["url"] + "/admin/login")
    tab_to(page, "Email address")
    page.keyboard.type("lead.revenue@example.gov")
    tab_to(page, "Password")
    page.keyboard.type(live_server["logins"]["lead.revenue@example.gov"])
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/")

    tab_to(page, "Some people cannot upload supporting documents")
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/incidents/INC-*")
    tab_to(page, "Identified")  # the status radios: arrows move the choice
    page.keyboard.press("ArrowDown")
    assert page.evaluate(FOCUSED)["label"] == "Monitoring"
    tab_to(page, "Message to the public")
    page.keyboard.press("Control+A")
    page.keyboard.type("Uploads work again for most people. We are watching them closely.")
    tab_to(page, "Publish update")
    page.keyboard.press("Enter")
    # The page reloads at the same address: wait for the published update, not for a URL.
    expect(page.locator("main")).to_contain_text("Uploads work again for most people")
    screenshot(page, "keyboard-update-posted")
    context.close()
