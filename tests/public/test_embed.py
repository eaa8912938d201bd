"""The banner agency websites embed, for an agency or one service: script or iframe, no cookies,
nothing third-party; coloured by the worst current impact, with words and an icon shape, and
naming maintenance in progress and planned within the week."""

import json
import re
from datetime import timedelta

import pytest

from statuspage.extensions import db
from statuspage.incidents.models import AffectedService, Impact
from statuspage.maintenance.operations import save_window
from tests.factories import make_agency, make_incident, make_service


@pytest.fixture
def service(app, pinned_now):
    return make_service(make_agency("Department of Revenue", "revenue"), "Tax filing", "tax-filing")


@pytest.fixture
def refunds(service):
    return make_service(service.agency, "Refund status", "refund-status")


def banner_data(client, path: str):
    """What the script carries (None: it shows nothing)."""
    script = client.get(path).text
    return json.loads(re.search(r"var banner = (.*);\n", script).group(1))


def frame_banner(client, path: str) -> tuple[str, str]:
    """The iframe banner's colour class and its text, tags removed."""
    page = client.get(path).text
    colour = re.search(r'<div class="banner (\w+)">', page).group(1)
    inside = page.split('<div class="banner', 1)[1].split(">", 1)[1]
    text = " ".join(re.sub(r"<[^>]+>", " ", inside).split())
    return colour, text


def plan(services, start: timedelta, hours: int = 2, title: str = "Database upgrade", now=None):
    return save_window(
        None, title=title, description="Off for a while.", starts_at=now + start,
        ends_at=now + start + timedelta(hours=hours), services=services, by=None,
    )  # fmt: skip


def test_the_script_is_silent_when_all_is_well(client, service):
    response = client.get("/embed/revenue.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert "var banner = null;" in response.text
    assert "Set-Cookie" not in response.headers


def test_the_script_carries_the_open_incidents(client, service):
    incident = make_incident([service], priority=1, title='Filing </script><b>"down"')
    script = client.get("/embed/revenue.js").text
    assert f"http://localhost/incidents/{incident.ref}" in script
    assert "</script>" not in script.split("var banner = ")[1].split(";\n")[0]  # no breaking out
    assert "http" not in re.sub(r"http://localhost|http://www\.w3\.org/2000/svg", "", script)


def test_the_iframe_page_may_be_framed_and_needs_no_script(client, service):
    make_incident([service], priority=2, title="Filing slow")
    response = client.get("/embed/revenue")
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "<script" not in response.text and "Filing slow" in response.text
    assert "Set-Cookie" not in response.headers


def test_a_major_outage_makes_the_banner_red_and_says_so(client, service, refunds):
    make_incident({service: Impact.MAJOR_OUTAGE, refunds: Impact.DEGRADED_PERFORMANCE},
                  priority=1, title="Filing down")  # fmt: skip
    data = banner_data(client, "/embed/revenue.js")
    assert (data["colour"], data["headline"], data["icon"]) == ("red", "Major outage", "cross")
    assert data["incidents"][0]["impact"] == "Major outage"
    colour, text = frame_banner(client, "/embed/revenue")
    assert colour == "red"
    assert text.startswith("Major outage · Department of Revenue A service has a problem:")
    assert "Filing down (Major outage, investigating)" in text


def test_a_partial_outage_is_yellow_with_its_words(client, service):
    make_incident({service: Impact.PARTIAL_OUTAGE}, priority=2, title="Filing slow")
    data = banner_data(client, "/embed/services/tax-filing.js")
    assert (data["colour"], data["headline"], data["icon"]) == (
        "yellow",
        "Partial outage",
        "diamond",
    )
    assert frame_banner(client, "/embed/services/tax-filing")[0] == "yellow"


def test_maintenance_in_progress_is_blue_and_planned_maintenance_is_announced(
    client, service, refunds, pinned_now
):
    plan([service], -timedelta(hours=1), title="Database upgrade", now=pinned_now)
    plan([refunds], timedelta(days=3), title="New refund system", now=pinned_now)
    plan([refunds], timedelta(days=9), title="Too far ahead", now=pinned_now)
    data = banner_data(client, "/embed/revenue.js")
    assert (data["colour"], data["headline"], data["icon"]) == (
        "blue",
        "Maintenance in progress",
        "wrench",
    )
    assert data["running"][0]["when"] == "until 23 Nov 2026, 3:30 PM EST"
    colour, text = frame_banner(client, "/embed/revenue")
    assert colour == "blue"
    assert (
        "Maintenance in progress: Database upgrade (Tax filing) until 23 Nov 2026, 3:30 PM EST."
        in text
    )
    assert (
        "Planned maintenance: New refund system (Refund status) "
        "from 26 Nov 2026, 2:30 PM EST to 26 Nov 2026, 4:30 PM EST."
    ) in text
    assert "Too far ahead" not in text  # beyond the week


def test_an_outage_outranks_maintenance(client, service, pinned_now):
    plan([service], -timedelta(hours=1), now=pinned_now)
    make_incident({service: Impact.DEGRADED_PERFORMANCE}, priority=3, made_public=True)
    data = banner_data(client, "/embed/services/tax-filing.js")
    assert (data["colour"], data["headline"]) == ("yellow", "Degraded performance")
    assert data["running"][0]["title"] == "Database upgrade"  # still named


def test_planned_maintenance_alone_shows_a_green_banner_that_names_it(client, service, pinned_now):
    plan([service], timedelta(days=2), title="Database upgrade", now=pinned_now)
    data = banner_data(client, "/embed/services/tax-filing.js")
    assert (data["colour"], data["headline"]) == ("green", "Working normally")
    assert data["upcoming"][0]["title"] == "Database upgrade"


def test_a_service_banner_ignores_the_agencys_other_services(client, service, refunds, pinned_now):
    make_incident({refunds: Impact.MAJOR_OUTAGE}, priority=1, title="Refunds down")
    plan([refunds], -timedelta(hours=1), title="Refund database", now=pinned_now)
    assert banner_data(client, "/embed/services/tax-filing.js") is None
    colour, text = frame_banner(client, "/embed/services/tax-filing")
    assert colour == "green" and "Refunds down" not in text and "Refund database" not in text
    assert text.startswith("Working normally · Tax filing")
    # The refunds banner and the agency's show it.
    assert banner_data(client, "/embed/services/refund-status.js")["colour"] == "red"
    assert banner_data(client, "/embed/revenue.js")["colour"] == "red"


def test_a_shared_incident_counts_only_its_impact_on_this_agencys_services(client, service):
    roads = make_service(make_agency("Department of Roads", "roads"), "Road permits", "permits")
    incident = make_incident({roads: Impact.MAJOR_OUTAGE}, priority=1)
    # A platform failure that reaches one of Revenue's services too, more mildly.
    incident.affected.append(
        AffectedService(service_id=service.id, impact=Impact.DEGRADED_PERFORMANCE.value)
    )
    incident.is_shared = True
    db.session.commit()
    assert banner_data(client, "/embed/revenue.js")["headline"] == "Degraded performance"
    assert banner_data(client, "/embed/roads.js")["headline"] == "Major outage"


def test_an_unknown_agency_or_service_is_a_404(client, service):
    assert client.get("/embed/nope.js").status_code == 404
    assert client.get("/embed/services/nope").status_code == 404
    assert client.get("/embed/services/revenue.js").status_code == 404  # an agency, not a service
