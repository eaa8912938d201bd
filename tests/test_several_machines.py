"""Several machines on one PostgreSQL behind one nginx, as deploy/ describes them, on loopback.

Two app servers (`statuspage serve`, Granian, each with its scheduler on), two dispatchers
(`statuspage dispatch --forever`), the machine's PostgreSQL, a real SMTP server and
deploy/nginx-statuspage.conf in front. During a surge through nginx, an update is published and the
app server that leads the scheduler is killed: nobody gets an error, the surviving server shows
the update within 2 s, the other server takes over the scheduled jobs (the static export follows)
and each subscriber gets the update once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from statuspage import clock
from statuspage.catalog.models import Service
from statuspage.config import normalise_database_url
from statuspage.extensions import db
from statuspage.incidents.models import State
from statuspage.incidents.operations import publish_update
from statuspage.subscriptions.models import Subscriber, SubscriberScope
from tests.conftest import make_app
from tests.factories import make_incident
from tests.test_nginx import Nginx, _free_port

pytestmark = pytest.mark.same_on_any_database  # run once, in the SQLite pass

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
SUBSCRIBERS = 40
# Through nginx: pages it caches, one it keys without the query, and pages every request of which
# reaches an app server (a form page and the health check), so the kill is felt.
SURGE_PATHS = ("/", "/api/v2/summary.json", "/subscribe", "/healthz", "/history?page=1")


@pytest.fixture
def cluster_database():
    server = make_url(normalise_database_url(os.environ.get("TEST_DATABASE_URL", POSTGRES)))
    name = f"statuspage_cluster_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Node:
    """One process of the cluster, in a process group of its own (Granian forks its workers)."""

    def __init__(self, name: str, args: list[str], env: dict, logs: Path, port: int | None = None):
        self.name, self.args, self.env, self.port = name, args, env, port
        self.log = logs / f"{name}.log"
        self.url = f"http://127.0.0.1:{port}" if port else None
        self.start()

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "statuspage.cli", *self.args],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            self.kill()

    def leads(self) -> bool:
        """This node's last word on the scheduler is that it runs the jobs."""
        lines = [line for line in self.log.read_text().splitlines() if "scheduler: this" in line]
        return bool(lines) and "now runs" in lines[-1]

    def wait_until_up(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"{self.name} stopped:\n{self.log.read_text()}"
            if _get(f"{self.url}/healthz")[0] == 200:
                return
            time.sleep(0.1)
        raise AssertionError(f"{self.name} did not come up:\n{self.log.read_text()}")


def _get(url: str, timeout: float = 5) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""
    except OSError as error:
        return 0, str(error)


def _wait_for(condition, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.05)
    return time.monotonic() - started


class Surge:
    """Threads asking nginx for public pages as fast as they can; every answer must be a 200."""

    def __init__(self, base: str, threads: int = 6):
        self.base, self.errors, self.answers = base, [], 0
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        while not self.stopping.is_set():
            path = random.choice(SURGE_PATHS)
            if path == "/":
                path = f"/?fbclid={uuid.uuid4().hex}"  # a shared link: a new query each click
            asked = time.monotonic()
            status, body = _get(self.base + path)
            self.answers += 1
            if status != 200:
                self.errors.append(f"{path} asked at {asked:.2f}: {status} {body[:200]}")

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=10)


def test_killing_the_leading_app_server_mid_surge_costs_nobody_an_error(
    cluster_database, smtp, work
):
    export = work / "export"
    instance = work / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        f"JOB_INTERVAL_SECONDS = 1\nSTATIC_EXPORT_DIR = {str(export)!r}\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": cluster_database,
        "STATUSPAGE_INSTANCE_PATH": str(instance),
        "SECRET_KEY": "cluster-test-" + "x" * 20,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp.port),
        "PROXY_COUNT": "1",
    }
    setup = subprocess.run([sys.executable, "-m", "statuspage.cli", "setup", "--demo"], env=env,
                           capture_output=True, text=True)  # fmt: skip
    assert setup.returncode == 0, setup.stderr

    app = make_app(cluster_database)
    with app.app_context():
        service = db.session.scalars(select(Service).order_by(Service.id)).first()
        now = clock.now()
        db.session.add_all(
            Subscriber(email=f"citizen{n}@example.com", everything=False, confirmed_at=now,
                       created_at=now, scopes=[SubscriberScope(service_id=service.id)])
            for n in range(SUBSCRIBERS)
        )  # fmt: skip
        db.session.commit()
        service_id = service.id

    logs = work / "logs"
    logs.mkdir()
    web = [
        Node(f"web{n}", ["serve", "--port", str(port), "--workers", "1", "--threads", "4"], env,
             logs, port)
        for n, port in enumerate((_free_port(), _free_port()), start=1)
    ]  # fmt: skip
    dispatchers = [
        Node(f"dispatcher{n}", ["dispatch", "--forever", "--poll", "0.5"], env, logs)
        for n in (1, 2)
    ]
    nodes = [*web, *dispatchers]
    try:
        for node in web:
            node.wait_until_up()
        _wait_for(lambda: sum(node.leads() for node in web) == 1, 15, "one scheduler leads")
        _wait_for(lambda: (export / "index.html").exists(), 60, "the leader exports the site")
        leader, survivor = sorted(web, key=lambda node: not node.leads())

        with Nginx(work, [node.port for node in web], export) as nginx, Surge(nginx.url) as surge:
            time.sleep(1)
            marker = f"Cluster check {uuid.uuid4().hex[:8]}"
            with app.app_context():
                incident = make_incident(
                    [db.session.get(Service, service_id)], priority=1, title=marker, updates=()
                )
                killer = threading.Timer(0.01, leader.kill)
                killer.start()  # the leading server dies as the update is published
                publish_update(incident, status=State.INVESTIGATING, body=f"{marker}: down.",
                               by=None)  # fmt: skip
            published = time.monotonic()
            killer.join()
            _wait_for(lambda: marker in _get(survivor.url + "/")[1], 10,
                      "the surviving server shows the update")  # fmt: skip
            seen_after = time.monotonic() - published
            assert seen_after < 2, f"the surviving server showed the update after {seen_after:.2f} s"
            # The other server takes over the scheduled jobs: the static export gets the update.
            _wait_for(survivor.leads, 10, "the surviving server runs the scheduled jobs")
            _wait_for(lambda: marker in (export / "index.html").read_text(), 30,
                      "the static export, written by the new leader, shows the update")  # fmt: skip
            time.sleep(1)
        assert surge.answers > 100
        assert surge.errors == [], (surge.errors[:10], f"published at {published:.2f}")
        # The killed server comes back and shows the update from its first page.
        leader.start()
        leader.wait_until_up()
        assert marker in _get(leader.url + "/")[1]

        def update_emails() -> list[str]:
            return [
                str(m["To"]) for m in smtp.messages
                if marker in str(m["Subject"]) and str(m["To"]).startswith("citizen")
            ]  # fmt: skip

        _wait_for(lambda: len(update_emails()) >= SUBSCRIBERS, 30, "every subscriber is told")
        time.sleep(1)
        addresses = update_emails()
        assert sorted(addresses) == sorted(f"citizen{n}@example.com" for n in range(SUBSCRIBERS))
    finally:
        for node in nodes:
            node.stop()
        with app.app_context():
            db.engine.dispose()
