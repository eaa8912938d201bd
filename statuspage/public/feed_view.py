"""Whether a feed is being opened in a browser, from the request's Accept header.

Browsers show `application/atom+xml` and `application/rss+xml` as plain text and apply no
stylesheet; sent as `application/xml` the same bytes go through the feed's XSLT
(static/feed.xsl) and read as a page. So a request that names text/html itself, and prefers it to
the feed's own type, gets the feed as `application/xml`; feed readers (which name the feed types,
or send `*/*` or nothing) get the feed's own type. The page cache keeps the two apart
(cache.py), and nginx too (deploy/nginx-statuspage.conf).
"""

from __future__ import annotations

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

FEED_ENDPOINTS = {"public.feed", "public.agency_feed", "public.service_feed"}
PAGE_CONTENT_TYPE = "application/xml; charset=utf-8"


def opened_in_browser(accept: str | None, feed_type: str) -> bool:
    """True when Accept names text/html with a quality above zero and at least the feed's own
    type's (a wildcard does not count for text/html)."""
    if not accept:
        return False
    parsed = parse_accept_header(accept, MIMEAccept)
    html = max((q for value, q in parsed if value.lower() == "text/html"), default=0)
    return html > 0 and html >= max(
        (q for value, q in parsed if value.lower() == feed_type), default=0
    )


def cache_view(endpoint: str | None, path: str, accept: str | None) -> str:
    """The part of a page cache key that tells the two answers of a feed apart ("" otherwise)."""
    if endpoint not in FEED_ENDPOINTS:
        return ""
    feed_type = "application/rss+xml" if path.endswith(".rss") else "application/atom+xml"
    return "|page" if opened_in_browser(accept, feed_type) else "|feed"
