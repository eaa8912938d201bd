"""The editable timeline: one line per moment in the site's time, read back exactly."""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from statuspage.reports.timeline import (
    Entry,
    TimelineError,
    format_lines,
    parse_lines,
    public_entries,
    who_of,
)

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


# --- who did what, and what stays inside government ---------------------------------------------

MOMENTS = [
    Entry(datetime(2026, 11, 23, 14, 0, tzinfo=UTC), "Monitoring alerted the team."),
    Entry(datetime(2026, 11, 23, 14, 5, tzinfo=UTC), "Acknowledged.", "Ana Diaz"),
    Entry(datetime(2026, 11, 23, 14, 9, tzinfo=UTC), "Priority raised to P1: tax day.",
          "Lee Park", public=False),
    Entry(datetime(2026, 11, 23, 14, 30, tzinfo=UTC), "Missed deadline: first update.",
          public=False),
]  # fmt: skip


def test_markers_say_who_and_what_is_internal_and_read_back_exactly():
    text = format_lines(MOMENTS, EASTERN)
    assert text.splitlines() == [
        "2026-11-23 09:00 EST  Monitoring alerted the team.",
        "2026-11-23 09:05 EST  [by Ana Diaz] Acknowledged.",
        "2026-11-23 09:09 EST  [internal] [by Lee Park] Priority raised to P1: tax day.",
        "2026-11-23 09:30 EST  [internal] Missed deadline: first update.",
    ]
    assert parse_lines(text, EASTERN) == MOMENTS
    assert [entry.as_dict() for entry in MOMENTS] == [
        entry.as_dict() for entry in map(Entry.from_dict, [e.as_dict() for e in MOMENTS])
    ]


def test_markers_come_in_either_order_in_any_case_and_words_in_brackets_later_are_text():
    [entry] = parse_lines("2026-11-23 09:09 - [By  Lee Park] [INTERNAL] Restored (by the vendor) [ok]",
                          EASTERN)  # fmt: skip
    assert entry == Entry(datetime(2026, 11, 23, 14, 9, tzinfo=UTC),
                          "Restored (by the vendor) [ok]", "Lee Park", public=False)  # fmt: skip


def test_an_entry_saved_before_who_and_internal_existed_is_public():
    entry = Entry.from_dict({"at": "2026-11-23T14:00:00+00:00", "text": "Alert"})
    assert entry.public is True and entry.who == ""


def test_the_public_timeline_holds_only_public_moments_and_never_who():
    assert public_entries(MOMENTS) == [
        Entry(datetime(2026, 11, 23, 14, 0, tzinfo=UTC), "Monitoring alerted the team."),
        Entry(datetime(2026, 11, 23, 14, 5, tzinfo=UTC), "Acknowledged."),
    ]


def test_a_name_with_brackets_becomes_one_a_marker_can_hold():
    assert who_of("  Ana [ops]\n Diaz ") == "Ana (ops) Diaz"
    entry = Entry(datetime(2026, 11, 23, 14, 0, tzinfo=UTC), "Alert", who_of("[x]"))
    assert parse_lines(format_lines([entry], EASTERN), EASTERN) == [entry]


@pytest.mark.parametrize(
    "text, message",
    [
        ("2026-11-23 09:00  [sic] Alert", "line 1: “[sic]” is not a marker; use [internal], [by Name]"),
        ("2026-11-23 09:00  [internal] [internal] Alert", "line 1 says “[internal]” twice"),
        ("2026-11-23 09:00  [by Ana] [by Lee] Alert", "line 1 says “[by Lee]” twice"),
        ("2026-11-23 09:00  [by ] Alert", "“[by]” is not a marker"),
        ("2026-11-23 09:00  [internal] [by Ana]", "line 1 says nothing after its markers"),
        ("2026-11-23 09:00  [internal Alert", "line 1 has an unclosed “[”"),
        ("2026-11-23 09:00  Alert\n2026-11-23 09:01  Bell\x07 rang", "Timeline line 2: Remove the control character (U+0007)"),
        ("2026-11-23 09:00  Alert\x00", "Remove the control character (U+0000)"),
        ("9999-12-31 23:59  The far future", "line 1 has a date that is not between 2000 and 2099"),
        ("0001-01-01 00:00  The far past", "line 1 has a date that is not between 2000 and 2099"),
        ("2026-11-23 09:00  [by " + "A" * 300 + "] Alert", "the name after “by” is longer than 200"),
        ("2026-11-23 09:00  " + "x" * 1001, "line 1 is longer than 1000 characters"),
    ],
)  # fmt: skip
def test_a_hostile_line_is_refused_with_its_number_and_what_to_do(text, message):
    with pytest.raises(TimelineError, match=re.escape(message)):
        parse_lines(text, EASTERN)


def test_ten_thousand_lines_are_refused_in_one_message():
    text = "\n".join(f"2026-11-23 09:00  Line {n}" for n in range(10_000))
    refused = re.escape("The timeline has 10,000 lines; keep it to 1,000")
    with pytest.raises(TimelineError, match=refused):
        parse_lines(text, EASTERN)
    assert len(parse_lines("\n".join(text.splitlines()[:1000]), EASTERN)) == 1000
