"""A post-incident report's timeline as people edit it: one line per moment, in the site's time,
saying who did what, and which moments stay inside government.

    2026-11-01 01:30 EDT  [by Ana Diaz] Monitoring alerted the team; Ana acknowledged it.
    2026-11-01 01:40 EDT  [internal] [by Lee Park] Priority raised to P1: tax day.
    2026-11-01 01:30 EST  The service came back.

The zone abbreviation is optional; it settles the hour that happens twice when the clocks go back.
Between the time and the text, two optional markers in square brackets, in either order:
``[internal]`` keeps the moment off the public report (the review page still shows it), and
``[by Name]`` says who did it (never published). A marker comes before the text rather than after
it so that words a citizen reads, like "restored (by the vendor)", are never taken for one; a text
that itself starts with "[" is refused, naming the markers, rather than guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from ..characters import refusal
from ..date_range import YEARS, within

LINE = re.compile(
    r"^(?P<day>\d{4}-\d{2}-\d{2})[ T](?P<time>\d{1,2}:\d{2})"
    r"(?:\s+(?P<zone>[A-Z]{2,5}|[+-]\d{2}))?\s*[-–—:]?\s+(?P<text>\S.*)$"
)
MARKER = re.compile(r"^\[(?P<inside>[^\[\]]*)\]\s*")
INTERNAL = "internal"
BY = re.compile(r"^by\s+(?P<who>\S.*)$", re.IGNORECASE)
MAX_TEXT = 1000
MAX_WHO = 200
# More moments than any incident's record holds (a P1 updated every 30 minutes for three weeks).
MAX_ENTRIES = 1000
HOW = "use [internal], [by Name] or both before the text"


class TimelineError(ValueError):
    pass


@dataclass(frozen=True)
class Entry:
    at: datetime  # aware UTC
    text: str
    who: str = ""  # who did it: for the review, never published
    public: bool = True  # False: kept inside government, left off the public report

    def as_dict(self) -> dict:
        return {
            "at": self.at.astimezone(UTC).isoformat(),
            "text": self.text,
            "who": self.who,
            "public": self.public,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Entry:
        """Entries published before issue 17 have neither key: they were all public."""
        return cls(
            datetime.fromisoformat(data["at"]),
            data["text"],
            data.get("who") or "",
            bool(data.get("public", True)),
        )


def public_entries(entries: list[Entry]) -> list[Entry]:
    """What a citizen may read: the public moments, without who did them."""
    return [Entry(entry.at, entry.text) for entry in entries if entry.public]


def who_of(name: str | None) -> str:
    """A person's name as a ``[by Name]`` marker can hold it (no brackets, one line)."""
    return " ".join((name or "").replace("[", "(").replace("]", ")").split())[:MAX_WHO]


def format_line(entry: Entry, zone: ZoneInfo) -> str:
    local = entry.at.astimezone(zone)
    internal = "" if entry.public else f"[{INTERNAL}] "
    who = f"[by {entry.who}] " if entry.who else ""
    return f"{local:%Y-%m-%d %H:%M} {local:%Z}  {internal}{who}{entry.text}"


def format_lines(entries: list[Entry], zone: ZoneInfo) -> str:
    return "\n".join(format_line(entry, zone) for entry in entries)


def parse_lines(text: str, zone: ZoneInfo) -> list[Entry]:
    """Each non-blank line as an entry, sorted by time; a line that cannot be read is refused with
    its number and what was expected."""
    lines = [(number, raw.strip()) for number, raw in enumerate(text.splitlines(), start=1)]
    lines = [(number, line) for number, line in lines if line]
    if len(lines) > MAX_ENTRIES:
        raise TimelineError(
            f"The timeline has {len(lines):,} lines; keep it to {MAX_ENTRIES:,} moments at most."
        )
    entries = [_parse_line(number, line, zone) for number, line in lines]
    return sorted(entries, key=lambda entry: entry.at)


def _parse_line(number: int, line: str, zone: ZoneInfo) -> Entry:
    if message := refusal(line, "text"):
        raise TimelineError(f"Timeline line {number}: {message}")
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
    text, who, public = _markers(number, match["text"].strip())
    if len(text) > MAX_TEXT:
        raise TimelineError(f"Timeline line {number} is longer than {MAX_TEXT} characters.")
    return Entry(_localise(naive, match["zone"], zone, number), text, who, public)


def _markers(number: int, text: str) -> tuple[str, str, bool]:
    """The text after the markers, who did it, and whether it is public."""
    who, public = "", True
    while (marker := MARKER.match(text)) is not None:
        inside = " ".join(marker["inside"].split())
        by = BY.match(inside)
        if inside.lower() == INTERNAL and public:
            public = False
        elif by is not None and not who:
            who = by["who"]
            if len(who) > MAX_WHO:
                raise TimelineError(
                    f"Timeline line {number}: the name after “by” is longer than {MAX_WHO} "
                    "characters."
                )
        elif inside.lower() == INTERNAL or by is not None:
            raise TimelineError(f"Timeline line {number} says “[{_clip(inside)}]” twice.")
        else:
            raise TimelineError(
                f"Timeline line {number}: “[{_clip(inside)}]” is not a marker; {HOW}, "
                "like “[internal] [by Ana Diaz] Priority raised”."
            )
        text = text[marker.end() :]
    if text.startswith("["):
        raise TimelineError(f"Timeline line {number} has an unclosed “[”; {HOW}.")
    if not text:
        raise TimelineError(f"Timeline line {number} says nothing after its markers.")
    return text, who, public


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
