"""The policy in force, read-only, for every signed-in staff member: the P1-P4 table, its rules
and the notification matrix, each value marked when it comes from ``instance/policy.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, render_template

from ..incidents.policy_text import IMPACT_WORDS, visibility_rule
from ..internal.models import Position
from ..policy import (
    DEFAULT_NOTIFY,
    POLICY_FILE,
    PRIORITIES,
    EmailSubscribers,
    Policy,
    PolicyError,
    Review,
    current_policy,
    load_policy,
)
from ..sms.operations import tier_words
from ..users.models import Role
from . import admin
from .permissions import allow


@dataclass(frozen=True)
class Cell:
    text: str
    from_file: bool = False


# The policy table's columns: (key in policy.toml, heading).
COLUMNS = (
    ("acknowledge", "Acknowledge within"),
    ("first_communication", "First public communication within"),
    ("update_cadence", "Public update cadence"),
    ("target_resolution_tier1", "Target resolution, tier 1"),
    ("target_resolution_other_tiers", "Target resolution, tiers 2-4"),
    ("review", "Post-incident review"),
    ("review_due", "Review due"),
    ("public_report_due", "Public post-incident report"),
    ("email_subscribers", "Email subscribers"),
    ("closure_approver", "Closing approved by"),
    ("public", "On the public site"),
    ("default_impact", "Impact unless chosen"),
    ("closure_notice", "Closing note to the public"),
    ("sms_up_to_tier", "Text messages (SMS)"),
    ("social_media", "Posted to social media"),
    ("media_statement", "Media statement"),
)
PRIORITY_NAMES = {1: "P1 Critical", 2: "P2 High", 3: "P3 Medium", 4: "P4 Low"}
MATRIX_ROWS = (
    *((f"P{p}", f"P{p}") for p in PRIORITIES),
    ("security", "Security incidents, any priority"),
    *((f"security_P{p}", f"Security incidents at P{p}") for p in PRIORITIES),
)


@admin.get("/policy")
@allow.signed_in  # every member of staff may read the policy
def policy_table():
    in_force = current_policy()
    path = Path(current_app.instance_path) / POLICY_FILE
    override, problem = _override(path, in_force)
    return render_template(
        "admin/policy.html",
        path=path,
        has_file=path.exists(),
        problem=problem,
        columns=COLUMNS,
        rows=priority_rows(in_force, override),
        rules=rule_rows(in_force, override.get("rules", {})),
        targets=target_rows(in_force, override.get("targets", {})),
        matrix=matrix_rows(in_force, override.get("notify", {})),
        timing=timing_rows(in_force, override.get("notify", {})),
        ladder=Cell(
            " → ".join(Position(p).label for p in in_force.notify.ladder),
            "ladder" in override.get("notify", {}),
        ),
    )


def _override(path: Path, in_force: Policy) -> tuple[dict, str]:
    """What policy.toml sets now, and a warning when that is not the policy in force (the file
    was changed or broken after start-up: the site keeps the policy it started with)."""
    if not path.exists():
        return {}, ""
    try:
        override = tomllib.loads(path.read_text())
        changed = load_policy(path.parent) != in_force
    except (tomllib.TOMLDecodeError, PolicyError, OSError) as error:
        return {}, (
            f"{path} has changed since the site started and cannot be read now ({error}). The "
            "site goes on with the policy it started with, shown here unmarked."
        )
    if changed:
        return override, (
            f"{path} has changed since the site started: restart the site to apply it. The "
            "values shown are the ones in force; the marks show what the file sets now."
        )
    return override, ""


def _when(duration, none: str) -> str:
    return str(duration) if duration is not None else none


def _role(role: Role | None, none: str) -> str:
    return role.label.lower() if role is not None else none


def priority_rows(policy: Policy, override: dict) -> list[tuple[str, list[Cell]]]:
    rows = []
    for p in PRIORITIES:
        rules = policy[p]
        given = override.get(f"P{p}", {})
        if rules.review is Review.IF_RECURRING:
            review = (f"only if recurring ({policy.rules.recurrence_threshold}+ in "
                      f"{policy.rules.recurrence_window} on the same service)")  # fmt: skip
        else:
            review = {Review.MANDATORY: "mandatory", Review.NO: "no"}[rules.review]
        words = {
            "acknowledge": str(rules.acknowledge),
            "first_communication": _when(rules.first_communication, "no deadline"),
            "update_cadence": f"every {rules.update_cadence}" if rules.update_cadence
            else "when the status changes",
            "target_resolution_tier1": str(rules.target_resolution_tier1),
            "target_resolution_other_tiers": str(rules.target_resolution_other_tiers),
            "review": review,
            "review_due": f"within {rules.review_due} of resolution" if rules.review_due
            else "none",
            "public_report_due": f"within {rules.public_report_due}" if rules.public_report_due
            else "none",
            "email_subscribers": {EmailSubscribers.YES: "yes", EmailSubscribers.NO: "no",
                                  EmailSubscribers.WHEN_PUBLIC: "when public"}[
                                      rules.email_subscribers],
            "closure_approver": _role(rules.closure_approver, "no approval needed"),
            "public": visibility_rule(p, policy),
            "default_impact": IMPACT_WORDS[rules.default_impact],
            "closure_notice": "yes" if rules.closure_notice else "no",
            "sms_up_to_tier": sms_words(rules.sms_up_to_tier),
            "social_media": "yes" if rules.social_media else "no",
            "media_statement": "yes, approved before release" if rules.media_statement else "no",
        }  # fmt: skip
        rows.append((PRIORITY_NAMES[p], [Cell(words[key], key in given) for key, _ in COLUMNS]))
    return rows


def sms_words(up_to_tier: int | None) -> str:
    return "no" if up_to_tier is None else tier_words(up_to_tier)


def rule_rows(policy: Policy, given: dict) -> list[tuple[str, Cell]]:
    rules = policy.rules
    return [
        ("A security incident is never below",
         Cell(f"P{rules.security_minimum_priority}", "security_minimum_priority" in given)),
        ("Lowering the priority is approved by",
         Cell(_role(rules.deescalation_approver, ""), "deescalation_approver" in given)),
        ("Recurring: incidents on the same service",
         Cell(str(rules.recurrence_threshold), "recurrence_threshold" in given)),
        ("Recurring: within", Cell(str(rules.recurrence_window), "recurrence_window" in given)),
        ("Review of a breached target due within",
         Cell(str(rules.breach_review_due), "breach_review_due" in given)),
        ("Resolved incidents close after",
         Cell(str(rules.auto_close_after), "auto_close_after" in given)),
        ("Reminders before each deadline",
         Cell(str(rules.reminder_before), "reminder_before" in given)),
        ("Ever at this priority or higher owes that review",
         Cell(f"P{rules.review_if_ever}", "review_if_ever" in given)),
        ("Review meeting scheduled within (of resolution)",
         Cell(str(rules.review_meeting_within), "review_meeting_within" in given)),
        ("Reminders before a review or public report is due",
         Cell(str(rules.review_reminder_before), "review_reminder_before" in given)),
        ("A completed action's effectiveness is checked after",
         Cell(str(rules.effectiveness_check_after), "effectiveness_check_after" in given)),
    ]  # fmt: skip


def target_rows(policy: Policy, given: dict) -> list[tuple[str, Cell]]:
    """The targets the monthly and quarterly figures are judged against."""
    targets = policy.targets
    return [
        ("Mean time to resolve, on a year earlier",
         Cell(f"down by at least {targets.mttr_reduction_per_year:g}%",
              "mttr_reduction_per_year" in given)),
        ("Recurrence (same service and cause)",
         Cell(f"below {targets.recurrence_rate_below:g}% of incidents",
              "recurrence_rate_below" in given)),
        ("SLA compliance (acknowledged and resolved in time)",
         Cell(f"at least {targets.sla_compliance_at_least:g}%",
              "sla_compliance_at_least" in given)),
    ]  # fmt: skip


def matrix_rows(policy: Policy, given: dict) -> list[tuple[str, Cell]]:
    """Who is told, when, per row of the matrix; a table in policy.toml replaces the whole row."""
    rows = []
    for key, label in MATRIX_ROWS:
        notices = policy.notify.rows.get(key, ())
        text = "; ".join(f"{Position(n.position).label} {n}" for n in notices) or "nobody more"
        if notices or key in DEFAULT_NOTIFY or key in given:
            rows.append((label, Cell(text, key in given)))
    return rows


def timing_rows(policy: Policy, given: dict) -> list[tuple[str, Cell]]:
    matrix = policy.notify
    briefings = "; ".join(f"P{p} every {d}" for p, d in sorted(matrix.briefings.items()))
    unacknowledged = "; ".join(f"P{p} after {d}" for p, d in sorted(matrix.unacknowledged.items()))
    return [
        ("Leadership briefings while it lasts", Cell(briefings or "none", "briefings" in given)),
        ("Nobody acknowledged: one level up",
         Cell(unacknowledged or "never", "unacknowledged" in given)),
    ]  # fmt: skip
