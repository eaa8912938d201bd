"""Benchmark: one month's report (`statuspage.reports.monthly.build`) over years of history, on
SQLite or PostgreSQL: time per report (wall clock, and CPU time, the measure that holds on a
shared machine; with SQLite the database's work is in it) and peak memory.

    .venv/bin/python bench/report_history.py --database sqlite
    .venv/bin/python bench/report_history.py --database postgresql
    .venv/bin/python bench/report_history.py --database sqlite --analyze

and each again with `--years 1 --incidents 5000 --updates 50000`, to compare with one year.

Makes a fresh database (a SQLite file in a temporary folder, or `bench_reports_<random>` on
127.0.0.1:5432, dropped at the end unless --keep), fills it with a seeded history (4 agencies,
their services, incidents with their updates, priority changes, missed deadlines, maintenance
windows and published reviews with their preventive actions) in Core bulk inserts, then measures
the report of the latest, a middle and the earliest month, for one agency and for the whole site,
in a separate process so its peak RSS is the report's alone. Prints Markdown tables;
bench/README.md quotes the last run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import defaultdict
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, event, insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
ZONE = ZoneInfo("America/New_York")
WARM_RUNS = 3

AGENCIES = [
    ("revenue", "Department of Revenue",
     ["Tax filing", "Refund status", "Payment portal", "Business registration", "Tax account",
      "Payroll returns", "Sales tax", "Property tax", "Tax forms", "Identity check"]),
    ("health", "Department of Health",
     ["Appointments", "Prescriptions", "Vaccination records", "Test results", "Health cover",
      "Provider search", "Birth certificates", "Death certificates", "Licensing", "Helpline chat"]),
    ("transport", "Department of Transport",
     ["Driving licences", "Vehicle registration", "Driving tests", "Parking permits",
      "Toll accounts", "Road closures", "Transit passes", "Penalty payments",
      "Vehicle inspection", "Trip planner"]),
    ("benefits", "Department of Social Services",
     ["Benefits applications", "Benefit payments", "Childcare support", "Housing assistance",
      "Food assistance", "Disability claims", "Pension records", "Job search", "Appeals",
      "Caseworker messages"]),
]  # fmt: skip
TIERS = [1, 1, 2, 2, 2, 3, 3, 3, 4, 4]
PRIORITY_WEIGHTS = {1: 5, 2: 20, 3: 45, 4: 30}
# Median minutes from detection to resolution, by priority (lognormal around it).
RESOLVE_MEDIAN = {1: 120, 2: 360, 3: 1440, 4: 2880}
ACKNOWLEDGE_WITHIN = {1: (1, 20), 2: (5, 60), 3: (10, 240), 4: (30, 600)}
CADENCE = {1: timedelta(minutes=30), 2: timedelta(hours=1), 3: None, 4: None}
IMPACTS = {
    1: (("major_outage", 85), ("partial_outage", 15)),
    2: (("major_outage", 25), ("partial_outage", 50), ("degraded_performance", 25)),
    3: (("partial_outage", 30), ("degraded_performance", 70)),
    4: (("partial_outage", 5), ("degraded_performance", 95)),
}
SOURCES = ("monitoring", "citizen_report", "staff", "external")
PROBLEMS = (
    "slow to load", "unavailable", "errors on submission", "login failures", "payments failing",
    "timeouts at peak", "search not returning results", "emails delayed", "pages not loading",
    "documents not uploading",
)  # fmt: skip
SENTENCES = (
    "We are investigating reports that some people cannot complete their application.",
    "Our engineers have found the cause and are working on a fix.",
    "A database server in our main data centre stopped responding to requests.",
    "Payments made during this time have been received and will be processed.",
    "You do not need to submit your application again.",
    "We have rolled back a change made earlier today and are monitoring the service.",
    "Some people may see an error page when they sign in.",
    "Our supplier has confirmed a problem with their network.",
    "The service is working again for most people; we are checking the rest.",
    "If you have a deadline today, it has been extended by two working days.",
    "We will post another update by the time shown below.",
    "Phone lines are busier than usual, so please use the online form if you can.",
    "Traffic is much higher than normal because of the filing deadline.",
    "We are adding capacity and pages should load faster soon.",
    "No personal information was affected by this problem.",
)  # fmt: skip
ROOT_CAUSES = (
    "change", "configuration", "capacity", "infrastructure", "network", "third_party",
    "software_defect", "data", "security", "human_process", "unknown",
)  # fmt: skip
ACTION_CATEGORIES = ("monitoring", "process", "technology", "training", "documentation",
                     "architecture")  # fmt: skip


def app_config(url: str) -> dict:
    # Like tests/conftest.py make_app, without the page cache and the scheduler.
    return {
        "TESTING": True,
        "SECRET_KEY": "bench" * 8,
        "SQLALCHEMY_DATABASE_URI": url,
        "SITE_TIMEZONE": ZONE.key,
        "SCHEDULER_ENABLED": False,
        "PAGE_CACHE_ENABLED": False,
    }


def bench_now() -> datetime:
    """The first day of this month plus one day, at noon UTC: last month is the latest complete."""
    today = datetime.now(UTC)
    return datetime(today.year, today.month, 2, 12, tzinfo=UTC)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def history_months(now: datetime, years: int) -> list[date]:
    """The months of the history, oldest first, ending with the last complete month before now."""
    local = now.astimezone(ZONE)
    latest = add_months(date(local.year, local.month, 1), -1)
    return [add_months(latest, -i) for i in range(years * 12 - 1, -1, -1)]


def month_start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=ZONE).astimezone(UTC)


# ---------------------------------------------------------------------------------------------
# The database


@contextmanager
def fresh_database(kind: str, keep: bool):
    """A new database's URL: a SQLite file in a temporary folder, or a new PostgreSQL database."""
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="bench-reports-")
        path = Path(folder) / "reports.sqlite"
        try:
            yield f"sqlite:///{path}", folder
        finally:
            if keep:
                print(f"kept {path}")
            else:
                for file in Path(folder).iterdir():
                    file.unlink()
                os.rmdir(folder)
        return
    name = f"bench_reports_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    folder = tempfile.mkdtemp(prefix="bench-reports-")
    try:
        yield f"{SERVER}/{name}", folder
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        os.rmdir(folder)


def migrate(url: str) -> None:
    from flask_migrate import upgrade

    from statuspage import create_app
    from statuspage.extensions import db

    app = create_app(app_config(url))
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()


# ---------------------------------------------------------------------------------------------
# The history


class Loader:
    """Bulk inserts through Core, `batch` rows per executemany, one transaction each."""

    def __init__(self, engine, batch: int):
        from statuspage.extensions import db

        self.engine = engine
        self.batch = batch
        self.tables = db.metadata.tables
        self.counts: dict[str, int] = defaultdict(int)

    def insert(self, table: str, rows: list[dict]) -> None:
        statement = insert(self.tables[table])
        for start in range(0, len(rows), self.batch):
            with self.engine.begin() as connection:
                connection.execute(statement, rows[start : start + self.batch])
        self.counts[table] += len(rows)


def lognormal_minutes(rng: random.Random, median: float, sigma: float = 0.9) -> float:
    return min(rng.lognormvariate(math.log(median), sigma), 30 * 24 * 60)


def minutes_after(moment: datetime, low: float, high: float, rng: random.Random) -> datetime:
    return moment + timedelta(minutes=rng.uniform(low, high))


def make_bodies(rng: random.Random, count: int = 4000) -> list[str]:
    """Update bodies of 200 to 400 characters, picked at random (the report never reads them)."""
    bodies = []
    for _ in range(count):
        target = rng.randint(200, 400)
        words = []
        while sum(len(w) + 1 for w in words) < target:
            words.append(rng.choice(SENTENCES))
        bodies.append(" ".join(words)[:target])
    return bodies


def generate(engine, args, now: datetime) -> dict[str, int]:
    rng = random.Random(args.seed)
    loader = Loader(engine, args.batch)
    months = history_months(now, args.years)
    start, end = month_start(months[0]), month_start(add_months(months[-1], 1))

    services: list[tuple[int, int, str, int]] = []  # id, agency id, name, tier
    per_agency = max(1, args.services // len(AGENCIES))
    agency_rows, service_rows = [], []
    for a, (slug, name, names) in enumerate(AGENCIES, start=1):
        agency_rows.append({"id": a, "slug": slug, "name": name, "description": "",
                            "display_order": a})  # fmt: skip
        for s in range(per_agency):
            service_id = len(services) + 1
            service_name = names[s % len(names)] + (f" {s // len(names) + 1}" if s >= 10 else "")
            tier = TIERS[s % len(TIERS)]
            services.append((service_id, a, service_name, tier))
            service_rows.append({
                "id": service_id, "agency_id": a, "slug": f"{slug}-{service_id}",
                "name": service_name, "description": "", "tier": tier, "display_order": s,
                "availability_target": None,
            })  # fmt: skip
    loader.insert("agencies", agency_rows)
    loader.insert("services", service_rows)
    by_agency = defaultdict(list)
    for service in services:
        by_agency[service[1]].append(service)

    # Maintenance: about two windows per service per month, at night, a few cancelled.
    windows, window_services = [], []
    for month in months:
        first = month_start(month)
        days = (month_start(add_months(month, 1)) - first).days
        for service_id, agency_id, name, _ in services:
            for _ in range(rng.choice((1, 2, 2, 3))):
                starts = first + timedelta(days=rng.randrange(days), hours=rng.uniform(5, 9))
                ends = starts + timedelta(minutes=rng.choice((30, 60, 90, 120, 180, 240)))
                window_id = len(windows) + 1
                windows.append({
                    "id": window_id, "agency_id": agency_id, "title": f"{name} maintenance",
                    "description": "Planned upgrade; the service may be unavailable.",
                    "starts_at": starts, "ends_at": ends,
                    "status": "cancelled" if rng.random() < 0.05 else "completed",
                    "sequence": rng.choice((0, 0, 1, 2)),
                    "created_at": starts - timedelta(days=7),
                    "updated_at": starts - timedelta(days=rng.randint(0, 7)),
                })  # fmt: skip
                window_services.append({"window_id": window_id, "service_id": service_id})
    loader.insert("maintenance_windows", windows)
    loader.insert("maintenance_services", window_services)
    del windows, window_services

    span = (end - start).total_seconds()
    detections = sorted(
        start + timedelta(seconds=rng.random() * span) for _ in range(args.incidents)
    )
    per_incident = args.updates / max(1, args.incidents)
    bodies = make_bodies(rng)
    priorities, weights = list(PRIORITY_WEIGHTS), list(PRIORITY_WEIGHTS.values())
    ids = defaultdict(int)

    def next_id(table: str) -> int:
        ids[table] += 1
        return ids[table]

    chunk = max(500, args.batch // 2)
    for chunk_start in range(0, len(detections), chunk):
        incidents, affected, changes, updates, missed, reports, revisions, actions = (
            [] for _ in range(8)
        )
        for detected in detections[chunk_start : chunk_start + chunk]:
            incident_id = next_id("incidents")
            priority = rng.choices(priorities, weights)[0]
            initial = priority - 1 if priority > 1 and rng.random() < 0.05 else priority
            service_id, agency_id, service_name, _ = rng.choice(services)
            is_security = priority <= 2 and rng.random() < 0.04
            started = (
                detected - timedelta(minutes=rng.uniform(1, 90)) if rng.random() < 0.6 else None
            )
            acknowledged = minutes_after(detected, *ACKNOWLEDGE_WITHIN[initial], rng)
            assigned = (
                minutes_after(detected, *ACKNOWLEDGE_WITHIN[initial], rng)
                if rng.random() < 0.8 else None
            )  # fmt: skip
            public = initial <= 2 or (priority == 3 and rng.random() < 0.1)
            first_public = minutes_after(detected, 5, 60, rng) if public else None
            resolved = detected + timedelta(
                minutes=lognormal_minutes(rng, RESOLVE_MEDIAN[priority])
            )
            if first_public is not None and resolved <= first_public:
                resolved = first_public + timedelta(minutes=rng.uniform(5, 30))
            if resolved >= now:
                resolved, state, closed = None, rng.choice(("identified", "monitoring")), None
            elif resolved + timedelta(days=1) < now:
                state, closed = "closed", resolved + timedelta(days=1)
            else:
                state, closed = "resolved", None
            incidents.append({
                "id": incident_id, "ref": f"INC-{detected:%Y-%m%d}-{incident_id:05d}",
                "agency_id": agency_id, "title": f"{service_name}: {rng.choice(PROBLEMS)}",
                "priority": priority, "is_security": is_security, "made_public": public,
                "state": state, "source": rng.choice(SOURCES), "impact_description": "",
                "assignee_id": None, "created_by_id": None, "acknowledged_by_id": None,
                "started_at": started, "detected_at": detected, "acknowledged_at": acknowledged,
                "first_public_at": first_public, "resolved_at": resolved, "closed_at": closed,
                "created_at": detected, "assigned_at": assigned,
            })  # fmt: skip

            impacts, impact_weights = zip(*IMPACTS[initial], strict=True)
            affected.append({"incident_id": incident_id, "service_id": service_id,
                             "impact": rng.choices(impacts, impact_weights)[0]})  # fmt: skip
            if rng.random() < 0.25:
                others = [s for s in by_agency[agency_id] if s[0] != service_id]
                affected.append({"incident_id": incident_id, "service_id": rng.choice(others)[0],
                                 "impact": rng.choices(impacts, impact_weights)[0]})  # fmt: skip

            changes.append({"id": next_id("priority_changes"), "incident_id": incident_id,
                            "from_priority": None, "to_priority": initial, "reason": "",
                            "changed_by_id": None, "changed_at": detected})  # fmt: skip
            if initial != priority:
                lowered = minutes_after(acknowledged, 10, 120, rng)
                if resolved is not None:
                    lowered = min(lowered, resolved - timedelta(minutes=1))
                changes.append({"id": next_id("priority_changes"), "incident_id": incident_id,
                                "from_priority": initial, "to_priority": priority,
                                "reason": "Fewer people affected than first thought.",
                                "changed_by_id": None, "changed_at": lowered})  # fmt: skip

            # Updates, spread from the first public one (or detection) to resolution.
            count = max(2, round(rng.gauss(per_incident, 3)))
            first = first_public or minutes_after(detected, 5, 60, rng)
            last = resolved or min(now, first + timedelta(hours=8))
            step = max((last - first) / (count - 1), timedelta(minutes=1))
            cadence = CADENCE[priority]
            published = []
            for n in range(count):
                at = first + step * n
                done = resolved is not None and n == count - 1
                status = "resolved" if done else ("investigating", "identified", "monitoring")[
                    min(2, 3 * n // count)]  # fmt: skip
                next_at = None if done or cadence is None else at + cadence
                published.append(next_at)
                updates.append({
                    "id": next_id("incident_updates"), "incident_id": incident_id,
                    "status": status, "body": rng.choice(bodies),
                    "what_affected": service_name if n == 0 else "", "who_affected": "",
                    "affected_since": started, "cause": "", "workaround": "", "help": "",
                    "next_update_at": next_at, "published_at": at, "author_id": None,
                })  # fmt: skip

            promised = [at for at in published if at is not None]
            if priority <= 2 and promised and rng.random() < 0.10:
                for due in sorted(rng.sample(promised, min(len(promised), rng.choice((1, 1, 2))))):
                    met = None if rng.random() < 0.1 else minutes_after(due, 5, 90, rng)
                    missed.append({"id": next_id("missed_deadlines"), "incident_id": incident_id,
                                   "kind": "next_update", "due_at": due,
                                   "recorded_at": due + timedelta(minutes=1),
                                   "met_at": met})  # fmt: skip

            if priority <= 2 and resolved is not None and rng.random() < 0.30:
                published_at = resolved + timedelta(days=rng.uniform(2, 20))
                if published_at < now:
                    cause = rng.choice(ROOT_CAUSES)
                    report_id = next_id("post_incident_reports")
                    people = rng.choice((None, 50, 400, 2000, 15000))
                    cost = rng.choice((None, None, 1000, 25000))
                    sections = {
                        "summary": f"{service_name} was {rng.choice(PROBLEMS)}.",
                        "people_affected": "About 2,000 people.",
                        "duration": f"{(resolved - detected).total_seconds() / 3600:.1f} hours",
                        "transactions_lost": "None.",
                        "root_cause": "A configuration change reduced the connection pool.",
                        "resolution": "We reverted the change.",
                        "lessons": "Check pool sizes in the release checklist.",
                        "apology": "We are sorry for the trouble this caused.",
                    }
                    reports.append({
                        "id": report_id, "incident_id": incident_id, "status": "published",
                        **sections, "timeline": "[]", "root_cause_category": cause,
                        "correction_note": "", "created_at": resolved + timedelta(hours=4),
                        "updated_at": published_at, "updated_by_id": None,
                        "approved_at": published_at - timedelta(hours=2), "approved_by_id": None,
                        "people_affected_count": people, "downtime_cost": cost,
                    })  # fmt: skip
                    # One to three actions, due weeks after publication; most done (some
                    # late), the recent ones and a few forgotten ones still open.
                    for _ in range(rng.choice((1, 2, 2, 3))):
                        due = (published_at + timedelta(days=rng.randint(14, 60))).date()
                        completed = due + timedelta(days=rng.randint(-10, 12))
                        done = completed < now.date() and rng.random() < 0.98
                        actions.append({
                            "id": next_id("preventive_actions"), "report_id": report_id,
                            "description": "Check pool sizes in the release checklist.",
                            "owner": "Platform team", "due_on": due,
                            "status": "done" if done else rng.choice(("open", "in_progress")),
                            "category": rng.choice(ACTION_CATEGORIES),
                            "impact": rng.choice(("high", "medium", "low")),
                            "effort": rng.choice(("high", "medium", "low")),
                            "completed_on": completed if done else None,
                        })  # fmt: skip
                    content = {**sections, "root_cause_category": cause,
                               "timeline": [], "actions": []}  # fmt: skip
                    revisions.append({
                        "id": report_id, "report_id": report_id, "number": 1,
                        "incident_id": incident_id, "root_cause_category": cause,
                        "content": json.dumps(content, sort_keys=True), "correction_note": "",
                        "published_at": published_at, "published_by_id": None,
                        "approved_by_id": None, "people_affected_count": people,
                        "downtime_cost": cost,
                    })  # fmt: skip

        loader.insert("incidents", incidents)
        loader.insert("affected_services", affected)
        loader.insert("priority_changes", changes)
        loader.insert("incident_updates", updates)
        loader.insert("missed_deadlines", missed)
        loader.insert("post_incident_reports", reports)
        loader.insert("report_revisions", revisions)
        loader.insert("preventive_actions", actions)

    if engine.dialect.name == "sqlite" and args.analyze:
        # Planner statistics; the app never gathers them on SQLite (see bench/README.md).
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    if engine.dialect.name == "postgresql":
        # The rows carry their own ids: move the sequences on, and give the planner statistics
        # as autovacuum would soon.
        with engine.begin() as connection:
            for table in (*ids, "agencies", "services", "maintenance_windows"):
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                ))  # fmt: skip
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    return dict(loader.counts)


# ---------------------------------------------------------------------------------------------
# The measurement (run in its own process, so its peak RSS is the report's alone)


def caller_in_monthly() -> str:
    """The function of reports/monthly.py that ran the statement."""
    frame = sys._getframe(2)
    while frame is not None and not frame.f_code.co_filename.endswith("reports/monthly.py"):
        frame = frame.f_back
    return frame.f_code.co_name if frame is not None else "?"


class StatementTimer:
    """Counts the statements the engine runs and, while on, times each (cursor.execute only: on
    SQLite the rows are stepped through as they are fetched, after it)."""

    def __init__(self, engine):
        self.on = False
        self.records: list[tuple[str, object, float, str]] = []
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        if self.on:
            elapsed = time.perf_counter() - conn.info.pop("bench_started")
            self.records.append((statement, parameters, elapsed, caller_in_monthly()))


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(url: str, years: int) -> dict:
    from sqlalchemy import select

    from statuspage import create_app
    from statuspage.catalog.models import Agency
    from statuspage.extensions import db
    from statuspage.reports import monthly, quarterly

    now = bench_now()
    months = history_months(now, years)
    positions = [("latest", months[-1]), ("middle", months[len(months) // 2]),
                 ("earliest", months[0])]  # fmt: skip
    app = create_app(app_config(url))
    results: dict = {"rss_start_mib": rss_mib(), "cases": []}
    with app.app_context():
        timer = StatementTimer(db.engine)
        agency = db.session.scalars(select(Agency).order_by(Agency.id)).first()

        def report(month: date, scope: Agency | None, kind: str = "month") -> dict:
            try:
                if kind == "quarter":  # the agency CIO's review of the quarter holding the month
                    quarter = quarterly.Quarter(month.year, (month.month - 1) // 3 + 1)
                    return quarterly.build(quarter, scope, now)
                return monthly.build(month, scope, now, frozen={})
            finally:
                db.session.remove()  # a fresh session per report, as per request

        # Imports, statement compilation and the holiday tables, on a month before the history.
        started = time.perf_counter()
        report(add_months(months[0], -24), None)
        results["process_warmup_s"] = time.perf_counter() - started

        for position, month in positions:
            cases = ((agency.slug, agency, "month"), ("site", None, "month"),
                     (f"{agency.slug} quarter", agency, "quarter"))  # fmt: skip
            for scope_name, scope, kind in cases:
                rss_before = rss_mib()
                timer.count = 0
                started = time.perf_counter()
                figures = report(month, scope, kind)
                cold = time.perf_counter() - started
                statements = timer.count
                warm, warm_cpu = [], []
                for _ in range(WARM_RUNS):
                    started, cpu = time.perf_counter(), time.process_time()
                    report(month, scope, kind)
                    warm.append(time.perf_counter() - started)
                    warm_cpu.append(time.process_time() - cpu)
                tracemalloc.start()
                tracemalloc.reset_peak()
                report(month, scope, kind)
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                timer.records.clear()
                timer.on = True
                report(month, scope, kind)
                timer.on = False
                by_caller: dict[str, float] = defaultdict(float)
                for _, _, elapsed, caller in timer.records:
                    by_caller[caller] += elapsed
                top = sorted(by_caller.items(), key=lambda item: -item[1])[:3]
                slowest = max(
                    (record for record in timer.records if record[3] == top[0][0]),
                    key=lambda record: record[2],
                )
                if position == "latest" and scope is None:
                    results["explain"] = explain(db, slowest)
                results["cases"].append({
                    "month": f"{month:%Y-%m}", "position": position, "scope": scope_name,
                    "incidents": figures["incidents"]["total"], "statements": statements,
                    "cold_s": cold, "warm_s": statistics.median(warm), "warm_all_s": warm,
                    "warm_cpu_s": statistics.median(warm_cpu),
                    "peak_mib": peak / 2**20, "rss_before_mib": rss_before,
                    "rss_after_mib": rss_mib(),
                    "sql_s": sum(record[2] for record in timer.records),
                    "top_callers": top,
                    "slowest": (" ".join(slowest[0].split()), repr(slowest[1]), slowest[2],
                                slowest[3]),
                })  # fmt: skip
        db.engine.dispose()
    results["rss_end_mib"] = rss_mib()
    return results


def explain(db, record: tuple[str, object, float, str]) -> list[str]:
    """The plan of one recorded statement, with its own parameters."""
    statement, parameters, _, _ = record
    prefix = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql(prefix + statement, parameters).all()
    return [" | ".join(str(value) for value in row) for row in rows]


# ---------------------------------------------------------------------------------------------


def print_tables(database: str, years: int, counts: dict, generation_s: float, result: dict,
                 analyzed: str = ""):  # fmt: skip
    print(f"\n### {database}, {years} years of history{analyzed}\n")
    print(f"generation: {generation_s:.1f} s; rows: "
          + ", ".join(f"{table} {count:,}" for table, count in counts.items()))  # fmt: skip
    print(f"measuring process: first report (imports, compiled statements, holidays) "
          f"{result['process_warmup_s']:.2f} s; "
          f"max RSS at start {result['rss_start_mib']:.0f} MiB, "
          f"at end {result['rss_end_mib']:.0f} MiB\n")  # fmt: skip
    print("| month | scope | incidents in month | statements | cold s | warm s (median of 3) "
          "| warm CPU s | SQL execute s | tracemalloc peak MiB "
          "| max RSS before → after MiB |")  # fmt: skip
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for case in result["cases"]:
        print(f"| {case['position']} ({case['month']}) | {case['scope']} | {case['incidents']} "
              f"| {case['statements']} | {case['cold_s']:.3f} | {case['warm_s']:.3f} "
              f"| {case['warm_cpu_s']:.3f} "
              f"| {case['sql_s']:.3f} | {case['peak_mib']:.2f} "
              f"| {case['rss_before_mib']:.0f} → {case['rss_after_mib']:.0f} |")  # fmt: skip
    print("\nSQL execute time in one report by the monthly.py function that ran it (top 3):")
    for case in result["cases"]:
        top = ", ".join(f"{caller} {seconds:.3f} s" for caller, seconds in case["top_callers"])
        print(f"- {case['position']} {case['scope']}: {top}")
    latest = next(c for c in result["cases"] if c["position"] == "latest" and c["scope"] == "site")
    statement, parameters, seconds, caller = latest["slowest"]
    print(f"\nPlan of the slowest statement of {caller} in the latest month's site report "
          f"({seconds:.3f} s):\n    {statement}\n    parameters {parameters[:300]}")  # fmt: skip
    for line in result["explain"]:
        print("    " + line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--services", type=int, default=40)
    parser.add_argument("--incidents", type=int, default=50_000)
    parser.add_argument("--updates", type=int, default=500_000)
    parser.add_argument("--batch", type=int, default=5000, help="rows per executemany")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="SQLite: run ANALYZE after loading (PostgreSQL is always analyzed)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure:  # the child process
        print(json.dumps(measure(args.measure, args.years)))
        return

    now = bench_now()
    with fresh_database(args.database, args.keep) as (url, instance):
        os.environ["STATUSPAGE_INSTANCE_PATH"] = instance  # the default policy, no local override
        migrate(url)
        engine = create_engine(url)
        started = time.perf_counter()
        counts = generate(engine, args, now)
        generation_s = time.perf_counter() - started
        engine.dispose()
        print(f"generated in {generation_s:.1f} s: {counts}", flush=True)
        child = subprocess.run(
            [sys.executable, __file__, "--measure", url, "--years", str(args.years)],
            check=False, capture_output=True, text=True, env=os.environ,
        )  # fmt: skip
        if child.returncode != 0:
            sys.exit(f"the measuring process failed:\n{child.stderr}")
        result = json.loads(child.stdout.strip().splitlines()[-1])
    analyzed = ", after ANALYZE" if args.analyze and args.database == "sqlite" else ""
    print_tables(args.database, args.years, counts, generation_s, result, analyzed)
    if args.json:
        summary = {
            "database": args.database, "years": args.years, "analyze": bool(analyzed),
            "now": now.isoformat(), "counts": counts, "generation_s": generation_s, **result,
        }  # fmt: skip
        args.json.write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
