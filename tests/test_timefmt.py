from datetime import UTC, datetime, timedelta

from statuspage.timefmt import format_absolute, format_relative, parse_local, time_element


def test_absolute_time_is_in_site_zone_with_abbreviation(app):
    winter = datetime(2026, 11, 23, 20, 30, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 20, 30, tzinfo=UTC)
    assert format_absolute(winter) == "23 Nov 2026, 3:30 PM EST"
    assert format_absolute(summer) == "1 Jul 2026, 4:30 PM EDT"


def test_relative_time_reads_naturally():
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert format_relative(now - timedelta(seconds=20), now) == "just now"
    assert format_relative(now - timedelta(minutes=1), now) == "1 minute ago"
    assert format_relative(now - timedelta(minutes=12), now) == "12 minutes ago"
    assert format_relative(now - timedelta(hours=3), now) == "3 hours ago"
    assert format_relative(now - timedelta(hours=1, minutes=29), now) == "1 hour 29 minutes ago"
    assert format_relative(now + timedelta(minutes=30), now) == "in 30 minutes"
    assert format_relative(now - timedelta(days=2), now) == "2 days ago"


def test_time_element_carries_machine_readable_utc_and_no_relative_words(app, pinned_now):
    # "5 minutes ago" in cached HTML would be wrong a minute later: static/time.js adds it.
    html = str(time_element(pinned_now - timedelta(minutes=5)))
    assert html == '<time datetime="2026-11-23T19:25:00Z" data-ago>23 Nov 2026, 2:25 PM EST</time>'
    plain = str(time_element(pinned_now, relative=False))
    assert plain == '<time datetime="2026-11-23T19:30:00Z">23 Nov 2026, 2:30 PM EST</time>'


def test_form_times_are_read_in_the_site_zone(app):
    assert parse_local("2026-11-23T14:25") == datetime(2026, 11, 23, 19, 25, tzinfo=UTC)
