"""Business hours: when the SLA clock runs, and the deadline that gives.

A spec such as `mon-fri 09:00-18:00, sat 10:00-14:00` is read into a `BusinessHours`; times are
local wall-clock times in the desk's time zone. Deadlines count real elapsed time, so hours
across a clock change (say 01:00-04:00 on the night it goes forward) are an hour shorter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EXAMPLE = '"mon-fri 09:00-18:00"'
MINUTES_PER_DAY = 24 * 60
ONE_DAY = timedelta(days=1)

Interval = tuple[int, int]
"""Opening and closing time in minutes since local midnight (closing may be 24:00 = 1440)."""

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class BusinessHours:
    """Opening intervals for each weekday (0 = Monday), sorted and not overlapping."""

    days: tuple[tuple[Interval, ...], ...]

    def on(self, weekday: int) -> tuple[Interval, ...]:
        """The intervals of one weekday."""
        return self.days[weekday]

    @property
    def weekly(self) -> timedelta:
        """Business time in a week without a clock change."""
        return timedelta(minutes=sum(end - start for day in self.days for start, end in day))


# --- parsing -----------------------------------------------------------------------------------


def parse_hours(text: str) -> BusinessHours:
    """Read `mon-fri 09:00-18:00, sat 10:00-14:00`; raise ValueError naming the bad part."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"business hours are empty (expected e.g. {EXAMPLE})")
    try:
        days = _parse_groups(_tokens(text))
    except ValueError as exc:
        raise ValueError(f"bad business hours {text!r}: {exc} (expected e.g. {EXAMPLE})") from None
    hours = BusinessHours(tuple(_merge(day) for day in days))
    if hours.weekly <= timedelta(0):
        raise ValueError(f"business hours are empty (expected e.g. {EXAMPLE})")
    return hours


def _tokens(text: str) -> list[str]:
    """Day lists and time ranges, split at spaces, commas and semicolons (`mon - fri` is one)."""
    squeezed = re.sub(r"\s*-\s*", "-", text.strip().lower())
    return [token for token in re.split(r"[\s,;]+", squeezed) if token]


def _parse_groups(tokens: list[str]) -> list[list[Interval]]:
    """Groups of days followed by their time ranges, into intervals per weekday."""
    days: list[list[Interval]] = [[] for _ in DAYS]
    pending: list[int] = []  # days read, waiting for their hours
    current: list[int] = []  # days the last time range applied to
    for token in tokens:
        if token[0].isdigit():
            if pending:
                current, pending = pending, []
            if not current:
                raise ValueError(f"hours {token!r} come before any day")
            interval = _parse_range(token)
            for weekday in current:
                days[weekday].append(interval)
        else:
            pending.extend(_parse_days(token))
    if pending:
        named = ", ".join(DAYS[d] for d in pending)
        raise ValueError(f"no hours given for {named}")
    return days


def _parse_days(token: str) -> list[int]:
    """`mon` or a range `mon-fri` (which may wrap around the week: `fri-mon`)."""
    parts = token.split("-")
    if len(parts) > 2 or not all(parts):
        raise ValueError(f"bad day range {token!r}")
    first, last = (_weekday(part) for part in (parts[0], parts[-1]))
    count = (last - first) % 7 + 1
    return [(first + i) % 7 for i in range(count)]


def _weekday(name: str) -> int:
    if name not in DAYS:
        raise ValueError(f"unknown day {name!r}")
    return DAYS.index(name)


def _parse_range(token: str) -> Interval:
    """`09:00-18:00`; the end must come after the start."""
    parts = token.split("-")
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"bad time range {token!r}")
    start, end = (_minutes(part) for part in parts)
    if end <= start:
        raise ValueError(f"{token!r} must end after it starts")
    return start, end


def _minutes(text: str) -> int:
    """`HH:MM` from 00:00 to 24:00, as minutes since midnight."""
    match = _TIME.match(text)
    if not match:
        raise ValueError(f"bad time {text!r} (write HH:MM)")
    hour, minute = int(match[1]), int(match[2])
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise ValueError(f"bad time {text!r} (from 00:00 to 24:00)")
    return hour * 60 + minute


def _merge(intervals: list[Interval]) -> tuple[Interval, ...]:
    """Sorted, with overlapping or touching intervals joined."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


# --- the clock ---------------------------------------------------------------------------------


def deadline(
    start: datetime, duration: timedelta, hours: BusinessHours | None, tz: tzinfo
) -> datetime:
    """When `duration` of business time has passed after `start` (aware), as an aware UTC time.

    Without business hours the clock runs around the day. With them, a start outside business
    hours waits for the next opening, and only time within the hours counts.
    """
    cursor = _utc(start)
    if duration < timedelta(0):
        raise ValueError(f"duration must not be negative, got {duration}")
    if hours is None:
        return cursor + duration
    remaining = duration
    day = cursor.astimezone(tz).date()
    while True:
        if cursor <= _instant(day, 0, tz):  # a whole day ahead: whole weeks may be skipped
            day, remaining = _skip_weeks(hours, day, tz, remaining)
        for opens, closes in _open_periods(hours, day, tz):
            if closes <= cursor:
                continue
            opens = max(opens, cursor)
            if remaining <= closes - opens:
                return opens + remaining
            remaining -= closes - opens
            cursor = closes
        day += ONE_DAY


def is_open(at: datetime, hours: BusinessHours | None, tz: tzinfo) -> bool:
    """Whether the SLA clock runs at `at` (always, without business hours)."""
    if hours is None:
        return True
    local = _utc(at).astimezone(tz)
    second = (local.hour * 60 + local.minute) * 60 + local.second
    return any(start * 60 <= second < end * 60 for start, end in hours.on(local.weekday()))


def _skip_weeks(
    hours: BusinessHours, day: date, tz: tzinfo, remaining: timedelta
) -> tuple[date, timedelta]:
    """Step over whole weeks from the start of `day` while more than a week's time remains."""
    while remaining > (week := _week_time(hours, day, tz)):
        remaining -= week
        day += 7 * ONE_DAY
    return day, remaining


def _week_time(hours: BusinessHours, day: date, tz: tzinfo) -> timedelta:
    """Real business time in the seven days from `day`, which a clock change makes differ."""
    if _midnight_offset(day, tz) == _midnight_offset(day + 7 * ONE_DAY, tz):
        return hours.weekly  # no clock change this week (zones change at most once a week)
    days = (day + i * ONE_DAY for i in range(7))
    return sum(
        (closes - opens for d in days for opens, closes in _open_periods(hours, d, tz)),
        timedelta(0),
    )


def _open_periods(
    hours: BusinessHours, day: date, tz: tzinfo
) -> Iterator[tuple[datetime, datetime]]:
    """The day's intervals as UTC instants (a period lost to a clock change is left out)."""
    for start, end in hours.on(day.weekday()):
        opens, closes = _instant(day, start, tz), _instant(day, end, tz)
        if closes > opens:
            yield opens, closes


def _instant(day: date, minute: int, tz: tzinfo) -> datetime:
    """The UTC instant of a local wall-clock time (`minute` 1440 is the next midnight)."""
    day += (minute // MINUTES_PER_DAY) * ONE_DAY
    minute %= MINUTES_PER_DAY
    wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
    return wall.astimezone(UTC)


def _midnight_offset(day: date, tz: tzinfo) -> timedelta | None:
    """The zone's offset from UTC at the start of the local day."""
    return datetime.combine(day, time(0), tzinfo=tz).utcoffset()


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware time, got {moment.isoformat()}")
    return moment.astimezone(UTC)
