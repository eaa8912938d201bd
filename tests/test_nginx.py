"""deploy/nginx-statuspage.conf, run by a real nginx on loopback: in front of the app, and alone.

Needs Debian's nginx (`python3 dev.py test` installs it with apt-get when run as root).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from statuspage.demo import load_demo_data
from statuspage.extensions import db
from statuspage.public.export import export_site
from tests.conftest import make_app
from tests.factories import make_agency, make_service

ROOT = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or next(
    (path for path in ("/usr/sbin/nginx", "/sbin/nginx") if Path(path).exists()), None
)
# No skip: `python3 dev.py test` installs nginx (or stops saying how); a missing nginx fails here.
assert NGINX is not None, "nginx is not installed: apt-get install nginx (dev.py test does it)"

MAIN = """
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 256; }}
http {{
    {mime_types}
    access_log off;
    client_body_temp_path {work}/client-body;
    proxy_temp_path {work}/proxy-temp;
    fastcgi_temp_path {work}/fastcgi-temp;
    uwsgi_temp_path {work}/uwsgi-temp;
    scgi_temp_path {work}/scgi-temp;
{site}
}}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(url: str, *, data: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


class Nginx:
    """nginx with deploy/nginx-statuspage.conf, its paths and ports made local."""

    def __init__(self, work: Path, app_port: int | list[int], export: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        ports = app_port if isinstance(app_port, list) else [app_port]
        servers = " ".join(f"server 127.0.0.1:{port};" for port in ports)
        site = (
            (ROOT / "deploy" / "nginx-statuspage.conf").read_text()
            .replace("server 127.0.0.1:5000;", servers)
            .replace("/var/cache/nginx/statuspage", str(work / "cache"))
            .replace("/srv/statuspage/export", str(export))
            .replace("/srv/statuspage/statuspage/static/", f"{ROOT / 'statuspage' / 'static'}/")
            .replace("listen 80;", f"listen 127.0.0.1:{self.port};")
        )  # fmt: skip
        mime_types = Path("/etc/nginx/mime.types")  # as Debian's nginx.conf has it
        self.config = work / "nginx.conf"
        self.config.write_text(
            MAIN.format(
                work=work,
                site=site,
                mime_types=f"include {mime_types};" if mime_types.exists() else "",
            )
        )
        self.error_log = work / "error.log"

    def check(self) -> subprocess.CompletedProcess:
        return subprocess.run(
            [NGINX, "-t", "-q", "-e", str(self.error_log), "-c", str(self.config)],
            capture_output=True,
            text=True,
        )

    def __enter__(self):
        self.process = subprocess.Popen(
            [NGINX, "-e", str(self.error_log), "-c", str(self.config), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start: {self.process.stderr.read()}")
                time.sleep(0.05)

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process.stderr.close()


@pytest.fixture
def live_app(migrated, app, pinned_now):
    """The app served by werkzeug on loopback, on the test's database."""
    make_service(make_agency("Department of Revenue", "revenue"), "Tax filing", "tax-filing")
    db.session.remove()
    port = _free_port()
    live = make_app(migrated, SITE_URL="https://status.example.gov")
    server = make_server("127.0.0.1", port, live, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.shutdown()
    with live.app_context():
        db.engine.dispose()


@pytest.fixture
def exported(migrated, app, work):
    """The demo site exported as `statuspage export-static` writes it, and the app that wrote it."""
    load_demo_data()
    db.session.remove()
    writer = make_app(migrated, SITE_URL="https://status.example.gov")
    export = work / "export"
    export_site(writer, export)
    for folder in [export, *(p for p in export.rglob("*") if p.is_dir())]:
        folder.chmod(0o755)
    yield export, writer
    with writer.app_context():
        db.engine.dispose()


def test_the_shipped_config_is_valid(work):
    nginx = Nginx(work, _free_port(), work)
    result = nginx.check()
    assert result.returncode == 0, result.stderr + nginx.error_log.read_text()


def test_tracking_parameters_share_the_cached_page(work, live_app):
    with Nginx(work, live_app, work / "export") as nginx:
        first = _request(f"{nginx.url}/?fbclid=one")
        second = _request(f"{nginx.url}/?fbclid=two&utm_source=x")
        assert first[0] == second[0] == 200
        assert first[1]["X-Cache"] == "MISS" and second[1]["X-Cache"] == "HIT"
        assert first[2] == second[2]

        one = _request(f"{nginx.url}/history?page=2&agency=revenue&utm_source=y")
        other = _request(f"{nginx.url}/history?agency=revenue&page=2&gclid=z")
        assert one[0] == other[0] == 200 and other[1]["X-Cache"] == "HIT"
        assert one[2] == other[2]
        # A parameter the page reads is a page of its own, whatever its spelling.
        assert _request(f"{nginx.url}/history?agency=revenue")[1]["X-Cache"] == "MISS"
        assert b"page 2" not in _request(f"{nginx.url}/history?PAGE=2")[2]


def test_absolute_links_keep_the_port_the_visitor_used(work, live_app):
    with Nginx(work, live_app, work / "export") as nginx:
        status, _, body = _request(f"{nginx.url}/feed.atom")
        assert status == 200
        assert f"http://127.0.0.1:{nginx.port}/".encode() in body


def test_a_feed_opened_in_a_browser_and_in_a_reader_are_cached_apart(work, live_app):
    """A browser gets the feed as application/xml (so its stylesheet applies), a feed reader as
    Atom: one never gets the other's copy from the cache. The stylesheet comes as XML."""
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    reader = {"Accept": "application/atom+xml,application/xml;q=0.9,*/*;q=0.8"}
    with Nginx(work, live_app, work / "export") as nginx:
        asked = [(browser, "application/xml"), (reader, "application/atom+xml"),
                 ({}, "application/atom+xml")]  # fmt: skip
        for _ in range(2):
            for headers, media_type in asked:
                status, answer, body = _request(f"{nginx.url}/feed.atom", headers=headers)
                assert status == 200 and answer["Content-Type"].split(";")[0] == media_type
                assert b'<?xml-stylesheet type="text/xsl" href="/static/feed.xsl"?>' in body
        assert answer["X-Cache"] == "HIT"
        status, answer, _ = _request(f"{nginx.url}/static/feed.xsl")
        assert status == 200 and answer["Content-Type"] == "application/xslt+xml"


def test_a_body_over_a_megabyte_is_refused_by_nginx(work, live_app):
    with Nginx(work, live_app, work / "export") as nginx:
        status, _, _ = _request(f"{nginx.url}/subscribe", data=b"e" * (2 * 1024 * 1024))
        assert status == 413


def test_with_the_app_down_the_export_answers_with_the_apps_types(work, exported):
    export, writer = exported
    with Nginx(work, _free_port(), export) as nginx:
        status, headers, body = _request(f"{nginx.url}/")
        assert status == 200 and body == (export / "index.html").read_bytes()
        assert headers["X-Cache"] == "EXPORT"
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert headers["Cache-Control"] == "public, max-age=30"

        files = [p for p in export.rglob("*") if p.is_file() and p.suffix != ".gz"]
        checked = set()
        for file in files:
            path = "/" + str(file.relative_to(export))
            if path.startswith("/static/"):  # nginx serves the app's own folder for these
                continue
            if file.suffix not in (".ics", ".csv", ".json", ".xml", ".rss", ".atom", ".js"):
                continue
            status, headers, body = _request(nginx.url + path)
            live = writer.test_client().get(path, base_url="https://status.example.gov")
            assert status == live.status_code == 200, path
            assert body == file.read_bytes(), path
            media_type = headers["Content-Type"].split(";")[0]
            assert media_type == live.mimetype, path
            checked.add(file.suffix)
        assert {".ics", ".csv", ".json", ".rss", ".atom"} <= checked


def test_with_the_app_down_unknown_pages_get_the_exported_404_never_stored(work, exported):
    export, _ = exported
    with Nginx(work, _free_port(), export) as nginx:
        status, headers, body = _request(f"{nginx.url}/no/such/page")
        assert status == 404 and body == (export / "404.html").read_bytes()
        assert headers["Cache-Control"] == "no-store"
        assert headers["Content-Type"] == "text/html; charset=utf-8"

        status, headers, _ = _request(f"{nginx.url}/subscribe", data=b"email=a%40example.org")
        assert status == 503
        assert headers["Cache-Control"] == "no-store" and headers["Retry-After"] == "30"
