"""The front page rendered without the page cache: what a visitor waits for after a change.

    .venv/bin/python bench/render_front_page.py [--renders 200] [--profile]

Builds a throw-away instance with the demo data (`statuspage setup`: 3 agencies, 12 services,
90 days of incidents, one open incident, one maintenance window ahead) with PAGE_CACHE_ENABLED and
SCHEDULER_ENABLED off, then times GET / through the Flask test client, each request in its own app
context as under a server, in three situations:

- ``after a publication``: before each render (untimed) a commit moves the site version, as an
  update to the open incident does. This is the first render the page cache asks for after an
  ordinary change: the completed days' history may be remembered, nothing else is.
- ``steady``: renders one after another, nothing changing in between.
- ``cold``: the remembered history is forgotten before each render, as on the first render of a
  day, after a change to an incident that touched a past day, or in a new worker.

Then where the time of a render goes (queries, history, template, Flask), measured in place,
and with --profile the top of a cProfile of the after-a-publication renders.
Prints median and p95 in milliseconds; bench/README.md quotes the last run.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile")
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="statuspage-render-"))
    instance = work / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("PAGE_CACHE_ENABLED = False\nSCHEDULER_ENABLED = False\n")
    os.environ["STATUSPAGE_INSTANCE_PATH"] = str(instance)
    os.environ.pop("DATABASE_URL", None)  # the instance's own SQLite file
    try:
        subprocess.run([BIN / "statuspage", "setup"], check=True, capture_output=True)
        run(options)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(options) -> None:
    from statuspage import create_app

    app = create_app()
    assert not app.config["PAGE_CACHE_ENABLED"]
    client = app.test_client()

    cpu: list[float] = []

    def render() -> float:
        # The app context too: its end closes the session, as each request's does in a server.
        started, started_cpu = time.perf_counter(), time.process_time()
        with app.app_context():
            response = client.get("/")
        elapsed = time.perf_counter() - started
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, response.status_code
        return elapsed * 1000

    def publish() -> None:
        from statuspage import publication
        from statuspage.extensions import db

        with app.app_context():
            publication.bump()
            db.session.commit()

    forget = _forget_hook()
    for _ in range(20):  # warm up: imports, compiled templates, connections
        render()

    situations = {
        "after a publication": lambda: _timed(render, options.renders, before=publish),
        "steady": lambda: _timed(render, options.renders),
        "cold": lambda: _timed(render, options.renders, before=forget),
    }
    print(
        f"\n{time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} CPUs, Python "
        f"{sys.version.split()[0]}, SQLite; load average {os.getloadavg()[0]:.2f}; "
        f"code from {Path(sys.modules['statuspage'].__file__).parents[1]}"
    )
    print(f"\nGET / without the page cache, demo data, {options.renders} renders each\n")
    # CPU time too: on a shared machine the wall clock also counts the time others had the CPU.
    print("| situation | median ms | p95 ms | min ms | CPU median ms | CPU p95 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, measure in situations.items():
        if name == "cold" and forget is None:
            print("| cold | (same as steady: nothing is remembered) | | | | |")
            continue
        cpu.clear()
        times = measure()
        print(
            f"| {name} | {_median(times):.2f} | {_p95(times):.2f} | {min(times):.2f} "
            f"| {_median(cpu):.2f} | {_p95(cpu):.2f} |"
        )

    print("\nBy phase, after a publication (median and p95 of each phase on its own)\n")
    print("| phase | median ms | p95 ms |")
    print("| --- | ---: | ---: |")
    for name, times in _phases(app, client, options.renders, publish).items():
        print(f"| {name} | {_median(times):.2f} | {_p95(times):.2f} |")

    if options.profile:
        profiler = cProfile.Profile()
        for _ in range(50):
            publish()
            profiler.enable()
            render()
            profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
        print(out.getvalue())


def _phases(app, client, count: int, before) -> dict[str, list[float]]:
    """Where one render's time goes: the view's calls to `daily_history` and `render_template`
    are timed in place (wrapped), the rest of the view is its queries and the little Python around
    them, and what is outside the view is Flask, the ETag and the other after-request hooks."""
    from sqlalchemy import event

    from statuspage.extensions import db
    from statuspage.public import routes

    spent: dict[str, float] = {}
    statements = []

    def timed(name, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0) + (time.perf_counter() - started) * 1000

        return wrapper

    originals = {
        "history": routes.daily_history,
        "template": routes.render_template,
        "view": app.view_functions["public.index"],
    }
    routes.daily_history = timed("history", originals["history"])
    routes.render_template = timed("template", originals["template"])
    app.view_functions["public.index"] = timed("view", originals["view"])
    with app.app_context():
        engine = db.engine
    count_statement = lambda *args: statements.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", count_statement)
    results: dict[str, list[float]] = {}
    try:
        for _ in range(count):
            if before is not None:
                before()
            spent.clear()
            statements.clear()
            started = time.perf_counter()
            with app.app_context():
                client.get("/")
            total = (time.perf_counter() - started) * 1000
            rest = spent["view"] - spent["history"] - spent["template"]
            phases = {
                "queries and the rest of the view": rest,
                "history (daily_history, its 2 queries included)": spent["history"],
                "template": spent["template"],
                "outside the view (Flask, ETag, hooks, session end)": total - spent["view"],
                "whole request": total,
                "SQL statements (count)": len(statements),
            }
            for name, value in phases.items():
                results.setdefault(name, []).append(value)
    finally:
        routes.daily_history = originals["history"]
        routes.render_template = originals["template"]
        app.view_functions["public.index"] = originals["view"]
        event.remove(engine, "before_cursor_execute", count_statement)
    return results


def _forget_hook():
    """The history module's way to forget what it remembers, when it has one."""
    from statuspage.incidents import history

    return getattr(history, "forget_remembered_days", None)


def _timed(render, count: int, before=None) -> list[float]:
    times = []
    for _ in range(count):
        if before is not None:
            before()
        times.append(render())
    return times


def _median(times: list[float]) -> float:
    return statistics.median(times)


def _p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1]


if __name__ == "__main__":
    main()
