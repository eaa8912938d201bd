"""Scheduled jobs: plain functions that call the operations. Each is idempotent and safe when
several app processes run it at once. Tests call them directly with a pinned clock."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from . import clock
from .extensions import db
from .incidents import reminders
from .incidents.models import Incident, State
from .incidents.operations import auto_close, note_public_moments
from .incidents.queries import open_public_incidents
from .maintenance.operations import advance_windows
from .policy import current_calendar, current_policy
from .public.export import ExportResult, export_site
from .reports.publishing import draft_last_month
from .subscriptions import outbox


def run_deadline_clock(now: datetime | None = None) -> reminders.ClockRun:
    """Reminders before and after each deadline (queued in the outbox; run_dispatcher sends
    them), and missed deadlines recorded once."""
    return reminders.check_deadlines(now or clock.now())


def run_review_clock(now: datetime | None = None) -> int:
    """Reminders before the review meeting, the review and the public report are due, and
    escalations up the ladder once they pass undone."""
    from .reports.review_clock import check_review_deadlines

    return check_review_deadlines(now or clock.now())


def run_notification_matrix(now: datetime | None = None) -> int:
    """Tell the people inside government the policy's matrix names, when it names them."""
    from .internal.matrix import tell_people

    return tell_people(now or clock.now())


def run_daily_summary(now: datetime | None = None) -> int:
    """From DAILY_SUMMARY_HOUR (site zone): the morning summary to each agency's service owners
    and CIO, once a day per person and agency (the outbox key settles races)."""
    from .internal.summary import send_daily_summaries

    return send_daily_summaries(now or clock.now())


def run_public_clock(now: datetime | None = None) -> int:
    """Public pages say "late" once a next update or an expected fix time they state passes."""
    now = now or clock.now()
    moved = sum(note_public_moments(incident, now) for incident in open_public_incidents())
    db.session.commit()
    return moved


def run_auto_close(now: datetime | None = None) -> dict[str, int]:
    """Close incidents resolved long enough ago (24 h by default) when nothing blocks them."""
    now = now or clock.now()
    after = current_policy().rules.auto_close_after
    outcomes = {"closed": 0, "requested": 0, "blocked": 0}
    due_ids = [
        incident_id
        for incident_id, resolved_at in db.session.execute(
            select(Incident.id, Incident.resolved_at).where(Incident.state == State.RESOLVED.value)
        )
        if resolved_at and after.after(resolved_at, current_calendar()) <= now
    ]
    for incident_id in due_ids:
        # One process at a time per incident; others skip it this round.
        incident = db.session.scalars(
            select(Incident).where(Incident.id == incident_id).with_for_update(skip_locked=True)
        ).first()
        if incident is None or incident.state != State.RESOLVED.value:
            db.session.rollback()
            continue
        with clock.pinned(now):
            outcomes[auto_close(incident)] += 1
    return outcomes


def run_maintenance(now: datetime | None = None) -> dict[str, int]:
    """Start and complete maintenance windows on time."""
    return advance_windows(now or clock.now())


def run_static_export() -> ExportResult | None:
    """Refresh the static fallback in STATIC_EXPORT_DIR when the site has changed since."""
    target = current_app.config["STATIC_EXPORT_DIR"]
    if not target:
        return None
    return export_site(current_app._get_current_object(), Path(target), only_if_changed=True)


def run_monthly_drafts(now: datetime | None = None) -> int:
    """From the first day of a month: last month's report drafted for each agency and the site."""
    return len(draft_last_month(now or clock.now()))


def run_effectiveness_checks(now: datetime | None = None) -> int:
    """Remind the review's writers and the agency's leads when a completed preventive action's
    effectiveness check falls due (once per completion; the outbox key settles repeats)."""
    from .reports.actions import remind_checks_due

    return remind_checks_due(now or clock.now())


def run_quarterly_reviews(now: datetime | None = None) -> int:
    """Once a quarter has ended: its review to each agency's CIO, once per person (the outbox key
    settles races and repeats)."""
    from .internal.quarterly import send_quarterly_reviews

    return send_quarterly_reviews(now or clock.now())


def run_dispatcher() -> outbox.DispatchRun:
    """Send what the outbox holds, batch after batch, until nothing is due (each batch reads
    the clock itself)."""
    return outbox.dispatch_until_empty()


def run_all(now: datetime | None = None) -> dict:
    now = now or clock.now()
    return {
        "clock": run_deadline_clock(now),
        "review_clock": run_review_clock(now),
        "public_clock": run_public_clock(now),
        "matrix": run_notification_matrix(now),
        "daily_summary": run_daily_summary(now),
        "auto_close": run_auto_close(now),
        "maintenance": run_maintenance(now),
        "effectiveness_checks": run_effectiveness_checks(now),
        "dispatch": run_dispatcher(),
        "monthly_drafts": run_monthly_drafts(now),
        "quarterly_reviews": run_quarterly_reviews(now),
        "static_export": run_static_export(),
    }
