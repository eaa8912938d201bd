"""Statuspage's manage API v1 for an agency's page: components, incidents and their updates,
scheduled maintenance and postmortems. Thin views: read the request (statuspage_shapes), act
through the operations (commands), answer in Statuspage's JSON (queries). Every path also answers
with ``.json`` at its end, as Statuspage's does (clients use both)."""

from __future__ import annotations

import json

from flask import g, jsonify, request

from ..api_keys.auth import key_required
from ..api_keys.errors import api_error
from ..api_keys.idempotency import idempotent
from ..extensions import db
from . import api_v1, commands, pages, queries
from .commands import ApiRefusal
from .statuspage_shapes import (
    ShapeError,
    component_request,
    incident_request,
    nest_form,
    postmortem_draft,
    postmortem_publish_request,
    update_edit_request,
)


def route(rule: str, methods: list[str]):
    """The rule, and the same with ``.json`` (Statuspage answers both)."""

    def decorate(view):
        api_v1.add_url_rule(rule, view.__name__, view, methods=methods)
        api_v1.add_url_rule(rule + ".json", view.__name__, view, methods=methods)
        return view

    return decorate


# A's page views answer /pages and /pages/<page_id>; clients also ask with ".json".
api_v1.add_url_rule("/pages.json", "pages", pages.pages, methods=["GET"])
api_v1.add_url_rule("/pages/<page_id>.json", "page", pages.page, methods=["GET"])


@api_v1.errorhandler(ApiRefusal)
def refused(error: ApiRefusal):
    db.session.rollback()
    return api_error(error.status, error.message)


@api_v1.errorhandler(ShapeError)
def misshapen(error: ShapeError):
    return api_error(error.status, error.message)


def _payload():
    """The request body as Statuspage clients send it: JSON, or Rails-style form fields."""
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return nest_form(request.form.items(multi=True))
    data = request.get_data(cache=True)
    if not data.strip():
        return {}
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ShapeError("The body is not valid JSON.", 400) from None


def _need(scope: str) -> None:
    if not g.api_key.has_scopes(scope):
        raise ApiRefusal(403, f"This API key lacks the {scope} scope.")


def _page_number(name: str, default: int, highest: int) -> int:
    value = request.args.get(name, "")
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= highest:
        raise ShapeError(f"{name} must be a whole number from 1 to {highest}.", 400)
    return int(value)


# --- components ----------------------------------------------------------------------------------


@route("/pages/<page_id>/components", ["GET"])
@key_required("read")
def components(page_id: str):
    return jsonify(queries.components(g.agency))


def _component(component_id: str) -> dict:
    found = next((c for c in queries.components(g.agency) if c["id"] == component_id), None)
    if found is None:
        raise ApiRefusal(404, f"No component '{component_id[:80]}' on page '{g.agency.slug}'.")
    return found


@route("/pages/<page_id>/components/<component_id>", ["GET"])
@key_required("read")
def component(page_id: str, component_id: str):
    return jsonify(_component(component_id))


@route("/pages/<page_id>/components/<component_id>", ["PATCH", "PUT"])
@key_required("components")
def change_component(page_id: str, component_id: str):
    shown = _component(component_id)
    asked = component_request(_payload())
    changed = [k for k, v in asked.catalog.items() if k in shown and v != shown[k]]
    if changed:
        raise ApiRefusal(
            422, f"{', '.join(changed)}: a service's name and details are changed in the admin's "
            "catalog; through the API only its status.",
        )  # fmt: skip
    if asked.status is not None:
        service = next(s for s in g.agency.services if s.slug == component_id)
        commands.set_component_status(g.agency, service, asked.status, by=g.api_actor)
    return jsonify(_component(component_id))


# --- incidents and scheduled maintenance ---------------------------------------------------------


@route("/pages/<page_id>/incidents", ["GET"])
@key_required("read")
def incidents(page_id: str):
    limit = _page_number("limit", queries.PER_PAGE, queries.PER_PAGE)
    number = _page_number("page", 1, 10_000)
    per_page = _page_number("per_page", limit, queries.PER_PAGE)
    found = queries.incidents(g.agency, limit=per_page, page=number,
                              q=request.args.get("q", "")[:200])  # fmt: skip
    answer = queries.incidents_answer(found, g.agency)
    if number == 1:
        answer += queries.windows_answer(queries.windows(g.agency, "all"), g.agency)
    return jsonify(answer)


@route("/pages/<page_id>/incidents/unresolved", ["GET"])
@key_required("read")
def unresolved_incidents(page_id: str):
    found = queries.incidents(g.agency, unresolved=True)
    return jsonify(queries.incidents_answer(found, g.agency))


@route("/pages/<page_id>/incidents/<any(scheduled, upcoming, active_maintenance):which>", ["GET"])
@key_required("read")
def scheduled_incidents(page_id: str, which: str):
    found = queries.windows(g.agency, "active" if which == "active_maintenance" else which)
    return jsonify(queries.windows_answer(found, g.agency))


@route("/pages/<page_id>/incidents", ["POST"])
@key_required()
@idempotent
def create_incident(page_id: str):
    asked = incident_request(_payload())
    if asked.is_scheduled:
        _need("maintenance")
        window = commands.plan_maintenance(g.agency, asked, by=g.api_actor)
        return jsonify(queries.windows_answer([window], g.agency)[0]), 201
    _need("incidents")
    created = commands.open_incident(g.agency, asked, by=g.api_actor)
    return jsonify(queries.incident_answer(queries.incident(g.agency, created.ref), g.agency)), 201


def _incident_or_window(incident_id: str):
    found = queries.window(g.agency, incident_id) or queries.incident(g.agency, incident_id[:40])
    if found is None:
        raise ApiRefusal(404, f"No incident '{incident_id[:80]}' on page '{g.agency.slug}'.")
    return found


def _answer(found, status: int = 200):
    if isinstance(found, commands.MaintenanceWindow):
        return jsonify(queries.windows_answer([found], g.agency)[0]), status
    return jsonify(queries.incident_answer(found, g.agency)), status


@route("/pages/<page_id>/incidents/<incident_id>", ["GET"])
@key_required("read")
def incident(page_id: str, incident_id: str):
    return _answer(_incident_or_window(incident_id))


@route("/pages/<page_id>/incidents/<incident_id>", ["PATCH", "PUT"])
@key_required()
def update_incident(page_id: str, incident_id: str):
    found = _incident_or_window(incident_id)
    asked = incident_request(_payload())
    if isinstance(found, commands.MaintenanceWindow):
        _need("maintenance")
        commands.change_maintenance(found, asked, by=g.api_actor)
        return _answer(queries.window(g.agency, incident_id))
    _need("incidents")
    outcome = commands.update_incident(found, asked, by=g.api_actor)
    answer = queries.incident_answer(queries.incident(g.agency, found.ref), g.agency)
    if outcome.waiting_for:
        # Done except the priority: lowering it waits for the approver the policy names.
        answer["approval"] = {
            "status": "pending", "request": outcome.requested, "approver": outcome.waiting_for,
            "message": f"Asked to {outcome.requested}: this waits for {outcome.waiting_for}'s "
            "approval in the admin.",
        }  # fmt: skip
        return jsonify(answer), 202
    return jsonify(answer)


@route("/pages/<page_id>/incidents/<incident_id>", ["DELETE"])
@key_required()
def delete_incident(page_id: str, incident_id: str):
    found = _incident_or_window(incident_id)
    if isinstance(found, commands.MaintenanceWindow):
        _need("maintenance")
        commands.cancel_maintenance(found, by=g.api_actor)
        return _answer(queries.window(g.agency, incident_id))
    _need("incidents")
    raise ApiRefusal(
        409, f"{found.ref} cannot be deleted: incidents stay on the record (history, monthly "
        "reports, audit). Resolve it (PATCH with status resolved and a body); a lead closes it "
        "in the admin, with the approval the policy asks for.",
    )  # fmt: skip


# --- incident updates ----------------------------------------------------------------------------


def _update(incident_id: str, update_id: str):
    found = _incident_or_window(incident_id)
    if isinstance(found, commands.MaintenanceWindow):
        updates = queries.windows_answer([found], g.agency)[0]["incident_updates"]
        shown = next((u for u in updates if u["id"] == update_id), None)
    else:
        answer = queries.incident_answer(found, g.agency)
        shown = next((u for u in answer["incident_updates"] if u["id"] == update_id), None)
    if shown is None:
        raise ApiRefusal(404, f"No incident update '{update_id[:80]}' on {incident_id[:40]}.")
    return found, shown


@route("/pages/<page_id>/incidents/<incident_id>/incident_updates/<update_id>", ["GET"])
@key_required("read")
def incident_update(page_id: str, incident_id: str, update_id: str):
    return jsonify(_update(incident_id, update_id)[1])


@route("/pages/<page_id>/incidents/<incident_id>/incident_updates/<update_id>", ["PATCH", "PUT"])
@key_required("incidents")
def change_incident_update(page_id: str, incident_id: str, update_id: str):
    _found, shown = _update(incident_id, update_id)
    asked = update_edit_request(_payload())
    if asked.body is not None and asked.body.strip() != shown["body"]:
        what = "subscribers have it already" if shown["deliver_notifications"] else "it is kept"
        raise ApiRefusal(
            409, f"A published update is never changed ({what}, as it was sent). Post a new "
            "update to correct it: PATCH the incident with a body.",
        )  # fmt: skip
    return jsonify(shown)


# --- postmortem ----------------------------------------------------------------------------------


def _incident_only(incident_id: str):
    found = _incident_or_window(incident_id)
    if isinstance(found, commands.MaintenanceWindow):
        raise ApiRefusal(404, "A scheduled maintenance has no postmortem.")
    return found


@route("/pages/<page_id>/incidents/<incident_id>/postmortem", ["GET"])
@key_required("read")
def postmortem(page_id: str, incident_id: str):
    return jsonify(queries.postmortem_answer(_incident_only(incident_id)))


@route("/pages/<page_id>/incidents/<incident_id>/postmortem", ["PUT"])
@key_required("incidents")
def save_postmortem(page_id: str, incident_id: str):
    found = _incident_only(incident_id)
    body = postmortem_draft(_payload())
    commands.save_postmortem(found, body, by=g.api_actor)
    return jsonify(queries.postmortem_answer(queries.incident(g.agency, found.ref)))


@route("/pages/<page_id>/incidents/<incident_id>/postmortem/publish", ["PUT"])
@key_required("incidents")
def publish_postmortem(page_id: str, incident_id: str):
    found = _incident_only(incident_id)
    postmortem_publish_request(_payload())  # checked; subscribers are told as the policy says
    commands.publish_postmortem(found, by=g.api_actor)
    return jsonify(queries.postmortem_answer(queries.incident(g.agency, found.ref)))
