"""Two app processes run the deadline clock at the same moment against one database:
every reminder is sent once and every missed deadline recorded once."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from statuspage import clock
from statuspage.extensions import db
from statuspage.incidents.models import MissedDeadline, Reminder
from tests.factories import (
    make_agency,
    make_incident,
    make_service,
    make_user,
    run_cli_in_parallel,
)

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
INCIDENTS = 12


def test_two_processes_send_each_reminder_once(app, migrated, smtp, tmp_path):
    agency = make_agency()
    service = make_service(agency)
    make_user(agency)
    with clock.pinned(T0 + timedelta(minutes=30)):
        for n in range(INCIDENTS):
            make_incident([service], priority=1, detected_at=T0 + timedelta(seconds=n), updates=())
    db.session.remove()

    at = (T0 + timedelta(minutes=20)).isoformat()
    outputs = run_cli_in_parallel(
        ["run-jobs", "--at", at], database_url=migrated, instance=tmp_path, smtp_port=smtp.port,
        timeout=120,
    )  # fmt: skip

    # Each incident has passed two deadlines (acknowledge at 5 min, first update at 15 min).
    expected = INCIDENTS * 2
    assert len(smtp.messages) == expected
    assert len(set(smtp.subjects())) == expected
    assert db.session.scalar(select(func.count()).select_from(MissedDeadline)) == expected
    assert db.session.scalars(select(Reminder.status).distinct()).all() == ["sent"]
    sent_by = [int(out.split("sent ")[1].split(",")[0]) for out in outputs]
    print("sent by each process:", sent_by)
    assert sum(sent_by) == expected
