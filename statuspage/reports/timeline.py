"""A post-incident report's timeline as people edit it: one line per moment, in the site's time.

    2026-11-01 01:30 EDT  Monitoring alerted the team.
    2026-11-01 01:30 EST  The service came back.

The zone abbreviation is optional; it settles the hour that happens twice when the clocks go back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from ..date_range import YEARS, within

LINE = re.compile(
    r"^(?P<day>\d{4}-\d{2}-\d{2})[ T](?P<time>\d{1,2}:\d{2})"
    r"(?:\s+(?P<zone>[A-Z]{2,5}|[+-]\d{2}))?\s*[-–—:]?\s+(?P<text>\S.*)$"
)
MAX_TEXT = 1000


class TimelineError(ValueError):
    pass


@dataclass(frozen=True)
class Entry:
    at: datetime  # aware UTC
    text: str

    def as_dict(self) -> dict:
        return {"at": self.at.astimezone(UTC).isoformat(), "text": self.text}

    @classmethod
    def from_dict(cls, data: dict) -> Entry:
        return cls(datetime.fromisoformat(data["at"]), data["text"])


def format_line(entry: Entry, zone: ZoneInfo) -> str:
    local = entry.at.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local:%Z}  {entry.text}"


def format_lines(entries: list[Entry], zone: ZoneInfo) -> str:
    return "\n".join(format_line(entry, zone) for entry in entries)


def parse_lines(text: str, zone: ZoneInfo) -> list[Entry]:
    """Each non-blank line as an entry, sorted by time; a line that cannot be read is refused with
    its number and what was expected."""
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = LINE.match(line)
        if match is None:
            raise TimelineError(
                f"Timeline line {number} must start with a date and time, "
                f"like “2026-11-23 14:05 EST  What happened”: “{_clip(line)}”."
            )
        try:
            naive = datetime.fromisoformat(f"{match['day']} {int(match['time'][:-3]):02d}"
                                           f"{match['time'][-3:]}")  # fmt: skip
        except ValueError:
            raise TimelineError(
                f"Timeline line {number} has a date or time that does not exist: "
                f"“{match['day']} {match['time']}”."
            ) from None
        if not within(naive):
            raise TimelineError(
                f"Timeline line {number} has a date that is not {YEARS}: “{match['day']}”."
            )
        text_part = match["text"].strip()
        if len(text_part) > MAX_TEXT:
            raise TimelineError(f"Timeline line {number} is longer than {MAX_TEXT} characters.")
        entries.append(Entry(_localise(naive, match["zone"], zone, number), text_part))
    return sorted(entries, key=lambda entry: entry.at)


def _localise(naive: datetime, abbreviation: str | None, zone: ZoneInfo, number: int) -> datetime:
    candidates = [naive.replace(tzinfo=zone, fold=fold) for fold in (0, 1)]
    if abbreviation is None:
        return candidates[0].astimezone(UTC)
    for candidate in candidates:
        if candidate.strftime("%Z") == abbreviation:
            return candidate.astimezone(UTC)
    known = sorted({candidate.strftime("%Z") for candidate in candidates})
    raise TimelineError(
        f"Timeline line {number}: “{abbreviation}” is not the site's time zone at that moment "
        f"(use {' or '.join(known)}, or leave it out)."
    )


def _clip(text: str, length: int = 60) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
