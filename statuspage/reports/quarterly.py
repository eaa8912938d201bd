"""The quarterly review of an agency, for its CIO: the quarter's figures, each of its three months,
the same quarter a year earlier, and the policy's targets judged.

A quarter is three calendar months in the site's time zone (Q1 = January to March), so, like a
month, its length follows daylight saving. Its figures come from the same `compute_window` as a
month's, so a count over the quarter is the sum of its months' counts. A month whose report is
published is taken as it was published, as the monthly trend does. Nothing here is stored: the
review is computed when it is read (and when its message to the CIO is sent).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace
from datetime import date, datetime

from ..catalog.models import Agency
from ..date_range import EARLIEST_YEAR, LATEST_YEAR
from ..intervals import Interval
from ..policy import current_policy
from ..timefmt import iso_utc, site_zone
from . import monthly, presentation
from .metrics import judge_targets, month_window
from .publishing import frozen_months

QUARTER_NAME = re.compile(r"(?P<year>[0-9]{4})-Q(?P<number>[0-9])")  # ASCII digits only
RECENT_QUARTERS = 8  # the quarter running and the seven before it: two years


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1 to 4

    @classmethod
    def parse(cls, text: str) -> Quarter | None:
        """"2026-Q3" -> the quarter; None for anything else (Q5, Q0, a year no one may type)."""
        match = QUARTER_NAME.fullmatch(text)
        if match is None:
            return None
        year, number = int(match["year"]), int(match["number"])
        if not (1 <= number <= 4 and EARLIEST_YEAR <= year <= LATEST_YEAR):
            return None
        return cls(year, number)

    @property
    def name(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def label(self) -> str:
        return f"Q{self.number} {self.year}"

    @property
    def months(self) -> list[date]:
        first = 3 * (self.number - 1) + 1
        return [date(self.year, month, 1) for month in range(first, first + 3)]

    @property
    def spoken(self) -> str:
        """E.g. "July to September 2026"."""
        first, *_, last = self.months
        return f"{first:%B} to {last:%B} {self.year}"

    def previous(self) -> Quarter:
        if self.number == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.number - 1)

    def year_earlier(self) -> Quarter:
        return Quarter(self.year - 1, self.number)


def quarter_of(moment: datetime) -> Quarter:
    """The quarter a moment falls in, in the site's zone."""
    local = moment.astimezone(site_zone())
    return Quarter(local.year, (local.month - 1) // 3 + 1)


def quarter_window(quarter: Quarter) -> Interval:
    """Midnight of its first day to midnight of the next quarter's, in the site's zone, as UTC
    (the months' windows joined, so daylight saving is handled once, in `month_window`)."""
    zone = site_zone()
    first, *_, last = quarter.months
    return month_window(first, zone)[0], month_window(last, zone)[1]


def recent_quarters(now: datetime) -> list[Quarter]:
    """The quarter running at ``now`` first, then the ones before it."""
    quarters = [quarter_of(now)]
    while len(quarters) < RECENT_QUARTERS:
        quarters.append(quarters[-1].previous())
    return quarters


def has_begun(quarter: Quarter, now: datetime) -> bool:
    return quarter_window(quarter)[0] <= now


def has_ended(quarter: Quarter, now: datetime) -> bool:
    return quarter_window(quarter)[1] <= now


# --- the figures ---------------------------------------------------------------------------------


def compute(quarter: Quarter, agency: Agency | None, now: datetime) -> dict:
    """Every figure of the quarter, as a month's are computed, named by the quarter."""
    figures = monthly.compute_window(quarter_window(quarter), agency, now)
    figures["period"]["name"] = "quarter"  # the words of the shared sections say so
    return {**figures, "quarter": quarter.name}


def headline(figures: dict) -> dict:
    """The quarter's few headline figures, as a month's; its "month" names the period, here the
    quarter (e.g. "2026-Q4")."""
    return monthly.headline({**figures, "month": figures["quarter"]})


def build(quarter: Quarter, agency: Agency, now: datetime) -> dict:
    """The review: the quarter's figures, its months' headlines (as published, when they are),
    the same quarter a year earlier, and the targets judged against both."""
    figures = compute(quarter, agency, now)
    following = quarter_window(quarter)[1].astimezone(site_zone()).date()  # the next's 1st
    frozen = frozen_months(agency, before=following)
    figures["months"] = [
        {**monthly.headline(frozen.get(f"{month:%Y-%m}") or monthly.compute(month, agency, now)),
         "published": f"{month:%Y-%m}" in frozen}  # fmt: skip
        for month in quarter.months
        if month_window(month, site_zone())[0] <= now
    ]
    year_earlier = headline(compute(quarter.year_earlier(), agency, now))
    figures["year_earlier"] = year_earlier
    figures["targets"] = judge_targets(figures, year_earlier, current_policy().targets)
    figures["complete"] = has_ended(quarter, now)
    figures["computed_at"] = iso_utc(now)
    return figures


# --- as people read it ---------------------------------------------------------------------------


def _said(say, value) -> str:
    return presentation.MISSING if value is None else say(value)


def _measures(headlines: list[dict]):
    """The monthly report's year-over-year measures, but those none of these headlines has
    (a month published before the figure existed)."""
    return [(key, label, say) for key, label, say in presentation.YEAR_MEASURES
            if any(item.get(key) is not None for item in headlines)]  # fmt: skip


def month_table(figures: dict) -> presentation.Table:
    """The quarter's months side by side (those begun), as published when they are."""
    measures = _measures(figures["months"])
    published = sum(item["published"] for item in figures["months"])
    return presentation.Table(
        "months", "Month by month",
        f"The quarter's months{'' if figures['complete'] else ' so far'}: {published} of "
        f"{len(figures['months'])} published, shown as published; the others as they stand now.",
        ["Month", *(label for _, label, _ in measures)],
        [[presentation.month_name(item["month"])
          + ("" if item["published"] else " (not published)"),
          *(_said(say, item.get(key)) for key, _, say in measures)]
         for item in figures["months"]],
    )  # fmt: skip


def comparison(figures: dict) -> presentation.Table:
    """This quarter beside the same quarter a year earlier."""
    now, then = headline(figures), figures["year_earlier"]
    # Named by their headlines: the year before the earliest a reader may ask for is no Quarter.
    this, earlier = (f"Q{item['month'][-1]} {item['month'][:4]}" for item in (now, then))
    return presentation.Table(
        "year-earlier", f"{this} and {earlier}",
        f"The same figures for {earlier}, a year earlier, beside this quarter's."
        + (" No incident was detected then." if not then["incidents"] else ""),
        ["Figure", this, earlier],
        [[label, _said(say, now.get(key)), _said(say, then.get(key))]
         for key, label, say in _measures([now, then])],
    )  # fmt: skip


def targets(figures: dict) -> presentation.Table:
    """The monthly report's targets table, for the quarter."""
    table = presentation.targets(figures)
    return replace(table, headers=["Figure", "Target", "This quarter", "Judged"])


def sections(figures: dict) -> dict:
    """The monthly report's sections the quarter shares (its targets and year earlier are shown
    apart, as a quarter's)."""
    return {
        "targets": None,
        "year_over_year": None,
        "implemented": presentation.actions_implemented(figures),
        "initiatives": presentation.improvement_initiatives(figures),
        "definitions": presentation.definitions(figures),
        "schema": figures.get("schema", 1),
    }


def page(figures: dict) -> dict:
    """What the quarter's template needs: its own tables and the monthly report's."""
    return {
        "figures": figures,
        "charts": [presentation.by_priority(figures), presentation.response_times(figures),
                   presentation.availability(figures), presentation.root_causes(figures)],
        "headlines": presentation.headlines(figures),
        "sections": sections(figures),
        "targets": targets(figures),
        "months": month_table(figures),
        "comparison": comparison(figures),
    }  # fmt: skip


def csv_rows(figures: dict) -> list[list]:
    """The monthly CSV's rows for the quarter (its year earlier and targets among them), then
    its months."""
    rows = presentation.csv_rows({**figures, "month": figures["quarter"], "trend": []})
    rows[0] = ["report", figures["scope"]["name"], "quarter", figures["quarter"]]
    for item in figures["months"]:
        rows += [["month", item["month"], key, value] for key, value in item.items()
                 if key != "month"]  # fmt: skip
    return rows


def to_csv(figures: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(presentation.CSV_HEADER)
    for row in csv_rows(figures):
        writer.writerow([presentation._cell(value) for value in row])  # the monthly CSV's cells
    return out.getvalue()
