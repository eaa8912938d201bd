"""The alert rules as pure functions: a label's level, the priority it suggests on a service of a
tier, the monitoring status it gives, and the webhook body read strictly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from statuspage.alerts import payload
from statuspage.alerts.operations import draft_title, key_digest
from statuspage.alerts.rules import Level, level_of, suggested_priority, worst
from statuspage.catalog.models import Service
from statuspage.incidents.models import Impact

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.mark.parametrize(
    ("severity", "level"),
    [
        ("critical", Level.CRITICAL), ("CRITICAL", Level.CRITICAL), ("page", Level.CRITICAL),
        ("warning", Level.WARNING), ("Warn", Level.WARNING), ("error", Level.WARNING),
        ("info", Level.INFO), ("none", Level.INFO),
        ("", Level.WARNING), ("mystery", Level.WARNING),
    ],
)  # fmt: skip
def test_the_severity_label_gives_the_level_and_an_unknown_word_counts_as_a_warning(
    severity, level
):
    assert level_of({"severity": severity}) is level


def test_an_alert_without_a_severity_counts_as_a_warning():
    assert level_of({"alertname": "HighErrorRate"}) is Level.WARNING


@pytest.mark.parametrize(
    ("severity", "tier", "priority"),
    [
        ("critical", 1, 1), ("critical", 2, 2), ("critical", 3, 3), ("critical", 4, 3),
        ("warning", 1, 2), ("warning", 2, 3), ("warning", 3, 4), ("warning", 4, 4),
        ("info", 1, 3), ("info", 2, 4), ("info", 3, 4), ("info", 4, 4),
    ],
)  # fmt: skip
def test_critical_is_p1_on_a_tier_1_service_and_lower_tiers_and_levels_step_down(
    severity, tier, priority
):
    assert suggested_priority({"severity": severity}, tier)[0] == priority


def test_urgency_and_impact_labels_go_through_the_policys_matrix_instead():
    assert suggested_priority({"severity": "info", "urgency": "high", "impact": "high"}, 4)[0] == 1
    assert suggested_priority({"severity": "critical", "urgency": "low"}, 1)[0] == 3  # L x H
    assert suggested_priority({"severity": "critical", "impact": "Low"}, 1)[0] == 3  # H x L
    assert suggested_priority({"severity": "warning", "impact": "medium"}, 1)[0] == 3  # M x M


def test_an_urgency_or_impact_that_is_not_high_medium_or_low_is_ignored():
    assert suggested_priority({"severity": "critical", "urgency": "urgent"}, 1)[0] == 1
    assert suggested_priority({"severity": "critical", "impact": "999"}, 1)[0] == 1


def test_the_suggestion_says_why_in_words_the_audit_log_keeps():
    assert suggested_priority({"severity": "critical"}, 1)[1] == (
        "P1 from critical severity (high urgency) on a tier-1 service (high impact)"
    )
    assert suggested_priority({"urgency": "low", "impact": "medium"}, 1)[1] == (
        "P4 from low urgency on medium impact"
    )


def test_a_critical_alert_means_an_outage_a_warning_degraded_and_info_nothing():
    assert Level.CRITICAL.impact is Impact.MAJOR_OUTAGE
    assert Level.WARNING.impact is Impact.DEGRADED_PERFORMANCE
    assert Level.INFO.impact is None
    assert worst([Level.INFO, Level.CRITICAL, Level.WARNING]) is Level.CRITICAL
    assert worst([]) is None


# --- grouping -----------------------------------------------------------------------------------


def test_the_group_key_is_kept_by_a_digest_that_is_the_same_for_the_same_key():
    key = fixture("alertmanager_v4_firing.json")["groupKey"]
    assert key == '{}:{agency="revenue", alertname="HighErrorRate"}'
    assert key_digest(key) == key_digest(str(key)) and len(key_digest(key)) == 64
    assert key_digest(key) != key_digest(key + " ")
    assert key_digest("x" * 10_000) != key_digest("x" * 9_999)


def test_firing_and_resolved_notifications_of_one_group_share_its_key():
    firing = payload.read(fixture("alertmanager_v4_firing.json"))
    resolved = payload.read(fixture("alertmanager_v4_resolved.json"))
    assert firing.group_key == resolved.group_key
    assert firing.is_firing and not resolved.is_firing


def test_the_draft_title_names_the_services_in_plain_words():
    filing = Service(name="Tax filing", display_order=1)
    payments = Service(name="Tax payments", display_order=2)
    records = Service(name="Records", display_order=3)
    assert draft_title([filing]) == "Problem with Tax filing"
    assert draft_title([payments, filing]) == "Problem with Tax filing and Tax payments"
    assert draft_title([records, payments, filing]) == (
        "Problem with Tax filing, Tax payments and Records"
    )


# --- the body, read strictly --------------------------------------------------------------------


def test_a_real_alertmanager_notification_is_read_with_each_alerts_own_labels():
    note = payload.read(fixture("alertmanager_v4_firing.json"))
    assert note.status == "firing" and note.receiver == "status-page"
    assert note.common_labels == {"agency": "revenue", "alertname": "HighErrorRate"}
    assert [a.labels["service"] for a in note.alerts] == ["tax-filing", "tax-payments"]
    assert [a.labels["severity"] for a in note.alerts] == ["critical", "warning"]
    first = note.alerts[0]
    assert first.ends_at is None  # Go's zero time: still firing
    assert first.starts_at.isoformat() == "2026-12-02T09:40:04.152939+00:00"
    assert first.fingerprint == "e0351857d3c7db79"


def test_a_resolved_alert_has_its_end():
    note = payload.read(fixture("alertmanager_v4_resolved.json"))
    assert all(a.status == "resolved" and a.ends_at is not None for a in note.alerts)


def _with(change) -> dict:
    body = fixture("alertmanager_v4_firing.json")
    change(body)
    return body


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda b: b.update(version="3"), 'version "4"'),
        (lambda b: b.pop("version"), 'version "4"'),
        (lambda b: b.update(groupKey=""), "groupKey must not be empty"),
        (lambda b: b.update(groupKey=7), "groupKey must be a string"),
        (lambda b: b.update(status="burning"), 'status must be "firing" or "resolved"'),
        (lambda b: b.update(alerts={}), "alerts must be a list"),
        (lambda b: b.update(alerts=[]), "alerts must be a list of at least one"),
        (lambda b: b.update(alerts=["x"]), "alerts[0] must be an object"),
        (lambda b: b["alerts"][1]["labels"].update(severity=2), "alerts[1].labels.severity must"),
        (lambda b: b["alerts"][0].update(labels=["service"]), "alerts[0].labels must be an obj"),
        (lambda b: b["alerts"][0].update(startsAt="yesterday"), "alerts[0].startsAt must be an"),
        (lambda b: b["alerts"][0].update(startsAt="2026-12-02T09:40:04"), "with its offset"),
        (lambda b: b.update(commonLabels="agency"), "commonLabels must be an object"),
        (lambda b: b.update(truncatedAlerts=-1), "truncatedAlerts must be a whole number"),
        (lambda b: b.update(truncatedAlerts="0"), "truncatedAlerts must be a whole number"),
        (lambda b: b["alerts"][0]["annotations"].update(summary="x" * 2001), "longer than 2000"),
    ],
)  # fmt: skip
def test_a_field_of_the_wrong_type_is_refused_saying_where(change, says):
    with pytest.raises(payload.PayloadError) as refused:
        payload.read(_with(change))
    assert says in str(refused.value)


def test_a_body_that_is_not_an_object_is_refused():
    for body in ([], "firing", 4, None):
        with pytest.raises(payload.PayloadError):
            payload.read(body)


def test_too_many_alerts_are_refused_with_the_setting_that_limits_them():
    body = _with(lambda b: b.update(alerts=b["alerts"] * 501))
    with pytest.raises(payload.PayloadError, match="max_alerts"):
        payload.read(body)


def test_fields_alertmanager_may_add_later_are_ignored():
    body = _with(lambda b: b.update(notification_reason="new_alerts", somethingNew={"a": 1}))
    assert payload.read(body).group_key
