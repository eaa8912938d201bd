"""A monthly report's figures as people read them: sentences, charts with their data tables, and
the CSV download. Works on the frozen JSON alone, so a published report renders the same forever.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

from ..characters import xml_safe
from .charts import NARROW, bar_chart, column_chart

MISSING = "–"


NBSP = "\u00a0"  # between a number and its unit: a figure is never split over two lines


def duration(minutes: float | None) -> str:
    """The one way a report writes a duration, in its charts, tables and sentences alike: e.g.
    "40 min", "40 h 46 min", "3 d 4 h", with non-breaking spaces."""
    if minutes is None:
        return MISSING
    whole = round(minutes)
    if whole < 60:
        text = f"{whole} min"
    else:
        hours, rest = divmod(whole, 60)
        if hours < 48:
            text = f"{hours} h {rest} min" if rest else f"{hours} h"
        else:
            days, hours = divmod(hours, 24)
            text = f"{days} d {hours} h" if hours else f"{days} d"
    return text.replace(" ", NBSP)


def percent(value: float | None, places: int = 1) -> str:
    if value is None:
        return MISSING
    return f"{value:.{places}f}%"


def count(number: int, unit: str) -> str:
    return f"{number} {unit}{'' if number == 1 else 's'}"


def ratio(figure: dict, noun: str) -> str:
    """E.g. '3 of 4 incidents (75.0%)'."""
    if not figure["total"]:
        return f"no {noun}s to judge"
    return f"{figure['met']} of {count(figure['total'], noun)} ({percent(figure['percent'])})"


def month_name(key: str) -> str:
    year, month = (int(part) for part in key.split("-"))
    return f"{date(year, month, 1):%B %Y}"


def short_month(key: str) -> str:
    year, month = (int(part) for part in key.split("-"))
    return f"{date(year, month, 1):%b %Y}"


def drawn(chart, chart_id: str, title: str, items, **options) -> Markup:
    """A chart drawn twice: as `chart` for a wide screen and as bars NARROW units wide for a
    phone (site.css shows one), so its lettering stays readable at 390 px."""
    wide = chart(chart_id, title, items, **options)
    narrow = bar_chart(f"{chart_id}-narrow", title, items, width=NARROW, **options)
    return Markup('<div class="chart-wide">{}</div><div class="chart-narrow">{}</div>').format(
        wide, narrow
    )


@dataclass(frozen=True)
class Figure:
    """One chart: its caption, a sentence that says what it shows, the picture and the data."""

    id: str
    caption: str
    summary: str
    svg: Markup
    headers: list[str]
    rows: list[list[str]]


def headlines(figures: dict) -> list[tuple[str, str]]:
    """The key figures, as term and description."""
    times = figures["response_times"]
    communication = figures["communication"]
    reviews = figures["reviews"]
    return [
        ("Incidents", str(figures["incidents"]["total"])),
        ("Resolved within target", ratio(figures["resolution"], "resolved incident")),
        ("First public update on time", ratio(communication["first_on_time"], "incident")),
        ("Missed update deadlines", _cadence(communication)),
        ("Reviews published on time", ratio(reviews["on_time"], "review")),
        ("Recurring incidents", _recurrence(figures["recurrence"])),
        ("Availability, all services", percent(figures["availability_overall"], 3)),
        ("Median time to resolve (MTTR)", duration(times["resolve"]["median"])),
    ] + ([("Not incidents after all", triaged(figures))] if "triaged" in figures else [])


TRIAGE_NOUNS = {
    "duplicate": ("duplicate", "duplicates"),
    "false_alarm": ("false alarm", "false alarms"),
    "service_request": ("service request", "service requests"),
}


def triaged(figures: dict) -> str:
    """E.g. '3: 1 duplicate, 2 false alarms, 0 service requests' (reports published before the
    count existed have none)."""
    counts = figures.get("triaged") or {}
    parts = [
        f"{counts.get(key, 0)} {one if counts.get(key, 0) == 1 else many}"
        for key, (one, many) in TRIAGE_NOUNS.items()
    ]
    return f"{sum(counts.values())}: " + ", ".join(parts)


def _cadence(communication: dict) -> str:
    breaches = communication["cadence_breaches"]
    if not breaches:
        return "none"
    late = communication["cadence_late_by"]
    if late["median"] is None:
        return str(breaches)
    return f"{breaches}, a median of {duration(late['median'])} late"


def _recurrence(recurrence: dict) -> str:
    if not recurrence["total"]:
        return "none"
    return f"{recurrence['recurring']} of {recurrence['total']} ({percent(recurrence['percent'])})"


def by_priority(figures: dict) -> Figure:
    counts = figures["incidents"]["by_priority"]
    total = sum(counts.values())
    parts = ", ".join(f"{number} {priority}" for priority, number in counts.items() if number)
    summary = f"{count(total, 'incident')} in the month" + (f": {parts}." if parts else ".")
    shared = figures["incidents"].get("shared", 0)  # reports published before it say nothing
    if shared:
        summary += (
            f" {count(shared, 'incident')} on a shared platform, counted for every agency it "
            "affected."
        )
    return Figure(
        "chart-priority",
        "Incidents by priority",
        summary,
        drawn(
            bar_chart,
            "chart-priority", "Incidents by priority", list(counts.items()),
            value_format="{:.0f}",
        ),
        ["Priority", "Incidents"],
        [[priority, str(number)] for priority, number in counts.items()],
    )  # fmt: skip


RESPONSE_NAMES = {
    "detect": "Time to detect (MTTD)",
    "acknowledge": "Time to acknowledge (MTTA)",
    "resolve": "Time to resolve (MTTR)",
}


def response_times(figures: dict) -> Figure:
    times = figures["response_times"]
    medians = [(RESPONSE_NAMES[name], times[name]["median"]) for name in RESPONSE_NAMES]
    said = "; ".join(
        f"{label.split(' (')[0].lower()}: median {duration(times[name]['median'])}, "
        f"90th percentile {duration(times[name]['p90'])}"
        for name, label in RESPONSE_NAMES.items()
        if times[name]["count"]
    )
    return Figure(
        "chart-response",
        "Response times (median)",
        (said[0].upper() + said[1:] + ".") if said else "No incident to measure.",
        drawn(
            bar_chart,
            "chart-response",
            "Median response times",
            medians,
            say=duration,
        ),  # fmt: skip
        ["Measure", "Incidents measured", "Median", "90th percentile"],
        [
            [
                label,
                str(times[name]["count"]),
                duration(times[name]["median"]),
                duration(times[name]["p90"]),
            ]
            for name, label in RESPONSE_NAMES.items()
        ],  # fmt: skip
    )


def availability(figures: dict) -> Figure:
    services = figures["availability"]
    missed = [item["name"] for item in services if not item["met_target"]]
    summary = (
        f"Every service met its availability target ({len(services)} services)."
        if not missed
        else f"{count(len(missed), 'service')} missed the availability target: "
        + ", ".join(missed)
        + "."
    )
    return Figure(
        "chart-availability",
        "Unplanned downtime per service (major outage)",
        summary,
        drawn(
            bar_chart,
            "chart-availability",
            "Unplanned downtime per service",
            [(item["name"], item["downtime_minutes"]) for item in services],
            say=duration,
        ),
        ["Service", "Availability", "Target", "Target met", "Unplanned downtime", "Maintenance"],
        [
            [
                item["name"],
                percent(item["percent"], 3),
                percent(item["target"], 1),
                "Yes" if item["met_target"] else "No",
                duration(item["downtime_minutes"]),
                duration(item["maintenance_minutes"]),
            ]
            for item in services
        ],
    )


def root_causes(figures: dict) -> Figure:
    causes = [item for item in figures["root_causes"] if item["count"]]
    reviewed = [item for item in causes if item["category"] != "not_reviewed"]
    summary = (
        "Causes found by published reviews: "
        + "; ".join(f"{item['label'].lower()} {item['count']}" for item in reviewed)
        + "."
        if reviewed
        else "No review of this month's incidents has been published yet."
    )
    return Figure(
        "chart-causes",
        "Root causes",
        summary,
        drawn(
            bar_chart,
            "chart-causes",
            "Incidents by root cause",
            [(item["label"], item["count"]) for item in causes] or [("No incidents", 0)],
            value_format="{:.0f}",
        ),
        ["Root cause", "Incidents"],
        [[item["label"], str(item["count"])] for item in figures["root_causes"]],
    )


def trend(figures: dict) -> list[Figure]:
    months = figures["trend"]
    first, last = months[0], months[-1]
    incidents_summary = (
        f"{last['incidents']} incidents in {month_name(last['month'])}, against "
        f"{first['incidents']} in {month_name(first['month'])}; the months between: "
        + ", ".join(str(item["incidents"]) for item in months[1:-1])
        + "."
    )
    compliance = [(short_month(item["month"]), item["resolution_percent"]) for item in months]
    compliance_said = "; ".join(f"{label} {percent(value)}" for label, value in compliance)
    table = [
        [
            month_name(item["month"]),
            str(item["incidents"]),
            percent(item["resolution_percent"]),
            duration(item["mttr_median"]),
            percent(item["first_on_time_percent"]),
            percent(item["availability"], 3),
        ]
        for item in months
    ]
    headers = ["Month", "Incidents", "Resolved within target", "Median time to resolve",
               "First update on time", "Availability"]  # fmt: skip
    return [
        Figure(
            "chart-trend-incidents",
            "Incidents per month",
            incidents_summary,
            drawn(
                column_chart,
                "chart-trend-incidents",
                "Incidents per month",
                [(short_month(item["month"]), item["incidents"]) for item in months],
                value_format="{:.0f}",
            ),
            headers,
            table,
        ),
        Figure(
            "chart-trend-compliance",
            "Resolved within target, per month",
            f"Share of resolved incidents fixed within the target: {compliance_said}.",
            drawn(
                column_chart,
                "chart-trend-compliance",
                "Resolved within target, per month",
                compliance,
                unit="%",
                max_value=100,
                value_format="{:.0f}",
            ),
            ["Month", "Resolved within target"],
            [[month_name(item["month"]), percent(item["resolution_percent"])] for item in months],
        ),
    ]


def figures_for(figures: dict) -> list[Figure]:
    return [
        by_priority(figures),
        response_times(figures),
        availability(figures),
        root_causes(figures),
        *trend(figures),
    ]


def page(figures: dict) -> dict:
    """What the report's template needs (the public page and the admin preview alike)."""
    return {
        "figures": figures,
        "charts": figures_for(figures),
        "headlines": headlines(figures),
    }


CSV_HEADER = ["section", "item", "measure", "value"]


def csv_rows(figures: dict) -> list[list]:
    """Every figure as one row: section, item, measure, value (numbers unformatted)."""
    rows: list[list] = [
        ["report", figures["scope"]["name"], "month", figures["month"]],
        ["report", figures["scope"]["name"], "time_zone", figures["period"]["time_zone"]],
        ["report", figures["scope"]["name"], "period_minutes", figures["period"]["minutes"]],
    ]
    rows += [
        ["incidents", priority, "count", number]
        for priority, number in figures["incidents"]["by_priority"].items()
    ]
    rows.append(["incidents", "security", "count", figures["incidents"]["security"]])
    rows += [["triaged", outcome, "count", number]
             for outcome, number in figures.get("triaged", {}).items()]  # fmt: skip
    for name, spread in figures["response_times"].items():
        rows += [["response_times", name, f"{key}_minutes" if key != "count" else key, value]
                 for key, value in spread.items()]  # fmt: skip
    for key, value in figures["resolution"].items():
        rows.append(["resolution_within_target", "all", key, value])
    communication = figures["communication"]
    for key, value in communication["first_on_time"].items():
        rows.append(["first_communication_on_time", "all", key, value])
    for key, value in communication["first_late_by"].items():
        rows.append(["first_communication_late_by", "late", f"{key}_minutes" if key != "count" else key, value])  # fmt: skip
    rows.append(["cadence", "all", "breaches", communication["cadence_breaches"]])
    for key, value in communication["cadence_late_by"].items():
        rows.append(["cadence_late_by", "late", f"{key}_minutes" if key != "count" else key, value])  # fmt: skip
    reviews = figures["reviews"]
    rows += [["reviews", "all", "required", reviews["required"]],
             ["reviews", "all", "published", reviews["published"]]]  # fmt: skip
    for key, value in reviews["on_time"].items():
        rows.append(["reviews_on_time", "all", key, value])
    for key, value in figures["recurrence"].items():
        rows.append(["recurrence", "all", key, value])
    for item in figures["root_causes"]:
        rows.append(["root_causes", item["category"], "count", item["count"]])
    for item in figures["availability"]:
        for key in ("percent", "target", "downtime_minutes", "maintenance_minutes", "met_target"):
            rows.append(["availability", item["service"], key, item[key]])
    rows.append(["availability", "all", "percent", figures["availability_overall"]])
    for item in figures["trend"]:
        for key, value in item.items():
            if key != "month":
                rows.append(["trend", item["month"], key, value])
    return rows


def _cell(value) -> str | float | int | bool:
    """None as empty; text that a spreadsheet would run as a formula, quoted."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = xml_safe(value)  # stored text may hold control characters: left out
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(figures: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in csv_rows(figures):
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()
