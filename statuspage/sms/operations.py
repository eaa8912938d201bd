"""Text messages to citizens' phones (issue 15: being written)."""

from __future__ import annotations


def enqueue_update(incident, update) -> None:
    """Called inside publish_update's transaction, after the email fan-out."""
