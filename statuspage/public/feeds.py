"""Feeds without sign-up: RSS 2.0 and Atom for everything, an agency or a service; and the
maintenance calendar (iCalendar).

Each feed names a stylesheet (static/feed.xsl), so a feed opened in a browser reads as a page that
says what a feed is; its ids come from SITE_URL, so they stay the same whichever address it was
read at; its entries' HTML is declared as such (`type="html"`) and carries what the emails carry:
the workaround, how to get help and when the next update comes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator
from flask import Response, abort, current_app, request, url_for
from markupsafe import escape
from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..catalog.queries import agency_by_slug, service_by_slug
from ..characters import xml_safe
from ..extensions import db
from ..incidents.cadence import public_timing
from ..incidents.models import AffectedService, Incident, IncidentUpdate
from ..incidents.queries import of_agency
from ..incidents.visibility import public_clause
from ..maintenance.models import MaintenanceWindow, WindowStatus
from ..reports.models import ReportRevision
from ..markdown import render_markdown
from ..timefmt import format_absolute
from . import public
from .feed_view import PAGE_CONTENT_TYPE, opened_in_browser

FEED_ENTRIES = 50
CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
}
# Past windows stay in the calendar this long, so calendars see them end or cancelled.
CALENDAR_HISTORY = timedelta(days=90)
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FeedEntry:
    tag: str
    title: str
    link: str
    at: datetime
    author: str
    html: str


def _scoped(query, agency_id: int | None, service_id: int | None):
    if agency_id is not None:
        query = query.where(of_agency(agency_id))
    if service_id is not None:
        query = query.where(Incident.affected.any(AffectedService.service_id == service_id))
    return query


def _entries(agency_id: int | None = None, service_id: int | None = None) -> list[FeedEntry]:
    """The latest public updates and published post-incident reports, newest first."""
    updates = db.session.scalars(
        _scoped(
            select(IncidentUpdate)
            .join(Incident)
            .where(public_clause(), IncidentUpdate.is_public.is_(True))
            .options(
                selectinload(IncidentUpdate.incident).selectinload(Incident.agency),
                selectinload(IncidentUpdate.incident)
                .selectinload(Incident.affected)
                .selectinload(AffectedService.service),
            )
            .order_by(IncidentUpdate.published_at.desc(), IncidentUpdate.id.desc())
            .limit(FEED_ENTRIES),
            agency_id,
            service_id,
        )
    ).all()
    revisions = db.session.scalars(
        _scoped(
            select(ReportRevision)
            .join(Incident, ReportRevision.incident_id == Incident.id)
            .where(public_clause())
            .options(selectinload(ReportRevision.incident).selectinload(Incident.agency))
            .order_by(ReportRevision.published_at.desc(), ReportRevision.id.desc())
            .limit(FEED_ENTRIES),
            agency_id,
            service_id,
        )
    ).all()
    next_updates = _next_updates(updates)
    entries = [
        FeedEntry(
            _tag("update", update.id),
            f"{update.status_label}: {update.incident.title}",
            url_for("public.incident", ref=update.incident.ref, _external=True)
            + f"#update-{update.id}",
            update.published_at,
            update.incident.agency.name,
            _update_html(update, next_updates.get(update.id)),
        )
        for update in updates
    ] + [
        FeedEntry(
            _tag("report", revision.id),
            (
                "Corrected post-incident report: "
                if revision.number > 1
                else "Post-incident report: "
            )
            + revision.incident.title,
            url_for("public.incident_report", ref=revision.incident.ref, _external=True),
            revision.published_at,
            revision.incident.agency.name,
            str(render_markdown(revision.sections["summary"])),
        )
        for revision in revisions
    ]
    return sorted(entries, key=lambda entry: (entry.at, entry.tag), reverse=True)[:FEED_ENTRIES]


def _next_updates(updates: list[IncidentUpdate]) -> dict[int, datetime]:
    """Update id -> when the next update comes, as the emails say it: for the latest update of an
    open incident, the cadence's time (or the earlier promise); for an earlier one, the time it
    promised, if it did."""
    found = {u.id: u.next_update_at for u in updates if u.next_update_at is not None}
    for incident in {update.incident for update in updates}:
        latest = incident.latest_public_update
        if incident.is_open and latest is not None:
            next_update_by = public_timing(incident).next_update_by
            if next_update_by is not None:
                found[latest.id] = next_update_by
    return found


def _update_html(update: IncidentUpdate, next_update_by: datetime | None = None) -> str:
    """The update as the email gives it: the message, the affected services, what to do
    meanwhile, how to get help, the expected fix and the next update (in the site's zone)."""
    html = str(render_markdown(update.body))
    affected = ", ".join(
        f"{a.service.name} ({a.impact_enum.label.lower()})" for a in update.incident.affected
    )
    html += f"<p><strong>Affected:</strong> {escape(affected)}</p>"
    if update.who_affected:
        html += f"<p><strong>Who is affected:</strong> {escape(update.who_affected)}</p>"
    if update.workaround:
        html += "<h3>What you can do meanwhile</h3>" + str(render_markdown(update.workaround))
    if update.help:
        html += "<h3>How to get help</h3>" + str(render_markdown(update.help))
    if update.expected_resolution_at:
        expected = escape(format_absolute(update.expected_resolution_at))
        html += f"<p>Expected to be fixed by {expected}.</p>"
    if next_update_by is not None:
        html += f"<p><strong>Next update by {escape(format_absolute(next_update_by))}.</strong></p>"
    return html


def _tag(kind: str, ident) -> str:
    """A stable, unique entry id (RFC 4151 tag URI) that survives changes of title or URL."""
    host = urlsplit(current_app.config["SITE_URL"]).hostname or "localhost"
    return f"tag:{host},2026:{kind}-{ident}"


def _site_url(path: str) -> str:
    """The address of ``path`` on the site's own name (SITE_URL), whatever Host was asked."""
    return current_app.config["SITE_URL"].rstrip("/") + path


def _feed(title: str, page_url: str, self_url: str, format: str, entries) -> Response:
    feed = FeedGenerator()
    # The feed's id is its address on the site's own name: readers that reach it by another
    # (an IP address, a mirror, the static export) see one feed, not several.
    feed.id(_site_url(urlsplit(self_url).path))
    feed.title(xml_safe(title))
    feed.subtitle(f"Incidents and updates from {current_app.config['SITE_NAME']}")
    # RSS keeps the last link given as the channel's <link>: the page, not the feed itself
    # (the feed's own address goes in atom:link rel="self").
    feed.link(href=self_url, rel="self")
    feed.link(href=page_url, rel="alternate")
    feed.language("en")
    # Both stamps from the data, not the clock: the same data gives the same bytes (and ETag).
    feed.updated(entries[0].at if entries else EPOCH)
    feed.lastBuildDate(entries[0].at if entries else EPOCH)
    for item in reversed(entries):  # feedgen puts the last added first
        entry = feed.add_entry()
        entry.id(item.tag)
        entry.guid(item.tag, permalink=False)
        # Stored text may hold characters XML cannot carry (lxml refuses them): left out here.
        entry.title(xml_safe(item.title))
        entry.link(href=item.link)
        entry.published(item.at)
        entry.updated(item.at)
        entry.author(name=xml_safe(item.author))
        # description() first: called after content() it replaces the Atom content and loses
        # its type, and readers then show the HTML's tags as text.
        entry.description(xml_safe(item.html))
        entry.content(xml_safe(item.html), type="html")
    body = feed.rss_str(pretty=True) if format == "rss" else feed.atom_str(pretty=True)
    content_type = CONTENT_TYPES[format]
    if opened_in_browser(request.headers.get("Accept"), content_type.split(";")[0]):
        content_type = PAGE_CONTENT_TYPE  # so the browser applies feed.xsl (feed_view.py)
    response = Response(_with_stylesheet(body), content_type=content_type)
    response.vary.add("Accept")
    return response


def _with_stylesheet(body: bytes) -> bytes:
    """The feed with `<?xml-stylesheet?>` after its XML declaration: a browser shows it as a
    page (static/feed.xsl, from this site) and feed readers ignore it."""
    href = escape(url_for("static", filename="feed.xsl"))
    declaration, newline, rest = body.partition(b"\n")
    instruction = f'<?xml-stylesheet type="text/xsl" href="{href}"?>'.encode()
    return declaration + newline + instruction + newline + rest


def feed_links(agencies=(), services=()) -> list[tuple[str, str, str]]:
    """(name, Atom URL, RSS URL) of these agencies' and services' feeds, for a page's <head>
    and its "Get updates" box."""
    return [
        (
            item.name,
            url_for(endpoint, slug=item.slug, format="atom"),
            url_for(endpoint, slug=item.slug, format="rss"),
        )
        for endpoint, items in (("public.agency_feed", agencies), ("public.service_feed", services))
        for item in items
    ]


@public.context_processor
def feed_link_builder():
    return {"feed_links": feed_links}


@public.get("/feed.<any(rss, atom):format>")
def feed(format: str):
    return _feed(
        f"{current_app.config['SITE_NAME']}: all services",
        url_for("public.index", _external=True),
        url_for("public.feed", format=format, _external=True),
        format,
        _entries(),
    )


@public.get("/agencies/<slug>/feed.<any(rss, atom):format>")
def agency_feed(slug: str, format: str):
    agency = agency_by_slug(slug) or abort(404)
    return _feed(
        f"{agency.name}: service status",
        url_for("public.agency", slug=slug, _external=True),
        url_for("public.agency_feed", slug=slug, format=format, _external=True),
        format,
        _entries(agency_id=agency.id),
    )


@public.get("/services/<slug>/feed.<any(rss, atom):format>")
def service_feed(slug: str, format: str):
    service = service_by_slug(slug) or abort(404)
    return _feed(
        f"{service.name}: service status",
        url_for("public.service", slug=slug, _external=True),
        url_for("public.service_feed", slug=slug, format=format, _external=True),
        format,
        _entries(service_id=service.id),
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
        event.add("summary", xml_safe(("Cancelled: " if cancelled else "") + window.title))
        services = ", ".join(service.name for service in window.services)
        description = f"{window.agency.name}: {services}\n\n{window.description}"
        event.add("description", xml_safe(description))  # RFC 5545 text has no controls either
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        event.add("url", url_for("public.index", _external=True))
        calendar.add_component(event)
    return Response(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
