"""A P1 on a tier-1 service through two hours with the pinned clock: exactly who inside
government is emailed and when (the matrix, briefings, nobody acknowledging), and nothing twice
when two job processes run at the same moment."""

from datetime import UTC, datetime, timedelta

import pytest

from statuspage import clock, jobs
from statuspage.extensions import db
from statuspage.incidents.models import Impact, State
from statuspage.incidents.operations import acknowledge, publish_update
from statuspage.internal.models import Contact
from statuspage.subscriptions import outbox
from statuspage.users.models import Role
from tests.factories import (
    make_agency,
    make_incident,
    make_service,
    make_user,
    run_cli_in_parallel,
)

T = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port}


def add_contact(agency, position, email, *, backup=False):
    db.session.add(Contact(agency_id=agency.id if agency else None, position=position,
                           name=email.split("@")[0], email=email, is_backup=backup,
                           created_at=T))  # fmt: skip


def test_a_p1_through_two_hours_tells_exactly_the_right_people_once(app, migrated, smtp, tmp_path):
    agency = make_agency("Department of Revenue", "revenue")
    service = make_service(agency, "Tax filing", "tax-filing", tier=1)
    lead = make_user(agency, Role.COMMUNICATIONS_LEAD, email="lead@revenue.gov")
    make_user(agency, Role.SERVICE_MANAGER, email="manager@revenue.gov")
    make_user(agency, Role.SERVICE_OWNER, email="owner@revenue.gov")
    make_user(make_agency("Other", "other"), Role.SERVICE_OWNER, email="owner@other.gov")
    add_contact(agency, "agency_cio", "cio@revenue.gov")
    add_contact(None, "cdo", "cdo@digital.gov")
    add_contact(agency, "on_call", "oncall@revenue.gov")
    add_contact(agency, "on_call", "backup@revenue.gov", backup=True)
    add_contact(agency, "ciso", "ciso@revenue.gov")  # told only of security incidents
    db.session.commit()
    incident = make_incident({service: Impact.MAJOR_OUTAGE}, priority=1, detected_at=T,
                             updates=())  # fmt: skip

    received: list[tuple[int, str, str]] = []

    def tick(minute: int) -> None:
        with clock.pinned(T + timedelta(minutes=minute)):
            if minute == 40:
                acknowledge(incident, by=lead)
            if minute == 100:
                publish_update(incident, status=State.RESOLVED, body="Fixed.", by=lead)
            jobs.run_notification_matrix()
            outbox.dispatch()
        for message in smtp.messages[len(received):]:
            received.append((minute, str(message["To"]), str(message["Subject"])))

    for minute in range(0, 60):
        tick(minute)
    db.session.remove()
    # At the hour, two app processes run every job at the same moment.
    run_cli_in_parallel(["run-jobs", "--at", (T + timedelta(minutes=60)).isoformat()],
                        database_url=migrated, instance=tmp_path, smtp_port=smtp.port)  # fmt: skip
    for message in smtp.messages[len(received):]:
        received.append((60, str(message["To"]), str(message["Subject"])))
    incident = db.session.merge(incident)
    lead = db.session.merge(lead)
    for minute in range(61, 121):
        tick(minute)

    ref = incident.ref
    leadership = ["agency_cio", "cdo", "on_call", "service_owner"]
    address = {"agency_cio": "cio@revenue.gov", "cdo": "cdo@digital.gov",
               "on_call": "oncall@revenue.gov", "service_owner": "owner@revenue.gov"}  # fmt: skip
    told = f"[P1] Online filing unavailable ({ref})"
    briefing = f"[P1] Briefing: Online filing unavailable ({ref})"
    expected = sorted(
        [(0, address[p], told) for p in leadership]
        + [(30, "manager@revenue.gov", f"[P1] Not acknowledged: Online filing unavailable ({ref})")]
        + [(minute, address[p], briefing) for minute in (30, 60, 90) for p in leadership]
    )
    # The lead's deadline reminders are not the matrix, nor what else run-jobs sends at 10 AM
    # (the morning summary, last month's report to publish): the matrix's name the incident.
    matrix_mail = sorted(r for r in received if r[1] != "lead@revenue.gov"
                         and f"({ref})" in r[2])  # fmt: skip
    assert matrix_mail == expected
    assert len(set(matrix_mail)) == len(matrix_mail)  # nothing twice
