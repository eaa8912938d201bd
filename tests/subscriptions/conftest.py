"""Real peers for delivery tests: the SMTP sink (tests/conftest.py) and a webhook receiver."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that checks each POST's signature against ``secret``."""

    def __init__(self):
        self.received: list[dict] = []
        self.secret = ""
        self.answer = 204

    def handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                timestamp = self.headers["X-Statuspage-Timestamp"]
                expected = hmac.new(
                    receiver.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
                ).hexdigest()
                receiver.received.append({
                    "valid": hmac.compare_digest(
                        self.headers["X-Statuspage-Signature"], f"sha256={expected}"
                    ),
                    "timestamp": int(timestamp),
                    "content_type": self.headers["Content-Type"],
                    "json": json.loads(body),
                })  # fmt: skip
                self.send_response(receiver.answer)
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_port}/hooks/status"
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def app_config(smtp):
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "WEBHOOKS_ALLOW_PRIVATE": True,
        "SITE_URL": "https://status.example.gov",
    }
