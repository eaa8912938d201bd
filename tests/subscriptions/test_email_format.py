"""What a subscriber's mail client receives (issue 15): a plain-text part that is plain text,
subjects folded as RFC 5322 and RFC 2047 say, the agency's name as the sender, the severity and
the next update in the body, List-Id and Auto-Submitted. Read from the bytes a real SMTP server
on 127.0.0.1 received, with the email package."""

import re
import socket
from datetime import timedelta
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.utils import parseaddr

import pytest

from statuspage import clock
from statuspage.extensions import db
from statuspage.incidents.models import Impact, State
from statuspage.incidents.operations import assign, publish_update
from statuspage.maintenance.operations import save_window
from statuspage.subscriptions import outbox
from statuspage.subscriptions.models import Subscriber
from statuspage.users.models import Role
from tests.conftest import SmtpSink
from tests.factories import make_agency, make_incident, make_service, make_user

SPANISH_AGENCY = "Secretaría de Hacienda y Crédito Público"
SPANISH_TITLE = (
    "La declaración anual de impuestos en línea no está disponible para la mayoría de los "
    "contribuyentes en todo el país"
)
BODY = """## What happened

Filing is **down** for _most_ people. Read [the help page](https://example.gov/help) or write
to <help@example.gov>. This paragraph is long enough that it has to be wrapped over several lines
in the plain-text part, which a careful mail client shows as it is.

- Paper forms still work
- Call [311](tel:311)
"""


class RawSink(SmtpSink):
    """The SMTP sink, keeping the very bytes each message arrived as."""

    def __init__(self):
        super().__init__()
        self.raw: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.raw.append(envelope.content)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def raw_smtp():
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = RawSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    sink.port = port
    yield sink
    controller.stop()


@pytest.fixture
def app_config(raw_smtp):
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": raw_smtp.port,
        "MAIL_FROM": "status@example.gov",
        "SITE_URL": "https://status.example.gov",
    }


@pytest.fixture
def filing(app, pinned_now):
    revenue = make_agency("Department of Revenue", "revenue")
    db.session.add(
        Subscriber(email="ann@example.com", everything=True, confirmed_at=pinned_now,
                   created_at=pinned_now)
    )  # fmt: skip
    db.session.commit()
    return make_service(revenue, "Tax filing", "tax-filing")


def received(sink: RawSink) -> list:
    """Each message as the email package reads the bytes received."""
    return [message_from_bytes(raw, policy=policy.default) for raw in sink.raw]


def header_lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


def folded(headers: list[bytes], name: bytes) -> list[bytes]:
    """The lines of one header: its first line and the continuation lines after it."""
    start = next(i for i, line in enumerate(headers) if line.startswith(name))
    end = start + 1
    while end < len(headers) and headers[end].startswith(b" "):
        end += 1
    return headers[start:end]


def test_the_text_part_is_plain_text_with_the_severity_and_the_next_update(filing, raw_smtp):
    refunds = make_service(filing.agency, "Refund status", "refund-status")
    incident = make_incident(
        {refunds: Impact.PARTIAL_OUTAGE, filing: Impact.MAJOR_OUTAGE}, priority=1, updates=()
    )
    publish_update(incident, status=State.INVESTIGATING, body=BODY,
                   workaround="Use the **paper** form.", by=None)  # fmt: skip
    assert outbox.dispatch().sent == 1

    message = received(raw_smtp)[0]
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert not re.search(r"\*\*|^#|\]\(|\b_most_\b", text, re.MULTILINE), text
    assert "Filing is down for most people. Read the help page\n(https://example.gov/help)" in text
    assert "or write to help@example.gov. This paragraph" in text  # a source line break: a space
    assert "- Paper forms still work\n- Call 311\n" in text
    assert "What you can do meanwhile:\nUse the paper form." in text
    for line in text.splitlines():  # wrapped, except a link, which must never be broken
        assert len(line) <= 78 or " " not in line.split(": ", 1)[-1], line
    # The severity in words: status, each service's impact (worst first), the priority.
    assert (
        "Status: Investigating\n"
        "Impact: Major outage (Tax filing); Partial outage (Refund status)\n"
        "Priority: P1 Critical\n"
    ) in text
    assert "\n\nNext update by 23 Nov 2026, 3:00 PM EST.\n" in text  # site zone, abbreviated
    html = message.get_body(("html",)).get_content()
    assert "Impact: Major outage (Tax filing); Partial outage (Refund status)" in html
    assert "<strong>down</strong>" in html


def test_the_expected_fix_time_is_in_the_body(filing, raw_smtp, pinned_now):
    incident = make_incident([filing], priority=2, updates=())
    publish_update(incident, status=State.IDENTIFIED, body="We found it.",
                   expected_resolution_at=pinned_now + timedelta(hours=3), by=None)  # fmt: skip
    assert outbox.dispatch().sent == 1
    text = received(raw_smtp)[0].get_body(("plain",)).get_content()
    assert "Expected to be fixed by 23 Nov 2026, 5:30 PM EST." in text
    assert "Status: Identified" in text and "Priority: P2 High" in text


def test_the_sender_is_the_agency_by_name_with_list_id_and_auto_submitted(filing, raw_smtp):
    make_incident([filing], priority=1)
    assert outbox.dispatch().sent == 1

    raw, message = raw_smtp.raw[0], received(raw_smtp)[0]
    assert message["From"].addresses[0].display_name == "Department of Revenue"
    assert message["From"].addresses[0].addr_spec == "status@example.gov"
    assert message["List-Id"] == "<revenue.status.example.gov>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe"].startswith("<https://status.example.gov/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert b"List-Unsubscribe: <https://status.example.gov/unsubscribe/" in raw  # never encoded


def test_a_long_spanish_subject_and_sender_are_folded_and_read_back_whole(
    app, raw_smtp, pinned_now
):
    agency = make_agency(SPANISH_AGENCY, "hacienda")
    service = make_service(agency, "Declaración anual", "declaracion-anual")
    db.session.add(Subscriber(email="ana@example.mx", everything=True, confirmed_at=pinned_now,
                              created_at=pinned_now))  # fmt: skip
    db.session.commit()
    make_incident([service], priority=1, title=SPANISH_TITLE)
    assert outbox.dispatch().sent == 1

    raw = raw_smtp.raw[0]
    headers = header_lines(raw)
    assert raw.isascii()
    subject_lines, from_lines = folded(headers, b"Subject:"), folded(headers, b"From:")
    assert len(subject_lines) >= 3  # several lines, each a few encoded words
    assert max(len(line) for line in subject_lines + from_lines) <= 78, subject_lines + from_lines
    subject = f"Investigating: {SPANISH_TITLE} ({SPANISH_AGENCY})"
    message = received(raw_smtp)[0]
    assert str(message["Subject"]) == subject  # the email package reads it back whole
    assert str(make_header(decode_header(message.get("Subject")))) == subject
    name, address = parseaddr(str(message["From"]))
    assert (name, address) == (SPANISH_AGENCY, "status@example.gov")


def test_a_shared_platform_incident_and_a_confirmation_come_from_the_site(
    client, app, raw_smtp, pinned_now
):
    client.post("/subscribe", data={"email": "new@example.com", "everything": "y"})
    assert outbox.dispatch().sent == 1
    message = received(raw_smtp)[0]
    assert message["From"].addresses[0].display_name == "Government Service Status"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Id"] is None  # not list mail: a personal answer


def test_maintenance_mail_names_the_agency_and_its_times_in_the_site_zone(
    filing, raw_smtp, pinned_now
):
    save_window(None, title="Database upgrade", description="Filing will be **off**.",
                starts_at=pinned_now + timedelta(hours=2), ends_at=pinned_now + timedelta(hours=4),
                services=[filing], by=None)  # fmt: skip
    assert outbox.dispatch().sent == 1
    message = received(raw_smtp)[0]
    text = message.get_body(("plain",)).get_content()
    assert message["From"].addresses[0].display_name == "Department of Revenue"
    assert message["List-Id"] == "<revenue.status.example.gov>"
    assert "Filing will be off." in text and "**" not in text
    assert "From 23 Nov 2026, 4:30 PM EST to 23 Nov 2026, 6:30 PM EST" in text
    assert "Status: Scheduled" in text


def test_staff_mail_is_marked_auto_submitted(app, raw_smtp, pinned_now):
    agency = make_agency("Department of Revenue", "revenue")
    lead = make_user(agency, Role.COMMUNICATIONS_LEAD, email="lead@revenue.gov")
    manager = make_user(agency, Role.SERVICE_MANAGER, email="manager@revenue.gov")
    incident = make_incident([make_service(agency)], priority=2, by=lead)
    assign(incident, manager, by=lead)
    with clock.pinned(pinned_now):
        assert outbox.dispatch().sent == 1
    message = received(raw_smtp)[0]
    assert message["To"] == "manager@revenue.gov"
    assert message["Auto-Submitted"] == "auto-generated"
