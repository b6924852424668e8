"""Durations as people write them in config: 90s, 90m, 12h, 2d, 1w, or combined (1h30m);
and times an agent snoozes a request until (`parse_when`)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PART = re.compile(r"(\d+)\s*([smhdw])")
_WHOLE = re.compile(r"^\s*(?:\d+\s*[smhdw]\s*)+$")


def parse_duration(text: str) -> timedelta:
    """Parse `90m`, `12h`, `2d`, `1w`, `1h30m`; raise ValueError on anything else."""
    if not isinstance(text, str) or not _WHOLE.match(text.lower()):
        raise ValueError(f"expected a duration such as 90m, 12h, 2d or 1w, got {text!r}")
    seconds = sum(int(n) * _UNITS[u] for n, u in _PART.findall(text.lower()))
    return timedelta(seconds=seconds)


WHEN_EXAMPLES = "3d, 4h, mon 9:00, tomorrow 9:00, 9:00, 2026-12-10 14:00"
"""What `parse_when` accepts, as a placeholder or a hint."""
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MORNING = (9, 0)
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_when(
    text: str, now: datetime, zone: tzinfo, *, most: timedelta | None = None
) -> datetime:
    """When an agent means by `text`, in the desk's time zone `zone`, as an aware UTC time:
    a duration from now (`3d`, `4h`, `1h30m`); a day and a time (`mon 9:00`, `tomorrow 9:00`;
    the day alone means 9:00); a time (`9:00`: today, or tomorrow if it has passed); a date
    (`2026-12-10`, at 9:00) or a date and time (`2026-12-10 14:00`). ValueError (one line)
    for anything else, a time in the past, or one more than `most` (a year) ahead."""
    words = " ".join(str(text).strip().lower().split())
    local_now = now.astimezone(zone)
    when = _when(words, now, local_now, zone)
    if when is None:
        raise ValueError(f"cannot read {text.strip()!r} as a time: write e.g. {WHEN_EXAMPLES}")
    if when <= now:
        raise ValueError(f"{text.strip()!r} is in the past: give a later time")
    if when - now > (most or timedelta(days=366)):
        raise ValueError(f"{text.strip()!r} is more than a year ahead: give an earlier time")
    return when.astimezone(UTC)


def _when(words: str, now: datetime, local_now: datetime, zone: tzinfo) -> datetime | None:
    if not words:
        return None
    if _WHOLE.match(words):
        return now + parse_duration(words)
    parts = words.split(" ")
    if len(parts) > 2:
        return None
    clock = _clock(parts[-1]) if len(parts) == 2 or _CLOCK.match(parts[0]) else _MORNING
    if clock is None:
        return None
    hour, minute = clock
    day = parts[0] if len(parts) == 2 or not _CLOCK.match(parts[0]) else None
    today = local_now.date()
    if day is None:  # a time alone: today, or tomorrow when it has passed
        at = _local(today, hour, minute, zone)
        return at if at > now else _local(today + timedelta(days=1), hour, minute, zone)
    if day == "today":
        return _local(today, hour, minute, zone)
    if day == "tomorrow":
        return _local(today + timedelta(days=1), hour, minute, zone)
    if day[:3] in _DAYS and _day_name(day):
        ahead = (_DAYS.index(day[:3]) - today.weekday()) % 7
        at = _local(today + timedelta(days=ahead), hour, minute, zone)
        return at if at > now else _local(today + timedelta(days=ahead + 7), hour, minute, zone)
    found = _DATE.match(day)
    if found is None:
        return None
    try:
        on = date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None
    return _local(on, hour, minute, zone)


def _day_name(word: str) -> bool:
    names = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return any(name.startswith(word) for name in names) and len(word) >= 3


def _clock(word: str) -> tuple[int, int] | None:
    found = _CLOCK.match(word)
    if found is None:
        return None
    hour, minute = int(found[1]), int(found[2])
    return (hour, minute) if hour < 24 and minute < 60 else None


def _local(on: date, hour: int, minute: int, zone: tzinfo) -> datetime:
    return datetime.combine(on, time(hour, minute), tzinfo=zone)
