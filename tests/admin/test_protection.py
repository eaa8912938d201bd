"""Every admin endpoint turns away strangers and staff of other agencies. The walks over every
endpoint and method are in test_permissions_walk.py; these are the particular cases."""

import pytest

from statuspage.users.models import Role
from tests.factories import login, make_agency, make_incident, make_service, make_user


def admin_routes(app):
    """(endpoint, methods, needs a ref) for every rule of the admin blueprint."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
            routes.append((rule.endpoint, methods, "ref" in rule.arguments, rule))
    return routes


@pytest.fixture
def setting(app):
    ours, theirs = make_agency(), make_agency()
    their_incident = make_incident([make_service(theirs)], priority=1)
    make_service(ours)
    return {
        "lead": make_user(ours, Role.COMMUNICATIONS_LEAD),
        "their_ref": their_incident.ref,
    }


def test_the_admin_has_the_routes_we_expect(app):
    endpoints = {endpoint for endpoint, *_ in admin_routes(app)}
    assert {
        "admin.login",
        "admin.logout",
        "admin.dashboard",
        "admin.new_incident",
        "admin.incident",
        "admin.post_update",
        "admin.post_priority",
        "admin.post_hide",
        "admin.post_scope",
    } <= endpoints


def test_the_dashboard_shows_only_the_users_own_agencies(client, setting):
    login(client, setting["lead"])
    html = client.get("/admin/").get_data(as_text=True)
    assert setting["their_ref"] not in html


def test_a_lead_cannot_log_an_incident_on_another_agencys_service(app, client, setting):
    from statuspage.extensions import db
    from statuspage.incidents.models import Incident

    theirs = db.session.scalars(db.select(Incident)).first().affected[0].service
    login(client, setting["lead"])
    response = client.post(
        "/admin/incidents/new",
        data={
            "title": "Sneaky",
            "priority": "2",
            "services": [str(theirs.id)],
            f"impact_{theirs.id}": "major_outage",
            "source": "staff",
            "detected_at": "2026-01-01T10:00",
        },
    )
    assert response.status_code == 400
    assert "Unknown service" in response.get_data(as_text=True)


def test_a_viewer_can_read_but_not_publish(client, app):
    agency = make_agency()
    incident = make_incident([make_service(agency)], priority=2)
    viewer = make_user(agency, Role.VIEWER)
    login(client, viewer)
    assert client.get(f"/admin/incidents/{incident.ref}").status_code == 200
    response = client.post(
        f"/admin/incidents/{incident.ref}/updates", data={"status": "resolved", "body": "x"}
    )
    assert response.status_code == 403
    assert client.get("/admin/incidents/new").status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/admin/templates",
        "/admin/templates/p1_initial",
        "/admin/jargon",
        "/admin/audit",
        "/admin/subscriptions",
        "/admin/outbox",
        "/admin/webhooks",
    ],
)
def test_site_administration_pages_are_refused_to_a_lead(client, setting, path):
    login(client, setting["lead"])
    assert client.get(path).status_code == 403
    assert client.post(
        path, data={"name": "x", "body": "y", "term": "a", "plainer": "b"}
    ).status_code in (403, 405)


def test_maintenance_of_another_agency_is_refused(client, setting):
    from datetime import timedelta

    from statuspage import clock
    from statuspage.catalog.models import Service
    from statuspage.extensions import db
    from statuspage.maintenance.operations import save_window

    theirs = db.session.scalars(db.select(Service)).first()
    window = save_window(
        None,
        title="Upgrade",
        description="",
        starts_at=clock.now() + timedelta(days=1),
        ends_at=clock.now() + timedelta(days=1, hours=2),
        services=[theirs],
        by=None,
    )
    login(client, setting["lead"])
    assert client.get(f"/admin/maintenance/{window.id}").status_code == 403
    assert client.post(f"/admin/maintenance/{window.id}/cancel").status_code == 403
