"""The public pages as a citizen sees them. Paths are literal: people bookmark them."""

import re
from datetime import timedelta

import pytest

from statuspage.incidents.models import Impact, State
from statuspage.incidents.operations import change_priority, publish_update
from tests.factories import make_agency, make_incident, make_service


@pytest.fixture
def catalog(app):
    revenue = make_agency("Department of Revenue", "revenue")
    roads = make_agency("Department of Roads", "roads")
    return {
        "revenue": revenue,
        "roads": roads,
        "filing": make_service(revenue, "Tax filing", "tax-filing", tier=1),
        "refunds": make_service(revenue, "Refund status", "refund-status", tier=3),
        "permits": make_service(roads, "Road permits", "road-permits", tier=2),
    }


def service_status(html: str, name: str) -> str:
    """The status word shown beside a service on a page."""
    match = re.search(
        rf">{re.escape(name)}</a>\s*<span class=\"status status-(\w+)\">.*?</svg>([^<]+)</span>",
        html,
        re.S,
    )
    assert match, f"{name} not listed with a status"
    return f"{match.group(2)} ({match.group(1)})"


def test_all_green_when_nothing_is_wrong(client, catalog):
    html = client.get("/").get_data(as_text=True)
    assert "All services are operating normally" in html
    for name in ("Tax filing", "Refund status", "Road permits"):
        assert service_status(html, name) == "Operational (green)"
    # Agencies group their services, and each service has a page.
    assert (
        html.index("Department of Revenue")
        < html.index("Tax filing")
        < html.index("Department of Roads")
    )
    assert 'href="/services/tax-filing"' in html


@pytest.mark.parametrize(
    ("impact", "shown"),
    [
        (Impact.DEGRADED_PERFORMANCE, "Degraded performance (yellow)"),
        (Impact.PARTIAL_OUTAGE, "Partial outage (yellow)"),
        (Impact.MAJOR_OUTAGE, "Major outage (red)"),
    ],
)
def test_a_service_shows_the_impact_of_its_open_public_incident(client, catalog, impact, shown):
    make_incident({catalog["filing"]: impact}, priority=2)
    for path in ("/", "/agencies/revenue"):
        assert service_status(client.get(path).get_data(as_text=True), "Tax filing") == shown
    service_page = client.get("/services/tax-filing").get_data(as_text=True)
    assert impact.label in service_page
    assert service_status(client.get("/").get_data(as_text=True), "Refund status") == (
        "Operational (green)"
    )


def test_the_worst_of_several_incidents_colours_the_service_and_banner(client, catalog):
    make_incident({catalog["filing"]: Impact.DEGRADED_PERFORMANCE}, priority=2, title="Slow")
    make_incident(
        {catalog["filing"]: Impact.MAJOR_OUTAGE, catalog["refunds"]: Impact.PARTIAL_OUTAGE},
        priority=1,
        title="Down",
    )
    html = client.get("/").get_data(as_text=True)
    assert service_status(html, "Tax filing") == "Major outage (red)"
    assert service_status(html, "Refund status") == "Partial outage (yellow)"
    assert "Major outage: 1 service is down" in html
    assert 'class="banner banner-red"' in html


def test_open_incidents_show_on_the_front_page_with_their_latest_update(client, catalog):
    incident = make_incident(
        [catalog["filing"]], priority=1, updates=(State.INVESTIGATING, State.IDENTIFIED)
    )
    html = client.get("/").get_data(as_text=True)
    assert f'href="/incidents/{incident.ref}"' in html
    assert "Update: identified." in html
    assert "Update: investigating." not in html  # only the latest on the front page


def test_resolving_turns_the_service_green_again(client, catalog):
    incident = make_incident([catalog["filing"]], priority=1)
    assert (
        service_status(client.get("/").get_data(as_text=True), "Tax filing") == "Major outage (red)"
    )
    publish_update(incident, status=State.RESOLVED, body="Fixed.", by=None)
    html = client.get("/").get_data(as_text=True)
    assert service_status(html, "Tax filing") == "Operational (green)"
    assert "All services are operating normally" in html
    assert client.get(f"/incidents/{incident.ref}").status_code == 200  # still in history


def test_an_incident_without_a_first_update_is_not_yet_public(client, catalog):
    incident = make_incident([catalog["filing"]], priority=1, updates=())
    assert client.get(f"/incidents/{incident.ref}").status_code == 404
    assert (
        service_status(client.get("/").get_data(as_text=True), "Tax filing")
        == "Operational (green)"
    )


def test_a_p4_incident_never_appears_publicly(client, catalog):
    incident = make_incident([catalog["filing"]], priority=4, made_public=True)
    assert client.get(f"/incidents/{incident.ref}").status_code == 404
    for path in ("/", "/services/tax-filing", "/agencies/revenue", "/history"):
        assert incident.ref not in client.get(path).get_data(as_text=True)
    assert (
        service_status(client.get("/").get_data(as_text=True), "Tax filing")
        == "Operational (green)"
    )


def test_a_p3_incident_appears_only_once_marked_public(client, catalog):
    incident = make_incident({catalog["filing"]: Impact.DEGRADED_PERFORMANCE}, priority=3)
    assert client.get(f"/incidents/{incident.ref}").status_code == 404
    assert incident.ref not in client.get("/history").get_data(as_text=True)

    publish_update(incident, status=State.IDENTIFIED, body="Some of you cannot file.", by=None,
                   make_public=True)  # fmt: skip
    assert client.get(f"/incidents/{incident.ref}").status_code == 200
    assert service_status(client.get("/").get_data(as_text=True), "Tax filing") == (
        "Degraded performance (yellow)"
    )
    assert incident.ref in client.get("/history").get_data(as_text=True)


def test_lowering_a_p2_to_p4_takes_it_off_the_public_site(client, catalog):
    incident = make_incident([catalog["filing"]], priority=2)
    change_priority(incident, to=4, reason="Only one person affected", by=None)
    assert client.get(f"/incidents/{incident.ref}").status_code == 404


def test_incident_page_shows_the_whole_timeline_newest_first_with_times(
    client, catalog, pinned_now
):
    detected = pinned_now - timedelta(minutes=90)
    incident = make_incident(
        [catalog["filing"]],
        priority=1,
        detected_at=detected,
        updates=(State.INVESTIGATING, State.IDENTIFIED, State.MONITORING),
    )
    html = client.get(f"/incidents/{incident.ref}").get_data(as_text=True)
    positions = [html.index(f"Update: {s}.") for s in ("monitoring", "identified", "investigating")]
    assert positions == sorted(positions)
    # Detected 90 minutes before 2:30 PM EST; the first update a minute after detection.
    assert '<time datetime="2026-11-23T18:01:00Z" data-ago>23 Nov 2026, 1:01 PM EST</time>' in html
    assert incident.title in html and "Tax filing" in html and "Major outage" in html


def test_markdown_in_updates_is_rendered_and_sanitised(client, catalog):
    incident = make_incident([catalog["filing"]], priority=1, updates=())
    publish_update(
        incident,
        status=State.INVESTIGATING,
        body="**Down**<script>alert(1)</script> [help](javascript:alert(2)) <img src=x onerror=alert(3)>",
        by=None,
    )
    html = client.get(f"/incidents/{incident.ref}").get_data(as_text=True)
    assert "<strong>Down</strong>" in html
    assert "<script>alert" not in html and "javascript:" not in html and "onerror" not in html


def test_public_pages_carry_only_the_optional_relative_time_script(client, catalog):
    # The one script adds "(n minutes ago)" beside absolute times; the page says everything without
    # it (the browser tests read the pages with JavaScript off).
    make_incident([catalog["filing"]], priority=1)
    for path in ("/", "/services/tax-filing", "/agencies/revenue", "/history"):
        html = client.get(path).get_data(as_text=True)
        scripts = re.findall(r"<script[^>]*>", html)
        assert scripts == ['<script src="/static/time.js" defer>'], path


@pytest.mark.parametrize(
    "path",
    [
        "/services/no-such-service",
        "/agencies/no-such-agency",
        "/incidents/INC-2026-0101-999",
        "/incidents/not-a-reference",
        "/no-such-page",
    ],
)
def test_unknown_pages_are_a_404_in_the_site_style(client, catalog, path):
    response = client.get(path)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html and 'href="/"' in html and "site.css" in html


class TestHistory:
    @pytest.fixture
    def incidents(self, catalog, pinned_now):
        made = []
        for days_ago, service, priority in [
            (2, "filing", 1),
            (5, "refunds", 2),
            (40, "permits", 2),
            (45, "filing", 3),
        ]:
            incident = make_incident(
                [catalog[service]],
                priority=priority,
                made_public=True,
                detected_at=pinned_now - timedelta(days=days_ago),
                title=f"Incident {days_ago} days ago",
                updates=(State.INVESTIGATING, State.RESOLVED),
            )
            made.append(incident)
        return made

    def test_lists_public_incidents_newest_first(self, client, incidents):
        html = client.get("/history").get_data(as_text=True)
        assert "4 incidents found" in html
        positions = [html.index(f"Incident {d} days ago") for d in (2, 5, 40, 45)]
        assert positions == sorted(positions)

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("service=tax-filing", {2, 45}),
            ("agency=roads", {40}),
            ("priority=2", {5, 40}),
            ("month=2026-10", {40, 45}),
            ("month=2026-11&agency=revenue", {2, 5}),
        ],
    )
    def test_filters(self, client, incidents, query, expected):
        html = client.get(f"/history?{query}").get_data(as_text=True)
        shown = {d for d in (2, 5, 40, 45) if f"Incident {d} days ago" in html}
        assert shown == expected

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ("month=2026-13", "Enter a month as year-month"),
            ("month=yesterday", "Enter a month as year-month"),
            ("priority=9", "Choose a priority from the list."),
            ("agency=nope", "There is no agency called"),
        ],
    )
    def test_bad_filters_are_explained_and_ignored(self, client, incidents, query, message):
        response = client.get(f"/history?{query}&unknown=1")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert message in html
        assert "4 incidents found" in html

    def test_paginates_twenty_a_page_and_clamps_huge_page_numbers(
        self, client, catalog, pinned_now
    ):
        for n in range(23):
            make_incident(
                [catalog["filing"]],
                priority=2,
                title=f"Numbered {n:02d}",
                detected_at=pinned_now - timedelta(hours=n + 1),
                updates=(State.INVESTIGATING, State.RESOLVED),
            )
        first = client.get("/history").get_data(as_text=True)
        assert "page 1 of 2" in first and "Numbered 00" in first and "Numbered 22" not in first
        assert 'rel="next" href="/history?page=2"' in first
        for page in ("2", "99999999999999", "-3", "abc"):
            response = client.get(f"/history?page={page}")
            assert response.status_code == 200
        last = client.get("/history?page=99999999999999").get_data(as_text=True)
        assert "page 2 of 2" in last and "Numbered 22" in last


def test_healthz_reports_ok(client, catalog):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
