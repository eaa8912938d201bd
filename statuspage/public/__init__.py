"""The public site: what citizens see. Read-only, no JavaScript needed."""

from flask import Blueprint

public = Blueprint("public", __name__)

from . import api, feeds, routes, subscriptions  # noqa: E402,F401
