"""Merging a duplicate request into another: its conversation moves, it closes pointing there.

Everything here runs inside one write transaction (desk.merging): `lock_pair` first, so two
agents merging the same requests at once take turns, then the moves and the compare-and-set
close of the duplicate."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from supportdesk.store import reviews
from supportdesk.store import tables as t
from supportdesk.store.database import transaction_lock

_r, _m = t.request, t.message


def lock_pair(conn: Connection, numbers: list[int]) -> None:
    """Hold the requests' rows (and the intake lock) until the transaction ends.

    The intake lock first, as intake takes it: a fetch that looked up the duplicate's thread
    before the merge committed cannot then store a message into it; after the merge it finds
    `merged_into` and threads into the survivor. Then the rows in number order (PostgreSQL),
    so a merge of #1 into #2 and one of #2 into #1 wait for each other instead of deadlocking;
    the second one then reads what the first one wrote. On SQLite the write transaction
    holds the whole database already."""
    transaction_lock(conn, "intake")
    if conn.dialect.name != "postgresql":
        return
    conn.execute(
        select(_r.c.id).where(_r.c.id.in_(sorted(set(numbers)))).order_by(_r.c.id).with_for_update()
    ).all()


def move_conversation(conn: Connection, source: int, target: int) -> dict[str, int]:
    """Move request `source`'s messages (in, out and notes, with their attachments and raw
    bytes, which hang on the message), ratings and remembered texts to `target`; they keep
    their times; `source` counts none any more. Returns how many moved by direction."""
    moved = {
        direction: int(n)
        for direction, n in conn.execute(
            select(_m.c.direction, func.count())
            .where(_m.c.request_id == source)
            .group_by(_m.c.direction)
        )
    }
    conn.execute(update(_m).where(_m.c.request_id == source).values(request_id=target))
    conn.execute(update(_r).where(_r.c.id == source).values(message_count=0, inbound_count=0))
    conn.execute(update(t.rating).where(t.rating.c.request_id == source).values(request_id=target))
    conn.execute(
        update(t.text_seen).where(t.text_seen.c.request_id == source).values(request_id=target)
    )
    reviews.move_request(conn, source, target)  # a trainee's letters, pending or decided
    return moved


def last_times(conn: Connection, number: int) -> tuple[datetime | None, datetime | None]:
    """Request `number`'s last customer message and last answer times."""
    row = conn.execute(
        select(_r.c.last_inbound_at, _r.c.last_outbound_at).where(_r.c.id == number)
    ).one()
    return row[0], row[1]


def add_counts(
    conn: Connection,
    target: int,
    moved: dict[str, int],
    last_inbound_at: datetime | None,
    last_outbound_at: datetime | None,
    now: datetime,
) -> None:
    """Count the moved messages on `target`; its last in/out times are the later of the two."""
    values: dict[str, Any] = {
        "message_count": _r.c.message_count + sum(moved.values()),
        "inbound_count": _r.c.inbound_count + moved.get("in", 0),
        "updated_at": now,
    }
    conn.execute(update(_r).where(_r.c.id == target).values(**values))
    for column, when in (
        ("last_inbound_at", last_inbound_at),
        ("last_outbound_at", last_outbound_at),
    ):
        if when is not None:
            col = _r.c[column]
            conn.execute(
                update(_r)
                .where(_r.c.id == target, (col.is_(None)) | (col < when))
                .values({column: when})
            )


def copy_tags(conn: Connection, source: int, target: int) -> list[str]:
    """Give `target` the tags of `source` it lacks; returns the ones added."""
    rt = t.request_tag
    have = {tag for (tag,) in conn.execute(select(rt.c.tag).where(rt.c.request_id == target))}
    theirs = [
        tag
        for (tag,) in conn.execute(
            select(rt.c.tag).where(rt.c.request_id == source).order_by(rt.c.tag)
        )
    ]
    added = [tag for tag in theirs if tag not in have]
    if added:
        conn.execute(insert(rt), [{"request_id": target, "tag": tag} for tag in added])
    return added


def drop_drafts(conn: Connection, number: int) -> int:
    """Drop every agent's draft to request `number`; returns how many."""
    return int(conn.execute(delete(t.draft).where(t.draft.c.request_id == number)).rowcount)


def close_merged(conn: Connection, number: int, expect_status: str, values: dict[str, Any]) -> bool:
    """Compare-and-set: set `values` (closed, merged_into) on request `number`, only if it
    still has `expect_status` and is merged nowhere; False when another agent changed it first."""
    done = conn.execute(
        update(_r)
        .where(_r.c.id == number, _r.c.status == expect_status, _r.c.merged_into.is_(None))
        .values(values)
    ).rowcount
    return bool(done)
