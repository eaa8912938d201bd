"""Sending email: SMTP when configured (one connection per batch), else files in the instance
folder so the embedded default loses nothing and needs no mail server."""

from __future__ import annotations

import base64
import random
import re
import smtplib
import sys
import uuid
from dataclasses import dataclass
from email import policy as email_policy
from email.header import Header
from email.headerregistry import Address
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import format_datetime, make_msgid, parseaddr
from functools import lru_cache
from pathlib import Path

from flask import current_app

from . import clock

MAIL_DIRECTORY = "mail"
# Headers written by people (a title, an agency's name) are folded as RFC 5322 and RFC 2047 say:
# lines of at most 78 characters, non-ASCII text as several encoded words. Other headers (links,
# addresses, dates) are ASCII written as they are: folding a long List-Unsubscribe link would
# turn it into encoded words that mail clients cannot follow.
FOLDED_HEADERS = {"From", "Subject"}
HEADER_FORMAT = email_policy.SMTP  # CRLF line ends, 78 characters a line


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message, e.g. a meeting invitation (``invite.ics``, ``text/calendar``
    with ``method=REQUEST``)."""

    filename: str
    content_type: str  # "text/calendar"
    data: str
    parameters: tuple[tuple[str, str], ...] = ()  # extra Content-Type parameters


@dataclass(frozen=True)
class Message:
    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    sender_name: str | None = None  # the From display name (the address is MAIL_FROM)
    attachments: tuple[Attachment, ...] = ()


def _header(value: str) -> str:
    """A header value; line breaks are refused (header injection)."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"line break in an email header: {value!r}")
    return value


def sender(address: str, name: str | None) -> str:
    """The From header: "Department of Revenue <status@example.gov>", the name quoted where it
    needs it (a comma, a quote); ``address`` may carry a name of its own, which ``name`` replaces."""
    configured_name, addr_spec = parseaddr(address)
    name = " ".join((name or configured_name).split())
    return str(Address(display_name=name, addr_spec=addr_spec)) if name else addr_spec


def _headers(message: Message, sender: str) -> list[tuple[str, str]]:
    domain = parseaddr(sender)[1].rpartition("@")[2]
    return [
        ("From", sender),
        ("To", ", ".join(message.to)),
        ("Subject", " ".join(message.subject.split())),
        ("Date", format_datetime(clock.now())),
        ("Message-ID", make_msgid(domain=domain or None)),
        *message.headers,
    ]


def _attachment(attachment: Attachment) -> MIMEText:
    maintype, subtype = attachment.content_type.split("/", 1)
    if maintype != "text":
        raise ValueError(f"only text attachments are sent: {attachment.content_type}")
    part = MIMEText(attachment.data, subtype, "utf-8")
    for name, value in attachment.parameters:
        part.set_param(name, value)
    part.add_header("Content-Disposition", "attachment", filename=attachment.filename)
    return part


def build(message: Message, sender: str) -> MIMEMultipart | MIMEText:
    """A plain-text message, or multipart/alternative with HTML, as email objects (to_bytes
    writes the same message without them); with attachments, multipart/mixed around both."""
    text = MIMEText(message.text, "plain", "utf-8")
    if message.html:
        email = MIMEMultipart("alternative")
        email.attach(text)
        email.attach(MIMEText(message.html, "html", "utf-8"))
    else:
        email = text
    if message.attachments:
        body, email = email, MIMEMultipart("mixed")
        email.attach(body)
        for attachment in message.attachments:
            email.attach(_attachment(attachment))
    for name, value in _headers(message, sender):
        email[name] = _header(value)
    return email


def _header_line(name: str, value: str) -> bytes:
    value = _header(value)
    length = len(name) + len(value) + 2
    if value.isascii() and (length <= HEADER_FORMAT.max_line_length or name not in FOLDED_HEADERS):
        if length > 998:
            raise ValueError(f"an email header longer than 998 characters: {name}")
        return f"{name}: {value}\r\n".encode()
    return _folded(name, value)


@lru_cache(maxsize=256)
def _folded(name: str, value: str) -> bytes:
    """A header folded into lines of at most 78 characters (remembered: one subject goes to
    many subscribers). Text is folded at spaces, or as encoded words when not ASCII; the
    email package's own folder starts long text on a line of its own, which readers then take
    as a leading space. An address header is folded by the email package (an address parser
    ignores that space; it would split a long name's encoded word in two)."""
    limit = HEADER_FORMAT.max_line_length
    if name == "From":
        return HEADER_FORMAT.fold_binary(name, HEADER_FORMAT.header_store_parse(name, value)[1])
    if not value.isascii():
        encoded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n", maxlinelen=limit)
        return f"{name}: {encoded}\r\n".encode()
    lines = [f"{name}:"]
    for word in value.split(" "):
        if len(lines[-1]) + 1 + len(word) > limit and lines[-1] != f"{name}:":
            lines.append("")
        lines[-1] += " " + word
    return "\r\n".join(lines).encode() + b"\r\n"


class _WireFormat(Compat32):
    """The email package's generator, with headers written as _header_line writes them."""

    def fold_binary(self, name, value):
        if isinstance(value, str):
            return _header_line(name, value)
        return super().fold_binary(name, value)


# SMTP wants CRLF line ends; smtplib does not convert bytes for us.
WIRE_FORMAT = _WireFormat(linesep="\r\n", max_line_length=998)


def _part(subtype: str, body: str) -> bytes:
    encoded = base64.encodebytes(body.encode()).replace(b"\n", b"\r\n")
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode() + encoded


def to_bytes(message: Message, sender: str) -> bytes:
    """The message on the wire: the bytes build(...).as_bytes(policy=WIRE_FORMAT) gives (base64
    parts, the same headers in the same order), written directly. The email package's generator
    and header folding took more CPU than everything else in sending 100,000 messages. The rare
    message with an attachment (a meeting invitation) goes through the email package."""
    if message.attachments:
        return build(message, sender).as_bytes(policy=WIRE_FORMAT)
    headers = b"".join(_header_line(name, value) for name, value in _headers(message, sender))
    if not message.html:
        text = _part("plain", message.text)
        split = text.index(b"\r\n\r\n") + 2
        return text[:split] + headers + text[split:]
    boundary = "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="
    delimiter = f"\r\n--{boundary}\r\n".encode()
    return b"".join((
        f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'
        "MIME-Version: 1.0\r\n".encode(),
        headers,
        b"\r\n--", boundary.encode(), b"\r\n",
        _part("plain", message.text),
        delimiter,
        _part("html", message.html),
        f"\r\n--{boundary}--\r\n".encode(),
    ))  # fmt: skip


class Mailer:
    """Use as a context manager around a batch of messages, on one SMTP connection.

    ``send(message)`` sends one and raises when it could not. ``submit(key, message)`` sends one
    whose outcome is collected later: ``results()`` answers {key: None (accepted) or the error}
    for everything submitted since the last call. When the server offers PIPELINING (RFC 2920)
    submit writes a message's MAIL, RCPT and DATA without waiting, reads the previous message's
    final answer along with theirs, then writes the content: one round trip a message instead of
    four. Each message is still written in full before submit returns."""

    def __init__(self):
        config = current_app.config
        self.sender = config["MAIL_FROM"]
        # The display name when a message names none: MAIL_FROM's own, else the site's.
        self.sender_name = parseaddr(self.sender)[0] or config["SITE_NAME"]
        self.server = config.get("MAIL_SERVER")
        self.port = config["MAIL_PORT"]
        self.use_tls = config["MAIL_USE_TLS"]
        self.username = config.get("MAIL_USERNAME")
        self.password = config.get("MAIL_PASSWORD")
        self.directory = Path(current_app.instance_path) / MAIL_DIRECTORY
        self._smtp: smtplib.SMTP | None = None
        self._outcomes: dict = {}
        self._mail_from: str | None = None
        self._unanswered = _NOTHING  # the key of a message written whose answer is not read yet

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc) -> None:
        if self._smtp is not None:
            try:
                self._answer_unanswered(self._smtp)
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(self.server, self.port, timeout=15)
            if self.use_tls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.ehlo_or_helo_if_needed()  # so has_extn tells what the server offers
            self._smtp = smtp
        return self._smtp

    def send(self, message: Message) -> None:
        """Send one message; raises (smtplib.SMTPException, OSError) when it could not."""
        key = object()
        self.submit(key, message)
        self._settle()
        error = self._outcomes.pop(key)
        if error is not None:
            raise error

    def submit(self, key, message: Message) -> None:
        """Send a message; its outcome is in the next results(), under ``key``."""
        try:
            data = to_bytes(message, sender(self.sender, message.sender_name or self.sender_name))
            if not self.server:
                self.directory.mkdir(parents=True, exist_ok=True)
                name = f"{clock.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
                (self.directory / name).write_bytes(data)
            elif self._connection().has_extn("pipelining"):
                self._pipelined(key, message.to, data)
                return
            else:
                self._sendmail(message.to, data)
        except Exception as error:  # the outcome of this message, whatever it was
            self._outcomes[key] = error
        else:
            self._outcomes[key] = None

    def results(self) -> dict:
        self._settle()
        outcomes, self._outcomes = self._outcomes, {}
        return outcomes

    def _settle(self) -> None:
        """Wait for the answer to the last message written, if there is one."""
        if self._smtp is not None and self._unanswered is not _NOTHING:
            try:
                self._answer_unanswered(self._smtp)
            except (smtplib.SMTPException, OSError) as error:
                self._lost(error)

    def _sendmail(self, to: tuple[str, ...], data: bytes) -> None:
        try:
            self._connection().sendmail(self.sender, list(to), data)
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            self._smtp = None  # reconnect once, then let the error through
            self._connection().sendmail(self.sender, list(to), data)

    def _pipelined(self, key, to: tuple[str, ...], data: bytes) -> None:
        options = f" size={len(data)}" if self._smtp.has_extn("size") else ""
        if self._mail_from is None:
            self._mail_from = smtplib.quoteaddr(self.sender)
        commands = (
            f"MAIL FROM:{self._mail_from}{options}\r\n"
            + "".join(f"RCPT TO:{smtplib.quoteaddr(address)}\r\n" for address in to)
            + "DATA\r\n"
        ).encode("ascii")  # a non-ASCII address fails here, before anything is written
        content = _DOTS.sub(b"..", data) + b".\r\n"
        for attempt in (1, 2):
            smtp = self._connection()
            try:
                smtp.send(commands)
                self._answer_unanswered(smtp)
                code, answer = smtp.getreply()
                refused = {}
                for address in to:
                    rcpt_code, rcpt_answer = smtp.getreply()
                    if rcpt_code not in (250, 251):
                        refused[address] = (rcpt_code, rcpt_answer)
                data_code, data_answer = smtp.getreply()
                if data_code == 354:
                    smtp.send(content)
                    if code == 250 and len(refused) < len(to):
                        self._unanswered = key  # accepted or not: read with the next one
                        return
                    smtp.getreply()  # a server that said 354 with no recipient: end it
                smtp.rset()
                if code != 250:
                    raise smtplib.SMTPSenderRefused(code, answer, self.sender)
                if len(refused) == len(to):
                    raise smtplib.SMTPRecipientsRefused(refused)
                raise smtplib.SMTPDataError(data_code, data_answer)
            except (smtplib.SMTPServerDisconnected, ConnectionError) as error:
                # The message in flight before this one may or may not have gone (its error is
                # recorded, so it is tried again later); this one was not accepted.
                self._lost(error)
                if attempt == 2:
                    raise  # reconnected once, then let the error through

    def _answer_unanswered(self, smtp: smtplib.SMTP) -> None:
        """Read the final answer to the message whose content went last."""
        if self._unanswered is _NOTHING:
            return
        key = self._unanswered
        code, answer = smtp.getreply()  # when this raises, _lost records the error under key
        self._unanswered = _NOTHING
        self._outcomes[key] = None if code == 250 else smtplib.SMTPDataError(code, answer)

    def _lost(self, error: Exception) -> None:
        """The connection broke: a message awaiting its answer may or may not have gone."""
        if self._unanswered is not _NOTHING:
            self._outcomes[self._unanswered] = error
            self._unanswered = _NOTHING
        if self._smtp is not None:
            self._smtp.close()
        self._smtp = None


_NOTHING = object()
_DOTS = re.compile(rb"(?m)^\.")  # a line starting with a dot gets another (RFC 5321 4.5.2)
