"""One address per page: the query parameters each public page reads, and nothing else.

A link shared on social media carries a unique `?fbclid=`, `utm_*` or `gclid` per click. The page
does not read them, so the page cache (cache.py), nginx (deploy/nginx-statuspage.conf, which
repeats this table) and the canonical link ignore them and put the rest in one order.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode

from flask import current_app, request

# The parameters each endpoint reads, in the canonical order; an endpoint not named reads none.
QUERY_PARAMETERS: dict[str, tuple[str, ...]] = {
    "public.history": ("agency", "service", "priority", "month", "page"),
}


def canonical_args(endpoint: str | None, query_string: str | bytes) -> dict[str, str]:
    """The parameters the page reads, first value of each (as the page takes it), empty ones out."""
    names = QUERY_PARAMETERS.get(endpoint or "", ())
    if not names:
        return {}
    if isinstance(query_string, str):
        query_string = query_string.encode("latin-1", "replace")  # WSGI's spelling of the bytes
    text = query_string.decode("utf-8", "replace")
    found: dict[str, str] = {}
    for name, value in parse_qsl(text, encoding="utf-8", errors="replace"):
        if name in names and value and name not in found:
            found[name] = value
    return {name: found[name] for name in names if name in found}


def canonical_query(endpoint: str | None, query_string: str | bytes) -> str:
    """`canonical_args` as a query string (no `?`); empty when the page reads none."""
    return urlencode(canonical_args(endpoint, query_string))


def canonical_url() -> str:
    """This page's address from SITE_URL, with only the parameters it reads."""
    query = canonical_query(request.endpoint, request.query_string)
    path = quote(request.path, safe="/:@!$&'()*+,;=-._~")
    base = current_app.config["SITE_URL"].rstrip("/")
    return f"{base}{path}?{query}" if query else f"{base}{path}"
