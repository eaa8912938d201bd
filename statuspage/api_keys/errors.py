"""Errors under /api/v1 in Statuspage's shape: ``{"error": "..."}`` with the HTTP status, never
an HTML page (a client written against Statuspage reads ``error``)."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..extensions import db

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1/"

# What each refusal says when the code raising it gave no better reason.
MESSAGES = {
    400: "The request could not be read.",
    401: "Could not authenticate: send an API key as 'Authorization: OAuth <key>'.",
    403: "This API key may not do that.",
    404: "The requested resource could not be found.",
    405: "That method is not allowed here.",
    409: "The same request is being answered already; try again in a moment.",
    413: "The request body is too large.",
    415: "Send the body as JSON (Content-Type: application/json).",
    422: "The request could not be processed.",
    429: "Too many requests for this API key; wait and try again.",
    500: "Something went wrong on our side; nothing was changed.",
    503: "The service is unavailable at the moment; try again shortly.",
}


def api_error(status: int, message: str | None = None, *, headers: dict | None = None) -> Response:
    """A Statuspage-shaped error response."""
    response = jsonify({"error": message or MESSAGES.get(status, "The request failed.")})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX) or request.path == API_PREFIX.rstrip("/")


def from_http_exception(error: HTTPException) -> Response:
    """An ``abort(...)`` or werkzeug refusal as JSON; an ``abort(response)`` passes through."""
    if error.response is not None:
        return error.response
    status = error.code or 500
    # werkzeug's default descriptions talk about browsers; ours talk to API clients. A reason
    # given to abort(status, "...") is kept.
    described = error.description if error.description != type(error).description else None
    headers = {}
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    return api_error(status, described, headers=headers)


def register_blueprint_handlers(blueprint) -> None:
    """JSON errors for the API blueprint's routed requests (they win over the app's HTML pages);
    called once, where the blueprint is made."""

    @blueprint.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return from_http_exception(error)

    # Flask asks handlers by status code before handlers by class, the app's before the
    # blueprint's class: the app's HTML page for a code (413 from a too-large body read by a
    # view) would win over the JSON above, so each code is also registered here.
    for code in MESSAGES:
        if code != 500:
            blueprint.register_error_handler(code, from_http_exception)

    @blueprint.errorhandler(OperationalError)
    def database_unavailable(error):
        log.error("database unavailable: %s", error)
        db.session.rollback()
        return api_error(503, headers={"Retry-After": "30"})

    @blueprint.errorhandler(InternalServerError)
    def server_error(error):
        return api_error(500)


def register_app_handlers(app: Flask) -> None:
    """A path under /api/v1 that exists with other methods is routed nowhere, so the blueprint's
    handlers are not asked: the app's 405 answers JSON there (its 404 page asks
    ``is_api_request`` the same way)."""

    @app.errorhandler(405)
    def method_not_allowed(error):
        if is_api_request():
            return from_http_exception(error)
        return error


def unrouted_not_found() -> Response:
    """The 404 for a path under /api/v1 that no route serves."""
    return api_error(404)


__all__ = [
    "api_error", "is_api_request", "register_app_handlers", "register_blueprint_handlers",
    "unrouted_not_found",
]  # fmt: skip
