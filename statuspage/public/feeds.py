"""Feeds without sign-up: RSS 2.0 and Atom for everything, an agency or a service; and the
maintenance calendar (iCalendar)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator
from flask import Response, abort, current_app, url_for
from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..catalog.queries import agency_by_slug, service_by_slug
from ..extensions import db
from ..incidents.models import AffectedService, Incident, IncidentUpdate
from ..incidents.visibility import public_clause
from ..maintenance.models import MaintenanceWindow, WindowStatus
from ..markdown import render_markdown
from . import public

FEED_ENTRIES = 50
CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
}
# Past windows stay in the calendar this long, so calendars see them end or cancelled.
CALENDAR_HISTORY = timedelta(days=90)
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def _updates(agency_id: int | None = None, service_id: int | None = None):
    query = (
        select(IncidentUpdate)
        .join(Incident)
        .where(public_clause())
        .options(selectinload(IncidentUpdate.incident).selectinload(Incident.agency))
        .order_by(IncidentUpdate.published_at.desc(), IncidentUpdate.id.desc())
        .limit(FEED_ENTRIES)
    )
    if agency_id is not None:
        query = query.where(Incident.agency_id == agency_id)
    if service_id is not None:
        query = query.where(Incident.affected.any(AffectedService.service_id == service_id))
    return db.session.scalars(query).all()


def _tag(kind: str, ident) -> str:
    """A stable, unique entry id (RFC 4151 tag URI) that survives changes of title or URL."""
    host = urlsplit(current_app.config["SITE_URL"]).hostname or "localhost"
    return f"tag:{host},2026:{kind}-{ident}"


def _feed(title: str, page_url: str, self_url: str, format: str, updates) -> Response:
    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(title)
    feed.subtitle(f"Incidents and updates from {current_app.config['SITE_NAME']}")
    feed.link(href=page_url, rel="alternate")
    feed.link(href=self_url, rel="self")
    feed.language("en")
    # Both stamps from the data, not the clock: the same data gives the same bytes (and ETag).
    feed.updated(updates[0].published_at if updates else EPOCH)
    feed.lastBuildDate(updates[0].published_at if updates else EPOCH)
    for update in reversed(updates):  # feedgen puts the last added first
        incident = update.incident
        link = url_for("public.incident", ref=incident.ref, _external=True) + f"#update-{update.id}"
        entry = feed.add_entry()
        entry.id(_tag("update", update.id))
        entry.guid(_tag("update", update.id), permalink=False)
        entry.title(f"{update.status_label}: {incident.title}")
        entry.link(href=link)
        entry.published(update.published_at)
        entry.updated(update.published_at)
        entry.author(name=incident.agency.name)
        entry.content(str(render_markdown(update.body)), type="html")
        entry.description(str(render_markdown(update.body)))
    body = feed.rss_str(pretty=True) if format == "rss" else feed.atom_str(pretty=True)
    return Response(body, content_type=CONTENT_TYPES[format])


@public.get("/feed.<any(rss, atom):format>")
def feed(format: str):
    return _feed(
        f"{current_app.config['SITE_NAME']}: all services",
        url_for("public.index", _external=True),
        url_for("public.feed", format=format, _external=True),
        format,
        _updates(),
    )


@public.get("/agencies/<slug>/feed.<any(rss, atom):format>")
def agency_feed(slug: str, format: str):
    agency = agency_by_slug(slug) or abort(404)
    return _feed(
        f"{agency.name}: service status",
        url_for("public.agency", slug=slug, _external=True),
        url_for("public.agency_feed", slug=slug, format=format, _external=True),
        format,
        _updates(agency_id=agency.id),
    )


@public.get("/services/<slug>/feed.<any(rss, atom):format>")
def service_feed(slug: str, format: str):
    service = service_by_slug(slug) or abort(404)
    return _feed(
        f"{service.name}: service status",
        url_for("public.service", slug=slug, _external=True),
        url_for("public.service_feed", slug=slug, format=format, _external=True),
        format,
        _updates(service_id=service.id),
    )


@public.get("/maintenance.ics")
def maintenance_calendar():
    """Every planned window as a VEVENT; changes raise SEQUENCE, cancellations stay, CANCELLED."""
    from .. import clock

    windows = db.session.scalars(
        select(MaintenanceWindow)
        .where(MaintenanceWindow.ends_at >= clock.now() - CALENDAR_HISTORY)
        .options(selectinload(MaintenanceWindow.services), selectinload(MaintenanceWindow.agency))
        .order_by(MaintenanceWindow.starts_at)
    ).all()
    calendar = Calendar()
    calendar.add("prodid", f"-//{current_app.config['SITE_NAME']}//Maintenance//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{current_app.config['SITE_NAME']}: planned maintenance")
    for window in windows:
        event = Event()
        event.add("uid", _tag("maintenance", window.id).replace("tag:", "") + "@statuspage")
        event.add("dtstamp", window.updated_at)
        event.add("last-modified", window.updated_at)
        event.add("created", window.created_at)
        event.add("sequence", window.sequence)
        event.add("dtstart", window.starts_at)
        event.add("dtend", window.ends_at)
        cancelled = window.status_enum is WindowStatus.CANCELLED
        event.add("summary", ("Cancelled: " if cancelled else "") + window.title)
        services = ", ".join(service.name for service in window.services)
        event.add("description", f"{window.agency.name}: {services}\n\n{window.description}")
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        event.add("url", url_for("public.index", _external=True))
        calendar.add_component(event)
    return Response(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
