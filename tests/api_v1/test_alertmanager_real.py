"""A real Prometheus Alertmanager (Debian's prometheus-alertmanager, installed by dev.py) routes
alerts to our receiver with the example configuration in deploy/alertmanager.yml: an alert posted
to its API opens a draft incident on the status page, and the same alert ended resolves the group,
which suggests resolution on the incident page. The app is served on loopback by a real server."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from statuspage.alerts.models import AlertGroup
from statuspage.api_keys.operations import create_key
from statuspage.extensions import db
from statuspage.incidents.models import Incident
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_service, make_user

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
DEPLOYED = Path(__file__).resolve().parents[2] / "deploy" / "alertmanager.yml"
DEADLINE = 20  # seconds for each notification to arrive (group_wait and group_interval are 1 s)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, what: str, seconds: float = DEADLINE):
    """Poll ``check`` until it returns something true, or fail saying what never happened."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.rollback()  # see what the server's threads committed
        db.session.expire_all()
        found = check()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"{what} within {seconds} s")


def configuration(receiver_url: str, key_file: Path) -> str:
    """deploy/alertmanager.yml with our loopback URL, the key's file and short times."""
    text = DEPLOYED.read_text()
    replacements = {
        "https://status.example.gov/api/v1/alertmanager": receiver_url,
        "/etc/prometheus/status-page-revenue.key": str(key_file),
        "group_wait: 30s": "group_wait: 1s",
        "group_interval: 5m": "group_interval: 1s",
    }
    for old, new in replacements.items():
        assert old in text, f"deploy/alertmanager.yml no longer says {old!r}"
        text = text.replace(old, new)
    return text


@pytest.fixture
def served(app):
    """The app on a free 127.0.0.1 port, in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def alertmanager(served, tmp_path):
    """Alertmanager routing to the served app with an API key of the revenue agency."""
    agency = make_agency("Department of Revenue", slug="revenue")
    make_service(agency, "Tax filing", slug="tax-filing", tier=1)
    owner = make_user(agency, Role.SERVICE_OWNER)
    _, key = create_key(agency, "Alertmanager", {"incidents"}, by=owner)
    key_file = tmp_path / "status-page.key"
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    config = tmp_path / "alertmanager.yml"
    config.write_text(configuration(f"{served}/api/v1/alertmanager", key_file))
    port = free_port()
    log = (tmp_path / "alertmanager.log").open("w")
    assert Path(ALERTMANAGER).exists(), "run `python3 dev.py test`: it installs Debian's package"
    process = subprocess.Popen(
        [ALERTMANAGER, f"--config.file={config}", f"--storage.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
         "--log.level=debug"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + DEADLINE
        while True:
            try:
                urllib.request.urlopen(f"{base}/-/ready", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("Alertmanager did not start: " + (tmp_path / "alertmanager.log")
                                .read_text()[-2000:])  # fmt: skip
                time.sleep(0.1)
        yield {"base": base, "agency": agency, "owner": owner, "log": tmp_path / "alertmanager.log"}
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def post_alerts(base: str, alerts: list[dict]) -> None:
    request = urllib.request.Request(
        f"{base}/api/v2/alerts", data=json.dumps(alerts).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_a_real_alertmanager_opens_a_draft_and_its_resolution_is_suggested(alertmanager, client):
    started = datetime.now(UTC) - timedelta(minutes=2)
    alert = {
        "labels": {"alertname": "HighErrorRate", "agency": "revenue", "service": "tax-filing",
                   "severity": "critical"},
        "annotations": {"summary": "More than 5% of requests to tax filing fail"},
        "startsAt": rfc3339(started),
    }  # fmt: skip
    post_alerts(alertmanager["base"], [alert])

    incident = wait_for(
        lambda: db.session.scalars(select(Incident)).first(),
        "no draft incident appeared: see " + str(alertmanager["log"]),
    )
    assert incident.title == "Problem with Tax filing" and incident.priority == 1
    assert incident.source == "monitoring" and incident.first_public_at is None
    assert client.get(f"/incidents/{incident.ref}").status_code == 404
    login(client, alertmanager["owner"])
    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert "From monitoring (Alertmanager)" in page and "Publish as drafted" in page

    alert["endsAt"] = rfc3339(datetime.now(UTC) - timedelta(seconds=1))
    post_alerts(alertmanager["base"], [alert])
    group = wait_for(
        lambda: db.session.scalars(select(AlertGroup).where(AlertGroup.status == "resolved"))
        .first(),
        "the resolved notification never came",
    )  # fmt: skip
    assert group.incident_id == incident.id and group.notifications >= 2
    assert group.group_key == '{}/{agency="revenue"}:{agency="revenue", alertname="HighErrorRate"}'
    assert db.session.scalar(select(Incident.state).where(Incident.id == incident.id)) == "new"
    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert "Resolution suggested:" in page and "Publish the resolution as drafted" in page


def test_the_same_new_group_sent_at_once_by_several_alertmanagers_opens_one_draft(served):
    """An HA pair (or a retry racing the first try) delivers one group's notification several
    times at once: the group's row is claimed once and one draft is opened."""
    agency = make_agency("Department of Revenue", slug="revenue")
    make_service(agency, "Tax filing", slug="tax-filing", tier=1)
    make_service(agency, "Tax payments", slug="tax-payments", tier=2)
    _, key = create_key(
        agency, "Alertmanager", {"incidents"}, by=make_user(agency, Role.SERVICE_OWNER)
    )
    body = (Path(__file__).parent / "fixtures" / "alertmanager_v4_firing.json").read_bytes()
    barrier = threading.Barrier(4)
    answers: list[int] = []

    def deliver():
        request = urllib.request.Request(
            f"{served}/api/v1/alertmanager", data=body, method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        )  # fmt: skip
        barrier.wait()
        with urllib.request.urlopen(request, timeout=20) as answer:
            answers.append(answer.status)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(answers) == [200, 200, 200, 201]
    db.session.rollback()
    assert db.session.scalar(select(func.count(Incident.id))) == 1
    [group] = db.session.scalars(select(AlertGroup)).all()
    assert group.notifications == 4 and group.incident_id is not None
