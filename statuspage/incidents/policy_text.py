"""The words that explain the policy on screen, derived from the policy table.

A jurisdiction's `instance/policy.toml` changes the numbers; these functions make the hints, labels
and refusals say the same numbers, so the screen never contradicts the clock.
"""

from __future__ import annotations

from ..policy import PRIORITIES, Policy, Visibility
from ..users.models import Role

IMPACT_WORDS = {
    "degraded_performance": "degraded performance",
    "partial_outage": "partial outage",
    "major_outage": "major outage",
}


def _role(role: Role | None) -> str:
    return role.label.lower() if role else "whoever posts updates"


def _article(words: str) -> str:
    return ("an " if words[:1] in "aeiou" else "a ") + words


def _list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def visibility_rule(priority: int, policy: Policy) -> str:
    """E.g. "public once its first public update is posted"."""
    match policy[priority].public:
        case Visibility.ALWAYS:
            return "public once its first public update is posted"
        case Visibility.WHEN_MARKED:
            return "public only when a lead makes it public with a message for citizens"
        case _:
            return "never public (reply to the reporter directly)"


def marked_priorities(policy: Policy) -> list[int]:
    """The priorities a lead may choose to make public."""
    return list(policy.public_priorities(Visibility.WHEN_MARKED))


def priority_summary(priority: int, policy: Policy) -> str:
    """One line per priority for the form: its clock and whether the public sees it."""
    rules = policy[priority]
    parts = [f"acknowledge within {rules.acknowledge}"]
    if rules.first_communication is not None:
        parts.append(f"first public update within {rules.first_communication}")
    if rules.update_cadence is not None and rules.public is not Visibility.NEVER:
        parts.append(f"then an update every {rules.update_cadence}")
    parts.append(visibility_rule(priority, policy))
    return f"P{priority}: " + "; ".join(parts) + "."


def priority_hint(policy: Policy) -> str:
    return " ".join(priority_summary(p, policy) for p in PRIORITIES)


def security_label(policy: Policy) -> str:
    return f"This is a security incident (never below P{policy.rules.security_minimum_priority})"


def made_public_label(policy: Policy) -> str:
    marked = "/".join(f"P{p}" for p in marked_priorities(policy)) or "P3"
    return f"Make this {marked} incident public with its first update (several reports)"


def default_impact_hint(policy: Policy) -> str:
    by_impact: dict[str, list[str]] = {}
    for p in PRIORITIES:
        by_impact.setdefault(policy[p].default_impact, []).append(f"P{p}")
    said = [f"{_article(IMPACT_WORDS[i])} for {_list(ps)}" for i, ps in by_impact.items()]
    return "Tick each affected service and choose its impact. Left as the default, it is " + (
        _list(said) + "."
    )


def priority_change_hint(policy: Policy) -> str:
    return (
        "Raising the priority applies at once, with the higher priority's deadlines from now. "
        f"Lowering it needs {_article(_role(policy.rules.deescalation_approver))}'s approval and "
        "a reason."
    )


def promise_hint(priority: int, policy: Policy) -> str:
    cadence = policy[priority].update_cadence
    if cadence is None:
        return f"A P{priority} has no update cadence: promise a time only if you will keep it."
    return (
        f"The policy asks for an update every {cadence} on a P{priority}; prefilled with the "
        "latest time allowed. You may promise sooner, not later."
    )


def approver_hint(approver: Role | None) -> str:
    return f"{_article(_role(approver)).capitalize()} other than the person asking must decide."


def closure_hint(priority: int, policy: Policy) -> str:
    approver = policy[priority].closure_approver
    after = policy.rules.auto_close_after
    who = (
        f"Closing a P{priority} needs {_article(_role(approver))}'s approval."
        if approver
        else f"A P{priority} closes without approval."
    )
    notice = (
        " Closing posts a short closing note to the public page and its subscribers."
        if policy[priority].closure_notice and policy[priority].public is not Visibility.NEVER
        else ""
    )
    return f"{who} Resolved incidents are closed after {after} if nobody closes them.{notice}"


def not_public_reason(priority: int, made_public: bool, policy: Policy) -> str:
    """Why an incident is not on the public site yet, and what would put it there."""
    visibility = policy[priority].public
    if visibility is Visibility.NEVER:
        return f"No: a P{priority} is never public."
    if visibility is Visibility.WHEN_MARKED and not made_public:
        return (
            f"No: a P{priority} is public only when a lead makes it public with a message for "
            "citizens (tick that box when posting an update)."
        )
    return "Not yet: post the first public update to publish it and notify subscribers."
