"""The years a typed date may fall in. Every place that turns text into a date checks them, so a
far year (9999-12, 0001-01) is a form error or a 404 rather than an overflow in the arithmetic
that follows (the next month, the site's time zone, business days)."""

from __future__ import annotations

from datetime import date

EARLIEST_YEAR = 2000
LATEST_YEAR = 2099
YEARS = f"between {EARLIEST_YEAR} and {LATEST_YEAR}"


def within(day: date) -> bool:
    """Whether a date (or a datetime) falls in the years people may type."""
    return EARLIEST_YEAR <= day.year <= LATEST_YEAR
