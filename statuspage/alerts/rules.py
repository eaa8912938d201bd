"""What an alert means here: its level, the priority it suggests, the monitoring status it gives a
service. The one home of these rules (README "Alerts from Prometheus Alertmanager" shows them).

Level, from the alert's ``severity`` label (any case):

| severity label                                   | level    |
| ------------------------------------------------ | -------- |
| critical, crit, page, emergency, fatal            | critical |
| warning, warn, error, major, minor, or missing    | warning  |
| info, informational, notice, low, none            | info     |

An unknown word counts as a warning: an alert someone routed to the status page deserves a look.

Suggested priority: the policy's urgency x impact matrix (``policy.suggest_priority``: HH=P1,
HM/MH=P2, HL/MM/LH=P3, ML/LM/LL=P4), with

- urgency from the ``urgency`` label (high, medium, low), else from the level: critical -> high,
  warning -> medium, info -> low;
- impact from the ``impact`` label (high, medium, low), else from the tier of the service the
  alert names (``policy.IMPACT_BY_TIER``, shared with the manage API): tier 1 -> high, tier 2 ->
  medium, tiers 3-4 -> low.

So, with no urgency or impact label: critical is P1 on a tier-1 service, P2 on tier 2, P3 on
tiers 3-4; warning is P2 / P3 / P4 / P4; info is P3 / P4 / P4 / P4. The most urgent firing alert of a group
decides its suggestion; the lead may change the priority as for any incident.

Monitoring status (only for services that follow monitoring, an owner's choice per service): the
worst level of the firing alerts that name the service: critical -> major outage, warning ->
degraded performance, info -> none (operational). Staff see it; the public status still comes
from public incidents only: the draft incident carries the impact, and citizens see it when a lead
publishes (see operations.py for when monitoring may still move it).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from ..incidents.models import Impact
from ..policy import IMPACT_BY_TIER, suggest_priority

LEVELS = ("high", "medium", "low")


class Level(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Level).index(self)

    @property
    def impact(self) -> Impact | None:
        """The monitoring status a firing alert of this level gives a following service."""
        return _IMPACTS[self]

    @property
    def urgency(self) -> str:
        return _URGENCIES[self]


_SEVERITIES = {
    **dict.fromkeys(("critical", "crit", "page", "emergency", "fatal"), Level.CRITICAL),
    **dict.fromkeys(("warning", "warn", "error", "major", "minor"), Level.WARNING),
    **dict.fromkeys(("info", "informational", "notice", "low", "none"), Level.INFO),
}
_IMPACTS = {Level.CRITICAL: Impact.MAJOR_OUTAGE, Level.WARNING: Impact.DEGRADED_PERFORMANCE,
            Level.INFO: None}  # fmt: skip
_URGENCIES = {Level.CRITICAL: "high", Level.WARNING: "medium", Level.INFO: "low"}


def level_of(labels: Mapping[str, str]) -> Level:
    return _SEVERITIES.get((labels.get("severity") or "").strip().lower(), Level.WARNING)


def worst(levels) -> Level | None:
    return max(levels, key=lambda level: level.rank, default=None)


def _given(labels: Mapping[str, str], name: str) -> str | None:
    value = (labels.get(name) or "").strip().lower()
    return value if value in LEVELS else None


def suggested_priority(labels: Mapping[str, str], tier: int) -> tuple[int, str]:
    """The priority one alert suggests for a service of ``tier``, and the words that say why
    ("P1 from critical severity (high urgency) on a tier-1 service (high impact)")."""
    level = level_of(labels)
    urgency = _given(labels, "urgency")
    impact = _given(labels, "impact")
    priority = suggest_priority(urgency or level.urgency, impact or IMPACT_BY_TIER[tier])
    why_urgency = f"{urgency} urgency" if urgency else f"{level} severity ({level.urgency} urgency)"
    why_impact = f"{impact} impact" if impact else \
        f"a tier-{tier} service ({IMPACT_BY_TIER[tier]} impact)"  # fmt: skip
    return priority, f"P{priority} from {why_urgency} on {why_impact}"
