"""One scheduler in the cluster: only the process holding the lock runs the scheduled jobs."""

from __future__ import annotations

import logging
import subprocess
import sys
import time

from statuspage import jobs
from statuspage.cluster import Leadership
from statuspage.extensions import db
from statuspage.scheduler import _in_app


def test_only_one_process_leads_at_a_time(app):
    first, second = Leadership(app), Leadership(app)
    try:
        assert first.held()
        assert not second.held()
        assert first.held()  # asking again keeps it
    finally:
        first.release()
        second.release()


def test_another_process_takes_over_when_the_leader_goes(app, caplog):
    leader, follower = Leadership(app), Leadership(app)
    try:
        assert leader.held()
        assert not follower.held()
        leader.release()  # what the kernel or PostgreSQL does when the leader's process dies
        with caplog.at_level(logging.WARNING, logger="statuspage.cluster"):
            assert follower.held()
        assert "now runs the scheduled jobs" in caplog.text
        assert not leader.held()
    finally:
        leader.release()
        follower.release()


def test_a_killed_leader_is_replaced(app, tmp_path):
    """The lock dies with the leader: its PostgreSQL session, or its process holding the file."""
    follower = Leadership(app)
    if db.engine.dialect.name == "postgresql":
        leader = Leadership(app)
        assert leader.held()
        pid = leader._connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with db.engine.connect() as admin:
            admin.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
            admin.commit()
        try:
            assert follower.held()  # PostgreSQL dropped the dead session's lock
            assert not leader.held()  # and the old leader notices it no longer leads
        finally:
            leader.release()
            follower.release()
        return
    ready = tmp_path / "ready"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_FILE_LOCK, app.instance_path, str(ready)])
    try:
        deadline = time.monotonic() + 10
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not follower.held()
        holder.kill()
        holder.wait()
        assert follower.held()
    finally:
        holder.kill()
        holder.wait()
        follower.release()


HOLD_FILE_LOCK = """
import fcntl, pathlib, sys, time
handle = open(pathlib.Path(sys.argv[1]) / "scheduler.lock", "a")
fcntl.flock(handle, fcntl.LOCK_EX)
pathlib.Path(sys.argv[2]).touch()
time.sleep(60)
"""


def test_a_follower_skips_the_cluster_jobs_but_still_dispatches(app, monkeypatch):
    ran = []
    monkeypatch.setattr(jobs, "run_public_clock", lambda: ran.append("public clock"))
    monkeypatch.setattr(jobs, "run_dispatcher", lambda: ran.append("dispatch"))
    from statuspage import scheduler

    monkeypatch.setattr(scheduler, "EVERY_PROCESS", frozenset({jobs.run_dispatcher}))
    leader, follower = Leadership(app), Leadership(app)
    try:
        assert leader.held()
        _in_app(app, jobs.run_public_clock, follower)()
        _in_app(app, jobs.run_dispatcher, follower)()
        assert ran == ["dispatch"]
        _in_app(app, jobs.run_public_clock, leader)()
        assert ran == ["dispatch", "public clock"]
    finally:
        leader.release()
        follower.release()
