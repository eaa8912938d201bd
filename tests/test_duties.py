"""Separation of duties: who wrote something or asked for a decision does not approve or publish
it; another holder of the approving role does."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from statuspage import clock
from statuspage.extensions import db
from statuspage.incidents.models import ApprovalKind, State
from statuspage.incidents.operations import (
    IncidentRuleError,
    change_priority,
    decide_approval,
    pending_approval,
)
from statuspage.reports import reviews
from statuspage.reports.publishing import MonthlyReportError, prepare_draft, publish
from statuspage.reports.reviews import ReviewContent, ReviewError
from statuspage.users.models import Membership, Role
from tests.factories import make_agency, make_incident, make_service, make_user

OCTOBER = date(2026, 10, 1)


@pytest.fixture
def team(app, pinned_now):
    agency = make_agency("Department of Revenue", "revenue")
    return {
        "agency": agency,
        "service": make_service(agency, "Tax filing", "tax-filing"),
        "lead": make_user(agency, Role.COMMUNICATIONS_LEAD),
        "owner": make_user(agency, Role.SERVICE_OWNER),
        "other_owner": make_user(agency, Role.SERVICE_OWNER),
    }


def test_whoever_asked_to_lower_the_priority_cannot_decide_their_own_request(team):
    incident = make_incident([team["service"]], priority=2)
    lead = team["lead"]
    assert change_priority(incident, to=3, reason="Fewer people affected", by=lead) == "requested"
    # Promoted before anyone decided: still not the one to decide what they asked for.
    db.session.query(Membership).filter_by(user_id=lead.id).update(
        {"role": Role.SERVICE_MANAGER.value}
    )
    db.session.commit()
    approval = pending_approval(incident, ApprovalKind.DE_ESCALATION)
    with pytest.raises(IncidentRuleError) as refused:
        decide_approval(approval, approve=True, by=lead)
    assert str(refused.value) == (
        "Only a service manager who did not ask for it can decide this request."
    )
    db.session.rollback()
    assert incident.priority == 2
    decide_approval(approval, approve=True, by=team["owner"])
    assert incident.priority == 3


def _complete_review(incident, by):
    report = reviews.start_review(incident, by=by)
    content = ReviewContent(
        summary="Online filing was down for two hours.", people_affected="Everyone filing.",
        duration="2 hours", root_cause="A certificate expired.",
        root_cause_category="configuration", resolution="We renewed the certificate.",
        lessons="Certificate expiry was not monitored.", apology="We are sorry.",
        timeline=reviews.prefilled_timeline(incident),
        contributing_factors="Nobody watched the expiry date.", five_whys=["It expired."],
        went_well="Found quickly.", went_wrong="Nobody was paged.",
    )  # fmt: skip
    reviews.save_draft(report, content, by=by)
    return report


def test_an_owner_who_wrote_the_review_neither_approves_nor_publishes_it(team):
    incident = make_incident(
        [team["service"]], priority=1,
        updates=(State.INVESTIGATING, State.IDENTIFIED, State.RESOLVED),
    )  # fmt: skip
    report = _complete_review(incident, by=team["owner"])
    with pytest.raises(ReviewError) as refused:
        reviews.approve(report, by=team["owner"])
    assert str(refused.value) == "Only a service owner who did not write this report can approve it."
    db.session.rollback()
    reviews.approve(report, by=team["other_owner"])
    with pytest.raises(ReviewError, match="who did not write this report can publish it"):
        reviews.publish(report, by=team["owner"])
    db.session.rollback()
    assert reviews.publish(report, by=team["other_owner"]).number == 1


def test_a_lead_who_saved_part_of_a_review_cannot_publish_it_after_approval(team):
    incident = make_incident(
        [team["service"]], priority=1,
        updates=(State.INVESTIGATING, State.IDENTIFIED, State.RESOLVED),
    )  # fmt: skip
    report = _complete_review(incident, by=team["lead"])
    reviews.approve(report, by=team["owner"])
    # The lead is the author even though the owner's approval was the last change to the row.
    with pytest.raises(ReviewError, match="Only a service owner who did not write this report"):
        reviews.publish(report, by=team["lead"])
    db.session.rollback()


def test_an_owner_who_drafted_the_monthly_report_cannot_publish_it(team):
    after = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)
    with clock.pinned(after):
        draft = prepare_draft(OCTOBER, team["agency"], by=team["owner"])
        with pytest.raises(MonthlyReportError) as refused:
            publish(draft, "", by=team["owner"])
        assert str(refused.value) == (
            "Only a service owner who did not draft this report can publish it."
        )
        db.session.rollback()
        assert publish(draft, "Notes", by=team["other_owner"]).is_published


def test_a_monthly_report_drafted_by_the_scheduled_job_is_published_by_any_owner(team):
    with clock.pinned(datetime(2026, 11, 2, 17, 0, tzinfo=UTC) + timedelta(hours=1)):
        draft = prepare_draft(OCTOBER, team["agency"])  # the job drafts with no person
        # Another month's draft by this owner does not count against them.
        prepare_draft(date(2026, 9, 1), team["agency"], by=team["owner"])
        assert publish(draft, "", by=team["owner"]).is_published
