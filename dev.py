#!/usr/bin/env python3
"""One command to set up and run the site, or set up and run the tests (needs only Python 3.11+).

python3 dev.py serve          # set up, load demo data, print the admin login, serve :5000
python3 dev.py test [ARGS]    # set up and run the whole test suite (ARGS go to pytest)
python3 dev.py test-browser   # the browser tests (installs Debian's chromium if missing)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".installed"
CHROMIUM = Path("/usr/bin/chromium")
AXE_DIR = ROOT / "tests" / "browser" / "axe"  # axe-core from the npm registry (package-lock.json)
AXE_STAMP = AXE_DIR / "node_modules" / ".installed"


def run(*args: str | Path, **kwargs) -> None:
    kwargs.setdefault("cwd", ROOT)
    result = subprocess.run([str(a) for a in args], **kwargs)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_environment() -> None:
    """Create .venv and install the package with its test extras when pyproject.toml changes."""
    if sys.version_info < (3, 11):
        sys.exit("Python 3.11 or newer is needed.")
    if not PYTHON.exists():
        print("Creating a virtual environment in .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        print("Installing the package and its dependencies …", flush=True)
        run(
            PYTHON,
            "-m",
            "pip",
            "install",
            "-qq",
            "--disable-pip-version-check",
            "--editable",
            ".[test]",
        )
        STAMP.write_text(wanted)


def serve(args: list[str]) -> None:
    statuspage = BIN / "statuspage"
    run(statuspage, "setup", "--demo")
    os.execv(str(statuspage), [str(statuspage), "serve", *args])


def test(args: list[str]) -> None:
    ensure_system_tools()
    # One worker per core (pytest-xdist), each with its own database; a file's tests stay on one
    # worker, so a module's servers start once.
    parallel = ["-n", "auto", "--dist", "loadfile"]
    os.execv(str(PYTHON), [str(PYTHON), "-m", "pytest", "-m", "not browser", *parallel, *args])


def ensure_system_tools() -> None:
    """Debian's nginx, systemd-analyze and Prometheus Alertmanager, for the tests that run the
    files in deploy/ for real (tests/test_nginx.py, tests/test_deploy.py,
    tests/api_v1/test_alertmanager_real.py): installed with apt-get when missing and we are
    root, as CI is; otherwise the command stops and says what to install."""
    wanted = {  # Debian package: (command, where it lies when not on PATH)
        "nginx": ("nginx", "/usr/sbin/nginx"),
        "systemd": ("systemd-analyze", "/usr/bin/systemd-analyze"),
        # tests/api_v1/test_alertmanager_real.py routes a real Alertmanager to our receiver.
        "prometheus-alertmanager": ("prometheus-alertmanager", "/usr/bin/prometheus-alertmanager"),
    }
    missing = [
        package
        for package, (command, path) in wanted.items()
        if not shutil.which(command) and not Path(path).exists()
    ]
    if missing:
        apt_install(*missing)


def apt_install(*packages: str) -> None:
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        sys.exit(
            f"The tests need Debian's {' '.join(packages)}: run `apt-get install "
            f"{' '.join(packages)}` as root."
        )
    print(f"Installing Debian's {' '.join(packages)} …", flush=True)
    run("apt-get", "update", "-qq")
    run(
        "apt-get",
        "install",
        "-y",
        "-qq",
        *packages,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


def ensure_axe() -> None:
    """axe-core, as package-lock.json pins it, for the accessibility tests."""
    wanted = hashlib.sha256((AXE_DIR / "package-lock.json").read_bytes()).hexdigest()
    if AXE_STAMP.exists() and AXE_STAMP.read_text() == wanted:
        return
    if shutil.which("npm") is None:
        apt_install("npm")
    print("Installing axe-core from the npm registry …", flush=True)
    run("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", cwd=AXE_DIR)
    AXE_STAMP.write_text(wanted)


def test_browser(args: list[str]) -> None:
    ensure_axe()
    if not CHROMIUM.exists():
        apt_install("chromium")
    os.execv(str(PYTHON), [str(PYTHON), "-m", "pytest", "-m", "browser", "tests/browser", *args])


COMMANDS = {"serve": serve, "test": test, "test-browser": test_browser}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    ensure_environment()
    COMMANDS[sys.argv[1]](sys.argv[2:])
