"""Two app processes run the scheduled jobs (the deadline clock, then the outbox dispatcher) at
the same moment against one database: every reminder is written once, sent once to each
recipient, and every missed deadline recorded once."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from statuspage import clock
from statuspage.extensions import db
from statuspage.incidents.models import MissedDeadline
from statuspage.subscriptions.models import Notification
from statuspage.users.models import Role
from tests.factories import (
    make_agency,
    make_incident,
    make_service,
    make_user,
    run_cli_in_parallel,
)

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
INCIDENTS = 12


def test_two_processes_send_each_reminder_once_to_each_recipient(app, migrated, smtp, tmp_path):
    agency = make_agency()
    service = make_service(agency)
    make_user(agency, Role.COMMUNICATIONS_LEAD, email="lead@example.gov")
    make_user(agency, Role.COMMUNICATIONS_LEAD, email="second.lead@example.gov")
    with clock.pinned(T0 + timedelta(minutes=30)):
        for n in range(INCIDENTS):
            make_incident([service], priority=1, detected_at=T0 + timedelta(seconds=n), updates=())
    db.session.remove()

    at = (T0 + timedelta(minutes=20)).isoformat()
    outputs = run_cli_in_parallel(
        ["run-jobs", "--at", at], database_url=migrated, instance=tmp_path, smtp_port=smtp.port,
        timeout=120,
    )  # fmt: skip

    # Each incident has passed two deadlines (acknowledge at 5 min, first update at 15 min),
    # and each overdue reminder goes to both leads.
    deadlines = INCIDENTS * 2
    expected = deadlines * 2
    reminders = [m for m in smtp.messages if "OVERDUE" in str(m["Subject"])]
    assert len(reminders) == len(smtp.messages) == expected
    assert len({(str(m["Subject"]), str(m["To"])) for m in reminders}) == expected
    assert sorted({str(m["To"]) for m in reminders}) == [
        "lead@example.gov", "second.lead@example.gov",
    ]  # fmt: skip
    assert db.session.scalar(select(func.count()).select_from(MissedDeadline)) == deadlines
    rows = db.session.execute(
        select(Notification.status, func.count())
        .where(Notification.event_key.like("reminder:%"))
        .group_by(Notification.status)
    ).all()
    assert rows == [("sent", expected)]
    sent_by = [int(out.split("outbox: sent ")[1].split(",")[0]) for out in outputs]
    print("sent by each process:", sent_by)
    assert sum(sent_by) == expected
