"""Business hours: reading the spec, the SLA deadline they give (across clock changes), config."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from supportdesk.business_hours import BusinessHours, deadline, is_open, parse_hours
from supportdesk.config import parse_settings
from supportdesk.errors import ConfigError
from tests.fixtures import REPO

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = parse_hours("mon-fri 09:00-18:00")


def berlin(*args: int) -> datetime:
    """A Berlin wall-clock time as the aware UTC instant the desk stores."""
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)  # type: ignore[misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# --- reading the spec ------------------------------------------------------------------------


def test_a_range_of_days_with_one_interval() -> None:
    assert OFFICE.days == ((((9 * 60, 18 * 60),),) * 5) + ((), ())
    assert OFFICE.weekly == timedelta(hours=45)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon,wed,fri 08:30-12:00", {0: [(510, 720)], 2: [(510, 720)], 4: [(510, 720)]}),
        ("fri-mon 10:00-11:00", {d: [(600, 660)] for d in (4, 5, 6, 0)}),
        ("sat 10:00-14:00; sun 00:00-24:00", {5: [(600, 840)], 6: [(0, 1440)]}),
        ("MON - Tue 09:00-12:00, 13:00-18:00", {d: [(540, 720), (780, 1080)] for d in (0, 1)}),
        ("mon 09:00-12:00 11:00-14:00, mon 14:00-15:00", {0: [(540, 900)]}),
    ],
)
def test_lists_wrapped_ranges_several_groups_and_merged_intervals(
    text: str, expected: dict[int, list[tuple[int, int]]]
) -> None:
    hours = parse_hours(text)
    assert {d: list(hours.on(d)) for d in range(7) if hours.on(d)} == expected


def test_mixed_groups_and_around_the_clock() -> None:
    hours = parse_hours("mon-fri 09:00-18:00, sat 10:00-14:00")
    assert hours.on(4) == ((540, 1080),) and hours.on(5) == ((600, 840),) and hours.on(6) == ()
    assert parse_hours("mon-sun 00:00-24:00").weekly == timedelta(weeks=1)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("mon-fry 09:00-18:00", "unknown day 'fry'"),
        ("monday 09:00-18:00", "unknown day 'monday'"),
        ("mon-fri 25:00-26:00", "bad time '25:00'"),
        ("mon-fri 9.00-18:00", "bad time '9.00'"),
        ("mon-fri 09:60-18:00", "bad time '09:60'"),
        ("mon-fri 09:00", "bad time range '09:00'"),
        ("mon-fri 18:00-09:00", "'18:00-09:00' must end after it starts"),
        ("mon 09:00-09:00", "'09:00-09:00' must end after it starts"),
        ("mon-fri", "no hours given for mon, tue, wed, thu, fri"),
        ("09:00-18:00", "hours '09:00-18:00' come before any day"),
        ("mon-tue-wed 09:00-18:00", "bad day range 'mon-tue-wed'"),
    ],
)
def test_a_bad_spec_names_the_bad_part_and_shows_an_example(text: str, problem: str) -> None:
    expected = f"bad business hours {text!r}: {problem}"
    with pytest.raises(ValueError, match=re.escape(expected)) as caught:
        parse_hours(text)
    assert str(caught.value).endswith('(expected e.g. "mon-fri 09:00-18:00")')


@pytest.mark.parametrize("text", ["", "   ", " , ; "])
def test_empty_hours_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="business hours are empty"):
        parse_hours(text)


def test_business_hours_are_frozen() -> None:
    with pytest.raises(AttributeError):
        OFFICE.days = ()  # type: ignore[misc]
    assert parse_hours("mon-fri 09:00-18:00") == OFFICE
    assert isinstance(OFFICE, BusinessHours)


# --- the deadline ----------------------------------------------------------------------------


def test_without_hours_the_clock_runs_around_the_day() -> None:
    start = utc(2026, 1, 9, 16, 30)
    assert deadline(start, timedelta(hours=12), None, BERLIN) == utc(2026, 1, 10, 4, 30)


def test_friday_evening_request_is_due_on_tuesday_not_saturday() -> None:
    """30 minutes on Friday, 9 hours on Monday, 2.5 hours on Tuesday."""
    arrived = berlin(2026, 1, 9, 17, 30)  # a Friday
    due = deadline(arrived, timedelta(hours=12), OFFICE, BERLIN)
    assert due == berlin(2026, 1, 13, 11, 30)
    assert due.tzinfo is UTC
    assert due > berlin(2026, 1, 10, 23, 59)  # not overdue at any time on Saturday


def test_the_clock_starts_at_the_next_opening() -> None:
    early = berlin(2026, 1, 12, 7, 0)  # Monday before opening
    assert deadline(early, timedelta(hours=2), OFFICE, BERLIN) == berlin(2026, 1, 12, 11, 0)
    sunday = berlin(2026, 1, 11, 15, 0)
    assert deadline(sunday, timedelta(hours=1), OFFICE, BERLIN) == berlin(2026, 1, 12, 10, 0)
    late = berlin(2026, 1, 12, 19, 0)  # Monday after closing
    assert deadline(late, timedelta(0), OFFICE, BERLIN) == berlin(2026, 1, 13, 9, 0)


def test_a_deadline_ending_at_closing_time_is_closing_time() -> None:
    start = berlin(2026, 1, 12, 9, 0)
    assert deadline(start, timedelta(hours=9), OFFICE, BERLIN) == berlin(2026, 1, 12, 18, 0)
    assert deadline(start, timedelta(hours=9, minutes=1), OFFICE, BERLIN) == berlin(
        2026, 1, 13, 9, 1
    )


def test_several_intervals_a_day_and_an_aware_non_utc_start() -> None:
    hours = parse_hours("mon-fri 09:00-12:00, 13:00-18:00")
    start = datetime(2026, 1, 12, 11, 0, tzinfo=BERLIN)  # given in local time
    assert deadline(start, timedelta(hours=2), hours, BERLIN) == berlin(2026, 1, 12, 14, 0)


def test_the_week_of_a_clock_change_counts_real_time() -> None:
    # Berlin goes from +01:00 to +02:00 on Sunday 29 March 2026 at 02:00.
    friday = berlin(2026, 3, 27, 17, 0)
    assert friday == utc(2026, 3, 27, 16, 0)
    assert deadline(friday, timedelta(hours=3), OFFICE, BERLIN) == utc(2026, 3, 30, 9, 0)
    # Hours across the change: 01:00 (+01:00) to 04:00 (+02:00) are two real hours.
    night = parse_hours("sun 01:00-04:00")
    saturday = utc(2026, 3, 28, 12, 0)
    assert deadline(saturday, timedelta(hours=2), night, BERLIN) == utc(2026, 3, 29, 2, 0)
    assert deadline(saturday, timedelta(hours=2, minutes=30), night, BERLIN) == berlin(
        2026, 4, 5, 1, 30
    )
    # And back on 25 October 2026: the same hours are four real hours.
    autumn = utc(2026, 10, 24, 12, 0)
    assert deadline(autumn, timedelta(hours=4), night, BERLIN) == utc(2026, 10, 25, 3, 0)
    assert deadline(autumn, timedelta(hours=4, minutes=1), night, BERLIN) == berlin(
        2026, 11, 1, 1, 1
    )


def test_around_the_clock_hours_across_clock_changes_are_plain_elapsed_time() -> None:
    always = parse_hours("mon-sun 00:00-24:00")
    for start in (utc(2026, 3, 28, 11, 0), utc(2026, 10, 24, 23, 30), utc(2026, 1, 1, 0, 0)):
        for duration in (timedelta(hours=48), timedelta(days=9, minutes=7), timedelta(weeks=30)):
            assert deadline(start, duration, always, BERLIN) == start + duration


def test_a_year_of_business_time_is_quick_and_exact() -> None:
    always = parse_hours("mon-sun 00:00-24:00")
    start = utc(2026, 2, 3, 4, 5, 6)
    assert deadline(start, timedelta(weeks=52), always, UTC) == start + timedelta(weeks=52)
    assert deadline(start, timedelta(weeks=52), always, BERLIN) == start + timedelta(weeks=52)
    # 52 weeks of 45 hours from a Monday opening end on the 52nd Friday at closing time.
    monday = berlin(2026, 1, 5, 9, 0)
    year = 52 * timedelta(hours=45)
    assert deadline(monday, year, OFFICE, BERLIN) == berlin(2027, 1, 1, 18, 0)
    assert deadline(monday, year + timedelta(minutes=1), OFFICE, BERLIN) == berlin(2027, 1, 4, 9, 1)


def test_a_long_deadline_is_the_same_in_two_steps() -> None:
    hours = parse_hours("mon-thu 08:00-12:30, 13:15-17:00; fri 08:00-14:00")
    start = berlin(2026, 2, 18, 10, 17)
    for first, second in (
        (timedelta(weeks=20), timedelta(weeks=32)),
        (timedelta(hours=7), 100 * timedelta(hours=3, minutes=13)),
    ):
        halfway = deadline(start, first, hours, BERLIN)
        assert deadline(start, first + second, hours, BERLIN) == deadline(
            halfway, second, hours, BERLIN
        )


def _minute_by_minute(start: datetime, minutes: int, hours: BusinessHours) -> datetime:
    """The deadline the slow way: walk real minutes, counting those in business hours."""
    at = start
    while minutes:
        minutes -= is_open(at, hours, BERLIN)
        at += timedelta(minutes=1)
    return at


@pytest.mark.parametrize(
    ("start", "minutes"),
    [
        (utc(2026, 3, 26, 13, 7), 1_000),
        (utc(2026, 3, 28, 23, 59), 3_001),
        (utc(2026, 10, 22, 8, 0), 2_222),
        (utc(2026, 10, 24, 21, 30), 4_321),
        (utc(2026, 3, 2, 0, 0), 20_000),  # whole weeks, the change among them
        (utc(2026, 10, 1, 17, 45), 20_000),
    ],
)
def test_the_deadline_agrees_with_counting_minutes_across_clock_changes(
    start: datetime, minutes: int
) -> None:
    hours = parse_hours("mon-fri 09:00-12:00 13:00-18:00, sat 10:00-14:00, sun 01:00-04:00")
    expected = _minute_by_minute(start, minutes, hours)
    assert deadline(start, timedelta(minutes=minutes), hours, BERLIN) == expected


def test_a_naive_start_or_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline(datetime(2026, 1, 9, 17, 30), timedelta(hours=1), OFFICE, BERLIN)
    with pytest.raises(ValueError, match="negative"):
        deadline(utc(2026, 1, 9), timedelta(hours=-1), OFFICE, BERLIN)


def test_is_open() -> None:
    assert is_open(berlin(2026, 1, 9, 9, 0), OFFICE, BERLIN)
    assert is_open(berlin(2026, 1, 9, 17, 59, 59), OFFICE, BERLIN)
    assert not is_open(berlin(2026, 1, 9, 18, 0), OFFICE, BERLIN)
    assert not is_open(berlin(2026, 1, 10, 12, 0), OFFICE, BERLIN)  # Saturday
    assert not is_open(utc(2026, 1, 9, 8, 30), OFFICE, UTC)
    assert is_open(utc(2026, 1, 10, 3, 0), None, BERLIN)


# --- configuration ---------------------------------------------------------------------------


def test_sla_settings_give_the_due_time() -> None:
    settings = parse_settings(
        {"sla": {"hours": "mon-fri 09:00-18:00", "timezone": "Europe/Berlin"}}
    )
    assert settings.sla.business_hours == OFFICE
    assert settings.sla.zone == BERLIN
    assert settings.sla.due(berlin(2026, 1, 9, 17, 30)) == berlin(2026, 1, 13, 11, 30)


def test_by_default_the_sla_clock_runs_around_the_day_in_utc() -> None:
    sla = parse_settings({}).sla
    assert sla.hours is None and sla.business_hours is None and sla.timezone == "UTC"
    assert sla.due(utc(2026, 1, 9, 17, 30)) == utc(2026, 1, 10, 5, 30)


def test_bad_business_hours_are_a_config_error_naming_the_value() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"sla": {"hours": "mon-fry 09:00-18:00"}})
    message = str(caught.value)
    assert "sla.hours: bad business hours 'mon-fry 09:00-18:00': unknown day 'fry'" in message
    assert 'e.g. "mon-fri 09:00-18:00"' in message


@pytest.mark.parametrize("zone", ["Europe/Berlinn", "", "../../etc/passwd"])
def test_an_unknown_time_zone_is_a_config_error(zone: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"sla.timezone: unknown time zone {zone!r}")):
        parse_settings({"sla": {"timezone": zone}})


def test_the_example_config_s_commented_hours_are_valid() -> None:
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    for key in ("hours", "timezone"):
        text, found = re.subn(rf"(?m)^# ({key} = )", r"\1", text)
        assert found == 1, key
    sla = parse_settings(tomllib.loads(text)).sla
    assert sla.business_hours == OFFICE and sla.zone == BERLIN
