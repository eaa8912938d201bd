"""The monthly report on a 390 px phone (issue 15): no sideways scrolling of the page, no word
broken over two lines in the rendered text, chart lettering at least 12 px, and each duration in
one unit in a chart and in its table. Measured in Chromium, on the demo data's published report."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from statuspage.extensions import db
from statuspage.reports.models import MonthlyReport
from tests.browser.conftest import screenshot
from tests.browser.test_accessibility import check

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

# Every word of the rendered text in <main> (outside the charts' SVG, whose text never wraps)
# whose characters land on more than one line. A word is a run without spaces; a line may end
# after a hyphen, a dash or a slash, so those end a word too.
SPLIT_WORDS = """() => {
  const main = document.querySelector("main");
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  const split = [];
  let checked = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest("svg")) continue;
    const style = getComputedStyle(node.parentElement);
    if (style.display === "none" || style.visibility === "hidden") continue;
    for (const match of node.data.matchAll(/[^\\s\\-\\u2013\\u2014/]+[\\-\\u2013\\u2014/]?/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const rects = [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0);
      if (!rects.length) continue;
      checked += 1;
      const lines = new Set(rects.map(r => Math.round(r.top)));
      if (lines.size > 1) split.push(match[0]);
    }
  }
  return {checked, split};
}"""

# The rendered size of every piece of chart lettering that shows: its font size in the SVG's
# units times the SVG's scale on screen, and the height of its box.
CHART_TEXT = """() => [...document.querySelectorAll("main .chart svg text")]
  .filter(t => t.getBoundingClientRect().height > 0)
  .map(t => ({
    text: t.textContent,
    px: parseFloat(getComputedStyle(t).fontSize) * t.ownerSVGElement.getScreenCTM().a,
    height: t.getBoundingClientRect().height / Math.max(t.querySelectorAll("tspan").length, 1),
  }))"""


@pytest.fixture(scope="module")
def report_paths(live_server):
    with live_server["app"].app_context():
        reports = db.session.scalars(
            select(MonthlyReport).where(MonthlyReport.status == "published")
            .order_by(MonthlyReport.month.desc())
        ).all()  # fmt: skip
        latest = reports[0].month
        paths = [f"/reports/all/{latest:%Y-%m}"] + [
            f"/reports/{r.agency.slug}/{r.month:%Y-%m}"
            for r in reports
            if r.month == latest and r.agency is not None
        ]
        db.session.remove()
    return paths


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, bypass_csp=True)
    yield context.new_page()
    context.close()


def test_the_monthly_report_reads_on_a_phone(phone, live_server, report_paths):
    for number, path in enumerate(report_paths):
        phone.goto(live_server["url"] + path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path}: the page scrolls sideways ({width} px)"
        words = phone.evaluate(SPLIT_WORDS)
        assert words["checked"] > 300, f"{path}: only {words['checked']} words found"
        assert words["split"] == [], f"{path}: words broken over two lines: {words['split']}"
        lettering = phone.evaluate(CHART_TEXT)
        assert len(lettering) > 20, f"{path}: the charts' text was not found"
        small = [t for t in lettering if t["px"] < 12 or t["height"] < 12]
        assert small == [], f"{path}: chart text under 12 px: {small[:5]}"
        if number == 0:
            screenshot(phone, "monthly-report-390")
            check(phone, f"{path} at 390 px")


def test_a_duration_reads_the_same_in_a_chart_and_in_its_table(phone, live_server, report_paths):
    phone.goto(live_server["url"] + report_paths[0])
    for chart_id in ("chart-availability", "chart-response"):
        figure = phone.locator(f"figure:has(#{chart_id}-title)")
        drawn = [
            t for t in figure.locator(".chart-narrow svg text").all_text_contents()
            if re.search(r"\d", t)
        ]  # fmt: skip
        table = figure.locator("table").inner_text()
        durations = [t for t in drawn if re.search(r"\d (min|h|d)\b", t.replace("\xa0", " "))]
        assert durations, f"{chart_id}: no duration drawn: {drawn}"
        for value in durations:
            assert value in table, f"{chart_id}: {value!r} is drawn but not in the table"
        assert not re.search(r"\b\d{3,} min\b", " ".join(drawn).replace("\xa0", " "))
