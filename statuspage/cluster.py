"""One scheduler in the whole cluster: the process that holds the leadership lock runs the jobs.

Every web process started with SCHEDULER_ENABLED and every `statuspage worker` runs a scheduler,
on as many machines as there are. At each run of a job, a process asks for the lock without
waiting; the one that has it runs the job, the others skip it. So the deadline clock, the matrix,
the morning summary, auto-close, maintenance, the monthly drafts and the static export run once
cluster-wide, whichever processes are up.

- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) on a connection kept for it.
  It is released by PostgreSQL when the process or its connection dies, so a killed leader is
  replaced at the next job run of another process (within JOB_INTERVAL_SECONDS).
- SQLite (one machine): an exclusive `flock` on `instance/scheduler.lock`, released by the kernel
  when the process dies.

The outbox is not under the lock: any number of dispatchers share it through fenced claims
(`subscriptions/outbox.py`). The jobs stay idempotent (unique keys, conditional claims), so even a
leader cut off from PostgreSQL that runs one last job beside its successor writes nothing twice.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import zlib
from pathlib import Path

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db

log = logging.getLogger(__name__)
# A fixed 64-bit key every process of the site agrees on.
LOCK_KEY = zlib.crc32(b"statuspage-scheduler")


class Leadership:
    """Whether this process runs the cluster's scheduled jobs; asks for the lock when it doesn't."""

    def __init__(self, app: Flask):
        self.app = app
        self._guard = threading.Lock()
        self._connection: Connection | None = None
        self._file = None

    def held(self) -> bool:
        """True while this process leads. Call inside an app context."""
        with self._guard:
            was_leading = self._leading()
            leading = was_leading and self._still_alive() or not was_leading and self._acquire()
            if leading != was_leading:
                log.warning(
                    "scheduler: this process (pid %s) %s the scheduled jobs",
                    os.getpid(),
                    "now runs" if leading else "no longer runs",
                )
            return leading

    def release(self) -> None:
        with self._guard:
            if self._connection is not None:
                try:
                    self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                    self._connection.close()
                except SQLAlchemyError:
                    self._connection.invalidate()
                self._connection = None
            if self._file is not None:
                self._file.close()  # closing the descriptor drops the flock
                self._file = None

    def _leading(self) -> bool:
        return self._connection is not None or self._file is not None

    def _acquire(self) -> bool:
        if db.engine.dialect.name == "postgresql":
            return self._acquire_advisory_lock()
        return self._acquire_file_lock()

    def _acquire_advisory_lock(self) -> bool:
        try:
            connection = db.engine.connect()
        except SQLAlchemyError as error:
            log.warning("scheduler: cannot reach the database to lead: %s", error)
            return False
        try:
            won = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
            ).scalar()
            connection.commit()  # the lock is the session's; no transaction stays open
        except SQLAlchemyError as error:
            log.warning("scheduler: cannot ask the database for the lock: %s", error)
            connection.invalidate()
            return False
        if not won:
            connection.close()
            return False
        self._connection = connection
        return True

    def _acquire_file_lock(self) -> bool:
        path = Path(self.app.instance_path) / "scheduler.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a")  # noqa: SIM115 (held open for as long as this process leads)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def _still_alive(self) -> bool:
        """The lock is only as alive as the connection holding it."""
        if self._connection is None:
            return True  # a file lock lasts as long as the process
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
            return True
        except SQLAlchemyError as error:
            log.warning("scheduler: lost the database connection that held the lock: %s", error)
            self._connection.invalidate()
            self._connection = None
            return False
