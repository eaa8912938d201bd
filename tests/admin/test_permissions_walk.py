"""Permissions as structure: every admin endpoint declares who may use it, and walks over the URL
map prove, for every endpoint and every method, that a stranger is sent to sign in, that someone
holding every role in agency A reaches nothing of agency B, and that a viewer changes nothing.

The walks are generic: a new route is walked as soon as it exists. Each URL argument is filled
with a real object of agency B (ARGUMENTS below); a route with an argument the walk cannot fill
fails, naming it, until a sample is added here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import and_, not_, or_, select

from statuspage import clock
from statuspage.api_keys.operations import create_key
from statuspage.admin import GuardedBlueprint
from statuspage.admin.permissions import (
    Permission,
    UndeclaredPermission,
    allow,
    check_declarations,
    declared,
)
from statuspage.communications.models import JargonTerm
from statuspage.extensions import db
from statuspage.incidents.models import Approval
from statuspage.incidents.operations import change_priority
from statuspage.maintenance.operations import save_window
from statuspage.press.operations import start_statement
from statuspage.reports import reviews
from statuspage.reports.publishing import prepare_draft
from statuspage.social.models import SocialAccount
from statuspage.subscriptions.models import Notification, Webhook
from statuspage.users.models import Role
from tests.conftest import FreshContextClient
from tests.factories import PASSWORD, make_agency, make_incident, make_service, make_user

IGNORED_METHODS = {"HEAD", "OPTIONS"}
# Words only agency B's private objects carry: no page shown to anyone else may contain them.
SECRET = "Walrus-7Q"


@dataclass
class World:
    ours: int
    theirs: int
    service: int
    ref: str
    approval: int
    statement: int
    window: int
    monthly_report: int
    person: int
    person_email: str
    webhook: int
    notification: int
    term: int
    social_account: int
    theirs_slug: str
    owner_of_ours: str  # every role in agency A (a service owner can do all the others can)
    viewer_of_theirs: str
    secrets: tuple[str, ...]
    api_key: int = 0  # an API key of agency B's


@pytest.fixture
def world(app) -> World:
    ours, theirs = make_agency(), make_agency()
    make_service(ours)
    service = make_service(theirs)
    lead = make_user(theirs, Role.COMMUNICATIONS_LEAD, email="walrus.lead@theirs.example.gov")
    incident = make_incident([service], priority=2, title=f"{SECRET} incident", by=lead)
    assert change_priority(incident, to=4, reason=f"{SECRET} fewer", by=lead) == "requested"
    approval = db.session.scalars(select(Approval).where(Approval.incident_id == incident.id)).one()
    statement = start_statement(incident, by=lead)  # a media statement's draft
    reviews.start_review(incident, by=lead)
    now = clock.now()
    window = save_window(
        None, title=f"{SECRET} upgrade", description="", starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=2), services=[service], by=lead,
    )  # fmt: skip
    last_month = (now.date().replace(day=1) - timedelta(days=1)).replace(day=1)
    monthly = prepare_draft(date(last_month.year, last_month.month, 1), theirs)
    webhook = Webhook(
        name=f"{SECRET} partner", url="https://partner.example/hook", secret="s" * 32,
        agency_id=theirs.id, active=True, created_at=now,
    )  # fmt: skip
    db.session.add(webhook)
    db.session.flush()
    notification = Notification(
        channel="webhook", recipient_key=f"webhook:{webhook.id}", webhook_id=webhook.id,
        event="update", event_key=f"walk-{incident.id}", status="failed", attempts=5,
        next_attempt_at=now, created_at=now, last_error="refused",
    )  # fmt: skip
    term = JargonTerm(term="walrusism", plainer="plain words")
    social_account = SocialAccount(
        agency_id=theirs.id, network="mastodon", name=f"{SECRET} on Mastodon",
        base_url="https://social.example", secret="", enabled=True, created_at=now,
    )  # fmt: skip
    db.session.add_all([notification, term, social_account])
    db.session.commit()
    owner = make_user(ours, Role.SERVICE_OWNER)
    viewer = make_user(theirs, Role.VIEWER)
    their_key, _ = create_key(theirs, f"{SECRET} bot", {"read", "incidents"}, by=None)
    return World(
        api_key=their_key.id,
        ours=ours.id, theirs=theirs.id, theirs_slug=theirs.slug, service=service.id,
        ref=incident.ref,
        approval=approval.id, statement=statement.id, window=window.id,
        monthly_report=monthly.id, person=lead.id,
        person_email=lead.email, webhook=webhook.id, notification=notification.id, term=term.id,
        social_account=social_account.id,
        owner_of_ours=owner.email, viewer_of_theirs=viewer.email,
        secrets=(SECRET, incident.ref, lead.email),
    )  # fmt: skip


# URL argument -> the value naming agency B's object (or a site-wide one) of that kind.
ARGUMENTS = {
    "ref": lambda w: w.ref,  # an incident
    "approval_id": lambda w: w.approval,  # a pending approval of that incident
    "statement_id": lambda w: w.statement,  # a media statement's draft about that incident
    "decision": lambda w: "approve",
    "agency_id": lambda w: w.theirs,
    "service_id": lambda w: w.service,
    "window_id": lambda w: w.window,  # planned maintenance
    "report_id": lambda w: w.monthly_report,  # a monthly report (draft)
    "user_id": lambda w: w.person,  # a lead of agency B only
    "webhook_id": lambda w: w.webhook,  # agency B's partner
    "notification_id": lambda w: w.notification,  # a failed message to that partner
    "term_id": lambda w: w.term,  # jargon (site-wide)
    "account_id": lambda w: w.social_account,  # agency B's Mastodon account
    "api_key_id": lambda w: w.api_key,  # agency B's API key
    "key": lambda w: "p1_initial",  # an update template (site-wide)
    "token": lambda w: "not-a-real-link",  # a one-time link: open, refused when unreadable
    "slug": lambda w: w.theirs_slug,  # agency B (its quarterly review)
    "quarter": lambda w: "2026-Q3",
}
NAMES_NO_OBJECT = {"token", "quarter"}  # arguments that name nothing of an agency's


def hostile(w: World) -> dict:
    """Form data aimed at agency B: what a forged request would send to change B's things."""
    return {
        "title": "hijack", "body": "hijack", "status": "resolved", "priority": "4",
        "reason": "hijack", "message": "hijack", "note": "hijack", "outcome": "false_alarm",
        "duplicate_of": w.ref, "services": [str(w.service)], f"impact_{w.service}": "major_outage",
        "source": "staff", "detected_at": "2026-01-01T10:00", "agency": str(w.theirs),
        "scope": f"agency:{w.theirs}", "month": "2026-01", "name": "hijack",
        "email": "newcomer@elsewhere.example", "role": "service_owner", "site_admin": "yes",
        "slug": "hijack", "tier": "1", "term": "hijack", "plainer": "hijack",
        "url": "https://hijack.example/", "commentary": "hijack", "summary": "hijack",
        "kind": "note", "text": "hijack", "handover": "hijack", "paged": "hijack",
        "starts_at": "2030-01-01T10:00", "ends_at": "2030-01-01T12:00", "assignee": str(w.person),
        "password": "a brand new passphrase", "current_password": "wrong",
        "triage-outcome": "false_alarm", "triage-note": "hijack", "log-text": "hijack",
        "scope-title": "hijack", "hand-over-handover": "hijack", "war-room-paged": "hijack",
    }  # fmt: skip


# --- the URL map ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    rule: object
    permission: Permission

    @property
    def names_objects(self) -> bool:
        return bool(set(self.rule.arguments) - NAMES_NO_OBJECT)

    def __str__(self) -> str:
        return f"{self.method} {self.rule.rule} ({self.endpoint})"


def admin_routes(app) -> list[Route]:
    return [
        Route(rule.endpoint, method, rule, declared(app.view_functions[rule.endpoint]))
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule))
        if rule.endpoint.startswith("admin.")
        for method in sorted(rule.methods - IGNORED_METHODS)
    ]


class Unfillable(Exception):
    """A URL argument the walk has no sample for."""


def path_for(route: Route, w: World) -> str:
    missing = [name for name in route.rule.arguments if name not in ARGUMENTS]
    if missing:
        raise Unfillable(
            f"{route}: the walk cannot fill <{'>, <'.join(missing)}>; add a sample of agency B's "
            "to ARGUMENTS in tests/admin/test_permissions_walk.py"
        )
    return route.rule.build({name: ARGUMENTS[name](w) for name in route.rule.arguments})[1]


def walk(routes: list[Route], w: World, check, path=None) -> int:
    """Run ``check(route, path)`` for each route; every problem is reported at the end, each
    naming its route (an argument the walk cannot fill is one)."""
    problems, walked = [], 0
    for route in routes:
        try:
            check(route, (path or path_for)(route, w))
        except Unfillable as problem:
            problems.append(str(problem))
        except AssertionError as problem:
            problems.append(f"{route}: {problem}")
        except Exception as problem:  # a view that fails is a 500: report it with the rest
            problems.append(f"{route}: raised {problem!r}")
        else:
            walked += 1
    assert not problems, "\n".join(problems)
    return walked


# The public site's version number moves with any public change; the change itself is compared.
DERIVED = {"site_state"}


def snapshot(walker_email: str | None = None) -> dict:
    """Every row of every table, but the walker's own account (their sessions, their own
    account's audit entries): changing those is theirs to do."""
    db.session.rollback()  # see what the requests committed
    walker = None
    if walker_email is not None:
        users = db.metadata.tables["users"]
        walker = db.session.scalar(select(users.c.id).where(users.c.email == walker_email))
    state = {}
    for table in db.metadata.sorted_tables:
        if table.name in DERIVED:
            continue
        query = select(table).order_by(*table.primary_key.columns)
        if walker is not None:
            if table.name == "users":
                query = query.where(table.c.id != walker)
            elif "user_id" in table.c:
                query = query.where(or_(table.c.user_id.is_(None), table.c.user_id != walker))
            if "actor_id" in table.c and "agency_id" in table.c:
                query = query.where(not_(and_(table.c.actor_id == walker,
                                              table.c.agency_id.is_(None))))  # fmt: skip
        state[table.name] = db.session.execute(query).all()
    return state


def changed_tables(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def signed_in_client(app, email: str):
    app.test_client_class = FreshContextClient  # each request its own context, as in a server
    client = app.test_client()
    response = client.post("/admin/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, f"{email} could not sign in"
    return client


# --- (a) every endpoint declares its permission --------------------------------------------------


def test_every_admin_endpoint_declares_its_permission(app):
    undeclared = sorted({r.endpoint for r in admin_routes(app) if r.permission is None})
    assert undeclared == []
    assert len({r.endpoint for r in admin_routes(app)}) >= 66


def test_every_admin_url_can_be_filled_by_the_walk(app, world):
    walk(admin_routes(app), world, lambda route, path: None)


def test_an_endpoint_without_a_declaration_stops_the_app_from_starting():
    probe = GuardedBlueprint("probe", __name__)

    @probe.get("/declared")
    @allow.signed_in
    def declared_view():
        return ""

    @probe.get("/forgotten")
    def forgotten():
        return ""

    with pytest.raises(UndeclaredPermission, match=r"probe\.forgotten declares no permission"):
        Flask(__name__).register_blueprint(probe)


def test_a_declaration_naming_an_argument_the_url_lacks_stops_the_app_from_starting():
    probe = GuardedBlueprint("probe", __name__)

    @probe.get("/incidents/<ref>")
    @allow.role(Role.VIEWER, incident="reference")
    def typo(ref):
        return ""

    with pytest.raises(UndeclaredPermission, match=r"probe\.typo loads incident from <reference>"):
        Flask(__name__).register_blueprint(probe)


def test_declarations_say_where_a_role_is_needed():
    with pytest.raises(ValueError, match="say where"):
        allow.role(Role.VIEWER)
    with pytest.raises(ValueError, match="unknown kind"):
        allow.role(Role.VIEWER, incidnet="ref")
    with pytest.raises(ValueError, match="approval= needs incident= before it"):
        allow.role(Role.VIEWER, approval="approval_id")


def test_a_view_that_lost_its_declaration_is_refused_before_it_runs(app, client):
    ran = []

    def policy_table():
        ran.append(True)
        return "the policy"

    app.view_functions["admin.policy_table"] = policy_table
    with pytest.raises(UndeclaredPermission, match="admin.policy_table"):
        client.get("/admin/policy")
    assert ran == []
    check = pytest.raises(UndeclaredPermission, match="admin.policy_table declares no permission")
    with check:
        check_declarations(app, "admin")


# --- (b) strangers and the staff of another agency -----------------------------------------------


def test_a_stranger_is_sent_to_sign_in_from_every_admin_endpoint_and_method(app, client, world):
    def check(route: Route, path: str) -> None:
        before = snapshot()
        response = client.open(path, method=route.method, data=hostile(world))
        if not route.permission.sign_in:  # the way in
            assert response.status_code < 500
            return
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/admin/login?next=")
        assert changed_tables(before, snapshot()) == []

    assert walk(admin_routes(app), world, check) >= 82  # endpoints x methods, open ones too


def test_someone_with_every_role_in_one_agency_reaches_nothing_of_another(app, world):
    """Each endpoint and method, by a service owner of agency A with agency B's objects in the
    URL (and B's ids in the form): refused with 403 or 404 when the URL names B's objects; any
    other page shows nothing private of B's; nothing changes but the owner's own account."""
    refused = []

    def check(route: Route, path: str) -> None:
        client = signed_in_client(app, world.owner_of_ours)  # afresh: a route may sign out
        before = snapshot(world.owner_of_ours)
        response = client.open(path, method=route.method, data=hostile(world))
        if route.names_objects:
            assert response.status_code in (403, 404), response.status_code
            refused.append(route)
        else:
            assert response.status_code < 500, response.status_code
            page = response.get_data(as_text=True)
            assert [s for s in world.secrets if s in page] == [], "shows agency B's secrets"
        if route.permission.sign_in:  # an open endpoint (a reset link asked for) is anyone's
            assert changed_tables(before, snapshot(world.owner_of_ours)) == []

    assert walk(admin_routes(app), world, check) >= 82
    assert len(refused) >= 43


# --- (c) the role walk: a viewer changes nothing ------------------------------------------------


def admits_viewers(permission: Permission) -> bool:
    return permission.role in (None, Role.VIEWER) and not permission.site_admin


def test_a_viewer_cannot_change_anything_through_any_endpoint(app, world):
    """Every method but GET of every endpoint, by a viewer of agency B with B's objects: refused
    with 403 (or 404) unless the declaration admits viewers, and nothing changes either way
    but the viewer's own account."""

    def check(route: Route, path: str) -> None:
        client = signed_in_client(app, world.viewer_of_theirs)
        before = snapshot(world.viewer_of_theirs)
        response = client.open(path, method=route.method, data=hostile(world))
        if admits_viewers(route.permission):
            assert response.status_code < 500, response.status_code
        else:
            assert response.status_code in (403, 404), response.status_code
        if route.permission.sign_in:
            assert changed_tables(before, snapshot(world.viewer_of_theirs)) == []

    changing = [route for route in admin_routes(app) if route.method != "GET"]
    assert walk(changing, world, check) >= 50


def test_the_walks_cover_every_admin_endpoint_and_method(app):
    routes = admin_routes(app)
    assert {r.endpoint for r in routes} == {
        rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")
    }


# --- (d) the API at /api/v1: every route declares its key; the walks over its URL map ------------
# Each API endpoint declares the key it needs with ``key_required`` (statuspage/api_keys/auth.py);
# the app does not start without it. The walks: no key -> 401; a key of agency A with every scope,
# agency B's objects in the URL -> 404 (a page of A's: nothing of B's shown); a key of agency B
# lacking a scope the route needs -> 403. Nothing changes in any of them.

API_ARGUMENTS = {
    "page_id": lambda w: w.theirs_slug,  # agency B's page
    "component_id": lambda w: w.their_service_slug,
    "incident_id": lambda w: w.ref,
    "update_id": lambda w: str(_first_update_id(w.ref)),
    "which": lambda w: "scheduled",
}


def _first_update_id(ref: str) -> int:
    from statuspage.incidents.models import Incident, IncidentUpdate

    return db.session.scalar(
        select(IncidentUpdate.id).join(Incident).where(Incident.ref == ref).limit(1)
    )


ALL_SCOPES = ("read", "incidents", "maintenance", "components")


@dataclass(frozen=True)
class ApiRoute:
    endpoint: str
    method: str
    rule: object
    permission: object  # ApiPermission

    def __str__(self) -> str:
        return f"{self.method} {self.rule.rule} ({self.endpoint})"


def api_routes(app) -> list[ApiRoute]:
    from statuspage.api_keys.auth import declared as api_declared

    return [
        ApiRoute(rule.endpoint, method, rule, api_declared(app.view_functions[rule.endpoint]))
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule))
        if rule.endpoint.startswith("api_v1.")
        for method in sorted(rule.methods - IGNORED_METHODS)
    ]


@pytest.fixture
def api_world(world):
    from statuspage.catalog.models import Agency, Service

    ours, theirs = db.session.get(Agency, world.ours), db.session.get(Agency, world.theirs)
    owner = make_user(ours, Role.SERVICE_OWNER)
    _, our_key = create_key(ours, "Walker", set(ALL_SCOPES), by=owner)
    their_keys = {}
    for scope in ALL_SCOPES:  # for each scope, a key of B's with every other one
        others = set(ALL_SCOPES) - {scope}
        their_keys[scope] = create_key(theirs, f"No {scope}", others, by=owner_of(theirs))[1]
    world.theirs_slug = theirs.slug
    world.their_service_slug = db.session.get(Service, world.service).slug
    return world, our_key, their_keys


def owner_of(agency):
    return make_user(agency, Role.SERVICE_OWNER)


def api_path_for(route: ApiRoute, w) -> str:
    missing = [name for name in route.rule.arguments if name not in API_ARGUMENTS]
    if missing:
        raise Unfillable(
            f"{route}: the walk cannot fill <{'>, <'.join(missing)}>; add a sample of agency B's "
            "to API_ARGUMENTS in tests/admin/test_permissions_walk.py"
        )
    return route.rule.build({name: API_ARGUMENTS[name](w) for name in route.rule.arguments})[1]


def hostile_json(w) -> dict:
    """A body aimed at agency B's things, in the shapes Statuspage clients and Alertmanager send."""
    return {
        "incident": {"name": "hijack", "status": "resolved", "body": "hijack",
                     "component_ids": [str(w.service)], "components": {str(w.service): "major_outage"},
                     "impact_override": "critical", "deliver_notifications": True},
        "component": {"status": "major_outage", "name": "hijack"},
        "incident_update": {"body": "hijack"},
        "postmortem": {"body_draft": "hijack"},
        "version": "4", "status": "firing", "groupKey": "{}:{alertname=\"hijack\"}",
        "alerts": [{"status": "firing", "labels": {"alertname": "hijack", "agency": w.theirs_slug,
                    "service": w.their_service_slug, "severity": "critical"}}],
    }  # fmt: skip


def api_walk(routes, w, check) -> int:
    return walk(routes, w, check, path=api_path_for)


def api_snapshot() -> dict:
    """Every table but the keys' own rows (their last use moves when they are used)."""
    state = snapshot()
    state.pop("api_keys", None)
    return state


def test_every_api_endpoint_declares_its_key(app):
    routes = api_routes(app)
    assert [str(r) for r in routes if r.permission is None] == []
    assert {"api_v1.pages", "api_v1.page"} <= {r.endpoint for r in routes}


def test_an_api_endpoint_without_a_key_declaration_stops_the_app_from_starting():
    from statuspage.api_keys.auth import UndeclaredApiEndpoint, key_required
    from statuspage.api_v1 import KeyedBlueprint

    probe = KeyedBlueprint("probe_api", __name__)

    @probe.get("/declared")
    @key_required("read")
    def declared_view():
        return ""

    @probe.post("/forgotten")
    def forgotten():
        return ""

    with pytest.raises(UndeclaredApiEndpoint, match=r"probe_api\.forgotten declares no API key"):
        Flask(__name__).register_blueprint(probe)
    with pytest.raises(ValueError, match="unknown scope"):
        key_required("admin")


def test_every_api_endpoint_and_method_without_a_key_is_401(app, client, api_world):
    w, _, _ = api_world

    def check(route: ApiRoute, path: str) -> None:
        before = api_snapshot()
        response = client.open(path, method=route.method, json=hostile_json(w))
        assert response.status_code == 401, response.status_code
        assert "error" in response.get_json()
        assert changed_tables(before, api_snapshot()) == []

    assert api_walk(api_routes(app), w, check) >= 2


def test_a_key_of_one_agency_reaches_nothing_of_another_through_the_api(app, client, api_world):
    w, our_key, _ = api_world
    refused = []

    def check(route: ApiRoute, path: str) -> None:
        before = api_snapshot()
        response = client.open(path, method=route.method, json=hostile_json(w),
                               headers={"Authorization": f"OAuth {our_key}"})  # fmt: skip
        if "page_id" in route.rule.arguments:
            assert response.status_code == 404, response.status_code
            refused.append(route)
        else:
            assert response.status_code < 500, response.status_code
        page = response.get_data(as_text=True)
        assert [s for s in w.secrets if s in page] == [], "shows agency B's secrets"
        assert changed_tables(before, api_snapshot()) == []

    assert api_walk(api_routes(app), w, check) >= 2
    assert refused


def test_a_key_lacking_a_scope_is_refused_by_every_api_endpoint_needing_it(app, client, api_world):
    w, _, their_keys = api_world
    checked = []

    def check(route: ApiRoute, path: str) -> None:
        for scope in route.permission.scopes:
            before = api_snapshot()
            response = client.open(path, method=route.method, json=hostile_json(w),
                                   headers={"Authorization": f"OAuth {their_keys[scope]}"})  # fmt: skip
            assert response.status_code == 403, (scope, response.status_code)
            assert scope in response.get_json()["error"]
            assert changed_tables(before, api_snapshot()) == []
            checked.append(route)

    api_walk(api_routes(app), w, check)
    assert len(checked) >= 2
