"""Prometheus Alertmanager's webhook receiver: ``POST /api/v1/alertmanager`` with an API key of
scope "incidents" as a bearer token (``http_config.authorization`` in Alertmanager's config). A
firing group opens a draft incident (never public) on the services its labels name; repeats of
the group (its ``groupKey``) update that draft; a resolved group suggests resolution. The rules
are in statuspage/alerts; this view reads the body and answers.

Alertmanager retries a 5xx and gives up on a 4xx: a body we cannot use is refused with a 4xx
that says why (in the Alertmanager log), and nothing is changed."""

from __future__ import annotations

from flask import g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from ..alerts import operations, payload
from ..api_keys.auth import key_required
from ..api_keys.errors import api_error
from ..api_keys.idempotency import idempotent
from ..incidents.visibility import is_public
from . import api_v1


@api_v1.post("/alertmanager")
@key_required("incidents")
@idempotent
def alertmanager():
    try:
        body = request.get_json(force=True, silent=True)
    except RequestEntityTooLarge:  # the app's HTML page for 413 would otherwise answer
        return api_error(413)
    if body is None:
        return api_error(400, "Send Alertmanager's webhook notification as JSON.")
    try:
        note = payload.read(body)
        outcome = operations.receive(note, agency=g.agency, by=g.api_actor, raw=body)
    except payload.PayloadError as error:
        return api_error(400, str(error))
    except operations.AlertError as error:
        return api_error(422, str(error))
    incident = outcome.incident
    answer = {
        "group": {
            "status": outcome.group.status,
            "notifications": outcome.group.notifications,
            "suggested_priority": f"P{outcome.group.suggested_priority}",
            "suggestion": outcome.group.suggestion,
            "resolution_suggested": incident is not None
            and operations.suggests_resolution(outcome.group, incident),
        },
        "incident": None
        if incident is None
        else {
            "id": incident.ref,
            "name": incident.title,
            "status": incident.state,
            "priority": f"P{incident.priority}",
            "public": is_public(incident),
            "opened_now": outcome.opened,
        },
        "changed": outcome.changed,
    }
    return jsonify(answer), 201 if outcome.opened else 200
