"""Planned maintenance: announced ahead, blue while it runs, over when it ends."""

from datetime import timedelta

import pytest

from statuspage import clock, jobs
from statuspage.extensions import db
from statuspage.incidents.models import Impact
from statuspage.maintenance.operations import cancel_window, save_window
from tests.factories import make_agency, make_incident, make_service
from tests.public.test_pages import service_status


@pytest.fixture
def window(app, pinned_now):
    service = make_service(
        make_agency("Department of Revenue", "revenue"), "Tax filing", "tax-filing"
    )
    return save_window(
        None,
        title="Database upgrade",
        description="Filing will be off.",
        starts_at=pinned_now + timedelta(hours=2),
        ends_at=pinned_now + timedelta(hours=4),
        services=[service],
        by=None,
    )


def test_maintenance_is_announced_then_blue_then_over(client, window, pinned_now):
    page = client.get("/").text
    assert "Planned maintenance" in page and "Database upgrade" in page
    assert service_status(page, "Tax filing") == "Operational (green)"
    assert "Database upgrade" in client.get("/maintenance").text

    during = pinned_now + timedelta(hours=3)
    with clock.pinned(during):
        assert jobs.run_maintenance(during) == {"started": 1, "completed": 0}
        page = client.get("/").text
        assert service_status(page, "Tax filing") == "Under maintenance (blue)"
        assert "Happening now" in page and "Planned maintenance is in progress" in page
    db.session.refresh(window)
    assert window.status == "in_progress"

    after = pinned_now + timedelta(hours=4)
    with clock.pinned(after):
        assert jobs.run_maintenance(after) == {"started": 0, "completed": 1}
        assert jobs.run_maintenance(after) == {"started": 0, "completed": 0}
        assert service_status(client.get("/").text, "Tax filing") == "Operational (green)"
    db.session.refresh(window)
    assert window.status == "completed"


def test_an_outage_during_maintenance_outranks_it(client, window, pinned_now):
    during = pinned_now + timedelta(hours=3)
    with clock.pinned(during):
        make_incident({window.services[0]: Impact.MAJOR_OUTAGE}, priority=1)
        assert service_status(client.get("/").text, "Tax filing") == "Major outage (red)"


def test_a_cancelled_window_never_turns_blue(client, window, pinned_now):
    cancel_window(window, by=None)
    with clock.pinned(pinned_now + timedelta(hours=3)):
        assert service_status(client.get("/").text, "Tax filing") == "Operational (green)"
