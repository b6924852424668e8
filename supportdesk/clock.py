"""The one source of time: tests move a FrozenClock instead of sleeping."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """Wall-clock time (honours `faketime`, which fakes the system clock)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, when: datetime) -> None:
        self._now = when


def default_clock() -> Clock:
    """The system clock, or a fixed time from SUPPORTDESK_NOW (ISO 8601) for demos and tests."""
    fixed = os.environ.get("SUPPORTDESK_NOW")
    if fixed:
        when = datetime.fromisoformat(fixed)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return FrozenClock(when.astimezone(UTC))
    return SystemClock()
