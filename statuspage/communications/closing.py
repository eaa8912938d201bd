"""The short closing note the public page and its subscribers get when an incident is closed."""

from __future__ import annotations

from ..incidents.models import Incident
from ..timefmt import format_absolute
from .templates import service_names


def closing_note(incident: Incident) -> str:
    """Plain words: it is over, since when, and when the report comes (if one is due)."""
    from ..reports.reviews import owed_by

    lines = [
        "We have closed this incident.",
        f"You have been able to use {service_names(incident)} normally since "
        f"{format_absolute(incident.resolved_at or incident.closed_at)}.",
    ]
    owed = owed_by(incident)
    if owed.need.required and owed.report_due is not None:
        lines.append(
            "We will publish a report on what happened and what we are changing by "
            f"{format_absolute(owed.report_due)}."
        )
    lines.append("Thank you for your patience.")
    return " ".join(lines)
