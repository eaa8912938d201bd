"""The outage surge: wrk against the app, nginx serving the static export, and the nginx proxy.

    .venv/bin/python bench/http_surge.py [--seconds 15] [--workers 2] [--threads 8]

Needs Debian's nginx and wrk (apt-get install nginx wrk). Builds a throw-away instance with the demo
data and an open P1 incident, exports it, starts `statuspage serve` (Granian) on 127.0.0.1:5101,
nginx serving the export on :5102 (the ceiling) and nginx with deploy/nginx-statuspage.conf on
:5103 (the proxy), then runs wrk at 64 and 256 connections on /, /?fbclid=<random> (a new query
on every request), /api/v2/summary.json and the incident page, asking for gzip as browsers do;
--publish-every publishes an update during the runs. Last, it stops the app and checks that the proxy still answers.
Prints a Markdown table; bench/README.md quotes the last run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
APP_PORT, STATIC_PORT, PROXY_PORT = 5101, 5102, 5103
CONNECTIONS = (64, 256)

NGINX_MAIN = """
worker_processes auto;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log error;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {work}/client-body;
    proxy_temp_path {work}/proxy-temp;
    fastcgi_temp_path {work}/fastcgi-temp;
    uwsgi_temp_path {work}/uwsgi-temp;
    scgi_temp_path {work}/scgi-temp;
    server {{
        listen 127.0.0.1:{static_port};
        root {export};
        gzip_static on;
        default_type text/html;
        location / {{ try_files $uri $uri/index.html =404; }}
    }}
{proxy}
}}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--connections", type=int, nargs="+", default=list(CONNECTIONS))
    parser.add_argument("--servers", nargs="+", default=["app", "static", "proxy"],
                        choices=["app", "static", "proxy"])  # fmt: skip
    parser.add_argument("--paths", nargs="+", default=None,
                        help="Paths to ask for (default: /, /?fbclid=<random>, the summary JSON, "
                        "the incident page); INCIDENT stands for the open incident's page.")
    parser.add_argument("--publish-every", type=float, default=0,
                        help="Publish an update to the open incident every so many seconds "
                        "during the runs (each one moves the site version).")
    options = parser.parse_args()
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            sys.exit(f"{tool} is missing: apt-get install nginx wrk")

    work = Path(tempfile.mkdtemp(prefix="statuspage-surge-"))
    work.chmod(0o755)  # nginx's workers run as another user
    env = {**os.environ, "STATUSPAGE_INSTANCE_PATH": str(work / "instance")}
    subprocess.run([BIN / "statuspage", "setup", "--demo"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    ref = subprocess.run(
        [BIN / "python", "-c", OPEN_P1], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    export = work / "export"
    subprocess.run([BIN / "statuspage", "export-static", export], env=env, check=True)

    app = subprocess.Popen(
        [BIN / "statuspage", "serve", "--port", str(APP_PORT),
         "--workers", str(options.workers), "--threads", str(options.threads)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    nginx = start_nginx(work, export)
    try:
        wait_for(f"http://127.0.0.1:{APP_PORT}/")
        wait_for(f"http://127.0.0.1:{PROXY_PORT}/")
        paths = [
            path.replace("INCIDENT", f"/incidents/{ref}")
            for path in options.paths or ("/", FBCLID, "/api/v2/summary.json", "INCIDENT")
        ]
        ports = {"app": APP_PORT, "static": STATIC_PORT, "proxy": PROXY_PORT}
        publisher = Publisher(env, ref, options.publish_every) if options.publish_every else None
        rows = []
        try:
            for path in paths:
                for connections in options.connections:
                    for name in options.servers:
                        rows.append((path, connections, name, wrk(
                            ports[name], path, connections, options.seconds, work=work
                        )))  # fmt: skip
        finally:
            if publisher:
                publisher.stop()
        print_table(rows, options)
        if publisher:
            print(f"\n{publisher.count} updates published during the runs.")

        os.killpg(app.pid, signal.SIGTERM)
        app.wait(timeout=30)
        print("\nApp stopped. Through the proxy:")
        for path in ("/", "/api/v2/summary.json", f"/incidents/{ref}"):
            with urllib.request.urlopen(f"http://127.0.0.1:{PROXY_PORT}{path}") as answer:
                print(f"- {path}: {answer.status}, X-Cache {answer.headers['X-Cache']}")
            result = wrk(PROXY_PORT, path, 256, 5, warm_up=False)
            print(f"  wrk 256 connections 5 s: {result['rps']:.0f} req/s, "
                  f"errors {result['errors']}, non-2xx {result['non2xx']}")  # fmt: skip
    finally:
        if app.poll() is None:
            os.killpg(app.pid, signal.SIGTERM)
        subprocess.run(["nginx", "-c", str(work / "nginx.conf"), "-s", "stop"],
                       capture_output=True)  # fmt: skip
        nginx.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


OPEN_P1 = """
from datetime import timedelta
from statuspage import clock, create_app
from statuspage.catalog.models import Agency, Service
from statuspage.extensions import db
from statuspage.incidents.models import Impact, Source, State
from statuspage.incidents.operations import NewIncident, create_incident, publish_update
app = create_app()
with app.app_context():
    service = db.session.query(Service).filter_by(slug="benefits-application").one()
    incident = create_incident(NewIncident(
        agency=service.agency, title="Benefits applications cannot be submitted", priority=1,
        source=Source.MONITORING, detected_at=clock.now() - timedelta(minutes=20),
        affected={service: Impact.MAJOR_OUTAGE}), by=None)
    publish_update(incident, by=None, status=State.INVESTIGATING,
        body="People cannot submit benefits applications online. We are working on it.",
        next_update_at=clock.now() + timedelta(minutes=30))
    print(incident.ref)
"""


def start_nginx(work: Path, export: Path) -> subprocess.Popen:
    """nginx with the static server and deploy/nginx-statuspage.conf, its paths made local."""
    proxy = (ROOT / "deploy" / "nginx-statuspage.conf").read_text()
    proxy = (
        proxy.replace("server 127.0.0.1:5000;", f"server 127.0.0.1:{APP_PORT};")
        .replace("/var/cache/nginx/statuspage", str(work / "cache"))
        .replace("/srv/statuspage/export", str(export))
        .replace("/srv/statuspage/statuspage/static/", str(ROOT / "statuspage" / "static") + "/")
        .replace("listen 80;", f"listen 127.0.0.1:{PROXY_PORT};")
    )
    config = NGINX_MAIN.format(work=work, export=export, static_port=STATIC_PORT, proxy=proxy)
    (work / "nginx.conf").write_text(config)
    process = subprocess.Popen(["nginx", "-c", str(work / "nginx.conf"), "-g", "daemon off;"])
    wait_for(f"http://127.0.0.1:{STATIC_PORT}/")
    return process


def wait_for(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


# A link shared on social media: a new tracking parameter on every click.
FBCLID = "/?fbclid=<random>"
RANDOM_QUERY = """
request = function()
  return wrk.format(nil, "/?fbclid=" .. math.random(1, 1000000000) .. "x" .. math.random(1, 1000000000))
end
"""


class Publisher:
    """Publishes an update to the open incident every `seconds`, in a process of its own."""

    def __init__(self, env: dict, ref: str, seconds: float):
        self.process = subprocess.Popen(
            [BIN / "python", "-c", PUBLISH_EVERY, ref, str(seconds)],
            env={**env, "SCHEDULER_ENABLED": "no"},
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.count = 0

    def stop(self) -> None:
        self.process.terminate()
        output, _ = self.process.communicate(timeout=30)
        self.count = int(output.strip() or 0)


PUBLISH_EVERY = """
import signal, sys, time
from datetime import timedelta
from statuspage import clock, create_app
from statuspage.extensions import db
from statuspage.incidents.models import Incident, State
from statuspage.incidents.operations import publish_update
ref, seconds = sys.argv[1], float(sys.argv[2])

def stop(*_):
    raise KeyboardInterrupt

signal.signal(signal.SIGTERM, stop)  # SIGINT is ignored in a job started in the background
app = create_app()
count = 0
try:
    with app.app_context():
        while True:
            time.sleep(seconds)
            incident = db.session.query(Incident).filter_by(ref=ref).one()
            publish_update(incident, by=None, status=State.IDENTIFIED,
                body=f"Update {count + 1}: we have found the cause and are fixing it.",
                next_update_at=clock.now() + timedelta(minutes=30))
            db.session.remove()
            count += 1
except KeyboardInterrupt:
    pass
print(count)
"""


def wrk(port: int, path: str, connections: int, seconds: int, warm_up: bool = True,
        work: Path | None = None) -> dict:  # fmt: skip
    if warm_up:  # fill caches and start connections first; only the second run counts
        wrk(port, path, connections, 2, warm_up=False, work=work)
    script = []
    if path == FBCLID:
        lua = Path(work or tempfile.gettempdir()) / "random-query.lua"
        lua.write_text(RANDOM_QUERY)
        script, path = ["-s", str(lua)], "/"
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "2s", "--latency",
         *script, "-H", "Accept-Encoding: gzip", f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),
        "p99": _ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),
        "errors": sum(int(n) for n in errors.groups()) if errors else 0,
        "timeouts": int(errors.group(4)) if errors else 0,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def print_table(rows, options) -> None:
    print(f"\nwrk, {options.seconds} s each, Accept-Encoding: gzip; statuspage serve "
          f"(Granian) {options.workers} workers x {options.threads} threads\n")  # fmt: skip
    print("| path | conns | server | req/s | p50 ms | p99 ms | errors | timeouts | non-2xx | "
          "share of static |")  # fmt: skip
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    static = {(p, c): r["rps"] for p, c, n, r in rows if n == "static"}
    for (path, connections), rps in list(static.items()):  # nginx serves one file either way
        if path == "/":
            static.setdefault((FBCLID, connections), rps)
    for path, connections, name, r in rows:
        ceiling = static.get((path, connections))
        share = f"{r['rps'] / ceiling * 100:.0f}%" if ceiling else "-"
        print(f"| {path} | {connections} | {name} | {r['rps']:.0f} | {r['p50']:.1f} | "
              f"{r['p99']:.1f} | {r['errors']} | {r['timeouts']} | {r['non2xx']} | "
              f"{share} |")  # fmt: skip


if __name__ == "__main__":
    main()
