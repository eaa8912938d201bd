"""The static fallback: the public site written out as plain files any web server or CDN can serve.

`/agencies/revenue` is written as `agencies/revenue/index.html`, files with an extension
(`/api/v2/summary.json`, `/feed.atom`) under their own name, and the error page as `404.html`.
Text files get a gzip twin (`index.html.gz`) for servers that send those as they are (nginx's
`gzip_static`). Each file is replaced atomically, and files for pages that are gone (an incident
hidden again) are removed. `.version` records the site version written, so a refresh after each change can tell
whether anything moved.

The pages are asked of the app itself, through the same WSGI stack that serves them, so a file is
byte for byte what the live site answers. `/history` is written without its filters and later
pages (a static server cannot tell query strings apart).
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from flask import Flask, url_for
from sqlalchemy import select

from .. import clock
from ..catalog.queries import agencies_with_services
from ..extensions import db
from ..incidents.models import Incident
from ..press import queries as press_queries
from ..reports.models import ReportRevision
from .reports import published_months
from ..incidents.visibility import public_clause
from ..publication import current_version
from ..timefmt import to_local

VERSION_FILE = ".version"
COMPRESSIBLE_SUFFIXES = {".html", ".json", ".atom", ".rss", ".ics", ".js", ".css", ".svg"}
MIN_COMPRESS_BYTES = 500
NOT_FOUND_PAGE = "404.html"
SITE_WIDE = (
    ("public.index", {}),
    ("public.history", {}),
    ("public.maintenance", {}),
    ("public.feed", {"format": "atom"}),
    ("public.feed", {"format": "rss"}),
    ("public.maintenance_calendar", {}),
    ("public.api_summary", {}),
    ("public.api_status", {}),
    ("public.api_components", {}),
    ("public.api_incidents", {}),
    ("public.api_unresolved_incidents", {}),
    ("public.api_maintenances", {}),
    ("public.api_upcoming_maintenances", {}),
    ("public.api_active_maintenances", {}),
)


@dataclass(frozen=True)
class ExportResult:
    version: int | None
    written: int
    removed: int
    skipped: bool = False


def public_paths() -> list[str]:
    """Every public URL path to export (call inside an app context)."""
    paths = [url_for(endpoint, **args) for endpoint, args in SITE_WIDE]
    for agency in agencies_with_services():
        paths += [
            url_for("public.agency", slug=agency.slug),
            url_for("public.agency_feed", slug=agency.slug, format="atom"),
            url_for("public.agency_feed", slug=agency.slug, format="rss"),
            url_for("public.embed_script", slug=agency.slug),
            url_for("public.embed_frame", slug=agency.slug),
        ]
        for service in agency.services:
            paths += [
                url_for("public.service", slug=service.slug),
                url_for("public.service_feed", slug=service.slug, format="atom"),
                url_for("public.service_feed", slug=service.slug, format="rss"),
                url_for("public.service_embed_script", slug=service.slug),
                url_for("public.service_embed_frame", slug=service.slug),
            ]
    refs = db.session.scalars(select(Incident.ref).where(public_clause()).order_by(Incident.id))
    paths += [url_for("public.incident", ref=ref) for ref in refs]
    reviewed = db.session.scalars(
        select(Incident.ref)
        .where(public_clause(), Incident.id.in_(select(ReportRevision.incident_id)))
        .order_by(Incident.id)
    )
    paths += [url_for("public.incident_report", ref=ref) for ref in reviewed]
    paths.append(url_for("public.reports_index"))
    paths.append(url_for("public.press"))
    paths += [url_for("public.agency_press", slug=a.slug) for a in agencies_with_services()]
    paths += [url_for("public.press_statement", slug=s.slug)
              for s in press_queries.released_statements(limit=None)]  # fmt: skip
    for report in published_months():
        name = f"{report.month:%Y-%m}"
        paths += [
            url_for("public.monthly_report", slug=report.slug, name=name + suffix)
            for suffix in ("", ".csv", ".json")
        ]
    return paths


def file_for(path: str) -> PurePosixPath:
    """The file a static server finds for a URL path: with an extension as is, else index.html."""
    relative = PurePosixPath(path.lstrip("/"))
    if not relative.parts:
        return PurePosixPath("index.html")
    if "." in relative.name:
        return relative
    return relative / "index.html"


def export_site(app: Flask, target: Path, *, only_if_changed: bool = False) -> ExportResult:
    """Write the public site into `target`; with only_if_changed, skip when nothing moved."""
    target.mkdir(parents=True, exist_ok=True)
    with app.app_context():
        version = current_version()
        number = version.number if version else None
        # The history bars move on at midnight too, so the day is part of what was written.
        stamp = f"{number} {to_local(clock.now()).date().isoformat()}"
        if only_if_changed and number is not None and _written_stamp(target) == stamp:
            return ExportResult(number, 0, 0, skipped=True)
        with app.test_request_context(base_url=app.config["SITE_URL"]):
            paths = public_paths()
        db.session.remove()

    # The same WSGI stack as live traffic, with the site's own address for absolute links.
    client = app.test_client()
    base_url = app.config["SITE_URL"]
    files: dict[PurePosixPath, bytes] = {}
    for path in paths:
        response = client.get(path, base_url=base_url)
        if response.status_code != 200:
            raise ExportError(f"{path} answered {response.status_code}; nothing was removed")
        files[file_for(path)] = response.get_data()
    files[PurePosixPath(NOT_FOUND_PAGE)] = client.get("/no-such-page", base_url=base_url).get_data()
    files.update(_static_files(app))
    written: set[Path] = set()
    for relative, data in files.items():
        written.add(_write(target, relative, data))
        if relative.suffix in COMPRESSIBLE_SUFFIXES and len(data) >= MIN_COMPRESS_BYTES:
            twin = relative.with_name(relative.name + ".gz")
            written.add(_write(target, twin, gzip.compress(data, compresslevel=9, mtime=0)))

    removed = 0
    for existing in list(target.rglob("*")):
        if existing.is_file() and existing not in written and not _ours(existing.name):
            existing.unlink()
            removed += 1
    _write(target, PurePosixPath(VERSION_FILE), stamp.encode())
    return ExportResult(number, len(written), removed)


class ExportError(RuntimeError):
    """A page that should be public did not render; the export stops before removing anything."""


def _written_stamp(target: Path) -> str | None:
    try:
        return (target / VERSION_FILE).read_text()
    except FileNotFoundError:
        return None


def _ours(name: str) -> bool:
    """The version stamp and files another export is writing right now."""
    return name == VERSION_FILE or (name.startswith(".") and ".tmp-" in name)


def _write(target: Path, relative: PurePosixPath, data: bytes) -> Path:
    destination = target.joinpath(*relative.parts)
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}.tmp-{os.getpid()}")
    temporary.write_bytes(data)
    os.replace(temporary, destination)  # readers see the old file or the new, never half
    return destination


def _static_files(app: Flask) -> dict[PurePosixPath, bytes]:
    source = Path(app.static_folder)
    return {
        PurePosixPath("static", *file.relative_to(source).parts): file.read_bytes()
        for file in source.rglob("*")
        if file.is_file()
    }
