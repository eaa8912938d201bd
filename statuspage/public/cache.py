"""Render once per change: the public pages and API served from memory between changes.

A WSGI middleware in front of the Flask app. For GET and HEAD on the cacheable public endpoints it
keeps the rendered page with its brotli and gzip forms, keyed by the URL (its path and only the
query parameters the page reads, canonical.py), the site's version
(`publication.py`, moved by every commit that changes what the public sees) and the site-local
date (the history bars and "recent" lists move on at midnight). A hit costs a dictionary lookup
and, at most once per PAGE_CACHE_CHECK_SECONDS, one single-row query; it answers 304 to a
matching If-None-Match or If-Modified-Since. After a change, one thread renders a page while the
others go on answering with the copy they had (`_current`).

Requests that carry the session cookie (people signed in to the admin) skip the cache, so nobody's
flash message or sign-in state is ever stored and served to someone else.
"""

from __future__ import annotations

import gzip
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import format_datetime, parsedate_to_datetime
from zoneinfo import ZoneInfo

import brotli
from sqlalchemy.exc import SQLAlchemyError
from flask import Flask
from werkzeug.exceptions import HTTPException

from .. import clock
from ..extensions import db
from ..publication import Version, current_version
from .canonical import canonical_query
from .feed_view import cache_view

COMPRESSIBLE = ("text/", "application/json", "application/javascript", "application/xml",
                "application/atom+xml", "application/rss+xml")  # fmt: skip
MIN_COMPRESS_BYTES = 500
# Brotli's quality 5 takes 0.6 ms on the 41 KB front page; 11 took 34 ms (on every change, in a
# request) for 12% fewer bytes (2.2 KB instead of 2.5 KB).
BROTLI_QUALITY = 5
RENDER_WAIT_SECONDS = 10
log = logging.getLogger(__name__)
# Headers the stored page keeps as they came; the rest are set per answer.
DROPPED_HEADERS = {"content-length", "content-encoding", "etag", "last-modified", "vary", "date"}


@dataclass
class Entry:
    version: int
    day: str
    headers: list[tuple[str, str]]
    etag: str
    last_modified: str
    bodies: dict[str, bytes] = field(default_factory=dict)
    vary: str = "Accept-Encoding"


class PageCache:
    """Wraps `app.wsgi_app`; `endpoints` are the ones whose 200 answers anyone may share."""

    def __init__(self, app: Flask, endpoints: set[str]):
        self.app = app
        self.wsgi_app = app.wsgi_app
        self.endpoints = endpoints
        self.max_entries = app.config["PAGE_CACHE_ENTRIES"]
        self.check_seconds = app.config["PAGE_CACHE_CHECK_SECONDS"]
        self.cookie = app.config["SESSION_COOKIE_NAME"] + "="
        self.zone = ZoneInfo(app.config["SITE_TIMEZONE"])
        self.entries: OrderedDict[str, Entry] = OrderedDict()
        self.lock = threading.Lock()
        self.rendering: dict[str, threading.Event] = {}  # keys one thread is rendering now
        self._version: Version | None = None
        self._checked = float("-inf")

    def __call__(self, environ, start_response):
        endpoint = self._cacheable_endpoint(environ)
        if endpoint is None:
            return self.wsgi_app(environ, start_response)
        version = self._site_version()
        if version is None:
            return self.wsgi_app(environ, start_response)
        # Only the parameters the page reads, in one order: `?fbclid=…` is the page without it.
        query = canonical_query(endpoint, environ.get("QUERY_STRING", ""))
        # Host and scheme too: feeds and the API carry absolute links built from them.
        # And, for a feed, whether a browser opened it (feed_view.py: another Content-Type).
        key = "{}://{}{}?{}{}".format(
            environ.get("wsgi.url_scheme"),
            environ.get("HTTP_HOST", ""),
            environ.get("PATH_INFO", ""),
            query,
            cache_view(endpoint, environ.get("PATH_INFO", ""), environ.get("HTTP_ACCEPT")),
        )
        day = clock.now().astimezone(self.zone).date().isoformat()
        entry = self._current(key, environ, query, version, day)
        if entry is None:  # not a 200 (a 404, say): answer it uncached
            return self.wsgi_app(environ, start_response)
        return self._answer(entry, environ, start_response)

    def _current(self, key: str, environ, query: str, version: Version, day: str) -> Entry | None:
        """The page for this version and day, rendered by one thread at a time.

        When the version moves, every thread asking for the page at that moment would otherwise
        render it at once (on a busy site, each of them, holding the GIL in turn: the tail of the
        latency). One thread renders; the others answer with the copy they had, a moment old,
        or, when there is none yet, wait for that one render.
        """
        while True:
            with self.lock:
                entry = self.entries.get(key)
                if entry is not None:
                    self.entries.move_to_end(key)
                    if entry.version == version.number and entry.day == day:
                        return entry
                underway = self.rendering.get(key)
                if underway is None:
                    underway = self.rendering[key] = threading.Event()
                    break
            if entry is not None:
                return entry  # the previous version, while another thread renders this one
            if not underway.wait(RENDER_WAIT_SECONDS):
                return None  # that render is stuck: this request goes to the app itself
            with self.lock:
                entry = self.entries.get(key)
            if entry is None or entry.version != version.number or entry.day != day:
                return None  # the page is not one that is kept (a 404, say)
            return entry
        try:
            entry = self._render(environ, query, version, day)
            if entry is not None:
                with self.lock:
                    self.entries[key] = entry
                    self.entries.move_to_end(key)
                    while len(self.entries) > self.max_entries:
                        self.entries.popitem(last=False)
            return entry
        finally:
            with self.lock:
                del self.rendering[key]
            underway.set()

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
        self._checked = float("-inf")

    def _cacheable_endpoint(self, environ) -> str | None:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return None
        if self.cookie in environ.get("HTTP_COOKIE", ""):
            return None
        try:
            endpoint, _ = self.app.url_map.bind_to_environ(environ).match()
        except HTTPException:
            return None
        return endpoint if endpoint in self.endpoints else None

    def _site_version(self) -> Version | None:
        """The version, looked up at most once per check interval.

        When the database cannot answer, the pages already rendered go on being served (a status
        page must stay up when its own database is in trouble); what is not cached gets the app's
        503 page.
        """
        if time.monotonic() - self._checked >= self.check_seconds:
            with self.app.app_context():
                try:
                    self._version = current_version()
                    self._checked = time.monotonic()
                except SQLAlchemyError as error:
                    log.warning("page cache: serving what it has, the database failed: %s", error)
                finally:
                    db.session.remove()
        return self._version

    def _render(self, environ, query: str, version: Version, day: str) -> Entry | None:
        """Ask the app for the full, uncompressed page; keep it if anyone may share it.

        The app sees the canonical query, so every spelling of the URL stores the same bytes.
        """
        inner = {
            key: value
            for key, value in environ.items()
            if key not in ("HTTP_ACCEPT_ENCODING", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")
        }
        inner["REQUEST_METHOD"] = "GET"
        inner["QUERY_STRING"] = query
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        chunks = self.wsgi_app(inner, capture)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        headers = captured["headers"]
        cache_control = _header(headers, "cache-control")
        if not captured["status"].startswith("200") or not cache_control.startswith("public"):
            return None
        if _header(headers, "set-cookie") or not _header(headers, "etag"):
            return None
        entry = Entry(
            version=version.number,
            day=day,
            headers=[(k, v) for k, v in headers if k.lower() not in DROPPED_HEADERS],
            etag=_header(headers, "etag"),  # the app's own (public/__init__.py), of this body
            last_modified=format_datetime(version.changed_at.replace(microsecond=0), usegmt=True),
            vary=", ".join(["Accept-Encoding", *_other_vary(_header(headers, "vary"))]),
        )
        entry.bodies["identity"] = body
        content_type = _header(headers, "content-type")
        if content_type.startswith(COMPRESSIBLE) and len(body) >= MIN_COMPRESS_BYTES:
            entry.bodies["br"] = brotli.compress(body, quality=BROTLI_QUALITY)
            entry.bodies["gzip"] = gzip.compress(body, compresslevel=9, mtime=0)
        return entry

    def _answer(self, entry: Entry, environ, start_response):
        encoding = _choose_encoding(environ.get("HTTP_ACCEPT_ENCODING", ""), entry.bodies)
        headers = [
            *entry.headers,
            ("ETag", entry.etag),
            ("Last-Modified", entry.last_modified),
            ("Vary", entry.vary),
        ]
        if _not_modified(environ, entry):
            start_response("304 Not Modified", headers)
            return [b""]
        body = entry.bodies[encoding]
        if encoding != "identity":
            headers.append(("Content-Encoding", encoding))
        headers.append(("Content-Length", str(len(body))))
        start_response("200 OK", headers)
        return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [body]


def _other_vary(vary: str) -> list[str]:
    """The headers the app's answer varies on besides Accept-Encoding (Accept, for a feed)."""
    return [
        name.strip()
        for name in vary.split(",")
        if name.strip() and name.strip().lower() != "accept-encoding"
    ]


def _header(headers: list[tuple[str, str]], name: str) -> str:
    return next((value for key, value in headers if key.lower() == name), "")


def _choose_encoding(accept_encoding: str, bodies: dict[str, bytes]) -> str:
    """br, then gzip, among those the client accepts (a q of 0 refuses one)."""
    offered = set()
    for part in accept_encoding.lower().split(","):
        name, _, params = part.partition(";")
        quality = params.strip().removeprefix("q=")
        try:
            refused = bool(params.strip()) and float(quality) == 0
        except ValueError:
            refused = False
        if not refused:
            offered.add(name.strip())
    for encoding in ("br", "gzip"):
        if encoding in offered and encoding in bodies:
            return encoding
    return "identity"


def _not_modified(environ, entry: Entry) -> bool:
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return entry.etag in tags or "*" in tags
    if_modified_since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return parsedate_to_datetime(entry.last_modified) <= since
    return False
