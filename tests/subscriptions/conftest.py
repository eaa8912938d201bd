"""Real peers for delivery tests: the SMTP sink (tests/conftest.py) and a webhook receiver."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import SmtpSink


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that checks each POST's signature against ``secret``."""

    def __init__(self):
        self.received: list[dict] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, any method
        self.secret = ""
        self.answer = 204
        self.answer_headers: dict[str, str] = {}
        self.server_names: list[str | None] = []  # TLS server names (SNI) the receiver was sent

    def handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                receiver.requests.append(("GET", self.path))
                self.send_response(200)
                self.end_headers()

            def do_POST(self):
                receiver.requests.append(("POST", self.path))
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
                    "host": self.headers["Host"],
                    "path": self.path,
                    "json": json.loads(body),
                })  # fmt: skip
                self.send_response(receiver.answer)
                for name, value in receiver.answer_headers.items():
                    self.send_header(name, value)
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


class PipeliningSink(SmtpSink):
    """The SMTP sink, offering PIPELINING (RFC 2920), refusing the addresses in ``refuse``."""

    def __init__(self):
        super().__init__()
        self.refuse: dict[str, str] = {}  # address -> answer to its message's content

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_DATA(self, server, session, envelope):
        for address in envelope.rcpt_tos:
            if address in self.refuse:
                return self.refuse[address]
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def pipelining_smtp(app):
    """A second SMTP sink, which offers PIPELINING; the app is pointed at it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = PipeliningSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    sink.port = app.config["MAIL_PORT"] = port
    yield sink
    controller.stop()


@pytest.fixture
def app_config(smtp):
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "WEBHOOKS_ALLOW_PRIVATE": True,
        "SITE_URL": "https://status.example.gov",
    }
