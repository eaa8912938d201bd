"""The quarterly review to each agency's CIO once the quarter has ended: one message per CIO and
quarter however often the job runs, with the headline figures, the targets met and not met, and
the link to the review."""

from datetime import UTC, datetime

import pytest

from statuspage import clock, jobs
from statuspage.extensions import db
from statuspage.incidents.models import Impact
from statuspage.internal.models import Contact
from statuspage.subscriptions import outbox
from statuspage.users.models import Role
from tests.factories import make_agency, make_past_incident, make_service, make_user

# 12:30 AM EST on 1 January 2027: Q4 2026 has just ended.
JUST_AFTER = datetime(2027, 1, 1, 5, 30, tzinfo=UTC)


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port,
            "SITE_URL": "https://status.example.gov"}  # fmt: skip


def contact(agency, email: str, position: str = "agency_cio") -> None:
    db.session.add(Contact(agency_id=agency.id, position=position, name=email.split("@")[0],
                           email=email, created_at=JUST_AFTER))  # fmt: skip
    db.session.commit()


@pytest.fixture
def agencies(app):
    revenue = make_agency("Department of Revenue", "revenue")
    roads = make_agency("Department of Roads", "roads")
    filing = make_service(revenue, "Tax filing", "tax-filing", tier=1)
    contact(revenue, "cio@revenue.gov")
    contact(revenue, "ciso@revenue.gov", position="ciso")  # not told
    contact(roads, "cio@roads.gov")
    make_user(revenue, Role.SERVICE_OWNER, email="owner@revenue.gov")  # not told either
    # Q4 2026: a P1 resolved within its hour, a P2 resolved in 6 h (over its 4 h).
    make_past_incident({filing: Impact.MAJOR_OUTAGE}, priority=1,
                       detected_at=datetime(2026, 10, 5, 14, tzinfo=UTC),
                       acknowledged_at=datetime(2026, 10, 5, 14, 3, tzinfo=UTC),
                       resolved_at=datetime(2026, 10, 5, 14, 40, tzinfo=UTC))  # fmt: skip
    make_past_incident({filing: Impact.MAJOR_OUTAGE}, priority=2,
                       detected_at=datetime(2026, 12, 7, 15, tzinfo=UTC),
                       acknowledged_at=datetime(2026, 12, 7, 15, 5, tzinfo=UTC),
                       resolved_at=datetime(2026, 12, 7, 21, tzinfo=UTC))  # fmt: skip
    return {"revenue": revenue, "roads": roads}


def run(at: datetime) -> tuple[int, int]:
    """The job and the dispatcher at ``at``: (messages written, messages sent)."""
    with clock.pinned(at):
        written = jobs.run_quarterly_reviews(at)
        return written, outbox.dispatch_until_empty().sent


def test_each_cio_gets_the_quarter_once_however_often_the_job_runs(agencies, smtp):
    assert run(JUST_AFTER) == (2, 2)
    assert sorted(str(m["To"]) for m in smtp.messages) == ["cio@revenue.gov", "cio@roads.gov"]
    assert run(JUST_AFTER) == (0, 0)
    assert run(datetime(2027, 2, 10, 12, tzinfo=UTC)) == (0, 0)
    assert len(smtp.messages) == 2


def test_the_next_quarter_is_sent_when_it_ends(agencies, smtp):
    run(JUST_AFTER)
    assert run(datetime(2027, 4, 1, 4, 30, tzinfo=UTC)) == (2, 2)  # 12:30 AM EDT, 1 April
    assert [str(m["Subject"]).split(", ")[1][:7] for m in smtp.messages[2:]] == ["Q1 2027"] * 2


def test_the_message_gives_the_headline_figures_the_targets_and_the_link(agencies, smtp):
    run(JUST_AFTER)
    (message,) = [m for m in smtp.messages if str(m["To"]) == "cio@revenue.gov"]
    text = message.get_body(("plain",)).get_content()
    met, not_met = text.split("Targets met\n")[1].split("Targets not met\n")
    assert str(message["Subject"]) == (
        "Quarterly review for Department of Revenue, Q4 2026: 2 of 4 targets met"
    )
    assert "The quarterly review of Department of Revenue for Q4 2026 (October to December 2026)."\
        in text
    assert "- Incidents: 2" in text
    assert "- Resolved within target: 1 of 2 resolved incidents (50.0%)" in text
    assert "Against Q4 2025, a year earlier\n- Incidents: 2 (a year earlier: 0)" in text
    assert met.startswith(
        "- Recurrence (same service and cause): 0.0% (target: below 10%)\n"
        "- Acknowledged within the deadline: 100.0% (target: at least 95%)\n"
    )
    assert "- Resolved within the target time: 50.0% (target: at least 95%)" in not_met
    assert "Resolved within" not in met
    assert (
        "Not measurable this quarter\n"
        "- Mean time to resolve: 3\u00a0h\u00a020\u00a0min (target: down by at least 20%"
    ) in text
    assert "https://status.example.gov/admin/reports/quarterly/revenue/2026-Q4" in text
    assert "I have seen this: https://status.example.gov/" in text
