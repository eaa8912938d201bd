"""deploy/systemd: the units systemd would load, starting commands the app has."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.same_on_any_database  # run once, in the SQLite pass

ROOT = Path(__file__).resolve().parents[1]
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
INSTALLED = "/srv/statuspage/.venv/bin/statuspage"
ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"


def _exec_start(unit: Path) -> list[str]:
    lines = [line for line in unit.read_text().splitlines() if line.startswith("ExecStart=")]
    assert len(lines) == 1, unit.name
    return shlex.split(lines[0].removeprefix("ExecStart="))


def test_there_are_units_for_the_web_the_worker_and_the_dispatchers():
    commands = {_exec_start(unit)[1] for unit in UNITS}
    assert commands == {"serve", "worker", "dispatch"}


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_each_unit_starts_a_command_the_app_has_with_options_it_takes(unit):
    program, *args = _exec_start(unit)
    assert program == INSTALLED
    # --help last: an option the command does not take is an error before the help is printed.
    result = subprocess.run(
        [sys.executable, "-m", "statuspage.cli", *args, "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_systemd_accepts_every_unit_without_a_warning(tmp_path):
    # The units as installed, but for the program, which is not installed here.
    names = []
    for unit in UNITS:
        name = unit.name.replace("@.service", "@1.service")
        (tmp_path / name).write_text(unit.read_text().replace(INSTALLED, "/bin/true"))
        names.append(f"./{name}")
    result = subprocess.run(
        [ANALYZE, "verify", *names], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
