"""Benchmark: notify N confirmed subscribers of one service of a P1 update through a local SMTP
sink, with 1, 2, … dispatcher processes, on PostgreSQL.

    .venv/bin/python bench/notify_subscribers.py --subscribers 1000000 --dispatchers 1,2,4

Makes its own database on 127.0.0.1:5432 (dropped at the end) and its own instance folder, inserts
the subscribers, then for each dispatcher count: empties the outbox, publishes a new P1 update
(the update and its outbox rows in one transaction, timed), starts a fresh SMTP sink
(bench/smtp_sink.py) and N `statuspage dispatch --until-empty` processes, and waits for them.
It then checks that the sink got exactly one message for each subscriber (no loss, no duplicate)
and every row is marked sent, and prints a Markdown table. --profile DIR runs each dispatcher
under cProfile (slower; for finding where the time goes, not for the figures).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
WINDOW_SECONDS = 15 * 60  # the policy's window for a P1 update to reach subscribers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the SMTP sink did not start on port {port}")


def cpu_seconds(usage) -> float:
    return usage.ru_utime + usage.ru_stime


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / ticks, sum(fields) / ticks


class PostgresCPU:
    """CPU seconds used by PostgreSQL for the benchmark's database while it runs: its backends
    (those that exit included: a thread reads /proc every half second and keeps each process's
    last figure) and the server's shared processes (WAL writer, checkpointer, ...), not the
    backends of other databases (someone else's tests)."""

    def __init__(self, database: str):
        self.database = database
        self.seen: dict[int, float] = {}
        self.start = self._read()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _read(self) -> dict[int, float]:
        ticks = os.sysconf("SC_CLK_TCK")
        found = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text_ = stat.read_text()
                title = (stat.parent / "cmdline").read_text()
            except OSError:
                continue
            name = text_[text_.index("(") + 1 : text_.rindex(")")]
            # A backend's title names its database and client: "postgres db 127.0.0.1(5) idle".
            shared = not ("(" in title or "[local]" in title or "autovacuum worker" in title)
            if name == "postgres" and (self.database in title or shared):
                fields = text_[text_.rindex(")") + 2 :].split()
                found[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / ticks
        return found

    def _watch(self) -> None:
        while not self.stop.wait(0.5):
            self.seen.update(self._read())

    def seconds(self) -> float:
        self.stop.set()
        self.thread.join()
        self.seen.update(self._read())
        return sum(cpu - self.start.get(pid, 0.0) for pid, cpu in self.seen.items())


def publish(app, service) -> float:
    """Empty the outbox, publish a new P1 update to the service; seconds the publish took."""
    from statuspage.extensions import db
    from statuspage.incidents.models import State
    from statuspage.incidents.operations import publish_update
    from tests.factories import make_incident

    with app.app_context():
        db.session.execute(text("TRUNCATE notifications"))
        db.session.commit()
        incident = make_incident([db.session.merge(service)], priority=1, updates=())
        started = time.perf_counter()
        publish_update(incident, status=State.INVESTIGATING, body="Tax filing is down.", by=None)
        elapsed = time.perf_counter() - started
        db.session.remove()
    return elapsed


def run_dispatchers(args, env: dict, count: int, work: Path) -> dict:
    port = free_port()
    result_file = work / f"sink-{count}.json"
    sink = subprocess.Popen([sys.executable, str(ROOT / "bench/smtp_sink.py"), str(port),
                             str(result_file)])  # fmt: skip
    wait_for_port(port)
    env = {**env, "MAIL_PORT": str(port)}
    command = ["-m", "statuspage.cli", "dispatch", "--until-empty", "--batch", str(args.batch)]
    busy_before, total_before = machine_busy()
    postgres = PostgresCPU(env["DATABASE_URL"].rpartition("/")[2])
    started = time.perf_counter()
    dispatchers = []
    dispatcher_cpu = 0.0
    try:
        for n in range(count):
            profile = []
            if args.profile:
                profile = ["-m", "cProfile", "-o", str(args.profile / f"dispatch-{count}-{n}.prof")]
            output = open(work / f"dispatch-{count}-{n}.out", "w")
            process = subprocess.Popen([sys.executable, *profile, *command], env=env, stdout=output)
            dispatchers.append((process, output))
        for process, output in dispatchers:
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            output.close()
            dispatcher_cpu += cpu_seconds(usage)
            if process.returncode != 0:
                raise RuntimeError(f"a dispatcher exited with {process.returncode}")
        elapsed = time.perf_counter() - started
        busy_after, total_after = machine_busy()
        postgres_cpu = postgres.seconds()
    finally:
        for process, _ in dispatchers:
            if process.returncode is None:
                process.kill()
        sink.send_signal(signal.SIGINT)
        _, _, sink_usage = os.wait4(sink.pid, 0)
        sink.returncode = 0
    received = json.loads(result_file.read_text())
    return {
        "dispatchers": count,
        "seconds": elapsed,
        "received": received,
        "dispatcher_cpu": dispatcher_cpu,
        "sink_cpu": cpu_seconds(sink_usage),
        "postgres_cpu": postgres_cpu,
        "machine_busy": busy_after - busy_before,
        "machine_total": total_after - total_before,
        "outputs": [(work / f"dispatch-{count}-{n}.out").read_text().strip()
                    for n in range(count)],  # fmt: skip
    }


def check(app, run: dict, subscribers: int) -> list[str]:
    """What went wrong: messages lost or sent twice at the sink, rows not marked sent."""
    from statuspage.extensions import db

    problems = []
    received = run["received"]
    if received["messages"] != subscribers or received["recipients"] != subscribers:
        problems.append(f"sink got {received['messages']} messages for "
                        f"{received['recipients']} recipients, wanted {subscribers}")  # fmt: skip
    if received["repeated"]:
        problems.append(f"{received['repeated']} recipients got more than one message: "
                        f"{received['repeated_sample']}")  # fmt: skip
    with app.app_context():
        statuses = dict(db.session.execute(
            text("SELECT status, count(*) FROM notifications GROUP BY status")
        ).all())  # fmt: skip
        db.session.remove()
    if statuses != {"sent": subscribers}:
        problems.append(f"outbox rows: {statuses}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--dispatchers", default="1,2", help="comma-separated process counts")
    parser.add_argument("--batch", type=int, default=500, help="rows each dispatcher claims")
    parser.add_argument("--profile", type=Path, help="write cProfile output of each dispatcher")
    args = parser.parse_args()
    counts = [int(n) for n in args.dispatchers.split(",")]
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)

    name = f"statuspage_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    work = Path(tempfile.mkdtemp(prefix="statuspage-bench-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"{SERVER}/{name}",
        "STATUSPAGE_INSTANCE_PATH": str(work),
        "SECRET_KEY": "bench" * 8,
        "MAIL_SERVER": "127.0.0.1",
    }
    rows, problems = [], []
    try:
        subprocess.run([sys.executable, "-m", "statuspage.cli", "db", "upgrade"], env=env,
                       check=True, capture_output=True)  # fmt: skip
        os.environ.update(env)
        from statuspage import create_app
        from statuspage.extensions import db
        from tests.factories import make_agency, make_service

        app = create_app(for_cli=True)
        with app.app_context():
            service = make_service(
                make_agency("Department of Revenue", "revenue"), "Tax filing", "tax-filing"
            )
            started = time.perf_counter()
            db.session.execute(
                text(
                    "INSERT INTO subscribers (email, everything, confirmed_at, created_at) "
                    "SELECT 'person' || n || '@example.com', false, now(), now() "
                    "FROM generate_series(1, :n) AS n"
                ),
                {"n": args.subscribers},
            )
            db.session.execute(
                text(
                    "INSERT INTO subscriber_scopes (subscriber_id, service_id) "
                    "SELECT id, :service FROM subscribers"
                ),
                {"service": service.id},
            )
            db.session.commit()
            db.session.execute(text("ANALYZE"))
            db.session.commit()
            service = db.session.merge(service)
            db.session.expunge(service)
            print(f"{args.subscribers} subscribers created in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip

        for count in counts:
            published = publish(app, service)
            run = run_dispatchers(args, env, count, work)
            run["publish"] = published
            run["problems"] = check(app, run, args.subscribers)
            problems += run["problems"]
            rows.append(run)
            print(f"{count} dispatcher(s): publish {published:.1f} s, {run['received']['messages']}"
                  f" messages in {run['seconds']:.1f} s = "
                  f"{args.subscribers / run['seconds']:.0f}/s; CPU s: dispatchers "
                  f"{run['dispatcher_cpu']:.0f}, sink {run['sink_cpu']:.0f}, PostgreSQL "
                  f"{run['postgres_cpu']:.0f}, machine "
                  f"{run['machine_busy']:.0f} of {run['machine_total']:.0f}; {run['outputs']}"
                  f"{'; PROBLEMS: ' + '; '.join(run['problems']) if run['problems'] else ''}",
                  flush=True)  # fmt: skip
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    print()
    print(f"{args.subscribers:,} subscribers, batch {args.batch}")
    print()
    print("| dispatchers | publish s | send s | messages/s | CPU s: dispatchers / sink / "
          "PostgreSQL / whole machine | within 15 min (publish + send) |")  # fmt: skip
    print("| ---: | ---: | ---: | ---: | ---: | --- |")
    for run in rows:
        total = run["publish"] + run["seconds"]
        print(f"| {run['dispatchers']} | {run['publish']:.1f} | {run['seconds']:.1f} | "
              f"{args.subscribers / run['seconds']:,.0f} | {run['dispatcher_cpu']:.0f} / "
              f"{run['sink_cpu']:.0f} / {run['postgres_cpu']:.0f} / {run['machine_busy']:.0f} | "
              f"{'yes' if total <= WINDOW_SECONDS else 'no'} ({total:.0f} s) |")  # fmt: skip
    if problems:
        sys.exit("PROBLEMS: " + "; ".join(problems))
    print("\nEvery subscriber got exactly one message; every outbox row is marked sent.")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
