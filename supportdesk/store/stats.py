"""The numbers the console shows: today's work, and how the mailbox is doing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, or_, select

from supportdesk.store import tables as t
from supportdesk.store.requests import ON_STACK

_m, _r, _s = t.message, t.request, t.mailbox_state


@dataclass(slots=True)
class TodayStats:
    since: datetime
    """Local midnight, the start of "today"."""
    received: int
    """Customer messages that arrived (automatic mail not counted)."""
    new_requests: int
    answered: int
    """Replies agents wrote."""
    on_stack: int
    median_first_answer: timedelta | None
    """Over the requests first answered today."""

    def as_dict(self) -> dict[str, Any]:
        median = self.median_first_answer
        return {
            "since": self.since.isoformat(),
            "received": self.received,
            "new_requests": self.new_requests,
            "answered": self.answered,
            "on_stack": self.on_stack,
            "median_first_answer_seconds": None if median is None else median.total_seconds(),
        }


@dataclass(slots=True)
class MailboxStatus:
    kind: str
    last_poll_at: datetime | None
    """The last poll, successful or not."""
    error: str | None
    """Why the last poll failed; None when it went well."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "last_poll_at": self.last_poll_at.isoformat() if self.last_poll_at else None,
            "error": self.error,
        }


def today(conn: Connection, since: datetime) -> TodayStats:
    """What happened from `since` (local midnight) on."""
    received = conn.execute(
        select(func.count())
        .select_from(_m.join(_r, _r.c.id == _m.c.request_id))
        .where(
            _m.c.direction == "in",
            _m.c.automatic.is_(None),
            _m.c.received_at >= since,
            # History brought in by an import is not mail received today.
            or_(_r.c.close_reason.is_(None), _r.c.close_reason != "imported"),
        )
    ).scalar_one()
    new_requests = conn.execute(
        select(func.count()).select_from(_r).where(_r.c.created_at >= since)
    ).scalar_one()
    answered = conn.execute(
        select(func.count())
        .select_from(_m)
        .where(_m.c.direction == "out", _m.c.kind == "reply", _m.c.received_at >= since)
    ).scalar_one()
    on_stack = conn.execute(
        select(func.count()).select_from(_r).where(_r.c.status.in_(ON_STACK))
    ).scalar_one()
    waits = sorted(
        first - created
        for first, created in conn.execute(
            select(_r.c.first_response_at, _r.c.created_at).where(_r.c.first_response_at >= since)
        )
    )
    return TodayStats(since, received, new_requests, answered, on_stack, _median(waits))


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return (values[middle - 1] + values[middle]) / 2


def mailbox_status(conn: Connection, kind: str) -> MailboxStatus:
    """The newest mailbox state: when it was last polled and the error, if that poll failed.
    (A poll that fails records its error; the next good poll writes a newer row or clears it.)"""
    if kind == "none":
        return MailboxStatus(kind, None, None)
    row = conn.execute(
        select(_s.c.updated_at, _s.c.last_error)
        .order_by(_s.c.updated_at.desc(), _s.c.last_error.is_(None), _s.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return MailboxStatus(kind, None, None)
    return MailboxStatus(kind, row[0], row[1])
