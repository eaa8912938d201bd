"""Template filters and globals shared by every page and email."""

from __future__ import annotations

from datetime import date

from flask import Flask
from markupsafe import Markup

from . import clock
from .catalog.status import ServiceStatus
from .characters import is_xml_safe, xml_safe
from .incidents.models import PRIORITY_LABELS
from .incidents.visibility import is_public
from .markdown import render_markdown, render_plain_text, wrap_plain_text
from .reports import actions
from .timefmt import format_absolute, format_relative, iso_utc, time_element, zone_abbreviation


def long_date(value: date | str) -> str:
    """E.g. '5 December 2026' (from a date or an ISO date string)."""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.day} {day:%B %Y}"


def bar_items(days) -> Markup:
    """The history bars' items, one per day: `<li class="d-green"></li>`… Built here rather than
    in a template loop because the front page has 1,080 of them (12 services, 90 days), which took
    longer in Jinja than the rest of the page."""
    return Markup("".join([f'<li class="d-{day.status.colour}"></li>' for day in days]))


def printable(value):
    """What every {{ expression }} prints: stored text without the characters HTML (as XML)
    cannot carry, so an old row with a control character still renders."""
    if isinstance(value, str) and not is_xml_safe(value):
        cleaned = xml_safe(value)
        return Markup(cleaned) if isinstance(value, Markup) else cleaned
    return value


def register_templating(app: Flask) -> None:
    app.jinja_env.filters.update(
        markdown=render_markdown,
        plain_text=render_plain_text,  # Markdown as the text part of an email
        wrap=wrap_plain_text,
        time=time_element,
        absolute_time=format_absolute,
        relative_time=format_relative,
        iso_utc=iso_utc,
        long_date=long_date,
        bar_items=bar_items,
    )
    # Globals (not a context processor) so that imported macros see them too.
    app.jinja_env.globals.update(
        ServiceStatus=ServiceStatus,
        PRIORITY_LABELS=PRIORITY_LABELS,
        ACTION_CATEGORY_LABELS=actions.CATEGORY_LABELS,
        ACTION_PRIORITY_LABELS=actions.PRIORITY_LABELS,
        action_priority=actions.priority_words,
        is_public=is_public,
        zone_abbreviation=zone_abbreviation,
        now=clock.now,
    )
    app.jinja_env.finalize = printable
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def site_globals():
        return {
            "site_name": app.config["SITE_NAME"],
        }
