"""Cheap to serve: ETags and 304s, cache headers a CDN can use, compressed text."""

import gzip
import json
import threading
import time
from datetime import timedelta

import brotli
import pytest
from flask import before_render_template, template_rendered
from flask_migrate import upgrade

from statuspage import clock
from statuspage.catalog.models import Service
from statuspage.extensions import db
from statuspage.incidents.models import State
from statuspage.incidents.operations import publish_update
from statuspage.publication import current_version
from statuspage.subscriptions.operations import Choice, request_subscription
from tests.conftest import make_app
from tests.factories import login, make_agency, make_incident, make_service, make_user


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


class Renders:
    """Counts the templates Flask renders: the page cache should render a page once per change."""

    def __init__(self, app):
        self.names: list[str] = []
        template_rendered.connect(self._record, app)

    def _record(self, sender, template, context, **extra):
        self.names.append(template.name)

    def count(self, name: str) -> int:
        return self.names.count(name)


@pytest.fixture
def renders(app):
    counter = Renders(app)
    yield counter
    template_rendered.disconnect(counter._record, app)


def test_a_page_is_rendered_once_per_change_and_again_after_a_publication(client, catalog, renders):
    for _ in range(3):
        assert "Online filing unavailable" not in client.get("/").text
    assert renders.count("public/index.html") == 1

    incident = make_incident([Service.query.one()], priority=1)  # publishes its first update
    page = client.get("/").text
    assert "Online filing unavailable" in page and renders.count("public/index.html") == 2

    publish_update(incident, by=None, status=State.IDENTIFIED, body="We found the fault.")
    client.get("/")
    client.get("/")
    assert renders.count("public/index.html") == 3
    assert "We found the fault." in client.get(f"/incidents/{incident.ref}").text


def test_private_changes_do_not_throw_pages_out_of_the_cache(client, catalog, renders):
    # A surge of sign-ups during an outage must not make every visitor re-render the front page.
    client.get("/")
    before = current_version()
    request_subscription("citizen@example.org", Choice(everything=True))
    assert current_version() == before
    client.get("/")
    assert renders.count("public/index.html") == 1


def test_a_new_day_renders_again_for_the_history_bars(client, catalog, renders, pinned_now):
    client.get("/")
    with clock.pinned(pinned_now + timedelta(days=1)):
        client.get("/")
    assert renders.count("public/index.html") == 2


def test_cached_answers_carry_validators_and_honour_them(client, catalog):
    first = client.get("/api/v2/summary.json", headers={"Accept-Encoding": "br"})
    assert first.headers["Content-Encoding"] == "br"
    assert json.loads(brotli.decompress(first.data))["page"]["name"]
    assert first.headers["Last-Modified"].endswith("GMT")
    since = client.get(
        "/api/v2/summary.json", headers={"If-Modified-Since": first.headers["Last-Modified"]}
    )
    assert since.status_code == 304 and since.headers["ETag"] == first.headers["ETag"]
    long_ago = client.get(
        "/api/v2/summary.json", headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
    )
    assert long_ago.status_code == 200
    assert client.get("/", headers={"If-Modified-Since": "yesterday-ish"}).status_code == 200
    head = client.head("/")
    assert head.status_code == 200 and head.data == b"" and int(head.headers["Content-Length"]) > 0


def test_signed_in_people_bypass_the_cache(client, catalog, renders):
    agency = Service.query.one().agency
    login(client, make_user(agency))
    client.get("/")
    client.get("/")
    assert renders.count("public/index.html") == 2


def test_pages_already_rendered_are_served_while_the_database_is_in_trouble(tmp_path, pinned_now):
    path = tmp_path / "site.sqlite"
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        make_service(make_agency("Department of Revenue", "revenue"), "Tax filing", "tax-filing")
    browser = app.test_client()
    assert "Tax filing" in browser.get("/").text

    with app.app_context():
        db.engine.dispose()
    path.rename(tmp_path / "moved-away.sqlite")  # the next connection finds an empty file

    still = browser.get("/")
    assert still.status_code == 200 and "Tax filing" in still.text
    assert browser.get("/history").status_code == 503  # never rendered, so not in the cache


@pytest.mark.parametrize(
    ("accept_encoding", "expected"),
    [("gzip, deflate, br", "br"), ("br;q=0, gzip", "gzip"), ("br;q=0.0, gzip;q=0", None),
     ("identity", None), ("*;q=garbage, gzip", "gzip"), ("", None)],
)  # fmt: skip
def test_the_cache_answers_in_an_encoding_the_client_accepts(
    client, catalog, accept_encoding, expected
):
    response = client.get("/", headers={"Accept-Encoding": accept_encoding})
    assert response.headers.get("Content-Encoding") == expected
    body = response.data
    if expected == "br":
        body = brotli.decompress(body)
    elif expected == "gzip":
        body = gzip.decompress(body)
    assert b"Current status of government services" in body


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [("GET", "/?utm_source=x&page=99999999999999999999", {}),
     ("GET", "/api/v2/summary.json?callback=evil", {}),
     ("HEAD", "/api/v2/summary.json", {"If-None-Match": "W/"}),
     ("OPTIONS", "/", {}),
     ("GET", "/history?month=2026-02-31&page=-1", {"If-Modified-Since": "Thu, 99 Foo 2026"}),
     ("GET", "/incidents/INC-2026-1123-999", {}),
     ("GET", "/services/../../etc/passwd", {})],
)  # fmt: skip
def test_odd_requests_get_sensible_answers(client, catalog, method, path, headers):
    response = client.open(path, method=method, headers=headers)
    assert response.status_code in (200, 204, 304, 404), response.status_code


class SlowRender:
    """Holds each render of the front page until released, counting them."""

    def __init__(self, app):
        self.started, self.release, self.count = threading.Event(), threading.Event(), 0
        before_render_template.connect(self._hold, app)

    def _hold(self, sender, template, context, **extra):
        if template.name == "public/index.html":
            self.count += 1
            self.started.set()
            assert self.release.wait(10)


@pytest.fixture
def slow_render(app):
    slow = SlowRender(app)
    yield slow
    slow.release.set()
    before_render_template.disconnect(slow._hold, app)


def _get_in_thread(app, path: str) -> tuple[threading.Thread, dict]:
    answer = {}

    def get():
        answer["text"] = app.test_client().get(path).text

    thread = threading.Thread(target=get)
    thread.start()
    return thread, answer


def test_after_a_change_one_request_renders_and_the_others_get_the_copy_they_had(
    app, client, catalog, slow_render
):
    slow_render.release.set()
    assert "Online filing unavailable" not in client.get("/").text
    make_incident([Service.query.one()], priority=1)  # the version moves
    slow_render.release.clear()
    slow_render.started.clear()
    renderer, fresh = _get_in_thread(app, "/")
    assert slow_render.started.wait(10)
    # While that one renders, another visitor is answered at once with the page of a moment ago.
    assert "Online filing unavailable" not in client.get("/").text
    slow_render.release.set()
    renderer.join(10)
    assert "Online filing unavailable" in fresh["text"]
    assert "Online filing unavailable" in client.get("/").text
    assert slow_render.count == 2  # the first page, then the changed one: never two at once


def test_a_page_never_rendered_is_rendered_once_for_everyone_asking_at_once(
    app, catalog, slow_render
):
    first, first_answer = _get_in_thread(app, "/")
    assert slow_render.started.wait(10)
    others = [_get_in_thread(app, "/") for _ in range(3)]
    time.sleep(0.2)  # they are waiting for the render under way, not rendering themselves
    assert slow_render.count == 1
    slow_render.release.set()
    for thread, _ in [(first, first_answer), *others]:
        thread.join(10)
    texts = {first_answer["text"], *(answer["text"] for _, answer in others)}
    assert len(texts) == 1 and "Current status of government services" in texts.pop()
    assert slow_render.count == 1
