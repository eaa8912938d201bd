"""Reminders with ``reminder_before`` in business time: the deadline clock counts back from each
deadline through the business calendar and emails before it, never failing on the setting. The
clock queues the reminders; the outbox dispatcher sends them."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from statuspage import clock, jobs
from statuspage.extensions import db
from statuspage.policy import build_policy
from statuspage.subscriptions import outbox
from tests.factories import make_agency, make_incident, make_service, make_user

EASTERN = ZoneInfo("America/New_York")


def eastern(*args) -> datetime:
    return datetime(*args, tzinfo=EASTERN).astimezone(UTC)


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "MAIL_FROM": "status@example.gov"}


@pytest.mark.parametrize(
    ("priority", "tier", "detected_at", "runs"),
    [
        # Acknowledge by 2 PM (4 business hours), resolve by 10 AM Tuesday (24 h): reminders at
        # noon, and at 4 PM Monday (one business hour Monday, one Tuesday morning).
        (4, 1, eastern(2026, 11, 23, 10, 0), [
            (eastern(2026, 11, 23, 11, 59), []),
            (eastern(2026, 11, 23, 12, 0), ["[P4] Acknowledge due in 120 min: {ref}"]),
            (eastern(2026, 11, 23, 14, 0), ["[P4] OVERDUE: acknowledge for {ref}"]),
            (eastern(2026, 11, 23, 15, 59), []),
            (eastern(2026, 11, 23, 16, 0), ["[P4] Target resolution due in 1080 min: {ref}"]),
        ]),
        # Logged Friday 3 PM: acknowledge by 11 AM Monday; the reminder waits for Monday 9 AM.
        (4, 2, eastern(2026, 11, 20, 15, 0), [
            (eastern(2026, 11, 21, 12, 0), []),
            (eastern(2026, 11, 23, 8, 59), []),
            (eastern(2026, 11, 23, 9, 0), ["[P4] Acknowledge due in 120 min: {ref}"]),
        ]),
        # A P1's deadlines are minutes away, well inside two business hours: reminded at once.
        (1, 1, eastern(2026, 11, 23, 10, 0), [
            (eastern(2026, 11, 23, 10, 0), [
                "[P1] Acknowledge due in 5 min: {ref}",
                "[P1] First public update due in 15 min: {ref}",
                "[P1] Target resolution due in 60 min: {ref}",
            ]),
        ]),
    ],
)  # fmt: skip
def test_with_reminders_two_business_hours_before_each_goes_out_before_its_deadline(
    app, smtp, priority, tier, detected_at, runs
):
    app.extensions["policy"] = build_policy({"rules": {"reminder_before": "2 business hours"}})
    agency = make_agency()
    service = make_service(agency, tier=tier)
    lead = make_user(agency)
    incident = make_incident(
        [service], priority=priority, detected_at=detected_at, updates=(), by=lead
    )
    for moment, subjects in runs:
        before = len(smtp.messages)
        with clock.pinned(moment):
            jobs.run_deadline_clock(moment)
            run = outbox.dispatch(moment)
        db.session.expire_all()
        assert sorted(smtp.subjects()[before:]) == [s.format(ref=incident.ref) for s in subjects]
        assert run.failed == run.retried == 0
