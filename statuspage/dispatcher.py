"""A dispatcher process: `statuspage dispatch --forever`, one of several on any machine.

It sends what the outbox holds batch after batch, then looks again every `poll` seconds. Several
share the outbox through fenced claims (`subscriptions/outbox.py`). SIGTERM (systemd's stop) lets
the batch in hand finish and then exits; a dispatcher killed outright leaves its claimed rows to be
taken back by another within a minute. A database that cannot be reached is a one-line warning and
another try at the next look, never an exit.
"""

from __future__ import annotations

import logging
import signal
import threading

from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .subscriptions import outbox

log = logging.getLogger(__name__)


def run_forever(batch: int, poll: float, stop: threading.Event | None = None) -> None:
    stop = stop or _stop_on_signals()
    log.warning("dispatcher: sending the outbox, looking every %s s", poll)
    while not stop.is_set():
        try:
            run = outbox.dispatch_until_empty(batch)
        except SQLAlchemyError as error:
            db.session.rollback()
            log.warning("dispatcher: the database failed, trying again in %s s: %s", poll, error)
        else:
            if run.claimed:
                log.warning(
                    "dispatcher: sent %s, retried %s, failed %s, skipped %s",
                    run.sent, run.retried, run.failed, run.skipped,
                )  # fmt: skip
        finally:
            db.session.remove()
        stop.wait(poll)
    log.warning("dispatcher: stopped")


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    return stop
