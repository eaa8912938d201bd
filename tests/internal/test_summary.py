"""The morning summary, on the pinned clock: nothing before DAILY_SUMMARY_HOUR, then one email per
service owner and agency CIO with the open P1/P2s, yesterday's P3/P4s and missed deadlines, drills
apart; a second run sends nothing more."""

from datetime import UTC, datetime, timedelta

import pytest

from statuspage import clock, jobs
from statuspage.extensions import db
from statuspage.incidents.models import MissedDeadline, State
from statuspage.incidents.operations import publish_update
from statuspage.internal.models import Contact
from statuspage.subscriptions import outbox
from statuspage.users.models import Role
from tests.conftest import NOW
from tests.factories import make_agency, make_incident, make_service, make_user

# NOW is Monday 23 November, 2:30 PM EST; the summary is Tuesday's, from 8:00 AM EST (13:00 UTC).
BEFORE_HOUR = datetime(2026, 11, 24, 12, 59, tzinfo=UTC)
AT_HOUR = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port,
            "SITE_URL": "https://status.example.gov"}  # fmt: skip


def contact(agency, position: str, email: str) -> None:
    db.session.add(Contact(agency_id=agency.id, position=position, name=email.split("@")[0],
                           email=email, created_at=NOW))  # fmt: skip
    db.session.commit()


@pytest.fixture
def day(app, pinned_now):
    revenue = make_agency("Department of Revenue", "revenue")
    roads = make_agency("Department of Roads", "roads")
    filing = make_service(revenue, "Tax filing", "tax-filing")
    refunds = make_service(revenue, "Refund status", "refund-status")
    permits = make_service(roads, "Road permits", "road-permits")
    for n in (1, 2):
        make_user(revenue, Role.SERVICE_OWNER, email=f"owner{n}@revenue.gov")
    make_user(revenue, Role.COMMUNICATIONS_LEAD, email="lead@revenue.gov")  # not told
    make_user(roads, Role.SERVICE_OWNER, email="owner@roads.gov")
    contact(revenue, "agency_cio", "cio@revenue.gov")
    contact(revenue, "agency_cio", "owner1@revenue.gov")  # also an owner: one email all the same
    hour = timedelta(hours=1)
    made = {}
    made["p1"] = make_incident([filing], priority=1, title="Filing is down", updates=())
    publish_update(made["p1"], status=State.INVESTIGATING, body="Down.", by=None,
                   expected_resolution_at=datetime(2026, 11, 24, 17, tzinfo=UTC))  # fmt: skip
    made["p2"] = make_incident({refunds: None}, priority=2, title="Refunds are slow")
    made["p3 new"] = make_incident({refunds: None}, priority=3, title="Refund page typo",
                                   detected_at=NOW - 2 * hour)  # fmt: skip
    made["p4 resolved"] = make_incident(
        {refunds: None}, priority=4, title="Old receipts missing", detected_at=NOW - 50 * hour,
        updates=(State.INVESTIGATING,),
    )  # fmt: skip
    publish_update(made["p4 resolved"], status=State.RESOLVED, body="Back.", by=None)
    made["p3 old"] = make_incident({refunds: None}, priority=3, title="Slow search",
                                   detected_at=NOW - 72 * hour)  # fmt: skip
    made["p2 resolved"] = make_incident([refunds], priority=2, title="Fixed yesterday",
                                        updates=(State.INVESTIGATING, State.RESOLVED))  # fmt: skip
    made["drill"] = make_incident([filing], priority=1, title="Drill: payments down", updates=())
    made["drill"].is_exercise = True
    db.session.commit()
    publish_update(made["drill"], status=State.INVESTIGATING, body="Drill.", by=None)
    made["roads"] = make_incident([permits], priority=1, title="Permits are down")
    for key, minutes in (("p1", 10), ("drill", 20)):
        db.session.add(MissedDeadline(
            incident_id=made[key].id, kind="next_update", due_at=NOW - timedelta(minutes=minutes),
            recorded_at=NOW,
        ))  # fmt: skip
    db.session.commit()
    return made


def run(at: datetime) -> tuple[int, int]:
    """The job and the dispatcher at ``at``: (messages written, messages sent)."""
    with clock.pinned(at):
        written = jobs.run_daily_summary(at)
        return written, outbox.dispatch_until_empty().sent


def test_nothing_before_the_hour_then_one_email_each_and_never_again(day, smtp):
    assert run(BEFORE_HOUR) == (0, 0) and smtp.messages == []
    assert run(AT_HOUR) == (4, 4)
    assert sorted(str(m["To"]) for m in smtp.messages) == [
        "cio@revenue.gov", "owner1@revenue.gov", "owner2@revenue.gov", "owner@roads.gov",
    ]  # fmt: skip
    assert run(AT_HOUR + timedelta(minutes=30)) == (0, 0)
    assert run(AT_HOUR + timedelta(hours=10)) == (0, 0)
    assert len(smtp.messages) == 4


def test_the_summary_says_what_stands_and_what_happened_yesterday(day, smtp):
    run(AT_HOUR)
    (message,) = [m for m in smtp.messages if str(m["To"]) == "cio@revenue.gov"]
    assert str(message["Subject"]) == (
        "Daily summary for Department of Revenue, Tuesday 24 November 2026: "
        "2 open P1/P2 incidents"
    )
    text = message.get_body(("plain",)).get_content()
    real, drills = text.split("EXERCISES (drills)")
    p1, p2 = day["p1"], day["p2"]
    assert f"- {p1.ref} · P1 Critical · Investigating: Filing is down" in real
    assert "Impact: Tax filing (major outage). People cannot sign in." in real
    assert "Expected fix: 24 Nov 2026, 12:00 PM EST" in real
    assert f"- {p2.ref} · P2 High · Investigating: Refunds are slow" in real
    assert "Expected fix: not given yet" in real
    assert f"https://status.example.gov/admin/incidents/{p1.ref}" in real
    assert "P3 and P4 incidents opened or resolved yesterday (Monday 23 November)" in real
    assert day["p3 new"].ref in real and "Opened 23 Nov 2026, 12:30 PM EST." in real
    assert day["p4 resolved"].ref in real and "Resolved 23 Nov 2026, 2:30 PM EST." in real
    for left_out in ("p3 old", "p2 resolved", "roads"):
        assert day[left_out].ref not in text
    assert f"- {p1.ref}: next update due 23 Nov 2026, 2:20 PM EST, not met yet" in real
    # The drill is listed apart, marked, with its own missed deadline.
    drill = day["drill"].ref
    assert drill not in real
    assert f"- [EXERCISE] {drill} · P1 Critical · Investigating: Drill: payments down" in drills
    assert f"- [EXERCISE] {drill}: next update due 23 Nov 2026, 2:10 PM EST" in drills
    assert "I have seen this: https://status.example.gov/" in text
    roads = next(m for m in smtp.messages if str(m["To"]) == "owner@roads.gov")
    assert day["roads"].ref in roads.get_body(("plain",)).get_content()


@pytest.mark.parametrize("hour", [6, 17])
def test_the_hour_is_a_setting_in_the_site_zone(app, day, smtp, hour):
    app.config["DAILY_SUMMARY_HOUR"] = hour
    local_hour = datetime(2026, 11, 24, hour + 5, tzinfo=UTC)  # EST is UTC-5
    assert run(local_hour - timedelta(minutes=1)) == (0, 0)
    assert run(local_hour) == (4, 4)
