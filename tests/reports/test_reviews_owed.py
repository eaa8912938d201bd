"""Every P1 has a review: an incident that was P1 at any time owes one on the admin dashboard,
even when its priority was lowered (with a service manager's approval) before it was resolved."""

from datetime import timedelta

import pytest

from statuspage.incidents.models import State
from statuspage.incidents.operations import change_priority, publish_update
from statuspage.reports.reviews import outstanding_reviews
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_incident, make_service, make_user


@pytest.fixture
def team(app, pinned_now):
    agency = make_agency("Department of Revenue", "revenue")
    return {
        "now": pinned_now,
        "agency": agency,
        "service": make_service(agency, "Tax filing", "tax-filing"),
        "lead": make_user(agency, Role.COMMUNICATIONS_LEAD),
        "manager": make_user(agency, Role.SERVICE_MANAGER),
    }


def lowered_and_resolved(team, first: int, lowered_to: int):
    """Logged an hour ago (1:30 PM EST), lowered now with approval, then resolved."""
    incident = make_incident(
        [team["service"]],
        priority=first,
        detected_at=team["now"] - timedelta(hours=1),
        updates=(State.INVESTIGATING,),
        by=team["lead"],
    )
    assert (
        change_priority(incident, to=lowered_to, reason="Only one office", by=team["manager"])
        == "lowered"
    )
    publish_update(incident, status=State.RESOLVED, body="Tax filing works again.", by=team["lead"])
    return incident


@pytest.mark.parametrize(
    ("first", "lowered_to", "reasons", "due_in"),
    [
        (1, 3, ["mandatory: it was P1 from 23 Nov 2026, 1:30 PM EST"], timedelta(hours=48)),
        (1, 2, ["mandatory: it was P1 from 23 Nov 2026, 1:30 PM EST"], timedelta(hours=48)),
        (2, 3, None, None),  # never P1, resolved in time: nothing owed
    ],
)
def test_an_incident_that_was_ever_p1_is_listed_as_owing_a_review(
    team, pinned_now, first, lowered_to, reasons, due_in
):
    incident = lowered_and_resolved(team, first, lowered_to)
    assert incident.priority == lowered_to and incident.resolved_at == pinned_now
    owed = {item.incident.id: item for item in outstanding_reviews([team["agency"].id], pinned_now)}
    if reasons is None:
        assert incident.id not in owed
    else:
        assert owed[incident.id].need.reasons == reasons
        assert owed[incident.id].need.due == pinned_now + due_in


def test_the_dashboard_says_why_a_lowered_p1_owes_a_review(client, team):
    incident = lowered_and_resolved(team, 1, 3)
    login(client, team["lead"])
    page = client.get("/admin/").text
    section = page[page.index("Post-incident reviews owed") :]
    assert incident.ref in section
    assert "mandatory: it was P1 from 23 Nov 2026, 1:30 PM EST" in section
