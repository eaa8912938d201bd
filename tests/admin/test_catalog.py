"""The agency and service screens: site administrators edit every agency and service, service
owners their own agency's services only; each change is audited with what it was before."""

import re
from html import unescape

import pytest
from flask import url_for
from sqlalchemy import select

from statuspage.audit import AuditEntry
from statuspage.catalog.models import Agency, Service
from statuspage.catalog.operations import platforms_of
from statuspage.extensions import db
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_incident, make_service, make_user

CATALOG_ENDPOINTS = {"admin.agencies", "admin.new_agency", "admin.edit_agency",
                     "admin.services", "admin.new_service", "admin.edit_service"}  # fmt: skip


@pytest.fixture
def world(app):
    ours, theirs = make_agency("Department of Revenue", "revenue"), make_agency("Health", "health")
    return {
        "ours": ours,
        "theirs": theirs,
        "filing": make_service(ours, "Tax filing", "tax-filing", tier=2),
        "clinics": make_service(theirs, "Clinic bookings", "clinics"),
        "admin": make_user(site_admin=True),
        "owner": make_user(ours, Role.SERVICE_OWNER),
    }


def agency_form(**overrides):
    data = {"name": "Department of Transport", "slug": "transport",
            "description": "Roads and licences.", "display_order": "5"}  # fmt: skip
    data.update(overrides)
    return data


def service_form(world, **overrides):
    data = {"agency": str(world["ours"].id), "name": "Refunds", "slug": "refunds", "tier": "1",
            "availability_target": "99.95%", "group_name": "Payments",
            "description": "Where your refund is.", "display_order": "2"}  # fmt: skip
    data.update(overrides)
    return data


def audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def page(response) -> str:
    return unescape(response.get_data(as_text=True))


def error_link(field: str, message: str, html: str) -> bool:
    """The error summary names the field: a link to it whose words hold the message."""
    return any(message in text for text in re.findall(f'<a href="#{field}">([^<]*)</a>', html))


# --- agencies ----------------------------------------------------------------------------------


def test_a_site_admin_adds_an_agency_and_its_public_page_exists(client, world):
    login(client, world["admin"])
    response = client.post("/admin/agencies/new", data=agency_form())
    assert response.status_code == 302 and response.headers["Location"] == "/admin/agencies"
    agency = db.session.scalars(select(Agency).where(Agency.slug == "transport")).one()
    assert (agency.name, agency.description, agency.display_order) == (
        "Department of Transport", "Roads and licences.", 5)  # fmt: skip
    assert "Department of Transport" in page(client.get("/admin/agencies"))
    public = page(client.get("/agencies/transport"))
    assert "Department of Transport" in public and "Roads and licences." in public
    [entry] = audit("agency_created")
    assert entry.actor_id == world["admin"].id


def test_an_agency_form_with_bad_input_keeps_what_was_typed_and_names_the_field(client, world):
    login(client, world["admin"])
    response = client.post(
        "/admin/agencies/new", data=agency_form(slug="Road Works!", display_order="soon")
    )
    assert response.status_code == 400
    html = page(response)
    assert 'value="Department of Transport"' in html and 'value="Road Works!"' in html
    assert 'value="soon"' in html and "Roads and licences." in html
    assert error_link("slug", "Use lower-case letters", html)
    assert error_link("display_order", "Enter a whole number, for example 10.", html)
    assert db.session.scalar(select(Agency).where(Agency.name == "Department of Transport")) is None


def test_an_agency_form_refuses_control_characters_naming_the_field(client, world):
    login(client, world["admin"])
    response = client.post("/admin/agencies/new", data=agency_form(name="Trans\x07port"))
    assert response.status_code == 400
    assert "Remove the control character (U+0007) from the name." in page(response)
    assert audit("agency_created") == []


def test_editing_an_agency_shows_before_and_after_on_the_audit_page(client, world):
    login(client, world["admin"])
    agency = world["ours"]
    form = agency_form(name="Revenue Agency", slug="revenue", description="Taxes.")
    response = client.post(f"/admin/agencies/{agency.id}", data=form)
    assert response.status_code == 302
    db.session.refresh(agency)
    assert agency.name == "Revenue Agency"
    html = page(client.get("/admin/audit"))
    assert "Agency changed" in html
    assert "name: Department of Revenue → Revenue Agency" in html
    assert "display order: " in html and "→ 5" in html


def test_the_address_of_an_agency_with_public_history_is_refused_with_the_reason(client, world):
    make_incident([world["filing"]], priority=1)
    login(client, world["admin"])
    agency = world["ours"]
    form_page = page(client.get(f"/admin/agencies/{agency.id}"))
    assert "Its address is fixed" in form_page
    response = client.post(f"/admin/agencies/{agency.id}",
                           data=agency_form(name=agency.name, slug="tax-office"))  # fmt: skip
    assert response.status_code == 400
    html = page(response)
    assert "The address /agencies/revenue cannot change: the agency has public history" in html
    assert 'value="tax-office"' in html
    assert client.get("/agencies/revenue").status_code == 200


# --- services ----------------------------------------------------------------------------------


def test_a_service_owner_adds_a_service_to_their_agency(client, world):
    login(client, world["owner"])
    platform = world["clinics"]  # a platform may belong to another agency
    response = client.post(
        "/admin/services/new", data=service_form(world, depends_on=[str(platform.id)])
    )
    assert response.status_code == 302 and response.headers["Location"] == "/admin/services"
    service = db.session.scalars(select(Service).where(Service.slug == "refunds")).one()
    assert (service.agency_id, service.tier, service.availability_target, service.group_name) == (
        world["ours"].id, 1, 99.95, "Payments")  # fmt: skip
    assert platforms_of(service) == [platform]
    [entry] = audit("service_created")
    assert entry.actor_id == world["owner"].id and entry.agency_id == world["ours"].id
    listing = page(client.get("/admin/services"))
    assert "Refunds" in listing and "99.95%" in listing and "Clinic bookings" in listing
    assert "Where your refund is." in page(client.get("/services/refunds"))


def test_the_service_form_shows_the_policy_tier_targets(client, world):
    login(client, world["owner"])
    html = page(client.get("/admin/services/new"))
    assert "Tier 1, most critical (a P1 is to be resolved within 1 hour)" in html
    assert "Tier 2 (a P1 within 4 hours)" in html


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"tier": "7"}, "tier", "Choose a tier from 1 to 4."),
        ({"availability_target": "lots"}, "availability_target", "as a number, for example 99.9"),
        ({"availability_target": "nan"}, "availability_target", "as a number, for example 99.9"),
        ({"availability_target": "120"}, "availability_target", "above 0 and at most 100"),
        ({"slug": "tax-filing"}, "slug", "Another service has the address /services/tax-filing"),
        ({"name": ""}, "name", "Enter the service's name."),
        ({"depends_on": ["999999"]}, "depends_on", "Choose platforms from the list."),
        (
            {"description": "Call \x1b us"},
            "description",
            "Remove the control character (U+001B) from the public description.",
        ),
    ],
)
def test_a_service_form_with_bad_input_keeps_what_was_typed(client, world, overrides, field,
                                                             message):  # fmt: skip
    login(client, world["owner"])
    data = service_form(world, **overrides)
    response = client.post("/admin/services/new", data=data)
    assert response.status_code == 400
    html = page(response)
    assert error_link(field, message, html)
    assert 'value="refunds"' in html or field == "slug"
    if field != "availability_target":
        assert 'value="99.95%"' in html
    else:
        assert f'value="{data["availability_target"]}"' in html
    assert db.session.scalar(select(Service).where(Service.name == "Refunds")) is None


def test_editing_a_service_records_before_and_after(client, world):
    login(client, world["owner"])
    service = world["filing"]
    form = service_form(world, name="Tax filing", slug="tax-filing", tier="1",
                        availability_target="", group_name="", description="",
                        display_order="")  # fmt: skip
    del form["agency"]  # a service stays in its agency
    response = client.post(f"/admin/services/{service.id}", data=form)
    assert response.status_code == 302
    db.session.refresh(service)
    assert service.tier == 1
    [entry] = audit("service_changed")
    assert ("tier", "2", "1") in entry.change_items
    html = page(client.get("/admin/audit"))
    assert "tier: 2 → 1" in html


def test_a_service_cannot_depend_on_itself_in_a_circle(client, world):
    login(client, world["admin"])
    filing, clinics = world["filing"], world["clinics"]
    client.post(f"/admin/services/{clinics.id}", data=service_form(
        world, name="Clinic bookings", slug="clinics", depends_on=[str(filing.id)]))  # fmt: skip
    assert platforms_of(clinics) == [filing]
    response = client.post(f"/admin/services/{filing.id}", data=service_form(
        world, name="Tax filing", slug="tax-filing", depends_on=[str(clinics.id)]))  # fmt: skip
    assert response.status_code == 400
    assert "Clinic bookings already depends on Tax filing" in page(response)
    assert platforms_of(filing) == []


def test_the_services_page_lists_only_the_owners_agency(client, world):
    login(client, world["owner"])
    html = page(client.get("/admin/services"))
    assert "Tax filing" in html and "Clinic bookings" not in html
    assert 'href="/admin/services"' in html and 'href="/admin/agencies"' not in html


def test_a_service_manager_cannot_edit_services(client, world):
    login(client, make_user(world["ours"], Role.SERVICE_MANAGER))
    assert client.get("/admin/services").status_code == 403
    assert client.get(f"/admin/services/{world['filing'].id}").status_code == 403
    assert client.post("/admin/services/new", data=service_form(world)).status_code == 403


def test_an_unknown_service_or_agency_is_404(client, world):
    login(client, world["admin"])
    assert client.get("/admin/services/999999").status_code == 404
    assert client.get("/admin/agencies/999999").status_code == 404


def test_a_service_owner_is_turned_away_from_every_route_on_another_agency(app, client, world):
    """Every catalog route and method, with the other agency's ids: 403 (or, for a new service
    in the other agency, the agency is not among the choices) and nothing changes."""
    login(client, world["owner"])
    theirs, clinics = world["theirs"], world["clinics"]
    hostile = {**service_form(world, agency=str(theirs.id), name="Hijack", slug="hijack"),
               **agency_form(name="Hijack", slug="hijack")}  # fmt: skip
    checked = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in CATALOG_ENDPOINTS:
            continue
        with app.test_request_context():
            path = url_for(rule.endpoint, agency_id=theirs.id, service_id=clinics.id)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, data=hostile)
            if (rule.endpoint, method) in {("admin.services", "GET"), ("admin.new_service", "GET")}:
                assert response.status_code == 200  # their own agency's list and form
                assert "Clinic bookings" not in page(response).split('id="depends_on"')[0]
            elif (rule.endpoint, method) == ("admin.new_service", "POST"):
                assert response.status_code == 400
                assert "Choose an agency from the list." in page(response)
            else:
                assert response.status_code == 403, (rule.endpoint, method)
            checked.append((rule.endpoint, method))
    assert len(checked) == 10, checked
    assert db.session.scalar(select(Service).where(Service.name == "Hijack")) is None
    assert db.session.scalar(select(Agency).where(Agency.name == "Hijack")) is None
    assert (clinics.name, theirs.name) == ("Clinic bookings", "Health")
    assert db.session.scalars(select(AuditEntry)).all() == []
