"""A monthly report's figures as people read them: sentences, charts with their data tables, and
the CSV download. Works on the frozen JSON alone, so a published report renders the same forever;
a report frozen before a figure existed (schema 1) renders without it, never with an error.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

from ..characters import xml_safe
from ..policy import current_policy
from .actions import CATEGORY_LABELS, PRIORITY_LABELS
from .charts import NARROW, bar_chart, column_chart
from .models import ActionStatus

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


def noun(figures: dict) -> str:
    """What the figures' period is called in words: a month unless the caller named it."""
    return figures.get("period", {}).get("name", "month")


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
    """The key figures, as term and description (those a report predates are left out)."""
    times = figures["response_times"]
    communication = figures["communication"]
    reviews = figures["reviews"]
    found = [
        ("Incidents", str(figures["incidents"]["total"])),
        ("Resolved within target", ratio(figures["resolution"], "resolved incident")),
    ]
    if "acknowledgement" in figures:
        found.append(("Acknowledged within the deadline",
                      ratio(figures["acknowledgement"], "incident")))  # fmt: skip
    found += [
        ("First public update on time", ratio(communication["first_on_time"], "incident")),
        ("Missed update deadlines", _cadence(communication)),
        ("Reviews published on time", ratio(reviews["on_time"], "review")),
    ]
    if "review_trigger" in figures:
        found += [
            ("Repeat incidents (same service and cause)", _repeats(figures["recurrence"])),
            ("Incidents that triggered a recurrence review",
             str(figures["review_trigger"]["recurring"])),
        ]  # fmt: skip
    else:
        found.append(("Recurring incidents", _recurrence(figures["recurrence"])))
    if "preventive_actions" in figures:
        found.append(("Preventive actions done on time", _actions(figures["preventive_actions"])))
    found.append(("Availability, all services", percent(figures["availability_overall"], 3)))
    if "assign" in times:  # schema 2 keeps means
        found.append(("Mean time to resolve (MTTR)", duration(times["resolve"].get("mean"))))
    found.append(("Median time to resolve (MTTR)", duration(times["resolve"]["median"])))
    if "people_affected" in figures:
        found.append(("People affected", _people(figures["people_affected"])))
    cost = figures.get("cost_of_downtime") or {}
    if cost.get("total") is not None:
        found.append(("Cost of downtime", _cost(cost)))
    if "triaged" in figures:
        found.append(("Not incidents after all", triaged(figures)))
    return found


def _repeats(recurrence: dict) -> str:
    if not recurrence["total"]:
        return "none"
    return (
        f"{recurrence['repeats']} of {count(recurrence['total'], 'incident')} "
        f"({percent(recurrence['percent'])}); causes known for {recurrence['causes_known']}"
    )


def _actions(actions: dict) -> str:
    """E.g. '3 of 4 (75.0%): 1 late, 0 still open past their day; 6 due in the month'."""
    judged = actions["on_time"] + actions["late"] + actions["open_overdue"]
    if not judged:
        return f"none to judge ({count(actions['due'], 'action')} due in the period)"
    return (
        f"{actions['on_time']} of {judged} ({percent(actions['percent'])}): {actions['late']} "
        f"done late, {actions['open_overdue']} still open past their day"
    )


def _people(people: dict) -> str:
    if people["total"] is None:
        return "no review has reported a number yet"
    return f"{people['total']:,}, as reported by {count(people['reported'], 'review')}"


def _cost(cost: dict) -> str:
    return f"{cost['total']:,}, as reported by {count(cost['reported'], 'review')}"


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
    summary = f"{count(total, 'incident')} in the {noun(figures)}" + (
        f": {parts}." if parts else "."
    )
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
    "assign": "Time to assignment (MTTA)",
    "acknowledge": "Time to acknowledge",
    "resolve": "Time to resolve (MTTR)",
}
# Schema 1 measured MTTA to acknowledgement, and kept no means.
RESPONSE_NAMES_SCHEMA_1 = {
    "detect": "Time to detect (MTTD)",
    "acknowledge": "Time to acknowledge (MTTA)",
    "resolve": "Time to resolve (MTTR)",
}


def response_times(figures: dict) -> Figure:
    times = figures["response_times"]
    if "assign" not in times:
        return _response_medians(times)
    means = [(RESPONSE_NAMES[name], times[name]["mean"]) for name in RESPONSE_NAMES]
    said = "; ".join(
        f"{label.split(' (')[0].lower()}: mean {duration(times[name]['mean'])}, "
        f"median {duration(times[name]['median'])}, "
        f"90th percentile {duration(times[name]['p90'])}"
        for name, label in RESPONSE_NAMES.items()
        if times[name]["count"]
    )
    return Figure(
        "chart-response",
        "Response times (mean)",
        (said[0].upper() + said[1:] + ".") if said else "No incident to measure.",
        drawn(bar_chart, "chart-response", "Mean response times", means, say=duration),
        ["Measure", "Incidents measured", "Mean", "Median", "90th percentile"],
        [
            [
                label, str(times[name]["count"]), duration(times[name]["mean"]),
                duration(times[name]["median"]), duration(times[name]["p90"]),
            ]
            for name, label in RESPONSE_NAMES.items()
        ],
    )  # fmt: skip


def _response_medians(times: dict) -> Figure:
    """A schema-1 report's response times, as it was published: medians and p90."""
    medians = [(RESPONSE_NAMES_SCHEMA_1[name], times[name]["median"])
               for name in RESPONSE_NAMES_SCHEMA_1]  # fmt: skip
    said = "; ".join(
        f"{label.split(' (')[0].lower()}: median {duration(times[name]['median'])}, "
        f"90th percentile {duration(times[name]['p90'])}"
        for name, label in RESPONSE_NAMES_SCHEMA_1.items()
        if times[name]["count"]
    )
    return Figure(
        "chart-response",
        "Response times (median)",
        (said[0].upper() + said[1:] + ".") if said else "No incident to measure.",
        drawn(bar_chart, "chart-response", "Median response times", medians, say=duration),
        ["Measure", "Incidents measured", "Median", "90th percentile"],
        [
            [
                label, str(times[name]["count"]), duration(times[name]["median"]),
                duration(times[name]["p90"]),
            ]
            for name, label in RESPONSE_NAMES_SCHEMA_1.items()
        ],
    )  # fmt: skip


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
        else f"No review of this {noun(figures)}'s incidents has been published yet."
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


@dataclass(frozen=True)
class Table:
    """A table of words: its caption, a sentence before it, the column headers, the rows (the
    first cell of each names the row)."""

    id: str
    caption: str
    summary: str
    headers: list[str]
    rows: list[list[str]]


JUDGED = {True: "Met", False: "Not met", None: "Not measurable"}


def _target_value(row: dict) -> str:
    return duration(row["value"]) if row["figure"] == "mttr_mean" else percent(row["value"])


def targets(figures: dict) -> Table | None:
    """The policy's targets against the month's figures, judged in words (never by colour)."""
    rows = figures.get("targets")
    if not rows:
        return None
    met = sum(row["met"] is True for row in rows)
    missed = [row["label"].lower() for row in rows if row["met"] is False]
    summary = f"{met} of {count(len(rows), 'target')} met." + (
        f" Not met: {', '.join(missed)}." if missed else ""
    )
    return Table(
        "targets", "The policy's targets", summary,
        ["Figure", "Target", f"This {noun(figures)}", "Judged"],
        [[row["label"], row["target"], _target_value(row), JUDGED[row["met"]]] for row in rows],
    )  # fmt: skip


YEAR_MEASURES = (
    ("incidents", "Incidents", str),
    ("mttr_mean", "Mean time to resolve", duration),
    ("mttr_median", "Median time to resolve", duration),
    ("resolution_percent", "Resolved within target", percent),
    ("acknowledgement_percent", "Acknowledged within the deadline", percent),
    ("recurrence_percent", "Repeat incidents (same service and cause)", percent),
    ("first_on_time_percent", "First public update on time", percent),
    ("availability", "Availability, all services", lambda value: percent(value, 3)),
)


def year_over_year(figures: dict) -> Table | None:
    """This month beside the same month a year earlier (as published then, when it was)."""
    earlier = figures.get("year_earlier")
    if not earlier or not figures.get("trend"):
        return None
    now = figures["trend"][-1]
    this, then = month_name(figures["month"]), month_name(earlier["month"])

    def said(say, value) -> str:
        return MISSING if value is None else say(value)

    return Table(
        "year-over-year", f"{this} and {then}",
        f"The same figures for {then}, a year earlier, beside this {noun(figures)}'s."
        + (" No incident was detected then." if not earlier["incidents"] else ""),
        ["Figure", this, then],
        [[label, said(say, now.get(key)), said(say, earlier.get(key))]
         for key, label, say in YEAR_MEASURES],
    )  # fmt: skip


def _day(iso: str) -> str:
    return f"{date.fromisoformat(iso):%-d %b %Y}"


def _category(value: str) -> str:
    return CATEGORY_LABELS.get(value, value) or "Not given"


def actions_implemented(figures: dict) -> Table | None:
    items = figures.get("actions_implemented")
    if items is None:
        return None
    late = sum(not item["on_time"] for item in items)
    summary = (
        f"{count(len(items), 'preventive action')} from published reviews completed in the "
        f"{noun(figures)}, {late} after its due date."
        if items
        else f"No preventive action from a published review was completed in the {noun(figures)}."
    )
    return Table(
        "actions-implemented", "Preventive actions implemented", summary,
        ["Action", "Incident", "Category", "Due", "Completed", "On time"],
        [[item["description"], item["ref"], _category(item["category"]), _day(item["due_on"]),
          _day(item["completed_on"]), "On time" if item["on_time"] else "Late"]
         for item in items],
    )  # fmt: skip


# A frozen report may hold a status a later release renamed: shown as it was kept.
STATUS_LABELS = {status.value: status.label for status in ActionStatus}


def improvement_initiatives(figures: dict) -> Table | None:
    items = figures.get("improvement_initiatives")
    if items is None:
        return None
    summary = (
        f"{count(len(items), 'action')} from published reviews still open when the figures "
        "were computed: the most worthwhile first (impact for the effort), then the soonest due."
        if items
        else "Every action from published reviews was done when the figures were computed."
    )
    return Table(
        "improvement-initiatives", "Improvement initiatives", summary,
        ["Action", "Incident", "Category", "Priority", "Due", "Status"],
        [[item["description"], item["ref"], _category(item["category"]),
          PRIORITY_LABELS.get(item["priority"] or "", "Not set"), _day(item["due_on"]),
          STATUS_LABELS.get(item["status"], item["status"])]
         for item in items],
    )  # fmt: skip


def definitions(figures: dict) -> dict:
    """The policy's numbers behind the words that explain the figures: as frozen with the report,
    or today's policy for a report frozen before they were kept."""
    from .monthly import definitions as of_policy  # monthly imports this module

    return {**of_policy(current_policy()), **figures.get("definitions", {})}


def page(figures: dict) -> dict:
    """What the report's template needs (the public page and the admin preview alike)."""
    return {
        "figures": figures,
        "charts": figures_for(figures),
        "headlines": headlines(figures),
        "sections": {
            "targets": targets(figures),
            "year_over_year": year_over_year(figures),
            "implemented": actions_implemented(figures),
            "initiatives": improvement_initiatives(figures),
            "definitions": definitions(figures),
            "schema": figures.get("schema", 1),
        },
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
    for key, value in figures.get("acknowledgement", {}).items():
        rows.append(["acknowledgement_within_deadline", "all", key, value])
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
    for key, value in figures.get("review_trigger", {}).items():
        rows.append(["review_trigger", "all", key, value])
    for key, value in figures.get("preventive_actions", {}).items():
        rows.append(["preventive_actions_due", "all", key, value])
    for section in ("actions_implemented", "improvement_initiatives"):
        if section in figures:
            rows.append([section, "all", "count", len(figures[section])])
    for section in ("people_affected", "cost_of_downtime"):
        for key, value in figures.get(section, {}).items():
            rows.append([section, "all", key, value])
    for item in figures.get("targets", []):
        rows += [["targets", item["figure"], "value", item["value"]],
                 ["targets", item["figure"], "met", item["met"]]]  # fmt: skip
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
    earlier = figures.get("year_earlier")
    for key, value in (earlier or {}).items():
        if key != "month":
            rows.append(["year_earlier", earlier["month"], key, value])
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
