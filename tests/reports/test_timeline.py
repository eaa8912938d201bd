"""The editable timeline: one line per moment in the site's time, read back exactly."""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from statuspage.reports.timeline import Entry, TimelineError, format_lines, parse_lines

EASTERN = ZoneInfo("America/New_York")


def test_the_hour_that_happens_twice_is_told_apart_by_its_abbreviation():
    text = "2026-11-01 01:30 EST  Service back\n2026-11-01 01:30 EDT  Alert fired"
    entries = parse_lines(text, EASTERN)
    assert entries == [
        Entry(datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "Alert fired"),
        Entry(datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "Service back"),
    ]
    assert format_lines(entries, EASTERN) == (
        "2026-11-01 01:30 EDT  Alert fired\n2026-11-01 01:30 EST  Service back"
    )


def test_lines_read_back_what_was_written_and_blank_lines_are_ignored():
    entries = [Entry(datetime(2026, 11, 23, 14, 5, tzinfo=UTC), "Monitoring alerted the team.")]
    assert parse_lines("\n" + format_lines(entries, EASTERN) + "\n\n", EASTERN) == entries
    assert parse_lines("2026-11-23 9:05 - Alert", EASTERN)[0].at == datetime(
        2026, 11, 23, 14, 5, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("Alert at nine", "Timeline line 1 must start with a date and time"),
        ("2026-11-23 09:00 EST  ok\n2026-02-30 09:00  Bad day", "line 2 has a date or time that does not exist"),
        ("2026-11-23 09:00 PST  Alert", "“PST” is not the site's time zone at that moment (use EST"),
    ],
)  # fmt: skip
def test_a_line_that_cannot_be_read_is_refused_with_its_number(text, message):
    with pytest.raises(TimelineError, match=re.escape(message)):
        parse_lines(text, EASTERN)
