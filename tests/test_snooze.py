"""Snooze: when an agent means (`3d`, `mon 9:00` ...), snoozing a waiting request, the tick
bringing it back on top unless the customer wrote first, and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from supportdesk.durations import parse_when

BERLIN = ZoneInfo("Europe/Berlin")
# Thursday 3 December 2026, 18:14 in Berlin (17:14 UTC).
NOW = datetime(2026, 12, 3, 17, 14, tzinfo=UTC)


def _berlin(text: str) -> datetime:
    return parse_when(text, NOW, BERLIN).astimezone(BERLIN)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3d", datetime(2026, 12, 6, 18, 14, tzinfo=BERLIN)),
        ("4h", datetime(2026, 12, 3, 22, 14, tzinfo=BERLIN)),
        ("1h30m", datetime(2026, 12, 3, 19, 44, tzinfo=BERLIN)),
        ("mon 9:00", datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)),
        ("Monday 9:00", datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)),
        ("thu 9:00", datetime(2026, 12, 10, 9, 0, tzinfo=BERLIN)),  # today's has passed
        ("thu 20:00", datetime(2026, 12, 3, 20, 0, tzinfo=BERLIN)),  # today's is still ahead
        ("tomorrow 9:00", datetime(2026, 12, 4, 9, 0, tzinfo=BERLIN)),
        ("tomorrow", datetime(2026, 12, 4, 9, 0, tzinfo=BERLIN)),
        ("9:00", datetime(2026, 12, 4, 9, 0, tzinfo=BERLIN)),  # passed today: tomorrow
        ("21:30", datetime(2026, 12, 3, 21, 30, tzinfo=BERLIN)),  # later today
        ("2026-12-10", datetime(2026, 12, 10, 9, 0, tzinfo=BERLIN)),
        ("2026-12-10 14:00", datetime(2026, 12, 10, 14, 0, tzinfo=BERLIN)),
        ("  TOMORROW   9:00 ", datetime(2026, 12, 4, 9, 0, tzinfo=BERLIN)),
    ],
)
def test_when_an_agent_means(text: str, expected: datetime) -> None:
    assert _berlin(text) == expected
    assert parse_when(text, NOW, BERLIN).tzinfo is UTC


def test_times_are_in_the_desks_zone() -> None:
    assert parse_when("tomorrow 9:00", NOW, UTC) == datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    assert parse_when("tomorrow 9:00", NOW, BERLIN) == datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2026-12-01", "is in the past: give a later time"),
        ("2026-12-03 10:00", "is in the past"),
        ("0h", "is in the past"),
        ("400d", "more than a year ahead"),
        ("2028-01-01", "more than a year ahead"),
        ("soon", "cannot read 'soon' as a time: write e.g. 3d, 4h, mon 9:00"),
        ("", "cannot read"),
        ("25:00", "cannot read"),
        ("2026-02-30", "cannot read"),
        ("mon 9", "cannot read"),
        ("next week at noon", "cannot read"),
    ],
)
def test_refused_in_one_line(text: str, says: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_when(text, NOW, BERLIN)
    assert says in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_year_ahead_is_the_limit() -> None:
    assert parse_when("365d", NOW, BERLIN) == NOW + timedelta(days=365)
