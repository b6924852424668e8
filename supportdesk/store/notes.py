"""Internal notes: messages of the thread (direction 'note') that customers never see."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, update

from supportdesk.store import tables as t

_m, _r = t.message, t.request


def add_note(
    conn: Connection,
    number: int,
    message_id: str,
    text: str,
    subject: str,
    agent: str,
    agent_name: str,
    now: datetime,
) -> int:
    """Store a note in request `number`'s thread; returns its message key. It is never
    queued for delivery: the outbox takes only direction 'out'."""
    pk = conn.execute(
        insert(_m)
        .values(
            request_id=number,
            message_id=message_id,
            direction="note",
            kind="note",
            status="note",
            from_addr="",
            from_name=agent_name,
            subject=subject,
            text=text,
            date=now,
            received_at=now,
            agent_login=agent,
        )
        .returning(_m.c.id)
    ).scalar_one()
    conn.execute(
        update(_r)
        .where(_r.c.id == number)
        .values(message_count=_r.c.message_count + 1, updated_at=now)
    )
    return int(pk)
