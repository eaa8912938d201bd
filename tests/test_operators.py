"""An operator's mistakes end in one or two lines that say what to do, never a traceback."""

from __future__ import annotations

import os
import pty
import py_compile
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.test_cli import run_cli

pytestmark = pytest.mark.same_on_any_database  # run once, in the SQLite pass

ROOT = Path(__file__).resolve().parents[1]


def assert_told(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.fixture
def set_up(tmp_path):
    """An instance made by `setup --no-demo` on its own SQLite file."""
    instance = tmp_path / "instance"
    result = run_cli("setup", "--no-demo", instance=instance)
    assert result.returncode == 0, result.stderr
    return instance


def test_serving_before_setup_says_to_run_setup(tmp_path):
    result = run_cli("serve", "--port", "5999", instance=tmp_path / "instance")
    assert_told(result, "statuspage setup")


def test_a_database_that_is_not_there_says_which_setting_to_check(set_up):
    down = "postgresql://postgres@127.0.0.1:1/statuspage"
    assert_told(
        run_cli("serve", instance=set_up, database_url=down),
        "Cannot reach the database at postgresql+psycopg://postgres@127.0.0.1:1/statuspage",
        "DATABASE_URL",
    )
    assert_told(run_cli("db", "upgrade", instance=set_up, database_url=down), "DATABASE_URL")
    assert_told(
        run_cli("setup", instance=set_up, database_url="postgres-ish://x"),
        "is not a database address",
    )


def test_a_password_in_the_database_address_is_never_printed(set_up):
    result = run_cli(
        "serve", instance=set_up, database_url="postgresql://postgres:hunter2@127.0.0.1:1/x"
    )
    assert_told(result, "postgres:***@127.0.0.1:1")
    assert "hunter2" not in result.stderr + result.stdout


def test_a_malformed_policy_names_the_file_and_the_help_still_lists_the_commands(set_up):
    (set_up / "policy.toml").write_text("[P1\n")
    assert_told(run_cli("setup", instance=set_up), "policy.toml", "not valid TOML")
    (set_up / "policy.toml").write_text('[rules]\nreminder_before = "soon"\n')
    assert_told(run_cli("worker", instance=set_up), "reminder_before")
    listing = run_cli("--help", instance=set_up)
    assert listing.returncode == 0 and "serve" in listing.stdout and "setup" in listing.stdout


def test_help_lists_the_projects_commands_only(tmp_path):
    listing = run_cli("--help", instance=tmp_path / "instance").stdout
    commands = listing.split("Commands:")[1].split()
    for ours in ("setup", "serve", "worker", "dispatch", "db", "export-static", "create-user"):
        assert ours in commands
    for flasks in ("run", "shell", "routes", "limiter"):
        assert flasks not in commands


def test_a_busy_port_says_so_before_the_server_starts(set_up):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port), instance=set_up)
    assert_told(result, f"127.0.0.1:{port}", "--port")


def test_a_missing_secret_key_stops_serve_before_it_listens(set_up):
    (set_up / "secret_key").unlink()
    result = run_cli("serve", "--port", "5999", instance=set_up)
    assert_told(result, "No secret key", "statuspage setup")
    assert "Serving on" not in result.stderr
    for command in (["worker"], ["dispatch"], ["run-jobs"]):
        assert_told(run_cli(*command, instance=set_up), "No secret key")


def test_the_wsgi_entry_point_says_what_is_wrong_in_one_line(tmp_path):
    env = {**os.environ, "STATUSPAGE_INSTANCE_PATH": str(tmp_path / "none")}
    env.pop("SECRET_KEY", None)
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", "import statuspage.wsgi"], env=env, capture_output=True, text=True
    )
    assert_told(result, "statuspage cannot start: No secret key")


def _setup_at_a_terminal(instance: Path, answer: str) -> str:
    """`statuspage setup` with its standard input a terminal; what it printed."""
    env = {**os.environ, "STATUSPAGE_INSTANCE_PATH": str(instance)}
    env.pop("DATABASE_URL", None)
    main, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "statuspage.cli", "setup"], env=env, stdin=terminal,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    os.write(main, answer.encode() + b"\n")
    output, _ = process.communicate(timeout=120)
    os.close(main)
    os.close(terminal)
    assert process.returncode == 0, output
    return output


def test_setup_at_a_terminal_asks_before_loading_made_up_data(tmp_path):
    declined = _setup_at_a_terminal(tmp_path / "real", "n")
    assert "Load the demo data" in declined
    assert "Loading demo data" not in declined and "create-user" in declined
    accepted = _setup_at_a_terminal(tmp_path / "demo", "y")
    assert "Loading demo data" in accepted and "admin@example.gov" in accepted


def test_setup_with_no_demo_never_loads_it(tmp_path):
    result = run_cli("setup", "--no-demo", instance=tmp_path / "instance")
    assert result.returncode == 0 and "Loading demo data" not in result.stdout
    assert not (tmp_path / "instance" / "demo-logins.txt").exists()


def test_the_wheel_ships_no_compiled_files(tmp_path):
    # What running the migrations leaves beside them, as on any machine that has run them.
    py_compile.compile(str(ROOT / "statuspage" / "migrations" / "env.py"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("statuspage-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "statuspage/migrations/env.py" in names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
