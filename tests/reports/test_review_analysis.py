"""The review's analysis (contributing factors, went well and wrong, the 5 Whys, the fishbone,
contributors, the numbers) from the form to the public report; the timeline's internal moments
and who did what never reach citizens; a report published before all this still renders."""

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from statuspage import clock
from statuspage.extensions import db
from statuspage.incidents.models import State
from statuspage.incidents.operations import change_priority
from statuspage.reports import reviews
from statuspage.reports.models import PostIncidentReport, ReportRevision
from tests.factories import make_incident
from tests.reports.test_reviews import (  # noqa: F401 (fixtures)
    COMPLETE,
    app_config,
    login,
    review_path,
    switch,
    team,
)

ANALYSIS = {
    "contributing_factors": "The renewal reminder went to a shared inbox nobody read.",
    "went_well": "The on-call engineer found the cause in ten minutes.",
    "went_wrong": "Citizens heard of it from the news before our first update.",
    "why_1": "The certificate expired.",
    "why_2": "Nobody renewed it in time.",
    "why_3": "",
    "why_4": "The reminder was never seen.",
    "why_5": "",
    "fishbone_people": "The only person who knew the renewal steps was on leave.",
    "fishbone_process": "Renewal was not on any checklist.",
    "fishbone_technology": "Expiry dates were not monitored.",
    "fishbone_external": "The certificate authority's email went to spam.",
    "people_affected_count": "3,000",
    "downtime_cost": "25000",
    "contributors-0-name": "Zora Facilitator-Name",
    "contributors-0-role": "Facilitator",
    "contributors-1-name": "",
    "contributors-1-role": "",
    "contributors-2-name": "Quentin Commander-Name",
    "contributors-2-role": "Incident commander",
}
TIMELINE = (
    "2026-11-23 09:00 EST  Monitoring alerted the team.\n"
    "2026-11-23 09:05 EST  [internal] [by Lee Secretname] Priority raised to P1: the minister "
    "asked.\n"
    "2026-11-23 09:40 EST  [by Ana Hiddenname] Service restored."
)


def started(client, team, incident):
    login(client, team["lead"])
    client.post(review_path(incident, "start"))


def resolved_p1(team):
    return make_incident(
        [team["service"]],
        priority=1,
        title="Tax filing unavailable",
        detected_at=clock.now() - timedelta(hours=3),
        updates=(State.INVESTIGATING, State.IDENTIFIED, State.RESOLVED),
    )


def test_every_analysis_field_is_saved_and_shown_again_as_typed(client, team):
    incident = resolved_p1(team)
    started(client, team, incident)
    response = client.post(review_path(incident), data={**COMPLETE, **ANALYSIS})
    assert response.status_code == 302

    report = db.session.scalars(select(PostIncidentReport)).one()
    assert report.whys == ["The certificate expired.", "Nobody renewed it in time.", "",
                           "The reminder was never seen."]  # fmt: skip
    assert report.bones["external"] == "The certificate authority's email went to spam."
    assert report.contributor_list == [
        {"name": "Zora Facilitator-Name", "role": "Facilitator"},
        {"name": "Quentin Commander-Name", "role": "Incident commander"},
    ]
    assert (report.people_affected_count, report.downtime_cost) == (3000, 25000)
    assert reviews.missing_sections(report) == []

    page = client.get(review_path(incident)).text
    for name, value in ANALYSIS.items():
        if name.startswith("contributors-") or not value:
            continue
        shown = "3000" if name == "people_affected_count" else value
        assert shown.replace("'", "&#39;") in page, name
    assert 'name="contributors-0-name" type="text" value="Zora Facilitator-Name"' in page
    assert 'value="Quentin Commander-Name"' in page
    # Saving the page again as shown changes nothing.
    assert 'id="contributors-3-name"' in page  # two blank rows after the two people


def test_the_analysis_is_required_before_approval_but_the_numbers_are_not(client, team):
    incident = resolved_p1(team)
    started(client, team, incident)
    blank = {name: "" for name in ANALYSIS}
    client.post(review_path(incident), data={**COMPLETE, **blank, "why_2": "Only the second"})
    report = db.session.scalars(select(PostIncidentReport)).one()
    assert report.whys == ["", "Only the second"]
    assert reviews.missing_sections(report) == [  # one why is enough
        "Contributing factors", "What went well", "What went wrong",
    ]  # fmt: skip

    client.post(review_path(incident), data={**COMPLETE, **blank})
    db.session.refresh(report)
    assert reviews.missing_sections(report) == [
        "Contributing factors", "The 5 Whys (at least one answer)", "What went well",
        "What went wrong",
    ]  # fmt: skip
    page = client.get(review_path(incident)).text
    assert "fill in: Contributing factors, The 5 Whys (at least one answer)" in page


@pytest.mark.parametrize(
    "typed, message",
    [
        ("-5", "The number of people affected cannot be below 0."),
        ("lots", "The number of people affected must be a whole number, like 3000, or left empty."),
        ("12.5", "must be a whole number"),
        ("99999999999", "The number of people affected must be at most 2,147,483,647."),
        ("1" * 5000, "must be at most 2,147,483,647"),
    ],
)  # fmt: skip
def test_a_bad_number_is_refused_on_its_field_and_nothing_typed_is_lost(
    client, team, typed, message
):
    incident = resolved_p1(team)
    started(client, team, incident)
    response = client.post(
        review_path(incident),
        data={**COMPLETE, **ANALYSIS, "people_affected_count": typed, "downtime_cost": "-1"},
    )
    assert response.status_code == 400
    assert message in response.text
    assert "The cost of downtime cannot be below 0." in response.text
    assert 'href="#people_affected_count"' in response.text
    assert f'value="{typed}"' in response.text and 'value="-1"' in response.text
    for kept in ("Nobody renewed it in time.", "Renewal was not on any checklist.",
                 "Zora Facilitator-Name", "The renewal reminder went to a shared inbox"):
        assert kept in response.text  # fmt: skip
    assert db.session.scalars(select(PostIncidentReport)).one().whys == []


def test_a_role_without_a_name_is_refused_on_its_row_and_nothing_typed_is_lost(client, team):
    incident = resolved_p1(team)
    started(client, team, incident)
    response = client.post(
        review_path(incident),
        data={**COMPLETE, **ANALYSIS, "contributors-1-role": "Scribe",
              "why_5": "A control\x07 character"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Remove the control character (U+0007) from “Why 5”." in response.text
    response = client.post(
        review_path(incident), data={**COMPLETE, **ANALYSIS, "contributors-1-role": "Scribe"}
    )
    assert response.status_code == 400
    assert "Contributor 2: give the name of who was Scribe." in response.text
    assert 'href="#contributors-1-name"' in response.text
    assert 'value="Scribe"' in response.text and "The reminder was never seen." in response.text


def test_the_prefilled_timeline_says_who_did_what_and_keeps_priority_reasons_internal(
    client, team
):
    lead = team["lead"]
    incident = make_incident([team["service"]], priority=2, by=lead,
                             detected_at=clock.now() - timedelta(hours=3))  # fmt: skip
    with clock.pinned(incident.detected_at + timedelta(minutes=9)):
        change_priority(incident, to=1, reason="The minister asked", by=lead)
    started(client, team, incident)
    page = client.get(review_path(incident)).text
    # Her first update acknowledged it.
    assert f"11:31 EST  [by {lead.name}] The team acknowledged the incident." in page
    assert f"11:39 EST  [internal] [by {lead.name}] Priority raised to P1: The minister asked." in page
    assert f"11:31 EST  [by {lead.name}] Investigating: Update: investigating." in page
    assert "EST  Detected (reported by: Monitoring)." in page


def publish(client, team, incident, **changes):
    started(client, team, incident)
    data = {**COMPLETE, **ANALYSIS, "timeline": TIMELINE, **changes}
    assert client.post(review_path(incident), data=data).status_code == 302
    switch(client, team["owner"])
    assert client.post(review_path(incident, "approve")).status_code == 302
    assert client.post(review_path(incident, "publish")).status_code == 302


def test_the_public_report_shows_the_analysis_and_header_but_no_internal_moment_or_name(
    client, team
):
    incident = resolved_p1(team)
    publish(client, team, incident)
    page = client.application.test_client().get(f"/incidents/{incident.ref}/report").text

    assert "Monitoring alerted the team." in page and "Service restored." in page
    for secret in ("the minister asked", "Priority raised", "Lee Secretname", "Ana Hiddenname",
                   "Zora Facilitator-Name", "Quentin Commander-Name", "Facilitator",
                   "Incident commander", "[internal]", "[by "):
        assert secret not in page, secret  # fmt: skip

    # The header: priority, status, start and end in the site's zone.
    assert "<dt>Priority</dt><dd>P1 Critical</dd>" in page
    assert "<dt>Status</dt><dd>Resolved</dd>" in page
    detected, resolved = incident.detected_at, incident.resolved_at
    assert re.search(rf'<dt>Started</dt><dd><time datetime="{detected:%Y-%m-%dT%H:%M}:00Z">'
                     r"23 Nov 2026, 11:30 AM EST</time> \(when it was detected\)", page)  # fmt: skip
    assert f'<dt>Ended</dt><dd><time datetime="{resolved:%Y-%m-%dT%H:%M}:00Z">' in page

    # The analysis in plain words, the whys in their order (the blank third kept in its place).
    assert "About 3,000 people could not file. (3,000 people)" in page
    assert "The renewal reminder went to a shared inbox nobody read." in page
    whys = re.search(r'<ol class="five-whys">(.*?)</ol>', page, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", whys) == [
        "The certificate expired.", "Nobody renewed it in time.", "Not answered.",
        "The reminder was never seen.",
    ]  # fmt: skip
    for label in ("People", "Process", "Technology", "External"):
        assert f"<dt>{label}</dt>" in page
    assert "Expiry dates were not monitored." in page
    assert "The on-call engineer found the cause in ten minutes." in page
    assert "Citizens heard of it from the news before our first update." in page
    assert "25000" not in page and "25,000" not in page  # the cost is for the figures

    revision = db.session.scalars(select(ReportRevision)).one()
    assert (revision.people_affected_count, revision.downtime_cost) == (3000, 25000)
    # The review page keeps everything, internal moments and names included.
    admin_page = client.get(review_path(incident)).text
    assert "[internal] [by Lee Secretname] Priority raised to P1: the minister asked." in admin_page
    assert "Quentin Commander-Name" in admin_page


def test_a_report_published_before_the_analysis_existed_still_renders(client, team):
    incident = resolved_p1(team)
    started(client, team, incident)
    report = db.session.scalars(select(PostIncidentReport)).one()
    old = {  # the schema of the first reports: no analysis, timeline entries without who/public
        "summary": "Filing was down.", "people_affected": "Everyone filing.", "duration": "40 min",
        "transactions_lost": "", "root_cause": "A certificate expired.",
        "root_cause_category": "configuration", "resolution": "Renewed.", "lessons": "Monitor it.",
        "apology": "Sorry.", "actions": [],
        "timeline": [{"at": "2026-11-23T14:00:00+00:00", "text": "Monitoring alerted the team."}],
    }  # fmt: skip
    db.session.add(ReportRevision(
        report=report, number=1, incident_id=incident.id, root_cause_category="configuration",
        content=json.dumps(old), published_at=clock.now(),
    ))  # fmt: skip
    db.session.commit()
    response = client.application.test_client().get(f"/incidents/{incident.ref}/report")
    assert response.status_code == 200
    assert "Monitoring alerted the team." in response.text
    assert "<dd>Everyone filing.</dd>" in response.text
    assert "five-whys" not in response.text and "What went well" not in response.text


def test_an_update_written_while_the_incident_was_private_is_an_internal_moment(client, team):
    incident = make_incident([team["service"]], priority=3, by=team["lead"],
                             detected_at=clock.now() - timedelta(hours=3))  # fmt: skip
    started(client, team, incident)
    page = client.get(review_path(incident)).text
    assert f"[internal] [by {team['lead'].name}] Investigating: Update: investigating." in page


def test_ten_thousand_timeline_lines_are_refused_with_one_message_and_kept(client, team):
    incident = resolved_p1(team)
    started(client, team, incident)
    timeline = "\n".join(f"2026-11-23 09:00  Line {n}" for n in range(10_000))
    response = client.post(
        review_path(incident), data={**COMPLETE, **ANALYSIS, "timeline": timeline}
    )
    assert response.status_code == 400
    assert "The timeline has 10,000 lines; keep it to 1,000 moments at most." in response.text
    assert "2026-11-23 09:00  Line 9999" in response.text
