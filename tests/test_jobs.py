"""Auto-close: resolved incidents close 24 hours after resolution when nothing blocks them."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from statuspage import clock, jobs
from statuspage.extensions import db
from statuspage.incidents.models import Approval, State
from statuspage.incidents.operations import change_priority
from statuspage.users.models import Role
from tests.factories import make_agency, make_incident, make_service, make_user

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def resolved(service, priority, **kwargs):
    with clock.pinned(T0 + timedelta(hours=1)):
        return make_incident(
            [service],
            priority=priority,
            detected_at=T0,
            updates=(State.INVESTIGATING, State.RESOLVED),
            **kwargs,
        )


def test_a_p3_closes_by_itself_24_hours_after_resolution(app):
    incident = resolved(make_service(make_agency()), 3)
    resolved_at = incident.resolved_at
    assert jobs.run_auto_close(resolved_at + timedelta(hours=23, minutes=59))["closed"] == 0
    assert jobs.run_auto_close(resolved_at + timedelta(hours=24))["closed"] == 1
    db.session.refresh(incident)
    assert incident.state == "closed" and incident.closed_at == resolved_at + timedelta(hours=24)
    assert jobs.run_auto_close(resolved_at + timedelta(hours=25)) == {
        "closed": 0,
        "requested": 0,
        "blocked": 0,
    }


def test_a_p1_asks_its_service_owner_instead_of_closing(app):
    incident = resolved(make_service(make_agency()), 1)
    outcome = jobs.run_auto_close(incident.resolved_at + timedelta(hours=24))
    assert outcome["requested"] == 1
    db.session.refresh(incident)
    assert incident.state == "resolved"
    approval = db.session.scalars(select(Approval)).one()
    assert approval.kind == "closure" and approval.is_pending
    # Asking again is blocked while the request waits.
    assert jobs.run_auto_close(incident.resolved_at + timedelta(hours=30))["blocked"] == 1


def test_a_waiting_request_to_lower_the_priority_blocks_closing(app):
    agency = make_agency()
    service = make_service(agency)
    lead = make_user(agency, Role.COMMUNICATIONS_LEAD)
    incident = resolved(service, 2)
    with clock.pinned(T0 + timedelta(hours=2)):
        assert change_priority(incident, to=3, reason="Smaller than feared", by=lead) == "requested"
    assert jobs.run_auto_close(T0 + timedelta(days=3))["blocked"] == 1
    db.session.refresh(incident)
    assert incident.state == "resolved"
