"""The outbox: outgoing messages wait as rows (status queued) until a worker delivers them.

Statuses: queued (waiting for an attempt), sent, failed (given up; the request was pushed
back), unconfirmed (sent whole twice without the server confirming either: it may or may
not have arrived, and it is not sent again).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from supportdesk.store import tables as t

_m = t.message


@dataclass(slots=True)
class Pending:
    pk: int
    request_id: int
    message_id: str
    sender: str
    recipients: list[str]
    attempts: int
    raw: bytes


def by_idempotency_key(conn: Connection, request_id: int, key: str) -> str | None:
    """The Message-ID of the message queued for request `request_id` with `key`, if any."""
    return conn.execute(
        select(_m.c.message_id).where(_m.c.request_id == request_id, _m.c.idempotency_key == key)
    ).scalar()


def keyed_text(conn: Connection, request_id: int, key: str) -> tuple[str, str, str] | None:
    """(Message-ID, subject, text) of the message queued for `request_id` with `key`."""
    row = conn.execute(
        select(_m.c.message_id, _m.c.subject, _m.c.text).where(
            _m.c.request_id == request_id, _m.c.idempotency_key == key
        )
    ).first()
    return (row[0], row[1], row[2]) if row else None


def insert_keyed(conn: Connection, row: dict[str, object]) -> str | None:
    """Insert an outgoing message row that carries an idempotency key. Returns None when it
    was inserted, or the Message-ID of the message another transaction queued with the same
    key for the same request (then nothing is written). The unique index decides, not a
    look-up: on PostgreSQL a concurrent insert waits for the first to commit, then fails
    here, inside a savepoint, so the caller's transaction goes on."""
    key, request_id = row["idempotency_key"], row["request_id"]
    assert isinstance(key, str) and isinstance(request_id, int)
    try:
        with conn.begin_nested():
            conn.execute(insert(_m), [row])
    except IntegrityError:
        found = by_idempotency_key(conn, request_id, key)
        if found is None:  # another constraint: not ours to hide
            raise
        return found
    return None


def due(conn: Connection, now: datetime, limit: int = 100) -> list[int]:
    """Queued messages whose next attempt is due, oldest first."""
    return list(
        conn.execute(
            select(_m.c.id)
            .where(_m.c.status == "queued", _m.c.next_attempt_at <= now)
            .order_by(_m.c.next_attempt_at, _m.c.id)
            .limit(limit)
        ).scalars()
    )


def take(conn: Connection, pks: list[int], now: datetime, hold: timedelta) -> list[Pending]:
    """Claim due messages for delivery (compare-and-set on next_attempt_at, so two workers
    never send the same message at once; a crashed worker's messages come due again)."""
    taken: list[Pending] = []
    for pk in pks:
        done = conn.execute(
            update(_m)
            .where(_m.c.id == pk, _m.c.status == "queued", _m.c.next_attempt_at <= now)
            .values(next_attempt_at=now + hold)
        ).rowcount
        if not done:
            continue
        row = conn.execute(
            select(
                _m.c.request_id,
                _m.c.message_id,
                _m.c.from_addr,
                _m.c.to_addrs,
                _m.c.cc_addrs,
                _m.c.attempts,
                t.message_raw.c.raw,
            )
            .join(t.message_raw, t.message_raw.c.message_pk == _m.c.id)
            .where(_m.c.id == pk)
            .order_by(t.message_raw.c.id)
            .limit(1)
        ).one()
        recipients = [a for a in f"{row[3]}, {row[4]}".split(", ") if a.strip()]
        taken.append(Pending(pk, row[0], row[1], row[2], recipients, row[5], row[6]))
    return taken


def mark_sent(conn: Connection, pk: int, now: datetime, note: str | None = None) -> None:
    conn.execute(
        update(_m)
        .where(_m.c.id == pk)
        .values(
            status="sent",
            sent_at=now,
            attempts=_m.c.attempts + 1,
            last_error=note,
            next_attempt_at=None,
        )
    )


def mark_retry(conn: Connection, pk: int, next_at: datetime, error: str) -> None:
    conn.execute(
        update(_m)
        .where(_m.c.id == pk)
        .values(attempts=_m.c.attempts + 1, next_attempt_at=next_at, last_error=error[:1000])
    )


def mark_failed(conn: Connection, pk: int, error: str) -> None:
    conn.execute(
        update(_m)
        .where(_m.c.id == pk)
        .values(
            status="failed",
            attempts=_m.c.attempts + 1,
            next_attempt_at=None,
            last_error=error[:1000],
        )
    )


def mark_unconfirmed(conn: Connection, pk: int, error: str) -> None:
    """Stop trying a message the server may have received: never sent again by itself."""
    conn.execute(
        update(_m)
        .where(_m.c.id == pk)
        .values(
            status="unconfirmed",
            attempts=_m.c.attempts + 1,
            next_attempt_at=None,
            last_error=error[:1000],
        )
    )


def has_delivery_event(conn: Connection, request_id: int, kind: str, message_id: str) -> bool:
    """Whether the request's timeline has an event `kind` about the message `message_id`
    (its detail's "message_id"): the outbox's memory of what happened to earlier attempts."""
    details = conn.execute(
        select(t.event.c.detail).where(t.event.c.request_id == request_id, t.event.c.kind == kind)
    ).scalars()
    return any(d and json.loads(d).get("message_id") == message_id for d in details)


def counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(
        select(_m.c.status, func.count()).where(_m.c.direction == "out").group_by(_m.c.status)
    )
    return {status: n for status, n in rows}


def pending_counts(conn: Connection) -> dict[str, int]:
    """Queued, failed and unconfirmed outgoing mail only: cheap on a desk of a million
    messages, because the status index finds these few rows without visiting the sent ones."""
    rows = conn.execute(
        select(_m.c.status, func.count())
        .where(_m.c.status.in_(("queued", "failed", "unconfirmed")), _m.c.direction == "out")
        .group_by(_m.c.status)
    )
    return {status: n for status, n in rows}
