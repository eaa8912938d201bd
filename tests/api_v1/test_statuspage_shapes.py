"""Statuspage's manage API shapes, read and written without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from statuspage.api_v1.statuspage_shapes import (
    IncidentFacts,
    ShapeError,
    UpdateFacts,
    affected_components,
    component_request,
    incident_json,
    incident_request,
    markdown_from_sections,
    nest_form,
    parse_time,
    postmortem_draft,
    priority_for,
    sections_from_markdown,
)

AT = datetime(2026, 11, 23, 19, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("impact", "priority"), [("critical", 1), ("major", 2), ("minor", 3), ("none", 4)]
)
def test_impact_override_sets_the_priority_whatever_the_components(impact, priority):
    assert priority_for(impact, ["degraded_performance"], [4])[0] == priority


@pytest.mark.parametrize(
    ("statuses", "tiers", "priority"),
    [
        (["major_outage"], [1], 1),  # high urgency, high impact
        (["major_outage"], [2], 2),
        (["partial_outage"], [1], 2),
        (["partial_outage"], [2], 3),
        (["degraded_performance"], [1], 3),
        (["degraded_performance"], [2], 4),
        (["major_outage"], [3], 3),
        ([], [1], 3),  # no status given: low urgency
        (["degraded_performance", "major_outage"], [3, 1], 1),  # the worst of each
    ],
)
def test_without_an_override_the_policy_matrix_reads_status_and_tier(statuses, tiers, priority):
    found, why = priority_for(None, statuses, tiers)
    assert found == priority
    assert why.startswith(f"P{priority} from ")


def test_an_incident_request_is_read_from_its_container_and_unknown_fields_are_ignored():
    asked = incident_request({
        "incident": {
            "name": "  Filing   down ", "status": "Investigating", "body": "We are looking.",
            "impact_override": "major", "components": {"tax-filing": "major_outage"},
            "component_ids": ["tax-payments"], "deliver_notifications": False,
            "wants_twitter_update": True, "metadata": {"x": {"y": 1}}, "made_up": [1, 2],
        }
    })  # fmt: skip
    assert asked.name == "Filing down"
    assert asked.status == "investigating"
    assert asked.impact_override == "major"
    assert asked.components == {"tax-payments": None, "tax-filing": "major_outage"}
    assert asked.deliver_notifications is False
    assert not asked.is_scheduled


def test_scheduled_times_make_a_scheduled_maintenance():
    asked = incident_request({"incident": {
        "name": "Upgrade", "scheduled_for": "2026-11-24T02:00:00Z",
        "scheduled_until": "2026-11-24T04:00:00+00:00", "component_ids": ["a"],
    }})  # fmt: skip
    assert asked.is_scheduled
    assert asked.scheduled_for == datetime(2026, 11, 24, 2, tzinfo=UTC)
    assert asked.scheduled_until - asked.scheduled_for == timedelta(hours=2)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ([1, 2], "JSON object"),
        ({"incident": "Filing down"}, "'incident' must be an object"),
        ({"incident": {"name": 42}}, "incident[name] must be a string"),
        ({"incident": {"status": "exploded"}}, "incident[status] must be"),
        ({"incident": {"impact_override": "huge"}}, "impact_override"),
        ({"incident": {"components": ["a"]}}, "incident[components] must be an object"),
        ({"incident": {"components": {"a": "broken"}}}, "incident[components][a] must be"),
        ({"incident": {"component_ids": [1]}}, "component_ids"),
        ({"incident": {"deliver_notifications": "maybe"}}, "true or false"),
        ({"incident": {"scheduled_for": "tomorrow"}}, "ISO 8601"),
        ({"incident": {"name": "x" * 201}}, "at most 200"),
        (
            {"incident": {"scheduled_for": "2026-11-24T02:00:00Z", "status": "identified"}},
            "scheduled maintenance's status",
        ),
    ],
)
def test_wrong_types_and_values_are_refused_with_what_is_expected(body, says):
    with pytest.raises(ShapeError) as refused:
        incident_request(body)
    assert says in refused.value.message
    assert refused.value.status in (400, 422)


def test_form_fields_are_read_as_the_json_a_client_would_send():
    nested = nest_form([
        ("incident[name]", "Filing down"), ("incident[components][tax-filing]", "major_outage"),
        ("incident[component_ids][]", "a"), ("incident[component_ids][]", "b"), ("api_key", "k"),
    ])  # fmt: skip
    assert nested == {
        "incident": {
            "name": "Filing down", "components": {"tax-filing": "major_outage"},
            "component_ids": ["a", "b"],
        },
        "api_key": "k",
    }  # fmt: skip
    assert incident_request(nested).components == {"a": None, "b": None,
                                                   "tax-filing": "major_outage"}  # fmt: skip


def test_a_time_without_a_zone_is_utc():
    assert parse_time("2026-11-23T14:30:00", what="t") == datetime(2026, 11, 23, 14, 30,
                                                                    tzinfo=UTC)  # fmt: skip
    assert parse_time("2026-11-23T09:30:00-05:00", what="t") == datetime(2026, 11, 23, 14, 30,
                                                                          tzinfo=UTC)  # fmt: skip


def test_a_component_request_keeps_catalog_fields_apart_from_the_status():
    asked = component_request({"component": {"status": "partial_outage", "name": "New name"}})
    assert asked.status == "partial_outage"
    assert asked.catalog == {"name": "New name"}
    with pytest.raises(ShapeError):
        component_request({"component": {"status": "on_fire"}})


def test_a_postmortem_needs_its_body_draft():
    assert postmortem_draft({"postmortem": {"body_draft": "Text"}}) == "Text"
    with pytest.raises(ShapeError):
        postmortem_draft({"postmortem": {}})


def test_a_postmortem_body_fills_the_sections_its_headings_name():
    body = (
        "A database failover took filing down.\n\n## Root cause\nA disk filled up.\n\n"
        "### Details\nThe alert was muted.\n\n## Root cause category\nCapacity\n\n"
        "## Lessons learned:\nWatch the disks."
    )
    assert sections_from_markdown(body) == {
        "summary": "A database failover took filing down.",
        "root_cause": "A disk filled up.\n\n### Details\nThe alert was muted.",
        "root_cause_category": "Capacity",
        "lessons": "Watch the disks.",
    }
    again = markdown_from_sections(sections_from_markdown(body))
    assert again.startswith("## Executive summary\n\nA database failover")
    assert sections_from_markdown(again) == sections_from_markdown(body)


def test_each_update_names_the_components_going_to_their_impact_and_back():
    services = [("tax-filing", "Tax filing", "major_outage")]
    shown = affected_components(services, ["resolved", "identified", "investigating"])
    assert [(e[0]["old_status"], e[0]["new_status"]) for e in shown] == [
        ("major_outage", "operational"),
        ("major_outage", "major_outage"),
        ("operational", "major_outage"),
    ]


def test_an_incident_has_every_key_of_statuspages_incident():
    facts = IncidentFacts(
        ref="INC-2026-1123-001", title="Filing down", state="new", priority=2,
        detected_at=AT, started_at=None, resolved_at=None, shortlink="https://x/incidents/1",
        updates=[UpdateFacts(7, "investigating", "Looking.", AT, True)],
        services=[("tax-filing", "Tax filing", "partial_outage")], metadata={},
    )  # fmt: skip
    shown = incident_json(facts, page_id="revenue", components=[])
    statuspage_keys = {
        "id", "components", "created_at", "impact", "impact_override", "incident_updates",
        "metadata", "monitoring_at", "name", "page_id", "postmortem_body",
        "postmortem_body_last_updated_at", "postmortem_ignored", "postmortem_notified_subscribers",
        "postmortem_notified_twitter", "postmortem_published_at", "resolved_at",
        "scheduled_auto_completed", "scheduled_auto_in_progress", "scheduled_for",
        "auto_transition_deliver_notifications_at_end",
        "auto_transition_deliver_notifications_at_start", "auto_transition_to_maintenance_state",
        "auto_transition_to_operational_state", "scheduled_remind_prior", "scheduled_reminded_at",
        "scheduled_until", "shortlink", "status", "updated_at", "started_at",
    }  # fmt: skip
    assert statuspage_keys <= set(shown)
    assert shown["status"] == "investigating"  # logged, not yet updated
    assert shown["impact"] == "major"
    assert shown["incident_updates"][0]["id"] == "7"
    assert shown["incident_updates"][0]["affected_components"][0]["new_status"] == (
        "partial_outage"
    )
    assert set(shown["incident_updates"][0]) >= {
        "id", "incident_id", "affected_components", "body", "created_at", "custom_tweet",
        "deliver_notifications", "display_at", "status", "tweet_id", "twitter_updated_at",
        "updated_at", "wants_twitter_update",
    }  # fmt: skip
