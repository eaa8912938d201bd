"""The press page: media statements the agencies released, newest first, and each statement on
its own page. Per agency at /agencies/<slug>/press (a path, like the agency's feeds, so the static
export and any cache keep one file per address)."""

from __future__ import annotations

from flask import abort, render_template

from ..catalog.queries import agency_by_slug
from ..press import queries
from . import public


@public.get("/press")
def press():
    return render_template(
        "public/press/index.html",
        statements=queries.released_statements(),
        agencies=queries.agencies_with_statements(),
        agency=None,
    )


@public.get("/agencies/<slug>/press")
def agency_press(slug: str):
    agency = agency_by_slug(slug) or abort(404)
    return render_template(
        "public/press/index.html",
        statements=queries.released_statements(agency, limit=None),
        agencies=queries.agencies_with_statements(),
        agency=agency,
    )


@public.get("/press/<slug>")
def press_statement(slug: str):
    statement = queries.released_statement(slug) or abort(404)
    return render_template(
        "public/press/statement.html",
        statement=statement,
        correction=queries.correction_of(statement),
    )


@public.context_processor
def press_links():
    """The public incident page lists the statements released about it."""
    return {"press_statements_for": lambda incident: queries.released_for_incident(incident.id)}
