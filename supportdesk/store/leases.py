"""Leases: which process does a job only one process may do (poll the mailbox, run the tick).

A lease is taken or renewed in one statement (an upsert whose update only applies when the
lease is free, expired or already ours), so two processes never both hold it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select

from supportdesk.store import tables as t

_l = t.lease


def acquire(conn: Connection, name: str, holder: str, now: datetime, until: datetime) -> bool:
    """Take lease `name` for `holder` until `until` when it is free, expired or already
    `holder`'s; True when `holder` holds it now."""
    stmt = t.upsert(conn, _l).values(name=name, holder=holder, expires_at=until)
    stmt = stmt.on_conflict_do_update(
        index_elements=[_l.c.name],
        set_={"holder": stmt.excluded.holder, "expires_at": stmt.excluded.expires_at},
        where=(_l.c.expires_at <= now) | (_l.c.holder == stmt.excluded.holder),
    )
    conn.execute(stmt)
    return conn.execute(select(_l.c.holder).where(_l.c.name == name)).scalar() == holder


def release(conn: Connection, name: str, holder: str) -> bool:
    """Give lease `name` up, if `holder` holds it."""
    done = conn.execute(delete(_l).where(_l.c.name == name, _l.c.holder == holder)).rowcount
    return bool(done)


def current(conn: Connection, name: str, now: datetime) -> tuple[str, datetime] | None:
    """Who holds lease `name` and until when; None when nobody holds it (or it expired)."""
    row = conn.execute(
        select(_l.c.holder, _l.c.expires_at).where(_l.c.name == name, _l.c.expires_at > now)
    ).first()
    return (row[0], row[1]) if row else None
