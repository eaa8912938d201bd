"""Fixtures: one migrated database per run (SQLite, or PostgreSQL via TEST_DATABASE_URL)."""

from __future__ import annotations

import os
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from statuspage import clock, create_app
from statuspage.communications.defaults import seed
from statuspage.config import normalise_database_url
from statuspage.extensions import db
from statuspage.users import passwords

# The suite hashes thousands of passwords (every test user, every sign-in): argon2id at its
# cheapest settings here, so the suite spends its time on behaviour; the app keeps the library's
# defaults (and the CLI and servers the tests start run with them).
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
passwords._DUMMY_HASH = passwords._hasher.hash("not a real password")

# A fixed "now" for tests that pin the clock: a Monday afternoon in Eastern Standard Time.
NOW = datetime(2026, 11, 23, 19, 30, tzinfo=UTC)


def _postgres_server_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    return normalise_database_url(url) if url else None


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL, leave out the tests whose outcome cannot depend on the suite's database
    (marked same_on_any_database: they start their own servers and databases); the SQLite pass,
    the README's test command, runs them."""
    if _postgres_server_url() is None:
        return
    left = [item for item in items if item.get_closest_marker("same_on_any_database")]
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = [item for item in items if not item.get_closest_marker("same_on_any_database")]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A fresh database for this run: a SQLite file, or a new PostgreSQL database dropped after."""
    server = _postgres_server_url()
    if server is None:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        return
    name = f"statuspage_test_{uuid.uuid4().hex[:12]}"
    admin_engine = create_engine(
        make_url(server).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


def make_app(database_url: str, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "SITE_TIMEZONE": "America/New_York",
        "PAGE_CACHE_CHECK_SECONDS": 0,
        # Tests sign in as site admins and owners with a password alone; the tests of second
        # factors turn the requirement on (tests/users/test_second_factor.py).
        "REQUIRE_SECOND_FACTOR_FOR": [],
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def migrated(database_url):
    app = make_app(database_url)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()
    return database_url


@pytest.fixture
def app_config():
    """Per-test config overrides; a test module may redefine this fixture."""
    return {}


@pytest.fixture
def app(migrated, app_config):
    app = make_app(migrated, **app_config)
    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()
    clock.reset()


def _empty_tables() -> None:
    """Empty every table, then put back the reference data migrations seed."""
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
        seed(connection)


class FreshContextClient(FlaskClient):
    """Each request gets its own app context (and so its own `g` and session), as in a server."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FreshContextClient
    return app.test_client()


@pytest.fixture
def pinned_now():
    """Pin the clock at NOW for the test."""
    with clock.pinned(NOW):
        yield NOW


class SmtpSink:
    """A real SMTP server on 127.0.0.1 that keeps what it receives (aiosmtpd)."""

    def __init__(self):
        self.messages: list = []
        self.refuse_with: str | None = None  # e.g. "451 Try again later"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_with:
            return self.refuse_with
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for message in self.messages]


@pytest.fixture(scope="session")
def _smtp_controller():
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def smtp(_smtp_controller):
    """The SMTP sink, emptied for this test; configure MAIL_SERVER/MAIL_PORT from it."""
    sink = _smtp_controller.handler
    sink.messages.clear()
    sink.refuse_with = None
    sink.port = _smtp_controller.port
    return sink


@pytest.fixture
def work():
    """A folder nginx's workers can read whoever they run as (pytest's tmp_path is 0700)."""
    with tempfile.TemporaryDirectory(prefix="statuspage-nginx-") as folder:
        path = Path(folder)
        path.chmod(0o755)
        yield path
