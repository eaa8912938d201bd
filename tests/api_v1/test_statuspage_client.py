"""An existing Statuspage manage API client from PyPI (crunch-statuspageio, the maintained fork
of the `statuspageio` library) against the app served over HTTP on 127.0.0.1, configured only
with our base URL and an agency key: it creates, updates and resolves an incident and changes a
component; the admin shows the incident to a lead, and the public page follows the
becoming-public rule.

The library adds Statuspage's version prefix itself (``{base_url}/v1/pages/...``), so its base
URL is ``http://<site>/api``; the requests it sends are ``/api/v1/pages/<page>/...json``."""

from __future__ import annotations

import threading

import pytest
import requests
import statuspageio
from statuspageio.errors import RequestError, ResourceError
from werkzeug.serving import make_server

from statuspage.extensions import db
from statuspage.users.models import Role
from tests.factories import PASSWORD, make_user


@pytest.fixture
def live(app):
    """The app on a free 127.0.0.1 port, in a thread; each request has its own app context."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    db.session.remove()


@pytest.fixture
def statuspage_client(live, page):
    return statuspageio.Client(api_key=page.key, page_id=page.slug, base_url=f"{live}/api",
                               timeout=10)  # fmt: skip


def public_page(live: str, ref: str) -> requests.Response:
    return requests.get(f"{live}/incidents/{ref}", timeout=10)


def test_a_statuspage_client_runs_an_incident_from_start_to_resolution(
    live, page, statuspage_client
):
    client = statuspage_client
    assert client.pages.get().name == "Department of Revenue"
    assert [c.id for c in client.components.list()] == [
        "tax-filing", "tax-payments", "records-archive"]  # fmt: skip

    created = client.incidents.create(
        name="Online filing unavailable", status="investigating",
        body="Some people cannot file their return online. We are looking into it.",
        impact_override="major", component_ids=["tax-filing"],
    )  # fmt: skip
    ref = created.id
    assert (created.status, created.impact) == ("investigating", "major")
    assert public_page(live, ref).status_code == 200  # P2 with a message: public at once

    degraded = client.components.update("tax-filing", status="degraded_performance")
    assert degraded.status == "degraded_performance"

    identified = client.incidents.update(
        ref, status="identified", body="A failed disk slows filing. Paper forms still work."
    )
    assert identified.status == "identified"
    assert [u.status for u in identified.incident_updates] == ["identified", "investigating"]
    assert [u.id for u in client.incidents.list_unresolved()] == [ref]

    resolved = client.incidents.update(ref, status="resolved",
                                       body="Filing works normally again.")  # fmt: skip
    assert resolved.status == "resolved"
    assert resolved.resolved_at is not None
    assert client.incidents.list_unresolved() == []
    assert client.components.get("tax-filing").status == "operational"

    shown = public_page(live, ref).text
    assert "Filing works normally again." in shown
    assert "A failed disk slows filing." in shown

    lead = make_user(page.agency, Role.COMMUNICATIONS_LEAD)
    browser = requests.Session()
    signed_in = browser.post(f"{live}/admin/login", timeout=10,
                             data={"email": lead.email, "password": PASSWORD})  # fmt: skip
    assert signed_in.status_code == 200, signed_in.text[:500]
    admin = browser.get(f"{live}/admin/incidents/{ref}", timeout=10)
    assert admin.status_code == 200
    assert "Online filing unavailable" in admin.text
    assert "Filing works normally again." in admin.text
    assert "API key &#39;Chat bot&#39;" in admin.text or "API key 'Chat bot'" in admin.text


def test_an_incident_created_without_a_message_is_public_only_with_its_first_message(
    live, page, statuspage_client
):
    client = statuspage_client
    logged = client.incidents.create(name="Payment errors", impact_override="critical",
                                     component_ids=["tax-payments"])  # fmt: skip
    assert public_page(live, logged.id).status_code == 404
    assert logged.incident_updates == []
    client.incidents.update(logged.id, status="investigating",
                            body="Card payments fail. Bank transfers work.")  # fmt: skip
    assert public_page(live, logged.id).status_code == 200

    private = client.incidents.create(name="Archive search slow", impact_override="none",
                                      body="Searches are slow.",
                                      component_ids=["records-archive"])  # fmt: skip
    assert private.metadata.policy.priority == "P4"
    assert public_page(live, private.id).status_code == 404  # a P4 stays private


def test_the_client_sees_statuspage_shaped_errors(live, page, statuspage_client):
    with pytest.raises(ResourceError) as unknown:
        statuspage_client.incidents.create(name="X", body="Y", component_ids=["nope"])
    assert unknown.value.http_status == 422
    assert "Unknown component 'nope'" in unknown.value.errors["error"]

    stranger = statuspageio.Client(api_key=page.key, page_id="another-agency",
                                   base_url=f"{live}/api", timeout=10)  # fmt: skip
    with pytest.raises(RequestError) as elsewhere:
        stranger.incidents.list()
    assert elsewhere.value.http_status == 404

    with pytest.raises(RequestError) as refused:
        statuspage_client.components.update("tax-payments", status="major_outage")
    assert refused.value.http_status == 409
    assert "create one" in refused.value.errors["error"]
