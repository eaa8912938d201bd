"""Loopback stand-ins of the networks the app posts to: a Mastodon server and a Bluesky PDS, each
a real HTTP server on 127.0.0.1 answering what Mastodon.py and atproto's Client call."""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from tests.conftest import SmtpSink  # noqa: F401  (the SMTP fixtures come from tests/conftest)


class StandIn:
    """A threading HTTP server on 127.0.0.1; ``answer_next`` queues error statuses to send first."""

    def __init__(self):
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.answer_next: list[int] = []
        self.posts: list[dict] = []
        self._ids = itertools.count(110_000_000_000_000_001)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handler(self):
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, status: int, body: dict | None = None):
                data = json.dumps(body if body is not None else {"error": "boom"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_GET(self):
                stand_in.requests.append(("GET", self.path))
                status, body = stand_in.get(self.path, self.headers)
                self._reply(status, body)

            def do_POST(self):
                stand_in.requests.append(("POST", self.path))
                body = self._body()
                if stand_in.answer_next:
                    self._reply(stand_in.answer_next.pop(0), {"error": "Internal server error"})
                    return
                status, answer = stand_in.post(self.path, self.headers, body)
                self._reply(status, answer)

            def log_message(self, *args):
                pass

        return Handler

    def get(self, path, headers):
        return 404, {"error": "not found"}

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class MastodonServer(StandIn):
    """POST /api/v1/statuses (and the instance description a version check would read)."""

    token = "mastodon-token-Zq81"

    def get(self, path, headers):
        if path.startswith(("/api/v1/instance", "/api/v2/instance")):
            return 200, {"uri": "127.0.0.1", "domain": "127.0.0.1", "title": "Stand-in",
                         "version": "4.3.0", "api_versions": {"mastodon": 2}}  # fmt: skip
        return 404, {"error": "not found"}

    def post(self, path, headers, body):
        if path != "/api/v1/statuses":
            return 404, {"error": "Record not found"}
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"error": "The access token is invalid"}
        if headers.get("Content-Type", "").startswith("application/json"):
            params = json.loads(body)
        else:
            params = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        status_id = str(next(self._ids))
        self.posts.append({**params, "idempotency_key": headers.get("Idempotency-Key")})
        url = f"{self.url}/@revenue/{status_id}"
        return 200, {
            "id": status_id, "uri": f"{self.url}/users/revenue/statuses/{status_id}", "url": url,
            "created_at": "2026-11-23T19:30:00.000Z", "content": f"<p>{params.get('status')}</p>",
            "visibility": params.get("visibility", "public"), "sensitive": False,
            "spoiler_text": "", "media_attachments": [], "mentions": [], "tags": [], "emojis": [],
            "reblogs_count": 0, "favourites_count": 0, "replies_count": 0,
            "account": {"id": "1", "username": "revenue", "acct": "revenue",
                        "url": f"{self.url}/@revenue", "display_name": "Revenue Agency"},
        }  # fmt: skip


def _jwt(payload: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(payload)}.c2lnbmF0dXJl"


class BlueskyServer(StandIn):
    """XRPC: com.atproto.server.createSession and com.atproto.repo.createRecord."""

    handle = "revenue.bsky.example"
    password = "abcd-efgh-ijkl-mnop"
    did = "did:plc:revenue7standin"

    def __init__(self):
        super().__init__()
        self.access = _jwt({"scope": "com.atproto.appPass", "sub": self.did,
                            "iat": int(time.time()), "exp": int(time.time()) + 7200})  # fmt: skip
        self.refresh = _jwt({"scope": "com.atproto.refresh", "sub": self.did,
                             "iat": int(time.time()), "exp": int(time.time()) + 86400})  # fmt: skip

    def post(self, path, headers, body):
        data = json.loads(body or b"{}")
        if path == "/xrpc/com.atproto.server.createSession":
            if (data.get("identifier"), data.get("password")) != (self.handle, self.password):
                return 401, {"error": "AuthenticationRequired",
                             "message": "Invalid identifier or password"}  # fmt: skip
            return 200, {"did": self.did, "handle": self.handle, "accessJwt": self.access,
                         "refreshJwt": self.refresh, "active": True}  # fmt: skip
        if path == "/xrpc/com.atproto.repo.createRecord":
            if headers.get("Authorization") != f"Bearer {self.access}":
                return 401, {"error": "AuthenticationRequired", "message": "Bad token"}
            if data.get("repo") not in (self.handle, self.did):
                return 400, {"error": "InvalidRequest", "message": "Could not find repo"}
            record_key = f"3lstandin{next(self._ids) % 100000:05d}"
            self.posts.append(data)
            return 200, {
                "uri": f"at://{self.did}/{data['collection']}/{record_key}",
                "cid": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm",
            }
        return 404, {"error": "MethodNotImplemented", "message": "Method Not Implemented"}


@pytest.fixture
def mastodon_server():
    server = MastodonServer().start()
    yield server
    server.stop()


@pytest.fixture
def bluesky_server():
    server = BlueskyServer().start()
    yield server
    server.stop()


@pytest.fixture
def app_config(smtp):
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "WEBHOOKS_ALLOW_PRIVATE": True,  # the stand-ins are on 127.0.0.1
        "SITE_URL": "https://status.example.gov",
    }
