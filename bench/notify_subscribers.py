"""Benchmark: notify N subscribers of one P1 update through a local SMTP sink, with one dispatcher
process and then with two, on PostgreSQL.

    .venv/bin/python bench/notify_subscribers.py [--subscribers 100000] [--batch 500]

Makes its own database on 127.0.0.1:5432 (dropped at the end) and its own instance folder.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()

    name = f"statuspage_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    instance = Path(tempfile.mkdtemp(prefix="statuspage-bench-"))
    port = free_port()
    count_file = instance / "sink-count"
    env = {
        **os.environ,
        "DATABASE_URL": f"{SERVER}/{name}",
        "STATUSPAGE_INSTANCE_PATH": str(instance),
        "SECRET_KEY": "bench" * 8,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(port),
    }
    sink = subprocess.Popen(
        [sys.executable, str(ROOT / "bench/smtp_sink.py"), str(port), str(count_file)]
    )
    try:
        subprocess.run(
            [sys.executable, "-m", "statuspage.cli", "db", "upgrade"],
            env=env,
            check=True,
            capture_output=True,
        )
        os.environ.update(env)
        from statuspage import create_app
        from statuspage.extensions import db
        from statuspage.incidents.models import State
        from statuspage.incidents.operations import publish_update
        from tests.factories import make_agency, make_incident, make_service

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
            print(
                f"{args.subscribers} subscribers created in {time.perf_counter() - started:.1f} s"
            )
            incident = make_incident([service], priority=1, updates=())
            started = time.perf_counter()
            publish_update(
                incident, status=State.INVESTIGATING, body="Tax filing is down.", by=None
            )
            print(
                f"publish (update + {args.subscribers} outbox rows, one transaction): "
                f"{time.perf_counter() - started:.2f} s"
            )

        results = {}
        for dispatchers in (1, 2):
            with app.app_context():
                db.session.execute(
                    text(
                        "UPDATE notifications SET status='pending', attempts=0, "
                        "sent_at=NULL, next_attempt_at=now() - interval '1 minute'"
                    )
                )
                db.session.commit()
            command = [
                sys.executable,
                "-m",
                "statuspage.cli",
                "dispatch",
                "--until-empty",
                "--batch",
                str(args.batch),
            ]
            started = time.perf_counter()
            processes = [
                subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
                for _ in range(dispatchers)
            ]
            outputs = [p.communicate()[0].strip() for p in processes]
            elapsed = time.perf_counter() - started
            time.sleep(1)
            with app.app_context():
                sent = db.session.execute(
                    text("SELECT count(*) FROM notifications WHERE status='sent'")
                ).scalar()
            results[dispatchers] = (sent, elapsed)
            print(
                f"{dispatchers} dispatcher(s): {sent} sent in {elapsed:.1f} s = "
                f"{sent / elapsed:.0f} messages/s  {outputs}"
            )
        print("sink received (cumulative, counted every 1000):", count_file.read_text())
    finally:
        sink.send_signal(signal.SIGINT)
        sink.wait(timeout=30)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
