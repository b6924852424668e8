"""Column types shared by every table."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.types import TypeDecorator

# Inside what datetime holds by a day, so that a time read survives being shown in any zone.
_EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
_LATEST = datetime(9999, 12, 30, tzinfo=UTC)
# As SQLite holds a time, with or without the padding of years before 1000 (rows an earlier
# version wrote without it): 101-01-01 00:00:00.000000.
_SQLITE_TEXT = re.compile(
    r"\s*(\d{1,4})-(\d{1,2})-(\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,6})\d*)?)?)?"
    r"\s*(?:Z|[+-]00:?00)?\s*"
)


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (portable to SQLite and PostgreSQL), returned timezone-aware.

    A stored value that cannot be read as a time (a row from an old version, a hand-edited
    database) reads as None: one bad value never makes a listing fail."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        # Not the driver type's own processor (SQLite's raises on the first bad text): ours.
        def process(value: Any) -> datetime | None:
            return self.process_result_value(value, dialect)

        return process

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        return read_datetime(value)


def read_datetime(value: Any) -> datetime | None:
    """A stored time as an aware UTC datetime; None when it is missing or unreadable."""
    if value is None:
        return None
    if isinstance(value, str):
        value = _from_text(value)
        if value is None:
            return None
    if not isinstance(value, datetime):
        return None
    try:
        when = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return when if _EARLIEST <= when <= _LATEST else None


def _from_text(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    m = _SQLITE_TEXT.fullmatch(text)
    if m is None:
        return None
    fraction = (m[7] or "").ljust(6, "0")
    try:
        year, month, day, hour, minute, second = (int(g or 0) for g in m.groups()[:6])
        return datetime(year, month, day, hour, minute, second, int(fraction))
    except (ValueError, OverflowError):
        return None


def register_lenient_timestamps(conn: Any) -> None:
    """PostgreSQL holds times Python cannot (infinity, BC, after 9999): on this psycopg
    connection such a stored value reads as None instead of failing the whole query."""
    from psycopg import DataError
    from psycopg.types.datetime import (
        TimestampBinaryLoader,
        TimestampLoader,
        TimestamptzBinaryLoader,
        TimestamptzLoader,
    )

    for name, base in (
        ("timestamp", TimestampLoader),
        ("timestamp", TimestampBinaryLoader),
        ("timestamptz", TimestamptzLoader),
        ("timestamptz", TimestamptzBinaryLoader),
    ):

        class Lenient(base):  # type: ignore[valid-type, misc]
            def load(self, data: Any) -> datetime | None:
                try:
                    return super().load(data)  # type: ignore[no-any-return]
                except DataError:
                    return None

        conn.adapters.register_loader(name, Lenient)


UID = BigInteger().with_variant(Integer(), "sqlite")
"""For IMAP UIDs and UIDVALIDITY, unsigned 32-bit numbers: too big for PostgreSQL's INTEGER.
SQLite's INTEGER holds 64 bits already, so the column stays INTEGER there."""
