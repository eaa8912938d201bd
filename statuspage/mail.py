"""Sending email: SMTP when configured (one connection per batch), else files in the instance
folder so the embedded default loses nothing and needs no mail server."""

from __future__ import annotations

import smtplib
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app

from . import clock

MAIL_DIRECTORY = "mail"


@dataclass(frozen=True)
class Message:
    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


def build(message: Message, sender: str) -> EmailMessage:
    """A multipart message; EmailMessage refuses header values with line breaks (injection)."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = ", ".join(message.to)
    email["Subject"] = message.subject
    email["Date"] = format_datetime(clock.now())
    email["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    for name, value in message.headers:
        email[name] = value
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    return email


class Mailer:
    """Use as a context manager around a batch: ``with Mailer() as mailer: mailer.send(m)``."""

    def __init__(self):
        config = current_app.config
        self.sender = config["MAIL_FROM"]
        self.server = config.get("MAIL_SERVER")
        self.port = config["MAIL_PORT"]
        self.use_tls = config["MAIL_USE_TLS"]
        self.username = config.get("MAIL_USERNAME")
        self.password = config.get("MAIL_PASSWORD")
        self.directory = Path(current_app.instance_path) / MAIL_DIRECTORY
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except smtplib.SMTPException:
                self._smtp.close()
            self._smtp = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(self.server, self.port, timeout=15)
            if self.use_tls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            self._smtp = smtp
        return self._smtp

    def send(self, message: Message) -> None:
        """Send one message; raises (smtplib.SMTPException, OSError) when it could not."""
        email = build(message, self.sender)
        if not self.server:
            self.directory.mkdir(parents=True, exist_ok=True)
            name = f"{clock.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
            (self.directory / name).write_bytes(bytes(email))
            return
        try:
            self._connection().send_message(email)
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            self._smtp = None  # reconnect once, then let the error through
            self._connection().send_message(email)
