"""The static fallback: the export served by a plain static server answers as the live app does."""

from __future__ import annotations

import gzip
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from statuspage import jobs
from statuspage.demo import load_demo_data
from statuspage.extensions import db
from statuspage.incidents.models import Incident, State
from statuspage.incidents.operations import hide_from_public, publish_update
from statuspage.public.export import export_site, file_for
from tests.conftest import make_app
from tests.factories import make_agency, make_incident, make_service


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


@pytest.fixture
def live_app(migrated, app):
    """A second app on the same database, served by werkzeug, with a cache of its own."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    live = make_app(migrated, SITE_URL=url)
    server = make_server("127.0.0.1", port, live, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield live, url
    server.shutdown()
    with live.app_context():
        db.engine.dispose()


@pytest.fixture
def static_server(tmp_path):
    """`python -m http.server` over an export folder: the plainest static server there is."""
    folder = tmp_path / "export"
    folder.mkdir()
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield folder, url
    process.terminate()
    process.wait(timeout=10)


def test_the_export_served_statically_matches_the_live_site(app, live_app, static_server):
    with app.app_context():
        load_demo_data()
        db.session.remove()
    live, live_url = live_app
    folder, static_url = static_server
    # Written by the live app's twin, with the live site's address in its absolute links.
    result = export_site(live, folder)
    assert result.written > 50

    exported = [
        path
        for path in folder.rglob("*")
        if path.is_file() and not path.name.startswith(".") and path.suffix != ".gz"
    ]
    pages = ["/" + str(p.relative_to(folder)).removesuffix("index.html") for p in exported]
    pages = [
        p.rstrip("/") or "/" for p in pages if not p.startswith("/static/") and p != "/404.html"
    ]
    for expected in ("/", "/history", "/maintenance", "/api/v2/summary.json", "/feed.atom",
                     "/maintenance.ics", "/agencies/revenue", "/services/income-tax-filing",
                     "/embed/revenue.js"):  # fmt: skip
        assert expected in pages
    assert any(p.startswith("/incidents/INC-") for p in pages)

    for page in pages:
        live_status, _, live_body = _get(live_url + page)
        static_status, content_type, static_body = _get(static_url + page)
        assert live_status == static_status == 200, page
        assert static_body == live_body, f"{page} differs from the live site"
        if page.endswith(".json"):
            assert content_type == "application/json"
    # The stylesheet and the script come along; an unknown page gets the site's own 404 page.
    assert _get(static_url + "/static/site.css")[2] == _get(live_url + "/static/site.css")[2]
    assert "Page not found" in (folder / "404.html").read_text()
    # A gzip twin beside each text file, for servers that send those as they are.
    index = (folder / "index.html").read_bytes()
    assert gzip.decompress((folder / "index.html.gz").read_bytes()) == index


def test_pages_no_longer_public_leave_the_export(app, tmp_path, pinned_now):
    service = make_service(make_agency("Department of Revenue", "revenue"), "Tax filing", "tax")
    incident = make_incident([service], priority=3, made_public=True)
    assert incident.first_public_at is not None
    folder = tmp_path / "export"
    export_site(app, folder)
    page = folder / file_for(f"/incidents/{incident.ref}")
    assert page.exists()

    with app.app_context():
        hide_from_public(db.session.get(Incident, incident.id), reason="Reported by one person")
    result = export_site(app, folder)
    assert not page.exists() and not page.with_name("index.html.gz").exists()
    assert result.removed >= 2


def test_the_refresh_job_writes_only_after_a_change(app, tmp_path, pinned_now):
    service = make_service(make_agency("Department of Revenue", "revenue"), "Tax filing", "tax")
    folder = tmp_path / "export"
    app.config["STATIC_EXPORT_DIR"] = str(folder)
    with app.app_context():
        assert jobs.run_static_export().written > 10
        assert jobs.run_static_export().skipped

    incident = make_incident([service], priority=1, title="Filing is down")
    with app.app_context():
        first = jobs.run_static_export()
        assert not first.skipped
        assert "Filing is down" in (folder / "index.html").read_text()
        publish_update(
            db.session.get(Incident, incident.id), by=None, status=State.RESOLVED, body="Fixed."
        )
        assert jobs.run_static_export().version > first.version
        assert "Filing is down" not in (folder / "index.html").read_text()


def test_without_a_folder_the_refresh_job_does_nothing(app):
    with app.app_context():
        assert jobs.run_static_export() is None


def test_the_command_reports_what_it_wrote(app, tmp_path):
    make_service(make_agency("Department of Revenue", "revenue"), "Tax filing", "tax")
    result = app.test_cli_runner().invoke(args=["export-static", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output and (tmp_path / "site" / "index.html").exists()
    assert Path(tmp_path / "site" / "api" / "v2" / "summary.json").exists()
