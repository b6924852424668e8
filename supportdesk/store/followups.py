"""The time-based rules in SQL. Each rule is one conditional UPDATE ... RETURNING: a request
changes only while it still matches, so a rule applied twice (two ticks at once, a tick
repeated) changes each request once; on PostgreSQL a second tick waits for the first's row
locks and then finds the rows no longer matching."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, update

from supportdesk.domain import lifecycle
from supportdesk.store import tables as t
from supportdesk.store.requests import ON_STACK

_r, _e = t.request, t.event


def _silent(silent_since: datetime) -> Any:
    """Waiting for the customer since before `silent_since`, and not snoozed (a snoozed
    request's follow-ups wait for the snooze to end)."""
    return and_(
        _r.c.status == "waiting",
        _r.c.last_outbound_at <= silent_since,
        _r.c.snoozed_until.is_(None),
    )


def wake_snoozed(conn: Connection, now: datetime) -> list[int]:
    """Put waiting requests whose snooze time came back on top (`snoozed`); one the customer
    wrote to meanwhile is not waiting any more (and its snooze was cleared)."""
    rows = conn.execute(
        update(_r)
        .where(_r.c.status == "waiting", _r.c.snoozed_until <= now)
        .values(**lifecycle.snooze_ended(now))
        .returning(_r.c.id)
    )
    return [int(n) for n in rows.scalars()]


def push_follow_ups(
    conn: Connection,
    now: datetime,
    silent_since: datetime,
    *,
    at_least: int = 0,
    below: int | None = None,
) -> list[tuple[int, int]]:
    """Put silent waiting requests with `at_least` to `below` reminders back on the stack as
    follow-ups; returns (number, reminders so far)."""
    counted = _r.c.reminder_count >= at_least
    if below is not None:
        counted = and_(counted, _r.c.reminder_count < below)
    rows = conn.execute(
        update(_r)
        .where(_silent(silent_since), counted)
        .values(**lifecycle.follow_up(now))
        .returning(_r.c.id, _r.c.reminder_count)
    )
    return [(int(n), int(c)) for n, c in rows]


def take_due_reminders(
    conn: Connection, now: datetime, silent_since: datetime, below: int
) -> list[tuple[int, int]]:
    """For auto_remind: count a reminder on each silent waiting request with fewer than
    `below` (the caller sends it in the same transaction); returns (number, its count)."""
    rows = conn.execute(
        update(_r)
        .where(_silent(silent_since), _r.c.reminder_count < below)
        .values(reminder_count=_r.c.reminder_count + 1, updated_at=now)
        .returning(_r.c.id, _r.c.reminder_count)
    )
    return [(int(n), int(c)) for n, c in rows]


def close_silent(
    conn: Connection, now: datetime, silent_since: datetime, reminders: int
) -> list[int]:
    """Close (no_reply) silent waiting requests that already had `reminders` reminders."""
    rows = conn.execute(
        update(_r)
        .where(_silent(silent_since), _r.c.reminder_count >= reminders)
        .values(**lifecycle.closed(lifecycle.NO_REPLY, now))
        .returning(_r.c.id)
    )
    return [int(n) for n in rows.scalars()]


def expire_claims(conn: Connection, now: datetime) -> list[tuple[int, str]]:
    """Drop claims whose time ran out; returns (number, who held it)."""
    rows = conn.execute(
        update(_r)
        .where(_r.c.claimed_until <= now)
        .values(claimed_by=None, claimed_until=None)
        .returning(_r.c.id, _r.c.claimed_by)
    )
    return [(int(n), str(by)) for n, by in rows]


def mark_sla(conn: Connection, now: datetime, warn_from: datetime) -> tuple[list[int], list[int]]:
    """Mark requests still without a first answer: `overdue` past their deadline, `warn`
    when it falls before `warn_from`. Each mark is set once; returns (warned, overdue)."""
    unanswered = and_(_r.c.status.in_(ON_STACK), _r.c.first_response_at.is_(None))
    overdue = conn.execute(
        update(_r)
        .where(
            unanswered,
            _r.c.sla_due_at <= now,
            or_(_r.c.sla_mark.is_(None), _r.c.sla_mark != "overdue"),
        )
        .values(sla_mark="overdue")
        .returning(_r.c.id)
    ).scalars()
    overdue_numbers = [int(n) for n in overdue]
    warned = conn.execute(
        update(_r)
        .where(unanswered, _r.c.sla_due_at <= warn_from, _r.c.sla_mark.is_(None))
        .values(sla_mark="warn")
        .returning(_r.c.id)
    ).scalars()
    return [int(n) for n in warned], overdue_numbers


def add_events(
    conn: Connection,
    at: datetime,
    kind: str,
    numbers: list[int],
    *,
    reason: str | None = None,
    detail: dict[int, dict[str, Any]] | None = None,
) -> None:
    """One event per request (actor system), in one statement; `detail` by number."""
    if not numbers:
        return
    conn.execute(
        insert(_e),
        [
            {
                "request_id": n,
                "at": at,
                "actor": "system",
                "kind": kind,
                "reason": reason,
                "detail": json.dumps(detail[n], ensure_ascii=False)
                if detail and n in detail
                else None,
            }
            for n in numbers
        ],
    )
