"""The policy table: defaults, overrides that stop start-up, business days and hours."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from statuspage.policy import (
    Targets,
    BusinessCalendar,
    Duration,
    PolicyError,
    Unit,
    build_policy,
    load_policy,
    suggest_priority,
)
from statuspage.users.models import Role

EASTERN = ZoneInfo("America/New_York")


def eastern(*args) -> datetime:
    return datetime(*args, tzinfo=EASTERN).astimezone(UTC)


@pytest.fixture(scope="module")
def calendar():
    return BusinessCalendar(EASTERN, "US")


def test_defaults_follow_the_government_policy_table():
    policy = build_policy()
    assert [str(policy[p].acknowledge) for p in (1, 2, 3, 4)] == [
        "5 minutes",
        "15 minutes",
        "1 hour",
        "4 business hours",
    ]
    assert [
        policy[p].first_communication and str(policy[p].first_communication) for p in (1, 2, 3, 4)
    ] == [
        "15 minutes",
        "30 minutes",
        None,
        None,
    ]
    assert [policy[p].update_cadence and str(policy[p].update_cadence) for p in (1, 2, 3, 4)] == [
        "30 minutes",
        "2 hours",
        "1 day",
        None,
    ]
    assert [
        (str(policy[p].target_resolution(1)), str(policy[p].target_resolution(3)))
        for p in (1, 2, 3, 4)
    ] == [
        ("1 hour", "4 hours"),
        ("4 hours", "8 hours"),
        ("8 hours", "24 hours"),
        ("24 hours", "72 hours"),
    ]
    assert policy[1].closure_approver is Role.SERVICE_OWNER
    assert policy[2].closure_approver is Role.SERVICE_MANAGER
    assert policy[3].closure_approver is None
    assert policy.rules.security_minimum_priority == 2
    assert policy.rules.deescalation_approver is Role.SERVICE_MANAGER


def test_an_override_replaces_a_row_and_a_rule(tmp_path):
    row = dict(
        acknowledge="10 minutes",
        first_communication="20 minutes",
        update_cadence="1 hour",
        target_resolution_tier1="2 hours",
        target_resolution_other_tiers="6 hours",
        review="mandatory",
        review_due="3 business days",
        public_report_due="10 business days",
        email_subscribers="yes",
        closure_approver="service_owner",
        public="always",
    )
    lines = (
        ["[P1]"]
        + [f'{k} = "{v}"' for k, v in row.items()]
        + ["[rules]", "recurrence_threshold = 4"]
    )
    (tmp_path / "policy.toml").write_text("\n".join(lines))
    policy = load_policy(tmp_path)
    assert str(policy[1].acknowledge) == "10 minutes"
    assert str(policy[2].acknowledge) == "15 minutes"  # untouched rows keep the defaults
    assert policy.rules.recurrence_threshold == 4


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[P2]\nacknowledge = "15 minutes"', "P2.first_communication: missing"),
        ('[P9]\nacknowledge = "1 hour"', "P9: unknown section"),
        ('[rules]\nsecurity_minimum_priority = "P7"', "rules.security_minimum_priority"),
        ('[rules]\nreminder_before = "soon"', "rules.reminder_before: 'soon' is not a duration"),
        ('[rules]\nreview_if_ever = "P5"', "rules.review_if_ever: 'P5' is not a priority"),
        ("[rules]\nbogus = 1", "rules.bogus: unknown key"),
        ('[rules]\nreview_meeting_within = "a day"', "rules.review_meeting_within"),
        ('[targets]\nrecurrence_rate_below = "ten"', "targets.recurrence_rate_below: 'ten' is"),
        ('[targets]\nsla_compliance_at_least = "120%"', "targets.sla_compliance_at_least"),
        ("[targets]\nbogus = 1", "targets.bogus: unknown key"),
        ("[rules\n", "not valid TOML"),
    ],
)
def test_a_bad_override_stops_start_up_naming_the_key(tmp_path, text, named):
    (tmp_path / "policy.toml").write_text(text)
    with pytest.raises(PolicyError, match=named.replace("(", r"\(").replace("[", r"\[")):
        load_policy(tmp_path)


def test_a_bad_row_value_names_priority_and_key():
    from statuspage.policy import DEFAULT_TABLE

    row = dict(DEFAULT_TABLE["P3"], closure_approver="the mayor")
    with pytest.raises(PolicyError, match="P3.closure_approver: unknown role 'the mayor'"):
        build_policy({"P3": row})
    row = dict(DEFAULT_TABLE["P3"], public="sometimes")
    with pytest.raises(PolicyError, match="P3.public: 'sometimes' is not one of"):
        build_policy({"P3": row})


def test_the_app_will_not_start_with_a_bad_policy(tmp_path, monkeypatch):
    from statuspage import create_app
    from statuspage.policy import DEFAULT_TABLE

    row = dict(DEFAULT_TABLE["P1"], acknowledge="fast")
    (tmp_path / "policy.toml").write_text(
        "[P1]\n" + "\n".join(f'{k} = "{v}"' for k, v in row.items())
    )
    monkeypatch.setenv("STATUSPAGE_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    with pytest.raises(PolicyError, match="P1.acknowledge: 'fast' is not a duration"):
        create_app()


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("5 minutes", 5, Unit.MINUTES),
        ("1 hour", 1, Unit.HOURS),
        ("4 Business Hours", 4, Unit.BUSINESS_HOURS),
        ("5 business days", 5, Unit.BUSINESS_DAYS),
        ("1 day", 1, Unit.DAYS),
    ],
)
def test_durations_parse(text, amount, unit):
    assert Duration.parse(text) == Duration(amount, unit)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (eastern(2026, 11, 23, 14, 30), 1, eastern(2026, 11, 24, 14, 30)),  # Mon -> Tue
        (eastern(2026, 11, 25, 10, 0), 1, eastern(2026, 11, 27, 10, 0)),  # Thanksgiving skipped
        (eastern(2026, 11, 23, 14, 30), 5, eastern(2026, 12, 1, 14, 30)),  # weekend + holiday
        (eastern(2026, 11, 28, 9, 0), 1, eastern(2026, 11, 30, 9, 0)),  # from a Saturday
        (eastern(2026, 10, 30, 12, 0), 1, eastern(2026, 11, 2, 12, 0)),  # across the DST change
    ],
)
def test_business_days_skip_weekends_and_public_holidays(calendar, start, days, expected):
    assert calendar.add_business_days(start, days) == expected


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (eastern(2026, 11, 23, 10, 0), 4, eastern(2026, 11, 23, 14, 0)),
        (eastern(2026, 11, 27, 15, 0), 4, eastern(2026, 11, 30, 11, 0)),  # Fri -> Mon
        (eastern(2026, 11, 25, 16, 0), 4, eastern(2026, 11, 27, 12, 0)),  # Wed -> Fri (holiday)
        (eastern(2026, 11, 23, 20, 0), 4, eastern(2026, 11, 24, 13, 0)),  # logged after hours
        (eastern(2026, 11, 29, 8, 0), 4, eastern(2026, 11, 30, 13, 0)),  # logged on a Sunday
    ],
)
def test_business_hours_count_only_working_time(calendar, start, hours, expected):
    assert calendar.add_business_hours(start, hours) == expected


@pytest.mark.parametrize(
    ("duration", "moment", "expected"),
    [
        ("5 minutes", eastern(2026, 11, 23, 10, 0), eastern(2026, 11, 23, 9, 55)),
        ("2 hours", eastern(2026, 11, 23, 10, 0), eastern(2026, 11, 23, 8, 0)),
        # Elapsed time: 3 hours before 3 AM EST on the night clocks go back is 1 AM EDT.
        ("3 hours", eastern(2026, 11, 1, 3, 0), eastern(2026, 11, 1, 1, 0)),
        ("1 day", eastern(2026, 11, 24, 10, 0), eastern(2026, 11, 23, 10, 0)),
        ("1 day", eastern(2026, 11, 1, 12, 0), eastern(2026, 10, 31, 13, 0)),  # 24 h, as `after`
        ("2 business hours", eastern(2026, 11, 23, 14, 0), eastern(2026, 11, 23, 12, 0)),
        ("2 business hours", eastern(2026, 11, 23, 11, 0), eastern(2026, 11, 23, 9, 0)),
        ("2 business hours", eastern(2026, 11, 23, 10, 0), eastern(2026, 11, 20, 16, 0)),  # weekend
        ("4 business hours", eastern(2026, 11, 27, 10, 0), eastern(2026, 11, 25, 14, 0)),  # holiday
        ("2 business hours", eastern(2026, 11, 24, 8, 0), eastern(2026, 11, 23, 15, 0)),  # 8 AM
        ("2 business hours", eastern(2026, 11, 23, 20, 0), eastern(2026, 11, 23, 15, 0)),  # 8 PM
        ("2 business hours", eastern(2026, 11, 29, 12, 0), eastern(2026, 11, 27, 15, 0)),  # Sunday
        ("2 business hours", eastern(2026, 11, 2, 10, 0), eastern(2026, 10, 30, 16, 0)),  # DST ends
        ("2 business hours", eastern(2026, 3, 9, 10, 0), eastern(2026, 3, 6, 16, 0)),  # DST starts
        ("0 business hours", eastern(2026, 11, 29, 12, 0), eastern(2026, 11, 29, 12, 0)),
        ("1 business day", eastern(2026, 11, 24, 14, 30), eastern(2026, 11, 23, 14, 30)),
        ("1 business day", eastern(2026, 11, 30, 9, 0), eastern(2026, 11, 27, 9, 0)),  # weekend
        ("1 business day", eastern(2026, 11, 27, 10, 0), eastern(2026, 11, 25, 10, 0)),  # holiday
        ("5 business days", eastern(2026, 12, 1, 14, 30), eastern(2026, 11, 23, 14, 30)),
        ("1 business day", eastern(2026, 11, 28, 9, 0), eastern(2026, 11, 27, 9, 0)),  # Saturday
        ("1 business day", eastern(2026, 11, 2, 12, 0), eastern(2026, 10, 30, 12, 0)),  # DST ends
    ],
)
def test_a_duration_before_a_moment_counts_back_what_after_counts_forward(
    calendar, duration, moment, expected
):
    assert Duration.parse(duration).before(moment, calendar) == expected


@pytest.mark.parametrize(
    "start",
    [
        eastern(2026, 11, 23, 10, 0),
        eastern(2026, 11, 25, 16, 30),  # the day before Thanksgiving
        eastern(2026, 10, 30, 15, 0),  # the Friday before the DST change
        eastern(2026, 3, 6, 11, 0),
    ],
)
@pytest.mark.parametrize(
    "duration", ["45 minutes", "3 hours", "2 days", "6 business hours", "3 business days"]
)
def test_before_undoes_after_from_a_business_time(calendar, start, duration):
    window = Duration.parse(duration)
    assert window.before(window.after(start, calendar), calendar) == start


def test_review_if_ever_is_p1_unless_the_policy_says_otherwise():
    assert build_policy().rules.review_if_ever == 1
    assert build_policy({"rules": {"review_if_ever": "P2"}}).rules.review_if_ever == 2


@pytest.mark.parametrize(
    ("urgency", "impact", "priority"),
    [
        ("high", "high", 1),
        ("high", "medium", 2),
        ("medium", "high", 2),
        ("high", "low", 3),
        ("medium", "medium", 3),
        ("low", "high", 3),
        ("medium", "low", 4),
        ("low", "medium", 4),
        ("low", "low", 4),
    ],
)
def test_priority_suggestion_from_urgency_and_impact(urgency, impact, priority):
    assert suggest_priority(urgency, impact) == priority


def test_priority_suggestion_refuses_unknown_levels():
    with pytest.raises(ValueError, match="high, medium or low"):
        suggest_priority("urgent", "high")


def test_targets_default_to_the_policy_and_an_override_changes_one(tmp_path):
    assert load_policy(tmp_path).targets == Targets(20.0, 10.0, 95.0)
    (tmp_path / "policy.toml").write_text('[targets]\nsla_compliance_at_least = "97.5%"\n')
    assert load_policy(tmp_path).targets == Targets(20.0, 10.0, 97.5)
