"""The banner agency websites embed: script or iframe, no cookies, nothing third-party."""

import pytest

from tests.factories import make_agency, make_incident, make_service


@pytest.fixture
def service(app, pinned_now):
    return make_service(make_agency("Department of Revenue", "revenue"), "Tax filing", "tax-filing")


def test_the_script_is_silent_when_all_is_well(client, service):
    response = client.get("/embed/revenue.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert "var notices = [];" in response.text
    assert "Set-Cookie" not in response.headers


def test_the_script_carries_the_open_incidents(client, service):
    incident = make_incident([service], priority=1, title='Filing </script><b>"down"')
    script = client.get("/embed/revenue.js").text
    assert f"http://localhost/incidents/{incident.ref}" in script
    assert "</script>" not in script.split("var notices = ")[1].split(";")[0]  # no breaking out
    assert "http" not in script.replace("http://localhost", "")  # no third-party addresses


def test_the_iframe_page_may_be_framed_and_needs_no_script(client, service):
    make_incident([service], priority=2, title="Filing slow")
    response = client.get("/embed/revenue")
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "<script" not in response.text and "Filing slow" in response.text
    assert "Set-Cookie" not in response.headers


def test_an_unknown_agency_is_a_404(client, service):
    assert client.get("/embed/nope.js").status_code == 404
