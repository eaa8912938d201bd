"""Spans of time: clipped to a window, overlaps merged, counted in minutes.

Two incidents down at once are one outage, not two: availability and the history bars count the
union of the intervals, never their sum.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

Interval = tuple[datetime, datetime]


def union_within(intervals: Iterable[Interval], window: Interval) -> list[Interval]:
    """The intervals clipped to the window, overlaps merged, in order."""
    start, end = window
    clipped = sorted((max(a, start), min(b, end)) for a, b in intervals if a < end and b > start)
    merged: list[Interval] = []
    for a, b in clipped:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def total_minutes(intervals: Iterable[Interval]) -> float:
    return sum((b - a).total_seconds() / 60 for a, b in intervals)


def overlap_minutes(first: list[Interval], second: list[Interval]) -> float:
    """How long two merged interval lists overlap."""
    return sum(
        (min(b1, b2) - max(a1, a2)).total_seconds() / 60
        for a1, b1 in first
        for a2, b2 in second
        if a1 < b2 and a2 < b1
    )
