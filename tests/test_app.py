"""Start-up rules and failures people may meet: no secret, no migration, no database."""

import subprocess
import sys

import pytest
from flask_migrate import downgrade

from statuspage import MissingSecretKey, create_app
from statuspage.schema import SchemaNotCurrent
from tests.conftest import make_app


def test_the_app_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.setenv("STATUSPAGE_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(MissingSecretKey, match="statuspage setup"):
        create_app()


def test_the_app_refuses_an_unmigrated_database_and_names_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("STATUSPAGE_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite'}")
    with pytest.raises(SchemaNotCurrent, match="Run `statuspage db upgrade`"):
        create_app()


def test_the_wsgi_entry_point_exits_with_the_message(tmp_path):
    env = {
        "STATUSPAGE_INSTANCE_PATH": str(tmp_path),
        "SECRET_KEY": "x" * 32,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite'}",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import statuspage.wsgi"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "statuspage cannot start" in result.stderr and "statuspage db upgrade" in result.stderr


def test_a_database_that_is_gone_is_a_503_page_not_a_traceback(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'missing-dir' / 'gone.sqlite'}")
    with app.app_context():
        response = app.test_client().get("/")
    assert response.status_code == 503
    assert "temporarily unavailable" in response.text
    assert "Traceback" not in response.text and "sqlite" not in response.text.lower()
    assert response.headers["Retry-After"] == "30"


def test_an_unreachable_postgresql_server_is_a_503_page():
    # Port 9 (discard) has no PostgreSQL server listening on this machine.
    app = make_app("postgresql+psycopg://postgres@127.0.0.1:9/none?connect_timeout=2")
    with app.app_context():
        response = app.test_client().get("/history")
    assert response.status_code == 503


def test_a_locked_sqlite_database_is_a_503_page(tmp_path):
    import sqlite3

    from flask_migrate import upgrade

    path = tmp_path / "locked.sqlite"
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        from statuspage.extensions import db

        db.engine.dispose()
    holder = sqlite3.connect(path, timeout=0)
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with app.app_context():
            app.config["SQLITE_BUSY_TIMEOUT_SECONDS"] = 0
            response = app.test_client().get("/")
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 503


def test_security_headers_are_sent(client):
    response = client.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_migrations_go_down_and_up_again(app):
    from flask_migrate import upgrade

    from statuspage.extensions import db
    from statuspage.schema import check_schema_current

    db.session.remove()
    downgrade(directory=app.extensions["migrate"].directory, revision="base")
    with pytest.raises(SchemaNotCurrent):
        check_schema_current()
    upgrade(directory=app.extensions["migrate"].directory)
    check_schema_current()


def test_upgrading_from_the_first_schema_keeps_every_row(app):
    """Batch migrations rebuild SQLite tables; no row may be lost on the way (e.g. by cascades)."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from statuspage.extensions import db
    from statuspage.incidents.models import AffectedService, IncidentUpdate
    from tests.factories import make_agency, make_incident, make_service

    directory = app.extensions["migrate"].directory
    make_incident([make_service(make_agency())], priority=1)
    db.session.remove()
    downgrade(directory=directory, revision="0001")
    upgrade(directory=directory)
    assert db.session.scalar(select(func.count()).select_from(AffectedService)) == 1
    assert db.session.scalar(select(func.count()).select_from(IncidentUpdate)) == 1


def _signed_in_client_then_database_dies(app, kill):
    """Sign someone in on a working database, then take the database away."""
    from flask_migrate import upgrade

    from statuspage.extensions import db
    from tests.factories import login, make_user

    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        user = make_user(site_admin=True)
        client = app.test_client()
        assert login(client, user).status_code == 302
        db.session.remove()
        db.engine.dispose()
    kill()
    return client


def test_a_signed_in_person_gets_the_503_page_when_the_sqlite_file_is_gone(tmp_path):
    path = tmp_path / "live.sqlite"
    app = make_app(f"sqlite:///{path}")

    def kill():
        path.rename(tmp_path / "moved.sqlite")
        path.mkdir()  # a directory where the file was: "unable to open database file"

    client = _signed_in_client_then_database_dies(app, kill)
    for url in ("/", "/history", "/admin/"):
        with app.app_context():
            response = client.get(url)
        assert response.status_code == 503, url
        assert "temporarily unavailable" in response.text


POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def test_a_signed_in_person_gets_the_503_page_when_the_postgresql_database_is_dropped():
    import os
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from statuspage.config import normalise_database_url

    # The machine's PostgreSQL (a service here and in CI), whichever database the suite runs on.
    server = make_url(normalise_database_url(os.environ.get("TEST_DATABASE_URL", POSTGRES)))
    name = f"statuspage_dead_{uuid.uuid4().hex[:12]}"
    admin_engine = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        app = make_app(server.set(database=name).render_as_string(hide_password=False))

        def kill():
            with admin_engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))

        client = _signed_in_client_then_database_dies(app, kill)
        for url in ("/", "/admin/"):
            with app.app_context():
                response = client.get(url)
            assert response.status_code == 503, url
            assert "temporarily unavailable" in response.text
    finally:
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()
