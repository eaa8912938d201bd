"""The command line a newcomer and an operator use."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

STATUSPAGE = [sys.executable, "-m", "statuspage.cli"]


def run_cli(*args, instance: Path, database_url: str | None = None, input: str | None = None):
    env = {**os.environ, "STATUSPAGE_INSTANCE_PATH": str(instance)}
    env.pop("SECRET_KEY", None)
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [*STATUSPAGE, *args], env=env, capture_output=True, text=True, input=input, timeout=300
    )


@pytest.fixture
def fresh_instance(tmp_path, migrated):
    """An empty instance folder; on a PostgreSQL run, an empty database beside the suite's."""
    instance = tmp_path / "instance"
    if not migrated.startswith("postgresql"):
        yield instance, None
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{make_url(migrated).database}_cli"
    admin = create_engine(make_url(migrated).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield instance, make_url(migrated).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_setup_makes_a_working_demo_site_from_nothing(fresh_instance):
    instance, database_url = fresh_instance
    result = run_cli("setup", instance=instance, database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert (instance / "secret_key").stat().st_mode & 0o077 == 0  # readable by the owner only
    if database_url is None:
        assert (instance / "statuspage.sqlite").exists()
    assert "Sign in at /admin/login with:" in result.stdout
    assert "site administrator: admin@example.gov / " in result.stdout

    # Running it again changes nothing and prints the same logins.
    again = run_cli("setup", instance=instance, database_url=database_url)
    assert again.returncode == 0
    assert again.stdout.split("Sign in")[1] == result.stdout.split("Sign in")[1]

    # The site it made serves the demo data.
    code = (
        "from statuspage import create_app\n"
        "c = create_app().test_client()\n"
        "html = c.get('/').get_data(as_text=True)\n"
        "print(html.count('class=\"service\"'), 'Current incidents' in html)\n"
    )
    env = {**os.environ, "STATUSPAGE_INSTANCE_PATH": str(instance)}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    served = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert served.stdout.split() == ["12", "True"], served.stderr


def test_create_user_gives_a_role_in_an_agency(fresh_instance):
    instance, database_url = fresh_instance
    assert (
        run_cli("setup", "--no-demo", instance=instance, database_url=database_url).returncode == 0
    )
    result = run_cli(
        "create-user",
        "someone@example.gov",
        "--role",
        "communications_lead",
        "--agency",
        "nope",
        instance=instance,
        database_url=database_url,
        input="\n\n",
    )
    assert result.returncode != 0 and "no agency with the slug 'nope'" in result.stderr

    result = run_cli(
        "create-user",
        "admin2@example.gov",
        "--site-admin",
        "--name",
        "Admin Two",
        instance=instance,
        database_url=database_url,
        input="\n\n",
    )
    assert result.returncode == 0, result.stderr
    assert "Created admin2@example.gov." in result.stdout and "Password: " in result.stdout

    duplicate = run_cli(
        "create-user",
        "admin2@example.gov",
        "--site-admin",
        instance=instance,
        database_url=database_url,
        input="\n\n",
    )
    assert duplicate.returncode != 0 and "already exists" in duplicate.stderr


def test_load_demo_refuses_a_database_that_has_data(fresh_instance):
    instance, database_url = fresh_instance
    run_cli("setup", instance=instance, database_url=database_url)
    result = run_cli("load-demo", instance=instance, database_url=database_url)
    assert result.returncode != 0 and "empty one" in result.stderr


def test_serve_refuses_an_unmigrated_database(fresh_instance):
    instance, database_url = fresh_instance
    instance.mkdir()
    (instance / "secret_key").write_text("x" * 64)
    result = run_cli("serve", "--port", "5999", instance=instance, database_url=database_url)
    assert result.returncode != 0
    assert "statuspage db upgrade" in result.stderr


def test_an_api_key_from_the_command_line_is_printed_once_and_can_be_revoked(fresh_instance):
    instance, database_url = fresh_instance
    assert run_cli("setup", instance=instance, database_url=database_url).returncode == 0

    unknown = run_cli("create-api-key", "--agency", "nope", "--scope", "read",
                      instance=instance, database_url=database_url)  # fmt: skip
    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines()[-1].startswith(
        "Error: No agency with the slug 'nope'; the slugs are: "
    )
    assert "revenue" in unknown.stderr and "Traceback" not in unknown.stderr
    bad_scope = run_cli("create-api-key", "--agency", "revenue", "--scope", "admin",
                        instance=instance, database_url=database_url)  # fmt: skip
    assert bad_scope.returncode == 1
    assert bad_scope.stderr.strip() == (
        "Error: Unknown scope admin: choose from read, incidents, maintenance, components."
    )

    made = run_cli(
        "create-api-key", "--agency", "revenue", "--scope", "incidents", "--scope", "read",
        "--name", "Grafana", instance=instance, database_url=database_url,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    first, key = made.stdout.strip().splitlines()
    assert first.startswith("Created API key ") and "'Grafana'" in first
    assert first.endswith("Department of Revenue: read, incidents.")
    assert key.startswith("sp_")
    assert made.stderr.strip() == "This is the only time the key is shown: copy it now."
    key_id = first.split()[3]

    listed = run_cli("list-api-keys", instance=instance, database_url=database_url)
    assert f"{key_id}\trevenue\tGrafana\tread,incidents\tnever used\tin use" in listed.stdout
    assert key not in listed.stdout

    code = (
        "import sys\n"
        "from statuspage import create_app\n"
        "c = create_app().test_client()\n"
        "print(c.get('/api/v1/pages', headers={'Authorization': 'OAuth ' + sys.argv[1]}).status_code)\n"
    )
    env = {**os.environ, "STATUSPAGE_INSTANCE_PATH": str(instance)}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url

    def status() -> str:
        answer = subprocess.run([sys.executable, "-c", code, key], env=env, capture_output=True,
                                text=True, check=False)  # fmt: skip
        return answer.stdout.strip() or answer.stderr

    assert status() == "200"
    revoked = run_cli("revoke-api-key", key_id, instance=instance, database_url=database_url)
    assert revoked.returncode == 0 and "it stops working now" in revoked.stdout
    assert status() == "401"
    again = run_cli("revoke-api-key", key_id, instance=instance, database_url=database_url)
    assert again.returncode == 0 and "was revoked already" in again.stdout
    missing = run_cli("revoke-api-key", "999", instance=instance, database_url=database_url)
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        "Error: No API key with the id 999; see `statuspage list-api-keys`."
    )
