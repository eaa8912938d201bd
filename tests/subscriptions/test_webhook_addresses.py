"""Webhook addresses: only global ones, resolved once and connected to that very address.

The resolver is replaced (statuspage.subscriptions.webhooks.resolver) to play a name's DNS; the
connections are real, to HTTP(S) servers on 127.0.0.1 that record whatever reaches them."""

import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
from datetime import timedelta
from http.server import ThreadingHTTPServer

import pytest
from flask import url_for
from sqlalchemy import func, select

from statuspage import clock
from statuspage.extensions import db
from statuspage.incidents.models import State
from statuspage.incidents.operations import publish_update
from statuspage.subscriptions import outbox, webhooks
from statuspage.subscriptions.models import Notification, Webhook
from statuspage.subscriptions.operations import SubscriptionError, add_webhook
from tests.factories import login, make_agency, make_incident, make_service, make_user
from tests.subscriptions.conftest import WebhookReceiver

PUBLIC = "93.184.215.14"  # a global address; nothing ever connects to it in these tests

REFUSED = [
    # (what the name resolves to, an IPv4 address it carries)
    ("100.100.100.200", None),  # shared address space: a cloud metadata service
    ("192.0.0.192", None),  # IETF protocol assignments: another metadata address
    ("2002:7f00:1::1", "127.0.0.1"),  # 6to4 wrapping loopback
    ("::ffff:127.0.0.1", "127.0.0.1"),  # IPv4-mapped loopback
    ("169.254.169.254", None),  # link-local: the usual metadata address
    ("10.0.0.8", None),
    ("127.0.0.1", None),
    ("fc00::1", None),  # unique local
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "10.0.0.1"),  # Teredo wrapping a private client
]


class FakeDns:
    """A resolver with getaddrinfo's shape, answering each call with the next list of addresses
    (the last list again once they run out), and counting the calls."""

    def __init__(self, *answers: list[str]):
        self.answers = list(answers)
        self.calls: list[str] = []

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        self.calls.append(host)
        addresses = self.answers[min(len(self.calls), len(self.answers)) - 1]
        infos = []
        for address in addresses:
            if ipaddress.ip_address(address).version == 4:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
            else:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
        return infos


@pytest.fixture
def dns(monkeypatch):
    def install(*answers: list[str]) -> FakeDns:
        fake = FakeDns(*answers)
        monkeypatch.setattr(webhooks, "resolver", fake)
        return fake

    return install


@pytest.fixture
def public_only(app):
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False
    return app


@pytest.fixture
def filing(app):
    return make_service(make_agency("Department of Revenue", "revenue"), "Tax filing", "tax-filing")


def publish(service) -> None:
    incident = make_incident([service], priority=1, updates=())
    publish_update(incident, status=State.INVESTIGATING, body="Down.", by=None)


def only_row() -> Notification:
    return db.session.scalars(select(Notification)).one()


def port_of(receiver) -> int:
    return int(receiver.url.rsplit(":", 1)[1].split("/")[0])


@pytest.mark.parametrize(("address", "carried"), REFUSED)
def test_a_name_resolving_to_a_non_global_address_is_refused_naming_it(
    public_only, dns, address, carried
):
    dns([address])
    with pytest.raises(SubscriptionError) as refused:
        add_webhook("Partner", "https://partner.example/hooks", None)
    message = refused.value.message
    assert f"partner.example resolves to {ipaddress.ip_address(address)}" in message
    assert "not a public internet address" in message
    if carried:
        assert f"carries {carried}" in message
    assert refused.value.field == "url"
    assert db.session.scalar(select(func.count()).select_from(Webhook)) == 0


@pytest.mark.parametrize(("address", "carried"), REFUSED)
def test_a_non_global_address_written_in_the_url_is_refused_naming_it(
    public_only, dns, address, carried
):
    lookups = dns([PUBLIC])
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(SubscriptionError) as refused:
        add_webhook("Partner", f"http://{host}:8080/hook", None)
    assert refused.value.message.startswith(f"{address} ")
    assert "not a public internet address" in refused.value.message
    assert lookups.calls == []  # an address needs no lookup


def test_one_non_global_address_among_public_ones_is_enough_to_refuse(public_only, dns):
    dns([PUBLIC, "2606:4700::1111", "100.100.100.200"])
    with pytest.raises(SubscriptionError, match="resolves to 100.100.100.200"):
        add_webhook("Partner", "https://partner.example/hooks", None)


@pytest.mark.parametrize("address", [PUBLIC, "2606:4700::1111", "2002:101:101::1"])
def test_a_name_resolving_to_global_addresses_is_accepted(public_only, dns, address):
    dns([address])
    assert add_webhook("Partner", "https://partner.example/hooks", None).id


def test_the_admin_is_told_which_address_the_name_resolved_to(client, public_only, dns):
    dns(["100.100.100.200"])
    login(client, make_user(site_admin=True))
    with public_only.test_request_context():
        path = url_for("admin.webhooks")
    url = "https://metadata.partner.example/hooks"
    response = client.post(path, data={"name": "Partner", "url": url, "agency": ""})
    assert response.status_code == 400
    assert "metadata.partner.example resolves to 100.100.100.200" in response.text
    assert f'value="{url}"' in response.text


def test_a_name_rebound_to_loopback_after_it_was_added_never_reaches_loopback(
    public_only, dns, filing, webhook_receiver
):
    lookups = dns([PUBLIC], ["127.0.0.1"])  # public when added, loopback ever after
    add_webhook("Partner", f"http://partner.example:{port_of(webhook_receiver)}/hooks/status", None)
    publish(filing)
    run = outbox.dispatch()
    assert (run.sent, run.failed) == (0, 1)  # refused at send, not retried
    assert webhook_receiver.requests == []  # nothing reached the server on 127.0.0.1
    row = only_row()
    assert row.status == "failed" and "partner.example resolves to 127.0.0.1" in row.last_error
    assert lookups.calls == ["partner.example", "partner.example"]  # once added, once sent


def test_a_send_resolves_once_and_connects_to_that_address_keeping_the_host(
    app, dns, filing, webhook_receiver
):
    # Allowed private (tests only), so the first answer can be the receiver on 127.0.0.1; any
    # second lookup would get 127.0.0.2, where nothing listens, and the send would fail.
    lookups = dns(["127.0.0.1"], ["127.0.0.2"])
    port = port_of(webhook_receiver)
    webhook = add_webhook("Partner", f"http://partner.example:{port}/hooks/status?v=1", None)
    webhook_receiver.secret = webhook.secret
    publish(filing)
    assert outbox.dispatch().sent == 1
    (post,) = webhook_receiver.received
    assert post["host"] == f"partner.example:{port}"
    assert post["path"] == "/hooks/status?v=1"
    assert post["valid"] and abs(post["timestamp"] - clock.now().timestamp()) < 60
    assert post["json"]["type"] == "incident.update"
    assert lookups.calls == ["partner.example"]


def test_a_redirect_is_a_failure_with_its_status_and_its_location_is_not_requested(
    app, dns, filing, webhook_receiver
):
    dns(["127.0.0.1"])
    port = port_of(webhook_receiver)
    webhook = add_webhook("Partner", f"http://partner.example:{port}/hooks/status", None)
    webhook_receiver.secret = webhook.secret
    webhook_receiver.answer = 302
    webhook_receiver.answer_headers = {"Location": f"http://127.0.0.1:{port}/elsewhere"}
    publish(filing)
    assert outbox.dispatch().retried == 1  # retried per the outbox rules, like any failure
    row = only_row()
    assert row.status == "pending" and row.attempts == 1
    assert "HTTP 302" in row.last_error and "not followed" in row.last_error
    assert webhook_receiver.requests == [("POST", "/hooks/status")]
    assert outbox.dispatch(clock.now() + timedelta(minutes=1)).retried == 1
    assert webhook_receiver.requests == [("POST", "/hooks/status")] * 2


# --- https, with a throwaway certificate for partner.example -----------------------------------


@pytest.fixture(scope="module")
def partner_certificate(tmp_path_factory):
    """A self-signed certificate for partner.example (made by the openssl command: the
    cryptography package is not a dependency)."""
    openssl = shutil.which("openssl")
    # No skip: Debian's openssl is on every machine this runs on; without it, say what to install.
    assert openssl, "the openssl command makes the throwaway certificate: apt-get install openssl"
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=partner.example", "-keyout", key, "-out", cert,
         "-addext", "subjectAltName=DNS:partner.example",
         "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_receiver(partner_certificate, monkeypatch):
    """The webhook receiver behind TLS on 127.0.0.1, recording the server name each client
    asked for; the sender trusts its certificate (and only it)."""
    cert, key = partner_certificate
    receiver = WebhookReceiver()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server_context.sni_callback = lambda _sock, name, _ctx: receiver.server_names.append(name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver.handler())
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    receiver.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def trusting_only_the_partner():
        context = ssl.create_default_context(cafile=str(cert))
        return context

    monkeypatch.setattr(webhooks, "tls_context", trusting_only_the_partner)
    yield receiver
    server.shutdown()
    server.server_close()


def test_https_goes_to_the_resolved_address_with_the_name_for_sni_and_the_certificate(
    app, dns, filing, tls_receiver
):
    dns(["127.0.0.1"], ["127.0.0.2"])
    url = f"https://partner.example:{tls_receiver.port}/hooks/status"
    tls_receiver.secret = add_webhook("Partner", url, None).secret
    publish(filing)
    assert outbox.dispatch().sent == 1
    (post,) = tls_receiver.received
    assert tls_receiver.server_names == ["partner.example"]
    assert post["host"] == f"partner.example:{tls_receiver.port}" and post["valid"]


def test_https_to_a_name_the_certificate_does_not_cover_is_refused_before_any_request(
    app, dns, filing, tls_receiver
):
    dns(["127.0.0.1"])  # the same server, whose certificate names partner.example only
    add_webhook("Partner", f"https://other.example:{tls_receiver.port}/hooks/status", None)
    publish(filing)
    assert outbox.dispatch().retried == 1
    assert "certificate" in only_row().last_error.lower()
    assert tls_receiver.server_names == ["other.example"]
    assert tls_receiver.requests == []
