"""Cheap to serve: ETags and 304s, cache headers a CDN can use, compressed text."""

import gzip

import pytest

from tests.factories import make_agency, make_service


@pytest.fixture
def catalog(app, pinned_now):
    make_service(make_agency("Department of Revenue", "revenue"), "Tax filing", "tax-filing")


@pytest.mark.parametrize(
    "path", ["/", "/history", "/services/tax-filing", "/api/v2/summary.json", "/feed.atom"]
)
def test_public_pages_answer_304_to_a_matching_etag(client, catalog, path):
    first = client.get(path)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == (
        "public, max-age=30, stale-while-revalidate=60, stale-if-error=86400"
    )
    etag = first.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    garbage = client.get(path, headers={"If-None-Match": '"not-it", garbage,,"'})
    assert garbage.status_code == 200


def test_head_and_options_are_answered(client, catalog):
    assert client.head("/").status_code == 200
    assert client.options("/api/v2/status.json").status_code == 200


def test_pages_with_forms_are_never_cached_publicly(client, catalog):
    assert client.get("/subscribe").headers["Cache-Control"] == "private, no-store"


def test_text_is_compressed_for_browsers_that_accept_it(client, catalog):
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert b"Current status of government services" in gzip.decompress(response.data)
    assert "Accept-Encoding" in response.headers["Vary"]
