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
