"""A stand-in of Twilio's REST API on 127.0.0.1, reached through the real twilio client."""

from __future__ import annotations

import base64
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "stand-in-auth-token"
FROM_NUMBER = "+12025550100"
SITE_URL = "https://status.example.gov"


class TwilioStandIn:
    """Records each POST to /2010-04-01/Accounts/<sid>/Messages.json; ``fail_next`` answers the
    next N with a 500, ``refuse`` answers every one with a Twilio error (code, status)."""

    def __init__(self):
        self.messages: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.fail_next = 0
        self.refuse: tuple[int, int] | None = None
        self.lock = threading.Lock()

    def to(self, number: str) -> list[str]:
        return [m["Body"] for m in self.messages if m["To"] == number]

    def handler(self):
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                stand_in.requests.append(("POST", self.path))
                expected = (
                    "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
                )
                if self.path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
                    return self.answer(404, {"code": 20404, "message": "Not found", "status": 404})
                if self.headers.get("Authorization") != expected:
                    return self.answer(
                        401, {"code": 20003, "message": "Authenticate", "status": 401}
                    )
                form = {key: values[0] for key, values in parse_qs(body).items()}
                with stand_in.lock:
                    if stand_in.fail_next > 0:
                        stand_in.fail_next -= 1
                        return self.answer(
                            500, {"code": 20500, "message": "Internal Server Error", "status": 500}
                        )
                    if stand_in.refuse:
                        code, status = stand_in.refuse
                        return self.answer(
                            status, {"code": code, "message": f"Refused ({code})", "status": status}
                        )
                    stand_in.messages.append(form)
                sid = "SM" + secrets.token_hex(16)
                self.answer(201, {
                    "sid": sid, "account_sid": ACCOUNT_SID, "to": form.get("To"),
                    "from": form.get("From"), "body": form.get("Body"), "status": "queued",
                    "num_segments": "1", "direction": "outbound-api",
                    "date_created": "Mon, 23 Nov 2026 19:30:00 +0000",
                    "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
                })  # fmt: skip

            def answer(self, status: int, payload: dict):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def twilio():
    stand_in = TwilioStandIn()
    server = ThreadingHTTPServer(("127.0.0.1", 0), stand_in.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stand_in.url = f"http://127.0.0.1:{server.server_port}"
    yield stand_in
    server.shutdown()
    server.server_close()


@pytest.fixture
def app_config(smtp, twilio):
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "SITE_URL": SITE_URL,
        "SMS_PROVIDER": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": twilio.url,
    }
