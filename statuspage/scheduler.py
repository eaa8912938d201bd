"""Wires the jobs in jobs.py to APScheduler; started with the app, off under tests.

Any number of processes may run a scheduler; only the one that leads the cluster
(`cluster.Leadership`) runs the jobs, but for the outbox dispatch, which every process shares.
"""

from __future__ import annotations

import atexit
import logging
import threading

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from . import jobs
from .cluster import Leadership
from .extensions import db

log = logging.getLogger(__name__)
AUTO_CLOSE_MINUTES = 5
DISPATCH_SECONDS = 10
MONTHLY_DRAFT_SECONDS = 3600  # idempotent: the first run of a month drafts, the rest find it done
DAILY_SUMMARY_SECONDS = 300  # idempotent: from the hour on, each run finds today's already written
REVIEW_CLOCK_SECONDS = 300  # review deadlines are hours and days apart


# Shared by every process, not only the leader: claims are fenced (subscriptions/outbox.py).
EVERY_PROCESS = frozenset({jobs.run_dispatcher})


def _in_app(app: Flask, job, leadership: Leadership):
    def run() -> None:
        with app.app_context():
            try:
                if job in EVERY_PROCESS or leadership.held():
                    job()
            except Exception:  # a failed run is logged and retried at the next interval
                log.exception("scheduled job %s failed", job.__name__)
                db.session.rollback()
            finally:
                db.session.remove()

    run.__name__ = job.__name__
    return run


def add_jobs(app: Flask, scheduler) -> Leadership:
    leadership = Leadership(app)
    every = app.config["JOB_INTERVAL_SECONDS"]
    schedule = (  # (job, seconds between runs)
        (jobs.run_deadline_clock, every),
        (jobs.run_public_clock, every),
        (jobs.run_notification_matrix, every),
        (jobs.run_dispatcher, DISPATCH_SECONDS),
        (jobs.run_maintenance, every),
        (jobs.run_auto_close, AUTO_CLOSE_MINUTES * 60),
        (jobs.run_monthly_drafts, MONTHLY_DRAFT_SECONDS),
        (jobs.run_quarterly_reviews, MONTHLY_DRAFT_SECONDS),  # idempotent like the drafts
        (jobs.run_daily_summary, DAILY_SUMMARY_SECONDS),
        (jobs.run_review_clock, REVIEW_CLOCK_SECONDS),
        (jobs.run_static_export, every),
        (jobs.run_effectiveness_checks, every),
    )
    for job, seconds in schedule:
        scheduler.add_job(
            _in_app(app, job, leadership), "interval", seconds=seconds, id=job.__name__,
            coalesce=True, max_instances=1, replace_existing=True,
        )  # fmt: skip
    return leadership


def start_in_background(app: Flask) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC", daemon=True)
    leadership = add_jobs(app, scheduler)
    scheduler.start()

    def stop() -> None:
        scheduler.shutdown(wait=False)
        leadership.release()

    # Stopped before the thread pools are (their own exit hook is registered earlier and runs
    # later), or each job due during the shutdown logs a traceback for a pool already closed.
    getattr(threading, "_register_atexit", atexit.register)(stop)
    return scheduler


def run_in_foreground(app: Flask) -> None:
    scheduler = BlockingScheduler(timezone="UTC")
    leadership = add_jobs(app, scheduler)
    try:
        scheduler.start()
    finally:
        leadership.release()
