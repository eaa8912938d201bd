"""A government-wide failure: an incident on a shared platform affects the services of other
agencies that depend on it, shows once on the public site with every agency, tells each agency's
owners, and counts in each agency's monthly figures, marked shared."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from statuspage import clock, jobs
from statuspage.catalog.dependencies import DependencyError, add_dependency
from statuspage.extensions import db
from statuspage.incidents.models import Impact, Incident, Source, State
from statuspage.incidents.operations import (
    IncidentRuleError,
    NewIncident,
    create_incident,
    publish_update,
)
from statuspage.internal.models import Contact
from statuspage.reports.monthly import compute
from statuspage.subscriptions import outbox
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_service, make_user

# Tuesday 10 November 2026, 10:00 AM EST; the report is for November, computed in December.
DETECTED = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port}


@pytest.fixture
def government(app):
    digital = make_agency("Government Digital Service", "digital")
    revenue = make_agency("Department of Revenue", "revenue")
    transport = make_agency("Department of Transport", "transport")
    identity = make_service(digital, "Digital identity", "identity", tier=1)
    filing = make_service(revenue, "Tax filing", "tax-filing", tier=1)
    licences = make_service(transport, "Driving licences", "licences", tier=2)
    add_dependency(filing, identity)
    add_dependency(licences, identity)
    owners = {slug: make_user(agency, Role.SERVICE_OWNER, email=f"owner@{slug}.gov")
              for slug, agency in (("digital", digital), ("revenue", revenue),
                                   ("transport", transport))}  # fmt: skip
    cdo = make_user(email="cdo@state.gov")
    db.session.add(Contact(agency_id=None, position="cdo", name="CDO", email="cdo@state.gov",
                           user_id=cdo.id, created_at=DETECTED))  # fmt: skip
    db.session.commit()
    return {"digital": digital, "identity": identity, "filing": filing, "licences": licences,
            "lead": make_user(digital, Role.COMMUNICATIONS_LEAD), "cdo": cdo,
            "owners": owners}  # fmt: skip


def platform_incident(government, coordinator="cdo") -> Incident:
    with clock.pinned(DETECTED):
        return create_incident(
            NewIncident(
                agency=government["digital"], title="Nobody can sign in to state services",
                priority=1, source=Source.MONITORING, detected_at=DETECTED,
                affected={government["identity"]: Impact.MAJOR_OUTAGE},
                coordinator=government[coordinator] if coordinator else None,
            ),
            by=government["lead"],
        )  # fmt: skip


def test_a_platform_p1_across_three_agencies(client, smtp, government):
    incident = platform_incident(government)
    assert incident.is_shared and incident.coordinator_id == government["cdo"].id
    assert {a.service.slug: a.impact for a in incident.affected} == {
        "identity": "major_outage", "tax-filing": "major_outage", "licences": "major_outage",
    }  # fmt: skip
    with clock.pinned(DETECTED + timedelta(minutes=5)):
        publish_update(incident, status=State.INVESTIGATING, body="Sign-in is down everywhere.",
                       by=government["lead"])  # fmt: skip
        jobs.run_notification_matrix()
        outbox.dispatch()
        front = client.get("/").get_data(as_text=True)
        revenue = client.get("/agencies/revenue").get_data(as_text=True)
        page = client.get(f"/incidents/{incident.ref}").get_data(as_text=True)
        summary = client.get("/api/v2/summary.json").get_json()
        transport_feed = client.get("/agencies/transport/feed.atom").get_data(as_text=True)

    # One public incident, shown once, with every affected agency.
    assert front.count(f'href="/incidents/{incident.ref}"') == 1
    assert [i["id"] for i in summary["incidents"]] == [incident.ref]
    assert incident.ref in revenue and "Sign-in is down everywhere." in transport_feed
    assert ("Shared platform: Government Digital Service, Department of Revenue, "
            "Department of Transport") in page  # fmt: skip
    # Every agency's owner is told at once (and the CDO, as the matrix says for a P1).
    told = {str(m["To"]) for m in smtp.messages}
    assert {"owner@digital.gov", "owner@revenue.gov", "owner@transport.gov",
            "cdo@state.gov"} <= told  # fmt: skip

    with clock.pinned(DETECTED + timedelta(hours=1)):
        publish_update(incident, status=State.RESOLVED, body="Fixed.", by=government["lead"])
    december = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    for agency in government["digital"], government["filing"].agency, government["licences"].agency:
        figures = compute(datetime(2026, 11, 1).date(), agency, december)
        assert figures["incidents"]["total"] == 1, agency.slug
        assert figures["incidents"]["shared"] == 1
        assert [n["ref"] for n in figures["notable"]] == [incident.ref]
        assert figures["notable"][0]["shared"] is True
    whole_site = compute(datetime(2026, 11, 1).date(), None, december)
    assert whole_site["incidents"]["total"] == 1  # once for the whole site


def test_a_platform_incident_without_a_coordinator_is_refused(government):
    with pytest.raises(IncidentRuleError, match="name its coordinator"):
        platform_incident(government, coordinator=None)
    db.session.rollback()
    with pytest.raises(IncidentRuleError, match="name its coordinator"):
        platform_incident(government, coordinator="lead")  # a lead cannot coordinate
    db.session.rollback()
    assert db.session.scalars(select(Incident)).all() == []


def test_a_dependency_cycle_is_refused(government):
    with pytest.raises(DependencyError, match="in a circle"):
        add_dependency(government["identity"], government["licences"])
    with pytest.raises(DependencyError, match="cannot depend on itself"):
        add_dependency(government["identity"], government["identity"])


def test_the_coordinator_may_work_the_incident_and_the_form_offers_them(client, government):
    incident = platform_incident(government)
    login(client, government["cdo"])
    assert client.get(f"/admin/incidents/{incident.ref}").status_code == 200
    client.post("/admin/logout")
    login(client, government["lead"])
    form = client.get("/admin/incidents/new").get_data(as_text=True)
    assert f'<option value="{government["cdo"].id}">' in form
