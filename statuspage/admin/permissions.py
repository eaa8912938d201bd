"""Who may do what in the admin, declared once on each view and enforced by the blueprint's guard.

Every admin view carries exactly one declaration, written just under its route::

    @admin.get("/policy")
    @allow.signed_in
    def policy_table(): ...

    @admin.post("/incidents/<ref>/updates")
    @allow.role(Role.COMMUNICATIONS_LEAD, incident="ref")
    def post_update(ref): found = g.incident ...

The guard (``admin.guard``) reads the declaration before the view runs: it sends strangers to the
sign-in page, then loads each object the declaration names from the URL's view arguments (404 for
an unknown one, 403 for one of an agency where the user lacks the role) and leaves it in ``g``
(``g.incident``, ``g.agency``...). Views read ``g`` and check nothing again. An admin endpoint
without a declaration stops ``create_app`` (``check_declarations``), and the guard refuses it if
one ever slips through."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, g
from flask_login import current_user
from sqlalchemy import select

from ..catalog.models import Agency, Service
from ..extensions import db
from ..incidents.models import Approval, Incident
from ..maintenance.models import MaintenanceWindow
from ..press.models import PressStatement
from ..reports.models import MonthlyReport
from ..users.models import Membership, Role, User

ATTRIBUTE = "admin_permission"  # where a declaration is recorded on the view function


class UndeclaredPermission(RuntimeError):
    """An admin endpoint says nothing about who may use it."""


# --- the objects a URL names, loaded and checked --------------------------------------------------
# kind -> function(value of the view argument, role) -> the object, or abort(404/403).


def _require(role: Role, agency_id: int) -> None:
    if not current_user.can(role, agency_id):
        abort(403)


def _incident(ref: str, role: Role) -> Incident:
    incident = db.session.scalars(select(Incident).where(Incident.ref == ref)).first()
    if incident is None:
        abort(404)
    if not (incident.is_shared and incident.coordinator_id == current_user.id):
        _require(role, incident.agency_id)  # a shared incident's coordinator may act on it
    return incident


def _approval(approval_id: int, role: Role) -> Approval:
    """One of the incident's approvals (the incident, declared before it, is already checked)."""
    approval = db.session.get(Approval, approval_id)
    if approval is None or approval.incident_id != g.incident.id:
        abort(404)
    return approval


def _statement(statement_id: int, role: Role) -> PressStatement:
    """One of the incident's media statements (the incident, declared before it, is checked)."""
    statement = db.session.get(PressStatement, statement_id)
    if statement is None or statement.incident_id != g.incident.id:
        abort(404)
    return statement


def _agency(agency_id: int, role: Role) -> Agency:
    agency = db.session.get(Agency, agency_id) or abort(404)
    _require(role, agency.id)
    return agency


def _service(service_id: int, role: Role) -> Service:
    service = db.session.get(Service, service_id) or abort(404)
    _require(role, service.agency_id)
    return service


def _window(window_id: int, role: Role) -> MaintenanceWindow:
    window = db.session.get(MaintenanceWindow, window_id) or abort(404)
    _require(role, window.agency_id)
    return window


def _monthly_report(report_id: int, role: Role) -> MonthlyReport:
    """An agency's report needs the role there; the whole site's report, a site administrator."""
    report = db.session.get(MonthlyReport, report_id) or abort(404)
    if report.agency_id is None:
        if not current_user.is_site_admin:
            abort(403)
    else:
        _require(role, report.agency_id)
    return report


def _person(user_id: int, role: Role) -> User:
    """Someone the signed-in user may see: 403 for one who holds the role nowhere, then 404 for
    anyone outside their agencies (whether or not the account exists)."""
    held = agency_ids_for(current_user, role)
    if not held and not current_user.is_site_admin:
        abort(403)
    person = db.session.get(User, user_id)
    if person is None or person.is_service_account:  # an API key's account is not a person
        abort(404)
    if current_user.is_site_admin:
        return person
    if person.is_site_admin or not {m.agency_id for m in person.memberships} & set(held):
        abort(404)
    return person


def _account(user_id: int, role: Role) -> User:
    """Someone whose whole account (every agency they work in) the signed-in user manages:
    deactivating or re-inviting touches them all."""
    person = _person(user_id, role)
    if not manages_whole_account(person, role):
        abort(403)
    return person


@dataclass(frozen=True)
class Kind:
    load: Callable[[Any, Role], Any]
    name: str  # the attribute of ``g`` the object is left in


KINDS: dict[str, Kind] = {
    "incident": Kind(_incident, "incident"),
    "approval": Kind(_approval, "approval"),
    "statement": Kind(_statement, "statement"),
    "agency": Kind(_agency, "agency"),
    "service": Kind(_service, "service"),
    "window": Kind(_window, "window"),
    "monthly_report": Kind(_monthly_report, "monthly_report"),
    "person": Kind(_person, "person"),
    "account": Kind(_account, "person"),
}
# An approval or a media statement is looked up within its incident.
NEEDS_BEFORE = {"approval": "incident", "statement": "incident"}


# --- declarations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Permission:
    """What an endpoint requires. Used as a decorator, it records itself on the view."""

    sign_in: bool = True
    site_admin: bool = False
    role: Role | None = None
    any_agency: bool = False  # the role in at least one agency; g.agency_ids lists them
    subjects: tuple[tuple[str, str], ...] = ()  # (kind, view argument), loaded in this order

    def __call__(self, view: Callable) -> Callable:
        if getattr(view, ATTRIBUTE, None) not in (None, self):
            raise ValueError(f"{view.__name__} declares its permission twice")
        setattr(view, ATTRIBUTE, self)
        return view

    def enforce(self, view_args: dict[str, Any]) -> None:
        """Abort with 403 or 404 unless the signed-in user may go on; load what the URL names."""
        if self.site_admin and not current_user.is_site_admin:
            abort(403)
        if self.any_agency:
            g.agency_ids = agency_ids_for(current_user, self.role)
            if not g.agency_ids and not current_user.is_site_admin:
                abort(403)
        for kind, argument in self.subjects:
            if argument in view_args:  # one view may serve a URL without it (e.g. "new")
                setattr(g, KINDS[kind].name, KINDS[kind].load(view_args[argument], self.role))
            else:
                setattr(g, KINDS[kind].name, None)

    def describe(self) -> str:
        if not self.sign_in:
            return "open"
        if self.site_admin:
            return "site administrators"
        if self.role is None:
            return "signed in"
        where = [f"{kind} from <{argument}>" for kind, argument in self.subjects]
        if self.any_agency:
            where.append("any agency")
        return f"{self.role.label.lower()} ({', '.join(where)})"


class _Allow:
    """The declarations: ``@allow.open``, ``@allow.signed_in``, ``@allow.site_admin`` and
    ``@allow.role(Role.X, incident="ref")`` (or agency=, service=, window=, monthly_report=,
    person=, account=, approval=, statement=; any_agency=True for a page of lists filtered by
    agency)."""

    open = Permission(sign_in=False)
    signed_in = Permission()
    site_admin = Permission(site_admin=True)

    @staticmethod
    def role(role: Role, *, any_agency: bool = False, **subjects: str) -> Permission:
        for kind in subjects:
            if kind not in KINDS:
                raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
            before = NEEDS_BEFORE.get(kind)
            if before and (before not in subjects or list(subjects).index(before) >
                           list(subjects).index(kind)):  # fmt: skip
                raise ValueError(f"{kind}= needs {before}= before it")
        if not subjects and not any_agency:
            raise ValueError("say where the role is needed: an object from the URL, or any_agency")
        return Permission(role=Role(role), any_agency=any_agency, subjects=tuple(subjects.items()))


allow = _Allow()


def declared(view: Callable) -> Permission | None:
    return getattr(view, ATTRIBUTE, None)


def check_declarations(app, blueprint: str) -> None:
    """Every endpoint of the blueprint declares its permission, naming only arguments its URLs
    have; otherwise the app does not start."""
    problems = []
    arguments: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(blueprint + "."):
            arguments.setdefault(rule.endpoint, set()).update(rule.arguments)
    for endpoint, names in sorted(arguments.items()):
        permission = declared(app.view_functions[endpoint])
        if permission is None:
            problems.append(
                f"{endpoint} declares no permission: add @allow.open, @allow.signed_in, "
                "@allow.site_admin or @allow.role(...) under its route "
                "(from .permissions import allow)"
            )
            continue
        for kind, argument in permission.subjects:
            if argument not in names:
                problems.append(f"{endpoint} loads {kind} from <{argument}>, which its URL lacks")
    if problems:
        raise UndeclaredPermission("; ".join(problems))


# --- queries for the pages that list what a user may see ------------------------------------------


def agency_ids_for(user: User, role: Role) -> list[int]:
    """The agencies in which the user holds at least ``role``."""
    if user.is_site_admin:
        return list(db.session.scalars(select(Agency.id)))
    return [m.agency_id for m in user.memberships if m.role >= role]


def manages_whole_account(person: User, role: Role = Role.SERVICE_OWNER) -> bool:
    """Whether the signed-in user holds ``role`` in every agency the person works in."""
    if current_user.is_site_admin:
        return True
    held = set(agency_ids_for(current_user, role))
    return not person.is_site_admin and {m.agency_id for m in person.memberships} <= held


def people_with(role: Role, agency_id: int) -> list[User]:
    """Active users holding at least ``role`` in the agency, and site administrators."""
    return list(
        db.session.scalars(
            select(User)
            .outerjoin(Membership, Membership.user_id == User.id)
            .where(
                User.active.is_(True),
                User.is_service_account.is_(False),
                User.is_site_admin.is_(True)
                | ((Membership.agency_id == agency_id) & (Membership.role >= int(role))),
            )
            .distinct()
            .order_by(User.name, User.id)
        )
    )


def services_for(user: User, role: Role) -> list[Service]:
    """The services of every agency in which the user holds at least ``role``."""
    return list(
        db.session.scalars(
            select(Service)
            .join(Agency)
            .where(Service.agency_id.in_(agency_ids_for(user, role)))
            .order_by(Agency.display_order, Service.display_order, Service.name)
        )
    )
