"""Showing UTC times to people: the site's zone with its abbreviation, absolute and relative."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from markupsafe import Markup

from . import clock


def site_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["SITE_TIMEZONE"])


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(site_zone())


def format_absolute(moment: datetime, zone: ZoneInfo | None = None) -> str:
    """E.g. '23 Nov 2026, 3:30 PM EST' (in the site's zone unless ``zone`` is given)."""
    local = moment.astimezone(zone) if zone is not None else to_local(moment)
    hour = local.strftime("%I").lstrip("0")
    return f"{local.day} {local:%b %Y}, {hour}:{local:%M %p} {local:%Z}"


def format_relative(moment: datetime, now: datetime | None = None) -> str:
    """E.g. 'just now', '12 minutes ago', '1 hour 29 minutes ago', 'in 3 hours', '4 days ago'."""
    now = now or clock.now()
    seconds = int((now - moment).total_seconds())
    future = seconds < 0
    minutes = abs(seconds) // 60
    if minutes == 0:
        return "in less than a minute" if future else "just now"
    hours, minutes = divmod(minutes, 60)
    days = hours // 24
    if days:
        phrase = _count(days, "day")
    elif hours:
        phrase = _count(hours, "hour") + (f" {_count(minutes, 'minute')}" if minutes else "")
    else:
        phrase = _count(minutes, "minute")
    return f"in {phrase}" if future else f"{phrase} ago"


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}{'' if number == 1 else 's'}"


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def time_element(moment: datetime | None, *, relative: bool = True) -> Markup:
    """A <time> element with the absolute local time; `relative` marks it for static/time.js.

    Pages are cached, so the HTML never says "n minutes ago" itself: that would be wrong a minute
    later. The script adds the relative words in the reader's browser; without it the absolute time
    stands alone.
    """
    if moment is None:
        return Markup("")
    marker = Markup(" data-ago") if relative else Markup("")
    return Markup('<time datetime="{}"{}>{}</time>').format(
        iso_utc(moment), marker, format_absolute(moment)
    )


def parse_local(value: str) -> datetime:
    """Parse a datetime-local form value (site time) into aware UTC; ValueError if malformed."""
    naive = datetime.fromisoformat(value.strip())
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    return naive.replace(tzinfo=site_zone()).astimezone(UTC)


def local_input_value(moment: datetime | None) -> str:
    """The value a datetime-local input shows for a UTC time."""
    if moment is None:
        return ""
    return to_local(moment).strftime("%Y-%m-%dT%H:%M")


def zone_abbreviation(moment: datetime | None = None) -> str:
    return to_local(moment or clock.now()).strftime("%Z")
