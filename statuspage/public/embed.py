"""The embeddable banner for agency websites, for a whole agency (`/embed/<slug>`, the address
first published) or one service (`/embed/services/<slug>`): a tiny script, or an iframe for pages
without JavaScript. No cookies, no requests to anyone else: the script carries its own data.

The banner takes the colour of the worst current impact on the agency's (or the service's) own
services (red for a major outage, yellow for degraded or partial, blue while maintenance runs),
always with the words and an icon shape too, and names maintenance in progress and planned
within EMBED_AHEAD."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask import Response, abort, render_template, url_for

from .. import clock
from ..catalog.queries import agency_by_slug, service_by_slug
from ..catalog.status import ServiceStatus, embed_headline, embed_status
from ..incidents import queries as incident_queries
from ..incidents.cadence import public_timing
from ..maintenance.queries import running_and_upcoming_windows
from ..timefmt import format_absolute
from . import public

EMBED_AHEAD = timedelta(days=7)  # planned maintenance the banner announces


@dataclass(frozen=True)
class EmbedBanner:
    name: str  # the agency's or the service's
    status: ServiceStatus
    status_url: str
    incidents: list[dict] = field(default_factory=list)
    running: list[dict] = field(default_factory=list)  # maintenance in progress
    upcoming: list[dict] = field(default_factory=list)  # maintenance planned within EMBED_AHEAD

    @property
    def headline(self) -> str:
        return embed_headline(self.status)

    @property
    def shows_anything(self) -> bool:
        """The script stays silent when all is well and nothing is planned."""
        return bool(self.incidents or self.running or self.upcoming)

    def data(self) -> dict:
        """What the script carries."""
        return {
            "status": self.status.value,
            "colour": self.status.colour,
            "icon": self.status.icon,
            "headline": self.headline,
            "name": self.name,
            "incidents": self.incidents,
            "running": self.running,
            "upcoming": self.upcoming,
            "status_url": self.status_url,
        }


def _banner(name: str, service_ids: set[int], incidents, status_url: str) -> EmbedBanner:
    now = clock.now()
    running, upcoming = running_and_upcoming_windows(now, EMBED_AHEAD)
    running = [w for w in running if service_ids & {s.id for s in w.services}]
    upcoming = [w for w in upcoming if service_ids & {s.id for s in w.services}]
    impacts = [
        item.impact_enum for incident in incidents for item in incident.affected
        if item.service_id in service_ids
    ]  # fmt: skip
    return EmbedBanner(
        name=name,
        status=embed_status(impacts, maintenance_running=bool(running)),
        status_url=status_url,
        incidents=[_incident_notice(incident, service_ids) for incident in incidents],
        running=[_window_notice(window, service_ids, running=True) for window in running],
        upcoming=[_window_notice(window, service_ids, running=False) for window in upcoming],
    )


def agency_banner(slug: str) -> EmbedBanner:
    agency = agency_by_slug(slug) or abort(404)
    return _banner(
        agency.name,
        {service.id for service in agency.services},
        incident_queries.open_public_incidents(agency_id=agency.id),
        url_for("public.agency", slug=agency.slug, _external=True),
    )


def service_banner(slug: str) -> EmbedBanner:
    service = service_by_slug(slug) or abort(404)
    return _banner(
        service.name,
        {service.id},
        incident_queries.open_public_incidents(service_id=service.id),
        url_for("public.service", slug=service.slug, _external=True),
    )


def _incident_notice(incident, service_ids: set[int]) -> dict:
    timing = public_timing(incident)
    eta = timing.expected_resolution_at
    if eta is None:
        expected = ""
    elif timing.resolution_late:
        expected = f"Taking longer than expected (we hoped to fix it by {format_absolute(eta)})."
    else:
        expected = f"Expected to be fixed by {format_absolute(eta)}."
    worst_here = max(
        (item.impact_enum for item in incident.affected if item.service_id in service_ids),
        key=lambda impact: impact.severity,
        default=None,
    )
    return {
        "title": incident.title,
        "status": incident.state_enum.label,
        "impact": worst_here.label if worst_here else "",
        "expected": expected,
        "url": url_for("public.incident", ref=incident.ref, _external=True),
    }


def _window_notice(window, service_ids: set[int], *, running: bool) -> dict:
    services = ", ".join(s.name for s in window.services if s.id in service_ids)
    when = (
        f"until {format_absolute(window.ends_at)}" if running
        else f"from {format_absolute(window.starts_at)} to {format_absolute(window.ends_at)}"
    )  # fmt: skip
    return {
        "title": window.title,
        "services": services,
        "when": when,
        "url": url_for("public.maintenance", _external=True),
    }


def _script(banner: EmbedBanner) -> Response:
    script = render_template(
        "public/embed.js", banner=banner.data() if banner.shows_anything else None
    )
    return Response(script, content_type="text/javascript; charset=utf-8")


def _frame(banner: EmbedBanner) -> Response:
    response = Response(render_template("public/embed.html", banner=banner))
    # This page is made to be framed by agency websites.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors *; base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "ALLOWALL"
    return response


@public.get("/embed/<slug>.js")
def embed_script(slug: str):
    return _script(agency_banner(slug))


@public.get("/embed/<slug>")
def embed_frame(slug: str):
    return _frame(agency_banner(slug))


@public.get("/embed/services/<slug>.js")
def service_embed_script(slug: str):
    return _script(service_banner(slug))


@public.get("/embed/services/<slug>")
def service_embed_frame(slug: str):
    return _frame(service_banner(slug))
