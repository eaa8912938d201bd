"""The embeddable banner for agency websites: a tiny script, or an iframe for pages without
JavaScript. No cookies, no requests to anyone else: the script carries its own data."""

from __future__ import annotations

from flask import Response, abort, render_template, url_for

from ..catalog.queries import agency_by_slug
from ..incidents import queries as incident_queries
from ..incidents.cadence import public_timing
from ..timefmt import format_absolute
from . import public


def _notices(slug: str) -> tuple[object, list[dict]]:
    agency = agency_by_slug(slug) or abort(404)
    incidents = incident_queries.open_public_incidents(agency_id=agency.id)
    return agency, [_notice(incident) for incident in incidents]


def _notice(incident) -> dict:
    timing = public_timing(incident)
    eta = timing.expected_resolution_at
    if eta is None:
        expected = ""
    elif timing.resolution_late:
        expected = f"Taking longer than expected (we hoped to fix it by {format_absolute(eta)})."
    else:
        expected = f"Expected to be fixed by {format_absolute(eta)}."
    return {
        "title": incident.title,
        "status": incident.state_enum.label,
        "expected": expected,
        "url": url_for("public.incident", ref=incident.ref, _external=True),
    }


@public.get("/embed/<slug>.js")
def embed_script(slug: str):
    agency, notices = _notices(slug)
    script = render_template(
        "public/embed.js",
        notices=notices,
        status_url=url_for("public.agency", slug=agency.slug, _external=True),
    )
    return Response(script, content_type="text/javascript; charset=utf-8")


@public.get("/embed/<slug>")
def embed_frame(slug: str):
    agency, notices = _notices(slug)
    response = Response(render_template("public/embed.html", agency=agency, notices=notices))
    # This page is made to be framed by agency websites.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors *; base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "ALLOWALL"
    return response
