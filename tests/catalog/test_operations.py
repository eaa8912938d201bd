"""Agencies and services change only through operations that check them and audit before/after."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from statuspage import clock
from statuspage.audit import AuditEntry
from statuspage.catalog.operations import (
    AgencyDetails,
    CatalogError,
    ServiceDetails,
    create_agency,
    create_service,
    platforms_of,
    update_agency,
    update_service,
)
from statuspage.extensions import db
from statuspage.incidents.models import Impact, Source, State
from statuspage.incidents.operations import NewIncident, create_incident, publish_update
from statuspage.maintenance.operations import save_window
from statuspage.users.models import Role
from tests.factories import make_agency, make_incident, make_service, make_user


def entries(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    ))  # fmt: skip


def details_of(entry: AuditEntry) -> dict:
    return json.loads(entry.details)


@pytest.fixture
def admin(app):
    return make_user(site_admin=True)


def service_details(**overrides) -> ServiceDetails:
    values = dict(name="Tax filing", slug="tax-filing", tier=1)
    values.update(overrides)
    return ServiceDetails(**values)


def test_creating_an_agency_records_who_and_every_value(admin):
    agency = create_agency(
        AgencyDetails("Department of Revenue", "revenue", "Taxes and refunds.", 3, "#Revenue"),
        by=admin,
    )
    [entry] = entries("agency_created")
    assert entry.actor_id == admin.id and entry.agency_id == agency.id
    assert details_of(entry) == {
        "name": "Department of Revenue", "slug": "revenue", "description": "Taxes and refunds.",
        "display_order": 3, "hashtags": "#Revenue",
    }  # fmt: skip


def test_editing_an_agency_records_each_change_before_and_after(admin):
    agency = make_agency("Revenue", "revenue")
    changed = update_agency(
        agency, AgencyDetails("Department of Revenue", "revenue", "Taxes.", agency.display_order),
        by=admin,
    )  # fmt: skip
    assert changed == {"name": ["Revenue", "Department of Revenue"], "description": ["", "Taxes."]}
    [entry] = entries("agency_changed")
    assert details_of(entry)["changes"] == changed
    assert ("name", "Revenue", "Department of Revenue") in entry.change_items


def test_saving_an_agency_unchanged_records_nothing(admin):
    agency = make_agency("Revenue", "revenue")
    same = AgencyDetails(agency.name, agency.slug, agency.description, agency.display_order)
    assert update_agency(agency, same, by=admin) == {}
    assert entries("agency_changed") == []


@pytest.mark.parametrize(
    "slug, message",
    [
        ("Revenue", "lower-case letters"),
        ("tax--filing", "single hyphens"),
        ("-revenue", "lower-case letters"),
        ("all", "taken by the public site"),
        ("health", "Another agency has the address /agencies/health"),
    ],
)
def test_an_agency_slug_must_be_a_free_url_word(admin, slug, message):
    make_agency("Health", "health")
    with pytest.raises(CatalogError, match=message) as refused:
        create_agency(AgencyDetails("Revenue", slug), by=admin)
    assert refused.value.field == "slug"
    assert entries("agency_created") == []


def test_two_agencies_cannot_share_a_name(admin):
    make_agency("Department of Health", "health")
    with pytest.raises(CatalogError, match="Another agency is called") as refused:
        create_agency(AgencyDetails("department of health", "health-2"), by=admin)
    assert refused.value.field == "name"


def test_an_agency_without_public_history_may_change_its_address(admin):
    agency = make_agency("Revenue", "revenue")
    make_service(agency)
    update_agency(agency, AgencyDetails("Revenue", "tax-office"), by=admin)
    assert agency.slug == "tax-office"


def test_an_agency_with_a_public_incident_keeps_its_address(admin):
    agency = make_agency("Revenue", "revenue")
    make_incident([make_service(agency)], priority=2)  # public with its first update
    with pytest.raises(CatalogError, match="cannot change: the agency has public history"):
        update_agency(agency, AgencyDetails("Revenue", "tax-office"), by=admin)
    db.session.rollback()
    assert agency.slug == "revenue"
    # The name may still change.
    update_agency(agency, AgencyDetails("Tax Office", "revenue"), by=admin)
    assert agency.name == "Tax Office"


def test_a_private_incident_is_not_public_history(admin):
    agency = make_agency("Revenue", "revenue")
    make_incident([make_service(agency)], priority=4)  # a P4 is never public
    update_agency(agency, AgencyDetails("Revenue", "tax-office"), by=admin)
    assert agency.slug == "tax-office"


def test_an_agency_whose_service_was_hit_by_a_shared_platform_keeps_its_address(admin):
    platform_agency, agency = make_agency(), make_agency("Motor Vehicles", "dmv")
    platform = make_service(platform_agency)
    create_service(agency, service_details(depends_on=[platform]), by=admin)
    # The platform's incident adds the dependent service of the other agency.
    incident = create_incident(NewIncident(
        agency=platform_agency, title="Payments down", priority=1, source=Source.MONITORING,
        detected_at=clock.now(), affected={platform: Impact.MAJOR_OUTAGE}, coordinator=admin,
    ), by=admin)  # fmt: skip
    publish_update(incident, status=State.INVESTIGATING, body="We are looking.", by=admin)
    assert agency.id in incident.agency_ids
    with pytest.raises(CatalogError, match="public history"):
        update_agency(agency, AgencyDetails("Motor Vehicles", "motor-vehicles"), by=admin)


def test_a_service_with_maintenance_keeps_its_address(admin):
    agency = make_agency()
    service = make_service(agency, "Tax filing", "tax-filing")
    tomorrow = clock.now() + timedelta(days=1)
    save_window(None, title="Upgrade", description="", starts_at=tomorrow,
                ends_at=tomorrow + timedelta(hours=1), services=[service], by=None)  # fmt: skip
    with pytest.raises(CatalogError, match="/services/tax-filing cannot change") as refused:
        update_service(service, service_details(slug="filing"), by=admin)
    assert refused.value.field == "slug"


def test_creating_a_service_records_its_values_and_platforms(admin):
    agency = make_agency("Revenue", "revenue")
    payments = make_service(agency, "Payments", "payments")
    service = create_service(
        agency,
        service_details(availability_target=99.95, group_name="Filing", depends_on=[payments]),
        by=admin,
    )
    assert [p.slug for p in platforms_of(service)] == ["payments"]
    [entry] = entries("service_created")
    assert entry.agency_id == agency.id
    assert details_of(entry) == {
        "agency": "revenue", "name": "Tax filing", "slug": "tax-filing", "tier": 1,
        "description": "", "availability_target": 99.95, "group_name": "Filing",
        "display_order": 0, "depends_on": ["payments"], "follows_monitoring": False,
    }  # fmt: skip


def test_editing_a_service_records_tier_target_and_platforms_before_and_after(admin):
    agency = make_agency()
    identity, payments = make_service(agency, slug="identity"), make_service(agency, slug="pay")
    service = create_service(agency, service_details(tier=2, depends_on=[identity]), by=admin)
    changed = update_service(
        service, service_details(tier=1, availability_target=99.9, depends_on=[payments]),
        by=admin,
    )  # fmt: skip
    assert changed == {"tier": [2, 1], "availability_target": [None, 99.9],
                       "depends_on": [["identity"], ["pay"]]}  # fmt: skip
    assert [p.slug for p in platforms_of(service)] == ["pay"]
    assert service.tier == 1 and service.target_availability == 99.9
    [entry] = entries("service_changed")
    assert details_of(entry) == {"service": "tax-filing", "changes": changed}
    assert ("depends on", "identity", "pay") in entry.change_items


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"tier": 5}, "tier", r"from 1 \(most critical\) to 4"),
        ({"availability_target": 0.0}, "availability_target", "above 0 and at most 100"),
        ({"availability_target": 100.5}, "availability_target", "above 0 and at most 100"),
        ({"name": "  "}, "name", "Enter the service's name."),
        ({"slug": "Tax Filing"}, "slug", "lower-case letters"),
    ],
)
def test_a_service_is_refused_with_the_field_named(admin, overrides, field, message):
    with pytest.raises(CatalogError, match=message) as refused:
        create_service(make_agency(), service_details(**overrides), by=admin)
    assert refused.value.field == field


def test_a_dependency_circle_is_refused_and_nothing_changes(admin):
    agency = make_agency()
    platform = make_service(agency, "Payments", "payments")
    service = create_service(agency, service_details(depends_on=[platform]), by=admin)
    with pytest.raises(CatalogError, match="cannot depend on itself in a circle") as refused:
        update_service(
            platform, service_details(name="Payments", slug="payments", depends_on=[service]),
            by=admin,
        )  # fmt: skip
    assert refused.value.field == "depends_on"
    db.session.rollback()
    assert platforms_of(platform) == []
    assert entries("service_changed") == []


def test_a_service_owner_is_recorded_as_the_actor(app):
    agency = make_agency()
    owner = make_user(agency, Role.SERVICE_OWNER)
    create_service(agency, service_details(), by=owner)
    assert entries("service_created")[0].actor_id == owner.id


def test_a_slug_taken_at_the_same_moment_is_refused_by_the_database(admin, monkeypatch):
    """Two admins saving one new slug at once both pass the check; the unique key stops one."""
    from statuspage.catalog import operations

    make_agency("Health", "health")
    monkeypatch.setattr(operations, "_check_agency", lambda details, agency: None)
    with pytest.raises(CatalogError, match="/agencies/health") as refused:
        create_agency(AgencyDetails("Health again", "health"), by=admin)
    assert refused.value.field == "slug"
    assert entries("agency_created") == []
