"""The quarterly review to each agency's CIO, once the quarter has ended: its headline figures,
the targets met and not met, and the link to the whole review.

The outbox key ``quarterly:0:<agency id>:<YYYY-Qn>`` makes it one message per person, agency and
quarter, however many processes run the job and however often. The text is made when the message
is sent, from the quarter in its key."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, url_for
from sqlalchemy import select

from .. import clock
from ..catalog.models import Agency
from ..extensions import db
from ..reports import presentation, quarterly
from ..reports.presentation import JUDGED
from ..reports.quarterly import Quarter
from . import messages
from .models import Position
from .recipients import holders

KIND = "quarterly"


def send_quarterly_reviews(now: datetime) -> int:
    """Write the review of the quarter that ended last to every agency's CIO; returns how many
    messages were new (none once they are written)."""
    quarter = quarterly.quarter_of(now).previous()
    written = 0
    for agency_id in db.session.scalars(select(Agency.id).order_by(Agency.id)):
        people = holders(Position.AGENCY_CIO, [agency_id])
        written += messages.enqueue(people, KIND, f"{agency_id}:{quarter.name}")
    db.session.commit()
    return written


def link(agency: Agency, quarter: Quarter) -> str:
    base = current_app.config["SITE_URL"].rstrip("/")
    return base + url_for("admin.quarterly_report", slug=agency.slug, quarter=quarter.name)


def _target_lines(rows: list[list[str]]) -> list[str]:
    return [f"- {label}: {value} (target: {target[:1].lower()}{target[1:]})"
            for label, target, value, _ in rows] or ["- None."]  # fmt: skip


def text_of(agency: Agency, quarter: Quarter, figures: dict) -> tuple[str, str]:
    """The subject and the plain text: the page's targets table, grouped by its judgement."""
    table = quarterly.targets(figures)
    met, not_met, unmeasurable = (
        [row for row in table.rows if row[3] == JUDGED[outcome]] for outcome in (True, False, None)
    )
    subject = (
        f"Quarterly review for {agency.name}, {quarter.label}: "
        f"{len(met)} of {len(table.rows)} targets met"
    )
    lines = [
        f"The quarterly review of {agency.name} for {quarter.label} ({quarter.spoken}).",
        "",
        "Headline figures",
        *(f"- {term}: {description}" for term, description in presentation.headlines(figures)),
        "",
        f"Against {quarter.year_earlier().label}, a year earlier",
        *(f"- {label}: {now} (a year earlier: {then})"
          for label, now, then in quarterly.comparison(figures).rows),
        "",
        "Targets met",
        *_target_lines(met),
        "",
        "Targets not met",
        *_target_lines(not_met),
    ]  # fmt: skip
    if unmeasurable:
        lines += ["", "Not measurable this quarter", *_target_lines(unmeasurable)]
    lines += ["", f"The whole review, with each month: {link(agency, quarter)}"]
    return subject, "\n".join(lines)


@messages.renderer(KIND)
def render(detail: str, incident_id: int | None) -> messages.InternalMessage:
    agency_id, name = detail.split(":", 1)
    agency = db.session.get(Agency, int(agency_id))
    quarter = Quarter.parse(name)
    if agency is None or quarter is None:
        raise messages.Skip("the agency no longer exists")
    subject, text = text_of(agency, quarter, quarterly.build(quarter, agency, clock.now()))
    return messages.InternalMessage(subject, text)
