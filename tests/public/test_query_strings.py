"""A link shared on social media (`?fbclid=…`, `utm_*`, `gclid`) is the page without them."""

import secrets
from datetime import timedelta

import pytest
from flask import template_rendered

from statuspage.catalog.models import Service
from statuspage.incidents.models import State
from statuspage.public.canonical import canonical_query
from tests.factories import make_agency, make_incident, make_service
from tests.public.test_caching import Renders

SITE_URL = "https://status.example.gov"


@pytest.fixture
def app_config():
    return {"SITE_URL": SITE_URL}


@pytest.fixture
def renders(app):
    counter = Renders(app)
    yield counter
    template_rendered.disconnect(counter._record, app)


@pytest.fixture
def catalog(app, pinned_now):
    make_service(make_agency("Department of Revenue", "revenue"), "Tax filing", "tax-filing")


def _canonical(html: str) -> list[str]:
    return [
        line.split('href="', 1)[1].split('"', 1)[0]
        for line in html.splitlines()
        if line.startswith('<link rel="canonical"')
    ]


def test_a_tracking_parameter_is_served_from_the_cache_with_the_same_bytes(
    client, catalog, renders
):
    plain = client.get("/")
    for _ in range(2):
        shared = client.get(f"/?fbclid={secrets.token_urlsafe(16)}")
        assert shared.status_code == 200 and shared.data == plain.data
        assert shared.headers["ETag"] == plain.headers["ETag"]
    assert client.get("/?utm_source=x&utm_medium=y&gclid=z").data == plain.data
    assert renders.count("public/index.html") == 1


def test_history_shares_one_entry_whatever_the_order_and_the_extras(
    client, catalog, renders
):
    first = client.get("/history?page=2&agency=revenue&utm_source=y")
    second = client.get("/history?agency=revenue&page=2")
    third = client.get("/history?agency=revenue&service=&page=2&fbclid=abc")
    assert first.status_code == second.status_code == 200
    assert first.data == second.data == third.data
    assert renders.count("public/history.html") == 1
    client.get("/history?agency=revenue&page=3")
    assert renders.count("public/history.html") == 2  # a parameter the page reads still counts


def test_history_page_links_keep_only_what_the_page_reads(client, catalog, pinned_now):
    service = Service.query.one()
    for n in range(23):
        make_incident(
            [service],
            title=f"Numbered {n:02d}",
            detected_at=pinned_now - timedelta(hours=n + 1),
            updates=(State.INVESTIGATING, State.RESOLVED),
        )
    html = client.get("/history?utm_campaign=spring&agency=revenue").text
    assert 'rel="next" href="/history?agency=revenue&amp;page=2"' in html
    assert "utm_campaign" not in html


@pytest.mark.parametrize(
    ("path", "canonical"),
    [("/", "/"),
     ("/?fbclid=abc&utm_source=x", "/"),
     ("/services/tax-filing?gclid=1", "/services/tax-filing"),
     ("/agencies/revenue", "/agencies/revenue"),
     ("/history", "/history"),
     ("/history?utm_source=y&page=2&agency=revenue&month=&priority=2&page=5",
      "/history?agency=revenue&priority=2&page=2"),
     ("/maintenance?fbclid=1", "/maintenance"),
     ("/subscribe?utm_medium=email", "/subscribe"),
     ("/reports", "/reports")],
)  # fmt: skip
def test_every_public_page_names_its_canonical_address(client, catalog, path, canonical):
    response = client.get(path)
    assert response.status_code == 200
    assert _canonical(response.text) == [SITE_URL + canonical.replace("&", "&amp;")]


def test_error_pages_name_no_canonical_address(client, catalog):
    response = client.get("/services/no-such-service?fbclid=1")
    assert response.status_code == 404 and _canonical(response.text) == []


def test_the_canonical_query_keeps_the_parameters_a_page_reads_in_one_order():
    assert canonical_query("public.index", "fbclid=1&page=2") == ""
    assert canonical_query("public.history", "page=2&agency=x&utm_source=y") == "agency=x&page=2"
    assert canonical_query("public.history", "page=2&page=3&agency=") == "page=2"
    assert canonical_query("public.history", b"agency=caf%C3%A9") == "agency=caf%C3%A9"
    assert canonical_query("public.history", "month=2026-03&PAGE=2") == "month=2026-03"
