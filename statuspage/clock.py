"""The one clock the application reads, so tests can pin time exactly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return _source().astimezone(UTC)


def set_source(source: Callable[[], datetime]) -> None:
    """Replace where the time comes from (tests only)."""
    global _source
    _source = source


def reset() -> None:
    """Go back to the wall clock."""
    set_source(lambda: datetime.now(UTC))


@contextmanager
def pinned(moment: datetime) -> Iterator[None]:
    """Freeze the clock at ``moment`` for the duration of the block."""
    previous = _source
    set_source(lambda: moment)
    try:
        yield
    finally:
        set_source(previous)
