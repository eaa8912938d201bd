"""The public site: what citizens see. Read-only, no JavaScript needed."""

from flask import Blueprint, current_app, request

from .canonical import canonical_args, canonical_url

public = Blueprint("public", __name__)

# Pages without forms that anyone may cache; the rest (subscribe, manage) stay private.
CACHEABLE = {
    "public.index", "public.agency", "public.service", "public.incident", "public.history",
    "public.maintenance", "public.feed", "public.agency_feed", "public.service_feed",
    "public.maintenance_calendar", "public.api_summary", "public.api_status",
    "public.api_components", "public.api_incidents", "public.api_unresolved_incidents",
    "public.api_maintenances", "public.api_upcoming_maintenances", "public.api_active_maintenances",
    "public.embed_script", "public.embed_frame", "public.incident_report", "public.reports_index",
    "public.monthly_report", "public.press", "public.agency_press", "public.press_statement",
    "public.service_embed_script", "public.service_embed_frame",
}  # fmt: skip


@public.after_request
def cache_headers(response):
    """ETag and 304 answers for the public pages, with Cache-Control a CDN can honour."""
    if request.endpoint not in CACHEABLE or request.method not in ("GET", "HEAD"):
        response.headers.setdefault("Cache-Control", "private, no-store")
        return response
    if response.status_code == 200 and not response.is_streamed:
        response.headers["Cache-Control"] = current_app.config["PUBLIC_CACHE_CONTROL"]
        response.add_etag()
        response.make_conditional(request)
    return response


@public.context_processor
def canonical_link():
    """The layout's `<link rel="canonical">`: this page without parameters it does not read."""
    return {"canonical_url": canonical_url(), "canonical_args": canonical_args}


from . import acknowledge, api, embed, feeds, reports, routes, subscriptions  # noqa: E402,F401
from . import press  # noqa: E402,F401
from . import sms  # noqa: E402,F401
