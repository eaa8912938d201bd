"""Every admin endpoint turns away strangers and staff of other agencies."""

import pytest

from statuspage.users.models import Role
from tests.factories import login, make_agency, make_incident, make_service, make_user

# Endpoints a stranger may use: the way in.
OPEN_TO_STRANGERS = {
    "admin.login", "admin.forgot_password", "admin.password_reset_sent",
    "admin.reset_password_page", "admin.accept_invitation_page",
}  # fmt: skip


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


def build_path(rule, ref):
    """A URL for the rule with a value for each argument (the other agency's incident)."""
    samples = {"ref": ref, "key": "p1_initial", "term_id": 1, "approval_id": 1,
               "decision": "approve", "notification_id": 1, "webhook_id": 1,
               "window_id": 1, "report_id": 1, "agency_id": 1, "service_id": 1,
               "user_id": 1, "token": "x"}  # fmt: skip
    return rule.build({name: samples[name] for name in rule.arguments})[1]


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


def test_every_admin_url_sends_a_stranger_to_the_login_page(app, client, setting):
    checked = 0
    for endpoint, methods, _, rule in admin_routes(app):
        if endpoint in OPEN_TO_STRANGERS:
            continue
        path = build_path(rule, setting["their_ref"])
        for method in methods:
            response = client.open(path, method=method, data={"title": "x"})
            assert response.status_code == 302, (endpoint, method)
            assert response.headers["Location"].startswith("/admin/login?next="), (endpoint, method)
            checked += 1
    assert checked >= 8


def test_a_lead_of_one_agency_cannot_read_or_change_another_agencys_incident(app, client, setting):
    login(client, setting["lead"])
    checked = 0
    for endpoint, methods, needs_ref, rule in admin_routes(app):
        if not needs_ref:
            continue
        path = build_path(rule, setting["their_ref"])
        for method in methods:
            response = client.open(
                path,
                method=method,
                data={"status": "resolved", "body": "hijack", "priority": "4", "reason": "x"},
            )
            assert response.status_code == 403, (endpoint, method)
            checked += 1
    assert checked >= 4
    # Nothing changed: the incident is still open and P1 on the public page.
    html = client.get(f"/incidents/{setting['their_ref']}").get_data(as_text=True)
    assert "hijack" not in html and "Resolved" not in html


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
