"""The P1-P4 incident policy: one table of data, government defaults, overridable per jurisdiction.

Every deadline, reminder, report and dashboard reads the policy from here. The defaults follow the
government incident policy in PRODUCT.md; ``instance/policy.toml`` may replace any priority's row
(each row given must be complete) or any rule. A bad override stops start-up naming the bad key.
"""

from __future__ import annotations

import enum
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from .users.models import Role

PRIORITIES = (1, 2, 3, 4)
POLICY_FILE = "policy.toml"


class PolicyError(ValueError):
    """The policy override is malformed or incomplete; the message names the bad key."""


class Unit(enum.StrEnum):
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"
    BUSINESS_HOURS = "business hours"
    BUSINESS_DAYS = "business days"


_UNIT_SPELLINGS = {
    "minute": Unit.MINUTES, "minutes": Unit.MINUTES, "min": Unit.MINUTES, "mins": Unit.MINUTES,
    "hour": Unit.HOURS, "hours": Unit.HOURS, "h": Unit.HOURS,
    "day": Unit.DAYS, "days": Unit.DAYS,
    "business hour": Unit.BUSINESS_HOURS, "business hours": Unit.BUSINESS_HOURS,
    "business day": Unit.BUSINESS_DAYS, "business days": Unit.BUSINESS_DAYS,
}  # fmt: skip
_DURATION = re.compile(r"^\s*(\d+)\s*([a-z ]+?)\s*$")


@dataclass(frozen=True)
class Duration:
    """A policy window such as '15 minutes' or '5 business days'."""

    amount: int
    unit: Unit

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _DURATION.match(text.lower()) if isinstance(text, str) else None
        if not match or match.group(2) not in _UNIT_SPELLINGS:
            raise ValueError(
                f"{text!r} is not a duration; write e.g. '15 minutes', '4 hours', '1 day', "
                "'4 business hours' or '5 business days'"
            )
        return cls(int(match.group(1)), _UNIT_SPELLINGS[match.group(2)])

    def after(self, moment: datetime, calendar: BusinessCalendar) -> datetime:
        """The moment this long after ``moment``."""
        match self.unit:
            case Unit.MINUTES:
                return moment + timedelta(minutes=self.amount)
            case Unit.HOURS:
                return moment + timedelta(hours=self.amount)
            case Unit.DAYS:
                return moment + timedelta(days=self.amount)
            case Unit.BUSINESS_HOURS:
                return calendar.add_business_hours(moment, self.amount)
            case Unit.BUSINESS_DAYS:
                return calendar.add_business_days(moment, self.amount)
        raise AssertionError(self.unit)

    def before(self, moment: datetime, calendar: BusinessCalendar) -> datetime:
        """The moment this long before ``moment``: business time is counted back through the
        calendar, the mirror of ``after``."""
        match self.unit:
            case Unit.MINUTES:
                return moment - timedelta(minutes=self.amount)
            case Unit.HOURS:
                return moment - timedelta(hours=self.amount)
            case Unit.DAYS:
                return moment - timedelta(days=self.amount)
            case Unit.BUSINESS_HOURS:
                return calendar.subtract_business_hours(moment, self.amount)
            case Unit.BUSINESS_DAYS:
                return calendar.subtract_business_days(moment, self.amount)
        raise AssertionError(self.unit)

    def __str__(self) -> str:
        unit = self.unit.value
        return f"{self.amount} {unit[:-1] if self.amount == 1 else unit}"


class Visibility(enum.StrEnum):
    ALWAYS = "always"  # public once communicated
    WHEN_MARKED = "when_marked"  # public only when a lead marks it public
    NEVER = "never"


class Review(enum.StrEnum):
    MANDATORY = "mandatory"
    IF_RECURRING = "if_recurring"
    NO = "no"


class EmailSubscribers(enum.StrEnum):
    YES = "yes"
    WHEN_PUBLIC = "when_public"
    NO = "no"


@dataclass(frozen=True)
class PriorityRules:
    """One row of the policy table."""

    acknowledge: Duration
    first_communication: Duration | None  # None: no deadline (a P3 goes public on a lead's call)
    update_cadence: Duration | None  # None: update when the status changes
    target_resolution_tier1: Duration
    target_resolution_other_tiers: Duration
    review: Review
    review_due: Duration | None
    public_report_due: Duration | None
    email_subscribers: EmailSubscribers
    closure_approver: Role | None  # None: whoever may post updates may close
    public: Visibility
    # The impact each affected service gets when the lead does not choose one.
    default_impact: str = "partial_outage"
    # A short closing note to the public page and its subscribers when the incident is closed.
    closure_notice: bool = True
    # Text messages to SMS subscribers for services of this tier or a more critical one (tier 1
    # is the most critical); None: no text messages at this priority.
    sms_up_to_tier: int | None = None
    # Each public update is posted to the agencies' social media accounts that allow posting.
    social_media: bool = False
    # A media statement (and internal talking points) is prepared and approved before release.
    media_statement: bool = False

    def sends_sms(self, tier: int) -> bool:
        return self.sms_up_to_tier is not None and tier <= self.sms_up_to_tier

    def target_resolution(self, tier: int) -> Duration:
        return self.target_resolution_tier1 if tier <= 1 else self.target_resolution_other_tiers


@dataclass(frozen=True)
class Rules:
    """Rules that go with the table."""

    security_minimum_priority: int
    deescalation_approver: Role
    recurrence_threshold: int
    recurrence_window: Duration
    breach_review_due: Duration
    auto_close_after: Duration
    reminder_before: Duration
    # An incident that held this priority or a higher one at any time owes the review that
    # priority's row demands, whatever its priority at resolution ("every P1 has one").
    review_if_ever: int
    # The review meeting is scheduled (its invitations sent) within this of resolution.
    review_meeting_within: Duration = Duration(24, Unit.HOURS)
    # A reminder to the review's people this long before a review or public report is due.
    review_reminder_before: Duration = Duration(1, Unit.BUSINESS_DAYS)
    # A completed preventive action's effectiveness is checked this long after completion.
    effectiveness_check_after: Duration = Duration(30, Unit.DAYS)


@dataclass(frozen=True)
class Targets:
    """The policy's targets the monthly and quarterly figures are judged against (percentages)."""

    mttr_reduction_per_year: float  # mean time to resolve down by this much on a year earlier
    recurrence_rate_below: float  # repeats of the same service and cause, share of incidents
    sla_compliance_at_least: float  # resolved (and acknowledged) within the policy's windows


@dataclass(frozen=True)
class NoticeRule:
    """One cell of the notification matrix: a position told at once, after a delay (from the
    moment the incident took the priority), or only in the daily summary."""

    position: str
    after: Duration | None = None  # None: at once
    summary: bool = False

    def __str__(self) -> str:
        if self.summary:
            return "in the daily summary"
        return f"within {self.after}" if self.after else "at once"


@dataclass(frozen=True)
class NotificationMatrix:
    """Who inside government is told, when, for each priority (and security incidents); how
    often leadership is briefed while it lasts; when nobody acknowledging goes one level up."""

    rows: dict[str, tuple[NoticeRule, ...]]
    briefings: dict[int, Duration]
    unacknowledged: dict[int, Duration]
    ladder: tuple[str, ...]

    def rules_for(self, priority: int, is_security: bool) -> tuple[NoticeRule, ...]:
        found = list(self.rows.get(f"P{priority}", ()))
        if is_security:
            found += self.rows.get("security", ())
            found += self.rows.get(f"security_P{priority}", ())
        return tuple(found)


@dataclass(frozen=True)
class Policy:
    priorities: dict[int, PriorityRules]
    rules: Rules
    notify: NotificationMatrix | None = None
    targets: Targets = Targets(20.0, 10.0, 95.0)

    def __getitem__(self, priority: int) -> PriorityRules:
        return self.priorities[priority]

    def public_priorities(self, visibility: Visibility) -> tuple[int, ...]:
        return tuple(p for p in PRIORITIES if self[p].public is visibility)


DEFAULT_TABLE: dict[str, dict[str, str]] = {
    "P1": {
        "acknowledge": "5 minutes",
        "first_communication": "15 minutes",
        "update_cadence": "30 minutes",
        "target_resolution_tier1": "1 hour",
        "target_resolution_other_tiers": "4 hours",
        "review": "mandatory",
        "review_due": "48 hours",
        "public_report_due": "5 business days",
        "email_subscribers": "yes",
        "closure_approver": "service_owner",
        "public": "always",
        "default_impact": "major_outage",
        "closure_notice": "yes",
        "sms_up_to_tier": "2",
        "social_media": "yes",
        "media_statement": "yes",
    },
    "P2": {
        "acknowledge": "15 minutes",
        "first_communication": "30 minutes",
        "update_cadence": "2 hours",
        "target_resolution_tier1": "4 hours",
        "target_resolution_other_tiers": "8 hours",
        "review": "mandatory",
        "review_due": "5 business days",
        "public_report_due": "5 business days",
        "email_subscribers": "yes",
        "closure_approver": "service_manager",
        "public": "always",
        "default_impact": "partial_outage",
        "closure_notice": "yes",
        "sms_up_to_tier": "2",
        "social_media": "no",
        "media_statement": "yes",
    },
    "P3": {
        "acknowledge": "1 hour",
        "first_communication": "none",
        "update_cadence": "1 day",
        "target_resolution_tier1": "8 hours",
        "target_resolution_other_tiers": "24 hours",
        "review": "if_recurring",
        "review_due": "5 business days",
        "public_report_due": "none",
        "email_subscribers": "when_public",
        "closure_approver": "none",
        "public": "when_marked",
        "default_impact": "partial_outage",
        "closure_notice": "yes",
        "sms_up_to_tier": "none",
        "social_media": "no",
        "media_statement": "no",
    },
    "P4": {
        "acknowledge": "4 business hours",
        "first_communication": "none",
        "update_cadence": "none",
        "target_resolution_tier1": "24 hours",
        "target_resolution_other_tiers": "72 hours",
        "review": "no",
        "review_due": "none",
        "public_report_due": "none",
        "email_subscribers": "no",
        "closure_approver": "none",
        "public": "never",
        "default_impact": "degraded_performance",
        "closure_notice": "no",
        "sms_up_to_tier": "none",
        "social_media": "no",
        "media_statement": "no",
    },
}
DEFAULT_RULES: dict[str, str | int] = {
    "security_minimum_priority": "P2",
    "deescalation_approver": "service_manager",
    "recurrence_threshold": 3,
    "recurrence_window": "30 days",
    "breach_review_due": "5 business days",
    "auto_close_after": "24 hours",
    "reminder_before": "5 minutes",
    "review_if_ever": "P1",
    "review_meeting_within": "24 hours",
    "review_reminder_before": "1 business day",
    "effectiveness_check_after": "30 days",
}
DEFAULT_TARGETS: dict[str, str] = {
    "mttr_reduction_per_year": "20%",
    "recurrence_rate_below": "10%",
    "sla_compliance_at_least": "95%",
}


def _duration(value, key: str, *, optional: bool) -> Duration | None:
    if optional and value == "none":
        return None
    try:
        return Duration.parse(value)
    except ValueError as error:
        raise PolicyError(f"{key}: {error}") from None


def _choice(enum_type, value, key: str):
    try:
        return enum_type(value)
    except ValueError:
        choices = ", ".join(repr(member.value) for member in enum_type)
        raise PolicyError(f"{key}: {value!r} is not one of {choices}") from None


def _role(value, key: str, *, optional: bool) -> Role | None:
    if optional and value == "none":
        return None
    try:
        return Role.from_key(str(value))
    except ValueError as error:
        raise PolicyError(f"{key}: {error}") from None


def _priority(value, key: str) -> int:
    match = re.fullmatch(r"P([1-4])", str(value))
    if not match:
        raise PolicyError(f"{key}: {value!r} is not a priority from P1 to P4")
    return int(match.group(1))


# Row keys added after the first release: an older policy.toml without them takes the default
# row's value for that priority, so an upgrade never stops a site that has an override.
OPTIONAL_ROW_KEYS = frozenset(
    {"default_impact", "closure_notice", "sms_up_to_tier", "social_media", "media_statement"}
)
IMPACT_CHOICES = ("degraded_performance", "partial_outage", "major_outage")


def _check_keys(row: dict, expected: dict, where: str) -> None:
    unknown = sorted(set(row) - set(expected))
    if unknown:
        raise PolicyError(f"{where}.{unknown[0]}: unknown key")
    missing = [key for key in expected if key not in row and key not in OPTIONAL_ROW_KEYS]
    if missing:
        raise PolicyError(f"{where}.{missing[0]}: missing (a {where} row must be complete)")


def _impact(value, key: str) -> str:
    if value not in IMPACT_CHOICES:
        choices = ", ".join(repr(choice) for choice in IMPACT_CHOICES)
        raise PolicyError(f"{key}: {value!r} is not one of {choices}")
    return value


def _tier(value, key: str) -> int | None:
    if value == "none":
        return None
    if str(value) not in ("1", "2", "3", "4"):
        raise PolicyError(f"{key}: {value!r} is not a tier from 1 to 4 or 'none'")
    return int(value)


def _yes_no(value, key: str) -> bool:
    if value not in ("yes", "no"):
        raise PolicyError(f"{key}: {value!r} is not 'yes' or 'no'")
    return value == "yes"


def _priority_rules(row: dict, where: str) -> PriorityRules:
    _check_keys(row, DEFAULT_TABLE["P1"], where)
    row = {**DEFAULT_TABLE[where], **row} if where in DEFAULT_TABLE else row
    key = lambda name: f"{where}.{name}"  # noqa: E731
    return PriorityRules(
        acknowledge=_duration(row["acknowledge"], key("acknowledge"), optional=False),
        first_communication=_duration(
            row["first_communication"], key("first_communication"), optional=True
        ),
        update_cadence=_duration(row["update_cadence"], key("update_cadence"), optional=True),
        target_resolution_tier1=_duration(
            row["target_resolution_tier1"], key("target_resolution_tier1"), optional=False
        ),
        target_resolution_other_tiers=_duration(
            row["target_resolution_other_tiers"],
            key("target_resolution_other_tiers"),
            optional=False,
        ),
        review=_choice(Review, row["review"], key("review")),
        review_due=_duration(row["review_due"], key("review_due"), optional=True),
        public_report_due=_duration(
            row["public_report_due"], key("public_report_due"), optional=True
        ),
        email_subscribers=_choice(
            EmailSubscribers, row["email_subscribers"], key("email_subscribers")
        ),
        closure_approver=_role(row["closure_approver"], key("closure_approver"), optional=True),
        public=_choice(Visibility, row["public"], key("public")),
        default_impact=_impact(row["default_impact"], key("default_impact")),
        closure_notice=_yes_no(row["closure_notice"], key("closure_notice")),
        sms_up_to_tier=_tier(row["sms_up_to_tier"], key("sms_up_to_tier")),
        social_media=_yes_no(row["social_media"], key("social_media")),
        media_statement=_yes_no(row["media_statement"], key("media_statement")),
    )


def _rules(row: dict) -> Rules:
    unknown = sorted(set(row) - set(DEFAULT_RULES))
    if unknown:
        raise PolicyError(f"rules.{unknown[0]}: unknown key")
    merged = {**DEFAULT_RULES, **row}
    threshold = merged["recurrence_threshold"]
    if not isinstance(threshold, int) or threshold < 2:
        raise PolicyError(f"rules.recurrence_threshold: {threshold!r} is not a whole number >= 2")
    return Rules(
        security_minimum_priority=_priority(
            merged["security_minimum_priority"], "rules.security_minimum_priority"
        ),
        deescalation_approver=_role(
            merged["deescalation_approver"], "rules.deescalation_approver", optional=False
        ),
        recurrence_threshold=threshold,
        recurrence_window=_duration(
            merged["recurrence_window"], "rules.recurrence_window", optional=False
        ),
        breach_review_due=_duration(
            merged["breach_review_due"], "rules.breach_review_due", optional=False
        ),
        auto_close_after=_duration(
            merged["auto_close_after"], "rules.auto_close_after", optional=False
        ),
        reminder_before=_duration(
            merged["reminder_before"], "rules.reminder_before", optional=False
        ),
        review_if_ever=_priority(merged["review_if_ever"], "rules.review_if_ever"),
        review_meeting_within=_duration(
            merged["review_meeting_within"], "rules.review_meeting_within", optional=False
        ),
        review_reminder_before=_duration(
            merged["review_reminder_before"], "rules.review_reminder_before", optional=False
        ),
        effectiveness_check_after=_duration(
            merged["effectiveness_check_after"], "rules.effectiveness_check_after", optional=False
        ),
    )


def _percent(value, key: str) -> float:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%?\s*", str(value))
    if not match or not 0 <= float(match.group(1)) <= 100:
        raise PolicyError(f"{key}: {value!r} is not a percentage such as '95%'")
    return float(match.group(1))


def _targets(row) -> Targets:
    if not isinstance(row, dict):
        raise PolicyError("targets: must be a table of settings")
    unknown = sorted(set(row) - set(DEFAULT_TARGETS))
    if unknown:
        raise PolicyError(f"targets.{unknown[0]}: unknown key")
    merged = {**DEFAULT_TARGETS, **row}
    return Targets(**{name: _percent(merged[name], f"targets.{name}") for name in DEFAULT_TARGETS})


# Who can be named in the matrix (statuspage.internal.models.Position has the same values).
POSITIONS = ("service_manager", "service_owner", "agency_cio", "cdo", "ciso", "legal",
             "public_relations", "on_call")  # fmt: skip
DEFAULT_NOTIFY: dict[str, dict] = {
    "P1": {"service_owner": "at once", "agency_cio": "at once", "cdo": "at once",
           "on_call": "at once"},
    "P2": {"service_manager": "at once", "service_owner": "15 minutes", "on_call": "at once"},
    "P3": {"service_owner": "1 hour"},
    "P4": {"service_owner": "daily summary"},
    "security": {"ciso": "at once"},
    "security_P1": {"legal": "at once", "public_relations": "at once"},
    # Leadership briefings while the incident lasts, to everyone the row told.
    "briefings": {"P1": "30 minutes"},
    # Nobody has acknowledged for this long: the next position up the ladder is told, and again
    # after each further period.
    "unacknowledged": {"P1": "30 minutes", "P2": "1 hour"},
    "ladder": ["service_manager", "service_owner", "agency_cio", "cdo"],
}  # fmt: skip
_NOTIFY_ROWS = ("P1", "P2", "P3", "P4", "security", *(f"security_P{p}" for p in PRIORITIES))


def _notice(position: str, value, key: str) -> NoticeRule:
    if position not in POSITIONS:
        raise PolicyError(f"{key}: unknown position; use one of {', '.join(POSITIONS)}")
    text = str(value).strip().lower()
    if text == "at once":
        return NoticeRule(position)
    if text in ("daily summary", "morning summary"):
        return NoticeRule(position, summary=True)
    try:
        return NoticeRule(position, Duration.parse(text))
    except ValueError:
        raise PolicyError(
            f"{key}: {value!r} is not 'at once', 'daily summary' or a duration such as "
            "'15 minutes'"
        ) from None


def _priority_durations(table, key: str) -> dict[int, Duration]:
    if not isinstance(table, dict):
        raise PolicyError(f"{key}: must be a table such as {{ P1 = \"30 minutes\" }}")
    return {_priority(name, f"{key}.{name}"): _duration(value, f"{key}.{name}", optional=False)
            for name, value in table.items()}  # fmt: skip


def _matrix(override: dict) -> NotificationMatrix:
    """The default matrix with an override's tables laid over it (each table given replaces the
    default one)."""
    if not isinstance(override, dict):
        raise PolicyError("notify: must be a table of settings")
    unknown = sorted(set(override) - {*_NOTIFY_ROWS, "briefings", "unacknowledged", "ladder"})
    if unknown:
        raise PolicyError(f"notify.{unknown[0]}: unknown table; use P1-P4, security, "
                          "security_P1-P4, briefings, unacknowledged or ladder")  # fmt: skip
    merged = {**DEFAULT_NOTIFY, **override}
    rows = {}
    for name in _NOTIFY_ROWS:
        row = merged.get(name, {})
        if not isinstance(row, dict):
            raise PolicyError(f"notify.{name}: must be a table of position = when")
        rows[name] = tuple(_notice(position, when, f"notify.{name}.{position}")
                           for position, when in row.items())  # fmt: skip
    ladder = merged["ladder"]
    if not isinstance(ladder, list) or any(p not in POSITIONS for p in ladder):
        raise PolicyError(f"notify.ladder: a list of positions from {', '.join(POSITIONS)}")
    return NotificationMatrix(
        rows,
        _priority_durations(merged["briefings"], "notify.briefings"),
        _priority_durations(merged["unacknowledged"], "notify.unacknowledged"),
        tuple(ladder),
    )


def build_policy(override: dict | None = None) -> Policy:
    """The default policy with an override's rows and rules laid over it."""
    override = override or {}
    unknown = sorted(set(override) - {*DEFAULT_TABLE, "rules", "notify", "targets"})
    if unknown:
        raise PolicyError(
            f"{unknown[0]}: unknown section; use P1, P2, P3, P4, rules, notify or targets"
        )
    priorities = {}
    for name, default_row in DEFAULT_TABLE.items():
        row = override.get(name, default_row)
        if not isinstance(row, dict):
            raise PolicyError(f"{name}: must be a table of settings")
        priorities[int(name[1])] = _priority_rules(row, name)
    rules = override.get("rules", {})
    if not isinstance(rules, dict):
        raise PolicyError("rules: must be a table of settings")
    return Policy(
        priorities,
        _rules(rules),
        _matrix(override.get("notify", {})),
        _targets(override.get("targets", {})),
    )


def load_policy(instance_path: str | Path) -> Policy:
    """The policy for this site: defaults, overridden by ``instance/policy.toml`` if present."""
    path = Path(instance_path) / POLICY_FILE
    if not path.exists():
        return build_policy()
    try:
        override = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"{path}: not valid TOML ({error})") from None
    try:
        return build_policy(override)
    except PolicyError as error:
        raise PolicyError(f"{path}: {error}") from None


class BusinessCalendar:
    """Business days and hours in the site's zone, skipping weekends and public holidays."""

    def __init__(
        self,
        zone: ZoneInfo,
        country: str = "US",
        subdivision: str | None = None,
        day_start: time = time(9),
        day_end: time = time(17),
    ):
        self.zone = zone
        self.holidays = holidays_lib.country_holidays(country, subdiv=subdivision)
        self.day_start = day_start
        self.day_end = day_end

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def add_business_days(self, moment: datetime, days: int) -> datetime:
        """The same wall-clock time ``days`` business days later (DST-safe)."""
        local = moment.astimezone(self.zone)
        day = local.date()
        remaining = days
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_business_day(day):
                remaining -= 1
        return datetime.combine(day, local.timetz().replace(tzinfo=None), self.zone).astimezone(
            moment.tzinfo
        )

    def add_business_hours(self, moment: datetime, hours: int) -> datetime:
        """Count ``hours`` of business time (day_start to day_end on business days)."""
        remaining = timedelta(hours=hours)
        local = moment.astimezone(self.zone)
        while True:
            day = local.date()
            opens = datetime.combine(day, self.day_start, self.zone)
            closes = datetime.combine(day, self.day_end, self.zone)
            if not self.is_business_day(day) or local >= closes:
                local = datetime.combine(day + timedelta(days=1), self.day_start, self.zone)
                continue
            local = max(local, opens)
            available = closes - local
            if remaining <= available:
                return (local + remaining).astimezone(moment.tzinfo)
            remaining -= available
            local = datetime.combine(day + timedelta(days=1), self.day_start, self.zone)

    def subtract_business_days(self, moment: datetime, days: int) -> datetime:
        """The same wall-clock time ``days`` business days earlier (DST-safe)."""
        local = moment.astimezone(self.zone)
        day = local.date()
        remaining = days
        while remaining > 0:
            day -= timedelta(days=1)
            if self.is_business_day(day):
                remaining -= 1
        return datetime.combine(day, local.timetz().replace(tzinfo=None), self.zone).astimezone(
            moment.tzinfo
        )

    def subtract_business_hours(self, moment: datetime, hours: int) -> datetime:
        """Count ``hours`` of business time back from ``moment`` (out-of-hours time is skipped:
        the count starts from the last closing time before it)."""
        remaining = timedelta(hours=hours)
        if not remaining:
            return moment
        local = moment.astimezone(self.zone)
        while True:
            day = local.date()
            opens = datetime.combine(day, self.day_start, self.zone)
            closes = datetime.combine(day, self.day_end, self.zone)
            if not self.is_business_day(day) or local <= opens:
                local = datetime.combine(day - timedelta(days=1), self.day_end, self.zone)
                continue
            local = min(local, closes)
            available = local - opens
            if remaining <= available:
                return (local - remaining).astimezone(moment.tzinfo)
            remaining -= available
            local = datetime.combine(day - timedelta(days=1), self.day_end, self.zone)


def current_policy() -> Policy:
    """The policy the running app loaded at start-up."""
    from flask import current_app

    return current_app.extensions["policy"]


def current_calendar() -> BusinessCalendar:
    from flask import current_app

    return current_app.extensions["business_calendar"]


# The seed policy's criteria for the urgency x impact matrix, shown beside the choices.
URGENCY_CRITERIA = {
    "high": "A critical service is down or unusable and no workaround exists; people are "
    "stopped now (a deadline, a payment, an emergency).",
    "medium": "The service works badly or in part, or a workaround exists.",
    "low": "A minor problem; people can wait or use the service another way.",
}
IMPACT_CRITERIA = {
    "high": "More than 20% of citizens, or a critical service (tier 1), or a whole agency.",
    "medium": "A group of citizens, one region or one part of a service.",
    "low": "A few people, or an internal function only.",
}
# The impact a service's tier gives when nothing else says which (by the criteria above: a tier-1
# service is critical, so high; tier 2 reaches a group of citizens; tiers 3-4 few people). Used
# for the manage API's incidents and the alerts' suggested priority alike.
IMPACT_BY_TIER = {1: "high", 2: "medium", 3: "low", 4: "low"}


def suggest_priority(urgency: str, impact: str) -> int:
    """Priority from urgency x impact (High/Medium/Low each), per the policy's matrix."""
    levels = {"high": 0, "medium": 1, "low": 2}
    try:
        score = levels[urgency.lower()] + levels[impact.lower()]
    except KeyError:
        raise ValueError("urgency and impact are each high, medium or low") from None
    # HH=P1; HM/MH=P2; HL/MM/LH=P3; ML/LM/LL=P4.
    return min(score + 1, 4)
