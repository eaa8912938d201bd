"""statuspage/mail.py: the bytes on the wire, and sending with and without PIPELINING."""

import random
import smtplib
import socket

import pytest

from statuspage import mail
from statuspage.mail import Mailer, Message, build, to_bytes

SENDER = "Service Status <status@example.gov>"
MESSAGES = [
    Message(
        to=("person@example.com",),
        subject="Investigating:  Tax filing   unavailable (Department of Revenue)",
        text="Hello.\n.A line starting with a dot.\nÉtat: down\n" * 40,
        html="<p>Hello.</p>\n<p>État: down</p>\n" * 200,
        headers=(("List-Unsubscribe", "<https://status.example.gov/unsubscribe/abc>"),),
    ),
    Message(to=("a@example.com", "b@example.com"), subject="Café – résumé", text="Plain only."),
    Message(to=("a@example.com",), subject="A very long subject " * 60, text="x", html="<p>x</p>"),
]


@pytest.mark.parametrize("message", MESSAGES)
def test_the_wire_bytes_are_what_the_email_package_writes(message, monkeypatch):
    monkeypatch.setattr(mail, "make_msgid", lambda domain=None: "<1@example.gov>")
    monkeypatch.setattr(mail, "format_datetime", lambda moment: "Wed, 02 Dec 2026 09:00:00 +0000")
    random.seed(7)  # the same multipart boundary for both
    expected = build(message, SENDER).as_bytes(policy=mail.WIRE_FORMAT)
    random.seed(7)
    assert to_bytes(message, SENDER) == expected


def test_a_header_with_a_line_break_is_refused():
    with pytest.raises(ValueError, match="line break"):
        to_bytes(Message(to=("a@example.com",), subject="Hi", text="x",
                         headers=(("List-Unsubscribe", "<x>\r\nBcc: x@example.com"),)), SENDER)


@pytest.mark.parametrize("server", ["smtp", "pipelining_smtp"])
def test_each_submitted_message_gets_its_own_answer(app, server, request):
    sink = request.getfixturevalue(server)
    app.config["MAIL_PORT"] = sink.port
    if server == "pipelining_smtp":
        sink.refuse = {"b@example.com": "550 5.1.1 Mailbox unavailable"}
    else:
        sink.refuse_with = None
    with Mailer() as mailer:
        for n, address in enumerate(["a@example.com", "b@example.com", "c@example.com"]):
            mailer.submit(n, Message(to=(address,), subject=f"Message {n}", text=".\n..\nbody"))
        outcomes = mailer.results()
    assert set(outcomes) == {0, 1, 2}
    if server == "pipelining_smtp":
        assert outcomes[0] is None and outcomes[2] is None
        assert isinstance(outcomes[1], smtplib.SMTPDataError) and outcomes[1].smtp_code == 550
        assert [m["To"] for m in sink.messages] == ["a@example.com", "c@example.com"]
    else:
        assert list(outcomes.values()) == [None, None, None]
    # Lines starting with a dot were doubled on the wire and arrive as written.
    assert all(m.get_content() == ".\n..\nbody" for m in sink.messages)


def test_send_raises_what_submit_would_record(app, pipelining_smtp):
    pipelining_smtp.refuse = {"b@example.com": "451 4.7.1 Greylisted, try later"}
    with Mailer() as mailer:
        mailer.send(Message(to=("a@example.com",), subject="One", text="x"))
        with pytest.raises(smtplib.SMTPDataError, match="Greylisted"):
            mailer.send(Message(to=("b@example.com",), subject="Two", text="x"))
        mailer.send(Message(to=("c@example.com",), subject="Three", text="x"))
    assert [m["To"] for m in pipelining_smtp.messages] == ["a@example.com", "c@example.com"]


def test_a_pipelining_server_that_goes_away_costs_only_the_unanswered_message(
    app, pipelining_smtp
):
    """The connection breaks while a message's answer is unread: that message is reported
    failed (it is tried again later), the next one goes on a new connection."""
    with Mailer() as mailer:
        mailer.submit("first", Message(to=("a@example.com",), subject="One", text="x"))
        mailer._smtp.sock.shutdown(socket.SHUT_RDWR)  # the answer to "first" is lost
        mailer.submit("second", Message(to=("b@example.com",), subject="Two", text="x"))
        outcomes = mailer.results()
    assert outcomes["first"] is not None
    assert outcomes["second"] is None
    assert "b@example.com" in [m["To"] for m in pipelining_smtp.messages]
