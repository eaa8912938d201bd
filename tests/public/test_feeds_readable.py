"""Feeds people can read (issue 15): HTML declared as HTML, the facts the emails carry, the RSS
channel pointing at the page, ids that do not follow the Host asked, and a stylesheet that turns
a feed opened in a browser into a page."""

import re
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from statuspage import clock
from statuspage.extensions import db
from statuspage.incidents.models import State
from statuspage.incidents.operations import publish_update
from tests.factories import make_agency, make_incident, make_service

FEEDS = ["/feed", "/agencies/revenue/feed", "/services/tax-filing/feed"]
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def app_config():
    return {"SITE_URL": "https://status.example.gov"}


@pytest.fixture
def incident(app, pinned_now):
    revenue = make_agency("Department of Revenue", "revenue")
    filing = make_service(revenue, "Tax filing", "tax-filing")
    incident = make_incident([filing], priority=1, title="Filing down", updates=())
    with clock.pinned(pinned_now - timedelta(minutes=5)):
        publish_update(
            incident,
            status=State.INVESTIGATING,
            body="Filing is **down**.",
            workaround="File on [paper](https://example.gov/paper).",
            help="Call 0800 123 456.",
            by=None,
        )
    return incident


@pytest.mark.parametrize("path", FEEDS)
def test_atom_content_is_declared_html_and_reads_without_tags(client, incident, path):
    response = client.get(path + ".atom")
    parsed = feedparser.parse(response.data)
    assert parsed.bozo is False, parsed.get("bozo_exception")
    (entry,) = parsed.entries
    (content,) = entry.content
    assert content.type == "text/html"
    assert "<strong>down</strong>" in content.value
    assert "&lt;" not in content.value and "&lt;" not in entry.summary
    # In the XML itself: one <content type="html">, no summary that would replace it.
    root = etree.fromstring(response.data)
    (element,) = root.iter(ATOM + "content")
    assert element.get("type") == "html"


@pytest.mark.parametrize("path", FEEDS)
def test_entries_carry_the_workaround_help_and_next_update_in_the_site_zone(
    client, incident, path
):
    for suffix in (".atom", ".rss"):
        (entry,) = feedparser.parse(client.get(path + suffix).data).entries
        html = entry.content[0].value if suffix == ".atom" else entry.description
        text = re.sub(r"<[^>]+>", "", html)
        assert "What you can do meanwhile" in text
        assert '<a href="https://example.gov/paper"' in html
        assert "How to get help" in text and "Call 0800 123 456." in text
        # P1: every 30 minutes after the update at 2:25 PM EST (19:25 UTC).
        assert "Next update by 23 Nov 2026, 2:55 PM EST." in text, text


def test_an_earlier_update_keeps_the_next_update_it_promised(client, incident, pinned_now):
    with clock.pinned(pinned_now):
        publish_update(
            incident, status=State.IDENTIFIED, body="Found it.",
            next_update_at=pinned_now + timedelta(minutes=20), by=None,
        )  # fmt: skip
        publish_update(incident, status=State.RESOLVED, body="Fixed.", by=None)
    entries = feedparser.parse(client.get("/feed.atom").data).entries
    texts = {e.title: e.content[0].value for e in entries}
    assert "Next update by 23 Nov 2026, 2:50 PM EST." in texts["Identified: Filing down"]
    assert "Next update" not in texts["Resolved: Filing down"]


@pytest.mark.parametrize(
    ("path", "page"),
    [("/feed", "/"), ("/agencies/revenue/feed", "/agencies/revenue"),
     ("/services/tax-filing/feed", "/services/tax-filing")],
)  # fmt: skip
def test_the_rss_channel_links_to_the_page_and_names_itself_as_self(client, incident, path, page):
    root = etree.fromstring(client.get(path + ".rss").data)
    channel = root.find("channel")
    assert channel.findtext("link") == "http://localhost" + page
    (self_link,) = channel.findall(ATOM + "link")
    assert (self_link.get("rel"), self_link.get("href")) == ("self", f"http://localhost{path}.rss")
    atom = etree.fromstring(client.get(path + ".atom").data)
    links = {link.get("rel"): link.get("href") for link in atom.findall(ATOM + "link")}
    assert links == {
        "alternate": "http://localhost" + page,
        "self": f"http://localhost{path}.atom",
    }


@pytest.mark.parametrize("path", FEEDS)
def test_feed_and_entry_ids_come_from_site_url_not_the_host_asked(client, incident, path):
    def ids(host: str, suffix: str) -> list[str]:
        parsed = feedparser.parse(client.get(path + suffix, headers={"Host": host}).data)
        return [parsed.feed.get("id", "")] + [entry.id for entry in parsed.entries]

    atom = ids("status.example.gov", ".atom")
    assert atom == ids("10.0.0.7:8080", ".atom") == ids("mirror.example.net", ".atom")
    assert atom[0] == f"https://status.example.gov{path}.atom"
    assert all(entry_id.startswith("tag:status.example.gov,2026:") for entry_id in atom[1:])
    rss = ids("status.example.gov", ".rss")
    assert rss[1:] == ids("10.0.0.7:8080", ".rss")[1:] == atom[1:]


@pytest.mark.parametrize("path", FEEDS)
def test_every_feed_names_the_sites_own_stylesheet(client, incident, path):
    for suffix in (".atom", ".rss"):
        body = client.get(path + suffix).data
        assert body.split(b"\n")[1] == b'<?xml-stylesheet type="text/xsl" href="/static/feed.xsl"?>'
        (instruction,) = [
            node for node in etree.fromstring(body).itersiblings(preceding=True)
            if isinstance(node, etree._ProcessingInstruction)
        ]  # fmt: skip
        assert instruction.target == "xml-stylesheet"


def test_the_stylesheet_turns_either_feed_into_a_page_about_feeds(client, incident):
    with client.get("/static/feed.xsl") as response:
        assert response.status_code == 200
        assert response.mimetype in ("application/xslt+xml", "application/xml")  # XML, for nosniff
        transform = etree.XSLT(etree.fromstring(response.data))
    for suffix in (".atom", ".rss"):
        page = transform(etree.fromstring(client.get("/services/tax-filing/feed" + suffix).data))
        html = etree.tostring(page, method="html", encoding="unicode")
        text = " ".join(page.getroot().itertext())
        assert "<h1>Tax filing: service status</h1>" in html
        assert "This is a news feed" in text and "feed reader" in text
        assert f"https://status.example.gov/services/tax-filing/feed{suffix}" not in text  # Host
        assert f"http://localhost/services/tax-filing/feed{suffix}" in text
        assert f'href="http://localhost/incidents/{incident.ref}#update-' in html
        assert "Investigating: Filing down" in text
        assert 'href="/static/site.css"' in html and "<script" not in html


def test_the_static_export_holds_the_stylesheet_and_feeds_that_name_it(app, incident, tmp_path):
    from statuspage.public.export import export_site

    db.session.remove()
    export_site(app, tmp_path)
    xsl = tmp_path / "static" / "feed.xsl"
    assert xsl.read_bytes() == (Path(app.static_folder) / "feed.xsl").read_bytes()
    for feed in ("feed.atom", "services/tax-filing/feed.rss", "agencies/revenue/feed.atom"):
        assert b'<?xml-stylesheet type="text/xsl" href="/static/feed.xsl"?>' in (
            tmp_path / feed
        ).read_bytes()


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("suffix", [".atom", ".rss"])
def test_a_browser_gets_the_feed_as_xml_so_the_stylesheet_applies_and_a_reader_its_own_type(
    client, incident, suffix
):
    own = "application/atom+xml" if suffix == ".atom" else "application/rss+xml"
    asked = [
        (BROWSER, "application/xml"),
        (f"{own},application/xml;q=0.9,*/*;q=0.8", own),
        ("*/*", own),
        (None, own),
        (f"{own}, text/html;q=0.2", own),  # a reader that takes HTML too, but less gladly
    ]
    for _ in range(2):  # and the same from the page cache
        bodies = set()
        for accept, media_type in asked:
            response = client.get("/feed" + suffix, headers={"Accept": accept} if accept else {})
            assert response.mimetype == media_type, accept
            assert "Accept" in response.headers["Vary"] and "Accept-Encoding" in response.headers[
                "Vary"
            ]
            bodies.add(response.data)
        assert len(bodies) == 1
