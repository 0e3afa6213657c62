"""The real clock. Code takes a clock as an argument, so tests pass a fake one instead."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)
