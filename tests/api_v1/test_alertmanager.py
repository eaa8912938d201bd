"""POST /api/v1/alertmanager with real Alertmanager notifications (fixtures/alertmanager_*): a
firing group opens a draft incident nobody outside can see, repeats update it, a resolved group
suggests resolution, the leads are told, a lead publishes as drafted; bad input changes nothing.
Services that follow monitoring take their monitoring status from the alerts."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import func, select

from statuspage import clock
from statuspage.alerts.models import AlertGroup
from statuspage.api_keys.operations import create_key, revoke_key
from statuspage.audit import AuditEntry
from statuspage.extensions import db
from statuspage.incidents.models import Impact, Incident
from statuspage.incidents.operations import Scope, change_scope
from statuspage.internal.matrix import tell_people
from statuspage.subscriptions import outbox
from statuspage.users.models import Role
from tests.factories import login, make_agency, make_service, make_user

FIXTURES = Path(__file__).parent / "fixtures"
SITE = "https://status.example.gov"
URL = "/api/v1/alertmanager"
FIRING_AT = datetime(2026, 12, 2, 9, 42, tzinfo=UTC)  # the fixture's alerts began 09:40-09:41
RESOLVED_AT = datetime(2026, 12, 2, 9, 45, tzinfo=UTC)  # they ended 09:43:03
# Tables a refused request may still touch: the key's last use and the idempotency claims.
BOOKKEEPING = {"api_keys", "idempotent_requests"}


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"alertmanager_v4_{name}.json").read_text())


FIRING, RESOLVED = fixture("firing"), fixture("resolved")


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "SITE_URL": SITE}


@pytest.fixture(autouse=True)
def pinned_clock():
    """Every request at FIRING_AT unless a test pins another moment around it."""
    with clock.pinned(FIRING_AT):
        yield


@dataclass
class Revenue:
    agency: object
    filing: object  # tier 1, follows monitoring
    payments: object  # tier 2, follows monitoring
    lead: object
    owner: object
    key: str

    def bearer(self, key: str | None = None) -> dict:
        return {"Authorization": f"Bearer {key or self.key}"}


@pytest.fixture
def revenue(app) -> Revenue:
    agency = make_agency("Department of Revenue", slug="revenue")
    filing = make_service(agency, "Tax filing", slug="tax-filing", tier=1)
    payments = make_service(agency, "Tax payments", slug="tax-payments", tier=2)
    filing.follows_monitoring = payments.follows_monitoring = True
    db.session.commit()
    lead = make_user(agency, Role.COMMUNICATIONS_LEAD, email="lead@revenue.example.gov")
    owner = make_user(agency, Role.SERVICE_OWNER, email="owner@revenue.example.gov")
    _, key = create_key(agency, "Alertmanager", {"incidents"}, by=owner)
    return Revenue(agency, filing, payments, lead, owner, key)


def send(client, revenue, body, *, at=FIRING_AT, headers=None):
    with clock.pinned(at):
        return client.post(URL, json=body, headers=revenue.bearer() if headers is None else headers)


def the_incident() -> Incident:
    db.session.expire_all()
    return db.session.scalars(select(Incident)).one()


def actions(incident: Incident | None = None) -> list[str]:
    query = select(AuditEntry.action).order_by(AuditEntry.id)
    if incident is not None:
        query = query.where(AuditEntry.incident_id == incident.id)
    return list(db.session.scalars(query))


def entries(action: str) -> list[dict]:
    return [json.loads(e.details) | {"actor": e.actor.name if e.actor else None}
            for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                        .order_by(AuditEntry.id))]  # fmt: skip


def table_contents() -> dict[str, list]:
    db.session.expire_all()
    return {
        table.name: sorted(map(repr, db.session.execute(select(table)).all()))
        for table in db.metadata.sorted_tables
        if table.name not in BOOKKEEPING
    }


def alone(body: dict, service: str) -> dict:
    """The notification with only the alert on ``service``."""
    body = copy.deepcopy(body)
    body["alerts"] = [a for a in body["alerts"] if a["labels"]["service"] == service]
    return body


def with_severity(body: dict, service: str, severity: str) -> dict:
    body = copy.deepcopy(body)
    for alert in body["alerts"]:
        if alert["labels"]["service"] == service:
            alert["labels"]["severity"] = severity
    return body


class FormReader(HTMLParser):
    """The fields of the form posting to ``action``, as a browser would submit them unchanged."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.inside, self.fields, self.textarea = action, False, {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = self.action in (attrs.get("action") or "")
        elif self.inside and tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""
        elif self.inside and tag == "textarea":
            self.textarea = attrs["name"]
            self.fields[self.textarea] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.fields[self.textarea] += data


def drafted_form(html: str, ref: str) -> dict[str, str]:
    reader = FormReader(f"/admin/incidents/{ref}/alerts/publish")
    reader.feed(html)
    # A browser drops the line break that follows <textarea>.
    return {
        name: value.removeprefix("\r\n").removeprefix("\n") for name, value in reader.fields.items()
    }


# --- a firing group opens a draft ---------------------------------------------------------------


def test_a_firing_group_opens_a_draft_incident_that_nobody_outside_can_see(client, revenue):
    answer = send(client, revenue, FIRING)
    assert answer.status_code == 201
    incident = the_incident()
    assert answer.json["incident"] == {
        "id": incident.ref, "name": "Problem with Tax filing and Tax payments", "status": "new",
        "priority": "P1", "public": False, "opened_now": True,
    }  # fmt: skip
    assert incident.priority == 1 and incident.source == "monitoring" and incident.state == "new"
    assert incident.first_public_at is None and incident.updates == []
    assert incident.started_at == datetime(2026, 12, 2, 9, 40, 4, 152939, tzinfo=UTC)
    assert {a.service.slug: a.impact for a in incident.affected} == {
        "tax-filing": "major_outage",  # critical
        "tax-payments": "degraded_performance",  # warning
    }
    assert client.get(f"/incidents/{incident.ref}").status_code == 404
    front = client.get("/").text
    assert "All services are operating normally" in front and incident.title not in front
    assert client.get("/api/v2/incidents.json").json["incidents"] == []


def test_the_draft_is_logged_as_the_api_key_with_the_suggested_priority(client, revenue):
    send(client, revenue, FIRING)
    [logged] = entries("incident_logged")
    assert logged["actor"] == "API key 'Alertmanager' (Department of Revenue)"
    assert logged["suggested"] == (
        "P1 from critical severity (high urgency) on a tier-1 service (high impact)"
    )
    [opened] = entries("alert_draft_opened")
    assert opened["group"] == '{}:{agency="revenue", alertname="HighErrorRate"}'
    assert opened["services"] == "Tax filing, Tax payments"


def test_a_warning_on_a_tier_2_service_suggests_p3(client, revenue):
    answer = send(client, revenue, alone(FIRING, "tax-payments"))
    assert answer.json["incident"]["priority"] == "P3"
    assert answer.json["group"]["suggestion"] == (
        "P3 from warning severity (medium urgency) on a tier-2 service (medium impact)"
    )


def test_the_service_label_may_come_from_the_common_labels(client, revenue):
    body = alone(FIRING, "tax-filing")
    del body["alerts"][0]["labels"]["service"]
    body["commonLabels"]["service"] = "tax-filing"
    assert send(client, revenue, body).status_code == 201
    assert [a.service.slug for a in the_incident().affected] == ["tax-filing"]


# --- repeats, new alerts, resolution ----------------------------------------------------------


def test_repeats_of_the_group_update_the_same_draft_and_record_nothing_new(client, revenue):
    first = send(client, revenue, FIRING)
    audit_after_first = actions()
    again = send(client, revenue, FIRING, at=FIRING_AT.replace(minute=48))
    assert again.status_code == 200
    assert again.json["incident"]["id"] == first.json["incident"]["id"]
    assert again.json["changed"] is False and again.json["group"]["notifications"] == 2
    assert db.session.scalar(select(func.count(Incident.id))) == 1
    assert actions() == audit_after_first


def test_a_new_alert_in_the_group_adds_its_service_to_the_draft(client, revenue):
    send(client, revenue, alone(FIRING, "tax-filing"))
    assert [a.service.slug for a in the_incident().affected] == ["tax-filing"]
    send(client, revenue, FIRING, at=FIRING_AT.replace(minute=44))
    incident = the_incident()
    assert sorted(a.service.slug for a in incident.affected) == ["tax-filing", "tax-payments"]
    assert "scope_changed" in actions(incident)


def test_resolved_alerts_suggest_resolution_and_leave_the_incident_to_the_lead(client, revenue):
    send(client, revenue, FIRING)
    answer = send(client, revenue, RESOLVED, at=RESOLVED_AT)
    assert answer.status_code == 200 and answer.json["group"]["resolution_suggested"] is True
    incident = the_incident()
    assert incident.state == "new" and incident.resolved_at is None
    assert "alerts_resolved" in actions(incident)
    login(client, revenue.lead)
    page = client.get(f"/admin/incidents/{incident.ref}").text
    assert "Resolution suggested:" in page
    assert "Publish the resolution as drafted" in page


def test_alerts_firing_again_before_the_lead_resolves_withdraw_the_suggestion(client, revenue):
    first = send(client, revenue, FIRING).json["incident"]["id"]
    send(client, revenue, RESOLVED, at=RESOLVED_AT)
    again = send(client, revenue, FIRING, at=RESOLVED_AT.replace(minute=47))
    assert again.status_code == 200 and again.json["incident"]["id"] == first
    assert again.json["group"]["resolution_suggested"] is False
    incident = the_incident()
    assert "alerts_firing_again" in actions(incident)[-3:]
    login(client, revenue.lead)
    page = client.get(f"/admin/incidents/{first}").text
    assert "Resolution suggested:" not in page and "Publish as drafted" in page


def test_a_group_that_fires_again_after_its_incident_was_resolved_opens_a_new_draft(
    client, revenue
):
    first = send(client, revenue, FIRING).json["incident"]["id"]
    send(client, revenue, RESOLVED, at=RESOLVED_AT)
    login(client, revenue.lead)
    html = client.get(f"/admin/incidents/{first}").text
    client.post(f"/admin/incidents/{first}/alerts/publish", data=drafted_form(html, first))
    assert db.session.scalar(select(Incident.state).where(Incident.ref == first)) == "resolved"
    second = send(client, revenue, FIRING, at=RESOLVED_AT.replace(minute=50))
    assert second.status_code == 201 and second.json["incident"]["id"] != first
    assert db.session.scalar(select(func.count(AlertGroup.id))) == 1


def test_the_same_idempotency_key_replays_the_first_answer(client, revenue):
    headers = {**revenue.bearer(), "Idempotency-Key": "am-1"}
    first = send(client, revenue, FIRING, headers=headers)
    again = send(client, revenue, FIRING, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert db.session.scalar(select(AlertGroup.notifications)) == 1


# --- who is told ------------------------------------------------------------------------------


def test_the_communications_lead_is_told_of_the_draft_and_the_matrix_tells_the_owner(
    client, revenue, smtp
):
    send(client, revenue, FIRING)
    with clock.pinned(FIRING_AT):
        tell_people(FIRING_AT)
        outbox.dispatch_until_empty()
    ref = the_incident().ref
    to = {str(m["To"]): m for m in smtp.messages}
    draft = to["lead@revenue.example.gov"]
    assert str(draft["Subject"]) == f"[P1] Draft from monitoring: Problem with Tax filing and " \
        f"Tax payments ({ref})"  # fmt: skip
    text = draft.get_body(("plain",)).get_content()
    assert "It is not public. Suggested priority: P1 from critical severity" in text
    assert "HighErrorRate (firing, critical) on tax-filing: More than 5% of requests" in text
    assert f"{SITE}/admin/incidents/{ref}#alerts-heading" in text
    assert str(to["owner@revenue.example.gov"]["Subject"]).startswith("[P1] Problem with Tax")
    assert not any("api-keys.invalid" in address for address in to)


def test_the_lead_is_told_when_the_alerts_resolve(client, revenue, smtp):
    send(client, revenue, FIRING)
    send(client, revenue, RESOLVED, at=RESOLVED_AT)
    with clock.pinned(RESOLVED_AT):
        outbox.dispatch_until_empty()
    subjects = [str(m["Subject"]) for m in smtp.messages if str(m["To"]).startswith("lead@")]
    assert f"[P1] Alerts resolved, resolve {the_incident().ref}? Problem with Tax filing and " \
        "Tax payments" in subjects  # fmt: skip


# --- the lead publishes with one click -----------------------------------------------------------


def test_the_lead_publishes_as_drafted_and_the_public_page_follows(client, revenue):
    send(client, revenue, FIRING)
    incident = the_incident()
    login(client, revenue.lead)
    html = client.get(f"/admin/incidents/{incident.ref}").text
    form = drafted_form(html, incident.ref)
    assert form["drafted-body"] == (
        "You cannot use Tax filing and Tax payments at the moment. We know about the problem "
        "and are working to fix it as fast as we can."
    )
    assert form["drafted-status"] == "investigating" and form["drafted-next_update_at"]
    with clock.pinned(FIRING_AT.replace(minute=50)):
        done = client.post(f"/admin/incidents/{incident.ref}/alerts/publish", data=form)
    assert done.status_code == 302
    incident = the_incident()
    assert incident.first_public_at is not None and incident.state == "investigating"
    [update] = incident.updates
    assert update.is_public and update.author_id == revenue.lead.id
    public = client.get(f"/incidents/{incident.ref}").text
    assert "You cannot use Tax filing and Tax payments at the moment." in public
    assert "Major outage" in client.get("/services/tax-filing").text


def test_the_lead_may_edit_the_drafted_message_before_publishing(client, revenue):
    send(client, revenue, FIRING)
    ref = the_incident().ref
    login(client, revenue.lead)
    form = drafted_form(client.get(f"/admin/incidents/{ref}").text, ref)
    form["drafted-body"] = "Tax filing is down for everyone. We are fixing it."
    with clock.pinned(FIRING_AT.replace(minute=50)):
        client.post(f"/admin/incidents/{ref}/alerts/publish", data=form)
    assert the_incident().updates[0].body == "Tax filing is down for everyone. We are fixing it."


def test_an_empty_drafted_message_is_refused_and_nothing_is_published(client, revenue):
    send(client, revenue, FIRING)
    ref = the_incident().ref
    login(client, revenue.lead)
    form = drafted_form(client.get(f"/admin/incidents/{ref}").text, ref)
    form["drafted-body"] = " "
    refused = client.post(f"/admin/incidents/{ref}/alerts/publish", data=form)
    assert refused.status_code == 400
    assert "Write what is happening for the public." in refused.text
    assert the_incident().first_public_at is None


def test_a_warning_draft_starts_from_the_slow_or_partly_working_template(client, revenue):
    send(client, revenue, alone(FIRING, "tax-payments"))
    ref = the_incident().ref
    login(client, revenue.lead)
    form = drafted_form(client.get(f"/admin/incidents/{ref}").text, ref)
    assert form["drafted-body"].startswith("Parts of Tax payments are slow or not working")


def test_the_lead_publishes_the_suggested_resolution_as_drafted(client, revenue):
    send(client, revenue, FIRING)
    ref = the_incident().ref
    login(client, revenue.lead)
    with clock.pinned(FIRING_AT.replace(minute=44)):
        client.post(
            f"/admin/incidents/{ref}/alerts/publish",
            data=drafted_form(client.get(f"/admin/incidents/{ref}").text, ref),
        )
    send(client, revenue, RESOLVED, at=RESOLVED_AT)
    form = drafted_form(client.get(f"/admin/incidents/{ref}").text, ref)
    assert form["drafted-status"] == "resolved"
    assert form["drafted-body"].startswith("You can use Tax filing and Tax payments normally")
    with clock.pinned(RESOLVED_AT.replace(minute=46)):
        assert client.post(f"/admin/incidents/{ref}/alerts/publish", data=form).status_code == 302
    incident = the_incident()
    assert incident.state == "resolved"
    assert incident.resolved_at == datetime(2026, 12, 2, 9, 43, tzinfo=UTC)  # alerts ended 09:43:03
    assert "Operational" in client.get("/services/tax-filing").text


def test_a_viewer_sees_the_alerts_but_cannot_publish_them(client, revenue):
    send(client, revenue, FIRING)
    ref = the_incident().ref
    viewer = make_user(revenue.agency, Role.VIEWER)
    login(client, viewer)
    page = client.get(f"/admin/incidents/{ref}").text
    assert "From monitoring (Alertmanager)" in page and "Publish as drafted" not in page
    assert client.post(f"/admin/incidents/{ref}/alerts/publish", data={}).status_code == 403


# --- components following monitoring ------------------------------------------------------------


def monitoring_column(client) -> dict[str, str]:
    html = client.get("/admin/services").text
    found = {}
    for row in html.split("<tr>")[2:]:
        name = row.split('<span class="meta">/services/')[1].split("<")[0]
        found[name] = row.split('data-label="Monitoring">')[1].split("</td>")[0]
    return found


def test_the_monitoring_status_follows_the_alerts_and_every_change_is_audited(client, revenue):
    login(client, revenue.owner)
    send(client, revenue, FIRING)
    column = monitoring_column(client)
    assert "Major outage" in column["tax-filing"] and "Degraded performance" in column[
        "tax-payments"]  # fmt: skip
    send(client, revenue, RESOLVED, at=RESOLVED_AT)
    assert all("Operational" in cell for cell in monitoring_column(client).values())
    changes = [(e["service"], e["from"], e["to"]) for e in entries("monitoring_status_changed")]
    assert changes == [
        ("tax-filing", "Operational", "Major outage"),
        ("tax-payments", "Operational", "Degraded performance"),
        ("tax-filing", "Major outage", "Operational"),
        ("tax-payments", "Degraded performance", "Operational"),
    ]


def test_a_service_that_does_not_follow_monitoring_takes_the_prioritys_default_impact(
    client, revenue
):
    revenue.payments.follows_monitoring = False
    db.session.commit()
    send(client, revenue, FIRING)
    incident = the_incident()
    assert {a.service.slug: a.impact for a in incident.affected}["tax-payments"] == \
        "major_outage"  # a P1's default  # fmt: skip
    assert [e["service"] for e in entries("monitoring_status_changed")] == ["tax-filing"]
    login(client, revenue.owner)
    assert "Not followed" in monitoring_column(client)["tax-payments"]


def test_while_a_draft_the_impact_follows_monitoring_unless_a_lead_changed_it(client, revenue):
    send(client, revenue, with_severity(FIRING, "tax-filing", "warning"))
    incident = the_incident()
    change_scope(incident, Scope(incident.title, {
        revenue.filing: Impact.PARTIAL_OUTAGE, revenue.payments: Impact.DEGRADED_PERFORMANCE,
    }), by=revenue.lead)  # fmt: skip
    send(client, revenue, with_severity(FIRING, "tax-payments", "critical"),
         at=FIRING_AT.replace(minute=45))  # fmt: skip
    impacts = {a.service.slug: a.impact for a in the_incident().affected}
    assert impacts == {
        "tax-filing": "partial_outage",  # the lead's choice stays
        "tax-payments": "major_outage",
    }  # monitoring's own, now critical


def test_the_public_status_stays_operational_until_the_lead_publishes(client, revenue):
    send(client, revenue, FIRING)
    for path in ("/", "/services/tax-filing", "/api/v2/components.json"):
        page = client.get(path).text
        assert "Major outage" not in page and "major_outage" not in page


def test_once_public_monitoring_no_longer_changes_what_citizens_see(client, revenue):
    send(client, revenue, with_severity(FIRING, "tax-filing", "warning"))
    ref = the_incident().ref
    login(client, revenue.lead)
    with clock.pinned(FIRING_AT.replace(minute=44)):
        client.post(
            f"/admin/incidents/{ref}/alerts/publish",
            data=drafted_form(client.get(f"/admin/incidents/{ref}").text, ref),
        )
    send(client, revenue, FIRING, at=FIRING_AT.replace(minute=46))  # now critical
    incident = the_incident()
    assert {a.service.slug: a.impact for a in incident.affected}["tax-filing"] == \
        "degraded_performance"  # fmt: skip
    page = client.get(f"/admin/incidents/{ref}").text
    assert "Major outage" in page.split('id="alerts-heading"')[1].split("</table>")[0]


def test_the_service_owner_turns_following_on_in_the_service_form_and_it_is_audited(
    client, revenue
):
    revenue.filing.follows_monitoring = False
    db.session.commit()
    login(client, revenue.owner)
    form = client.get(f"/admin/services/{revenue.filing.id}").text
    assert "Follow its monitoring alerts" in form
    done = client.post(f"/admin/services/{revenue.filing.id}", data={
        "name": "Tax filing", "slug": "tax-filing", "tier": "1", "follows_monitoring": "y",
    })  # fmt: skip
    assert done.status_code == 302
    db.session.expire_all()
    assert revenue.filing.follows_monitoring is True
    [changed] = entries("service_changed")
    assert changed["changes"] == {"follows_monitoring": [False, True]}


# --- bad input: a Statuspage-shaped 4xx and nothing changed --------------------------------------


@pytest.fixture
def other_agency(app):
    health = make_agency("Department of Health", slug="health")
    make_service(health, "Clinic booking", slug="clinic-booking")
    return health


def _without_service(body):
    del body["alerts"][0]["labels"]["service"]


def _service(slug):
    def change(body):
        body["alerts"][1]["labels"]["service"] = slug

    return change


@pytest.mark.parametrize(
    ("change", "status", "says"),
    [
        (_without_service, 422, "alerts[0] has no service label"),
        (_service("tax-refunds"), 422, 'names service "tax-refunds", which Department of Revenue'),
        (_service("clinic-booking"), 422, 'names service "clinic-booking", which Department of '),
        (lambda b: b["alerts"][1]["labels"].update(agency="health"), 422, 'has agency="health", but '),
        (lambda b: b.update(alerts="all of them"), 400, "alerts must be a list"),
        (lambda b: b["alerts"][0]["labels"].update(severity=5), 400, "labels.severity must be a"),
        (lambda b: b["alerts"][0].update(status=True), 400, 'alerts[0].status must be "firing"'),
        (lambda b: b.update(version="5"), 400, 'version "4"'),
    ],
)  # fmt: skip
def test_a_notification_we_cannot_use_is_refused_saying_why_and_changes_nothing(
    client, revenue, other_agency, change, status, says
):
    body = copy.deepcopy(FIRING)
    change(body)
    before = table_contents()
    answer = send(client, revenue, body)
    assert answer.status_code == status and says in answer.json["error"]
    assert answer.is_json and set(answer.json) == {"error"}
    assert table_contents() == before


def test_another_agencys_service_is_refused_as_if_it_did_not_exist(client, revenue, other_agency):
    body = copy.deepcopy(FIRING)
    body["alerts"][1]["labels"]["service"] = "clinic-booking"
    unknown = send(client, revenue, body).json["error"]
    assert "Clinic booking" not in unknown and "Health" not in unknown
    assert unknown.endswith("use one of tax-filing, tax-payments.")


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"not json at all", 400), (b"[]", 400), (b'{"version": "4"', 400)],
)
def test_a_body_that_is_not_a_notification_is_refused(client, revenue, body, status):
    before = table_contents()
    with clock.pinned(FIRING_AT):
        answer = client.post(
            URL, data=body, headers={**revenue.bearer(), "Content-Type": "application/json"}
        )
    assert answer.status_code == status and "error" in answer.json
    assert table_contents() == before


def test_a_huge_body_is_refused_before_it_is_read(client, revenue):
    body = copy.deepcopy(FIRING)
    body["alerts"][0]["annotations"]["description"] = "x" * (2 * 1024 * 1024)
    before = table_contents()
    answer = send(client, revenue, body)
    assert answer.status_code == 413 and answer.json == {"error": "The request body is too large."}
    assert table_contents() == before


def test_no_key_a_revoked_key_or_a_key_without_the_incidents_scope_is_refused(client, revenue):
    _, reader = create_key(revenue.agency, "Dashboard", {"read"}, by=revenue.owner)
    revoked, revoked_key = create_key(revenue.agency, "Old", {"incidents"}, by=revenue.owner)
    revoke_key(revoked, by=revenue.owner)
    before = table_contents()
    assert send(client, revenue, FIRING, headers={}).status_code == 401
    assert send(client, revenue, FIRING, headers=revenue.bearer(revoked_key)).status_code == 401
    refused = send(client, revenue, FIRING, headers=revenue.bearer(reader))
    assert refused.status_code == 403 and "incidents" in refused.json["error"]
    assert table_contents() == before
