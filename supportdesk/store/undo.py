"""Undo send: an agent's reply waits in the outbox until its `undo_until`, and until a
worker takes it (store/outbox.py take moves next_attempt_at) it may be withdrawn. The
withdrawal is one compare-and-set, so undo and delivery never both win."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from supportdesk.store import tables as t

_m, _r = t.message, t.request

STATE = (
    "status",
    "reason",
    "reminder_count",
    "closed_at",
    "close_reason",
    "snoozed_until",
    "first_response_at",
    "first_response_by",
    "first_response_seconds",
    "last_outbound_at",
    "claimed_by",
    "claimed_until",
)
"""The request's columns an answer changes, kept to put back when it is withdrawn."""
_CLAIM = ("claimed_by", "claimed_until")
"""The writer's claim, which the answer ended: back only while nobody else took one."""
_TIMES = {"closed_at", "snoozed_until", "first_response_at", "last_outbound_at", "claimed_until"}


@dataclass(slots=True)
class Withdrawable:
    pk: int
    request_id: int
    agent_login: str | None
    to: str
    undo_until: datetime | None


def request_state(conn: Connection, number: int) -> dict[str, Any]:
    """STATE of request `number` as JSON values (times in ISO 8601)."""
    row = conn.execute(select(*(_r.c[c] for c in STATE)).where(_r.c.id == number)).one()
    return {
        c: (v.isoformat() if c in _TIMES and v is not None else v)
        for c, v in zip(STATE, row, strict=True)
    }


def restore_request(
    conn: Connection, number: int, before: dict[str, Any], after_status: str, now: datetime
) -> bool:
    """Put back what request `number` was before an answer (`before`, from request_state),
    if it still has the status the answer gave it (`after_status`: nothing happened since,
    such as the customer writing); the writer's claim too, unless someone claimed it since.
    Its message count drops by the withdrawn answer either way. True when the state was put
    back."""
    conn.execute(update(_r).where(_r.c.id == number).values(message_count=_r.c.message_count - 1))
    values = {
        c: (datetime.fromisoformat(v) if c in _TIMES and v is not None else v)
        for c, v in before.items()
        if c in STATE
    }
    claim = {c: values.pop(c) for c in _CLAIM if c in values}
    values["updated_at"] = now
    done = conn.execute(
        update(_r).where(_r.c.id == number, _r.c.status == after_status).values(**values)
    ).rowcount
    if done and claim.get("claimed_by"):
        conn.execute(
            update(_r)
            .where(_r.c.id == number, _r.c.claimed_by.is_(None) | (_r.c.claimed_until <= now))
            .values(**claim)
        )
    return bool(done)


def withdrawable(conn: Connection, message_id: str) -> Withdrawable | None:
    """The outgoing message `message_id`, if there is one."""
    row = conn.execute(
        select(_m.c.id, _m.c.request_id, _m.c.agent_login, _m.c.to_addrs, _m.c.undo_until).where(
            _m.c.message_id == message_id, _m.c.direction == "out"
        )
    ).first()
    return Withdrawable(row[0], row[1], row[2], row[3], row[4]) if row else None


def withdraw(conn: Connection, pk: int, now: datetime) -> bool:
    """Take message `pk` out of the outbox if no worker took it yet (status queued, never
    tried, next_attempt_at still its undo_until, which is still ahead): then it is deleted
    with its raw bytes, attachments and quality sample, and True. False: too late."""
    done = conn.execute(
        update(_m)
        .where(
            _m.c.id == pk,
            _m.c.status == "queued",
            _m.c.attempts == 0,
            _m.c.undo_until.is_not(None),
            _m.c.next_attempt_at == _m.c.undo_until,
            _m.c.undo_until > now,
        )
        .values(status="withdrawn", next_attempt_at=None)
    ).rowcount
    if not done:
        return False
    for table in (t.quality_check, t.attachment, t.message_raw):
        conn.execute(delete(table).where(table.c.message_pk == pk))
    conn.execute(delete(_m).where(_m.c.id == pk))
    return True


def reply_undo(conn: Connection, number: int, message_id: str) -> dict[str, Any] | None:
    """The `undo` part of the reply (or reminder) event that queued `message_id`: the
    request's state before it, its status after, the agent's text and template; with the
    event's time as "at"."""
    rows = conn.execute(
        select(t.event.c.detail, t.event.c.at)
        .where(t.event.c.request_id == number, t.event.c.kind.in_(("reply", "reminder")))
        .order_by(t.event.c.id.desc())
    )
    for raw, at in rows:
        detail = json.loads(raw) if raw else {}
        if detail.get("message_id") == message_id and isinstance(detail.get("undo"), dict):
            return {**detail["undo"], "at": at}
    return None


WITHDRAWN_KINDS = ("reply", "reminder", "close", "snooze", "csat_asked")
"""The events an answer writes (with a close or snooze sent with it, the rating asked)."""


def retire_events(conn: Connection, number: int, at: datetime, actor: str) -> int:
    """The events the withdrawn answer wrote (one transaction: the same time and agent)
    become `unsent_<kind>`: the timeline keeps them, the figures count them no more."""
    rows = conn.execute(
        select(t.event.c.id, t.event.c.kind).where(
            t.event.c.request_id == number,
            t.event.c.at == at,
            t.event.c.actor == actor,
            t.event.c.kind.in_(WITHDRAWN_KINDS),
        )
    ).all()
    for pk, kind in rows:
        conn.execute(update(t.event).where(t.event.c.id == pk).values(kind=f"unsent_{kind}"))
    return len(rows)
