"""The statements intake needs: bulk look-ups and bulk writes inside one write transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, text, tuple_, update

from supportdesk.store import tables as t
from supportdesk.store.database import transaction_lock
from supportdesk.store.tables import upsert

CHUNK = 500


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@dataclass(slots=True)
class KnownMessage:
    pk: int
    request_id: int
    direction: str
    status: str


@dataclass(slots=True)
class KnownCustomer:
    id: int
    name: str
    last_ack_at: datetime | None


def known_messages(conn: Connection, message_ids: Iterable[str]) -> dict[str, KnownMessage]:
    ids = sorted(set(message_ids))
    found: dict[str, KnownMessage] = {}
    m = t.message
    for chunk in _chunks(ids):
        rows = conn.execute(
            select(m.c.message_id, m.c.id, m.c.request_id, m.c.direction, m.c.status).where(
                m.c.message_id.in_(chunk)
            )
        )
        for mid, pk, rid, direction, status in rows:
            found[mid] = KnownMessage(pk, rid, direction, status)
    return found


def known_raw_copies(conn: Connection, pairs: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
    wanted = sorted(set(pairs))
    found: set[tuple[int, str]] = set()
    r = t.message_raw
    for chunk in _chunks(wanted):
        rows = conn.execute(
            select(r.c.message_pk, r.c.sha256).where(tuple_(r.c.message_pk, r.c.sha256).in_(chunk))
        )
        found.update((pk, sha) for pk, sha in rows)
    return found


@dataclass(slots=True)
class ThreadFacts:
    """What intake needs to know of a request a message may join."""

    status: str
    customer_email: str
    participants: set[str]
    """Addresses that may write into it: the customer, whoever the conversation was sent to
    or copied to (To, Cc, Reply-To), and the senders of its messages other than robots."""
    merged_into: int | None = None
    """Merged into that request: what would join this one joins that one."""


def thread_facts(conn: Connection, numbers: Iterable[int]) -> dict[int, ThreadFacts]:
    nums = sorted(set(numbers))
    found: dict[int, ThreadFacts] = {}
    r, c, m = t.request, t.customer, t.message
    for chunk in _chunks(nums):
        rows = conn.execute(
            select(r.c.id, r.c.status, c.c.email, r.c.merged_into)
            .join(c, c.c.id == r.c.customer_id)
            .where(r.c.id.in_(chunk))
        )
        for rid, status, email, merged_into in rows:
            found[rid] = ThreadFacts(status, email.lower(), {email.lower()}, merged_into)
        rows = conn.execute(
            select(
                m.c.request_id,
                m.c.direction,
                m.c.from_addr,
                m.c.reply_to,
                m.c.to_addrs,
                m.c.cc_addrs,
                m.c.automatic,
            ).where(m.c.request_id.in_(chunk), m.c.direction.in_(("in", "out")))
        )
        for rid, direction, from_addr, reply_to, to_addrs, cc_addrs, automatic in rows:
            people = found[rid].participants
            if direction == "in" and not automatic:
                people.update(a for a in (from_addr, reply_to) if a)
            for field_value in (to_addrs, cc_addrs):
                people.update(
                    a.strip().lower() for a in (field_value or "").split(",") if a.strip()
                )
    return found


def agent_emails(conn: Connection) -> set[str]:
    rows = conn.execute(select(t.agent.c.email).where(t.agent.c.email != ""))
    return {email.lower() for (email,) in rows}


def acks_since(
    conn: Connection, addresses: Iterable[str], since: datetime
) -> dict[str, list[datetime]]:
    """When each address was acknowledged since `since` (the per-address rate limit)."""
    found: dict[str, list[datetime]] = {}
    a = t.ack_log
    for chunk in _chunks(sorted(set(addresses))):
        rows = conn.execute(
            select(a.c.address, a.c.at).where(a.c.address.in_(chunk), a.c.at >= since)
        )
        for address, at in rows:
            if at is not None:  # an unreadable time counts as no acknowledgement
                found.setdefault(address, []).append(at)
    return found


def opened_since(conn: Connection, customer_ids: Iterable[int], since: datetime) -> dict[int, int]:
    """How many requests each customer opened since `since` (loop detection)."""
    found: dict[int, int] = {}
    r = t.request
    for chunk in _chunks(sorted(set(customer_ids))):
        rows = conn.execute(
            select(r.c.customer_id, func.count())
            .where(r.c.customer_id.in_(chunk), r.c.created_at >= since)
            .group_by(r.c.customer_id)
        )
        found.update((cid, int(n)) for cid, n in rows)
    return found


def requests_opened_since(conn: Connection, customer_id: int, since: datetime) -> list[int]:
    r = t.request
    rows = conn.execute(
        select(r.c.id).where(r.c.customer_id == customer_id, r.c.created_at >= since)
    )
    return [rid for (rid,) in rows]


def seen_texts(
    conn: Connection, keys: Iterable[tuple[str, str]], since: datetime
) -> dict[tuple[str, str], int]:
    """The request each (sender, text fingerprint) went to last since `since`."""
    found: dict[tuple[str, str], int] = {}
    s = t.text_seen
    for chunk in _chunks(sorted(set(keys))):
        rows = conn.execute(
            select(s.c.sender, s.c.text_key, s.c.request_id)
            .where(tuple_(s.c.sender, s.c.text_key).in_(chunk), s.c.at >= since)
            .order_by(s.c.id)
        )
        for sender, key, rid in rows:
            found[(sender, key)] = rid
    return found


def forget_texts(conn: Connection, before: datetime) -> None:
    """Fingerprints older than any repeat window (a day at most) are of no more use."""
    conn.execute(t.text_seen.delete().where(t.text_seen.c.at < before))


def add_tags(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Tag requests (keys: request_id, tag); a tag a request has already is kept once."""
    if rows:
        stmt = upsert(conn, t.request_tag).on_conflict_do_nothing()
        conn.execute(stmt, rows)


def known_customers(conn: Connection, emails: Iterable[str]) -> dict[str, KnownCustomer]:
    addrs = sorted(set(emails))
    found: dict[str, KnownCustomer] = {}
    c = t.customer
    for chunk in _chunks(addrs):
        rows = conn.execute(
            select(c.c.email, c.c.id, c.c.name, c.c.last_ack_at).where(c.c.email.in_(chunk))
        )
        for email, cid, name, last_ack in rows:
            found[email] = KnownCustomer(cid, name, last_ack)
    return found


def lock_intake(conn: Connection) -> None:
    """One intake batch at a time, across processes: what it looks up (known messages and
    customers, request numbers) stays true until it commits. Call first in the transaction.
    (On SQLite the write transaction's lock does this already.)"""
    transaction_lock(conn, "intake")


GAPLESS = ("request",)
"""Tables whose keys people see (#1234): numbered on from the largest, without gaps."""


def allocate_ids(conn: Connection, table_name: str, count: int) -> int:
    """Reserve `count` consecutive primary keys; returns the first. Must run in a write tx.

    SQLite: the ones after the largest key (the write lock is held from BEGIN). PostgreSQL,
    where writers run side by side: request numbers likewise, under the intake lock (only
    intake creates requests), so a batch that reserved more than it used leaves no gap;
    other keys come from the table's sequence, which every writer draws from, so they are
    never handed out twice. Either way the sequence ends up past every reserved key, so a
    row inserted without a key never collides."""
    if count <= 0:
        return 0
    table = t.message.metadata.tables[table_name]
    if conn.dialect.name != "postgresql":
        current = conn.execute(select(func.max(table.c.id))).scalar()
        return int(current or 0) + 1
    sequence = conn.execute(
        text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table_name}
    ).scalar_one()
    if table_name in GAPLESS:
        lock_intake(conn)
        first = int(conn.execute(select(func.max(table.c.id))).scalar() or 0) + 1
        conn.execute(
            text(
                "SELECT setval(CAST(:seq AS regclass), greatest(:last, "
                "coalesce(pg_sequence_last_value(CAST(:seq AS regclass)), 0)))"
            ),
            {"seq": sequence, "last": first + count - 1},
        )
        return first
    while True:
        # Each value is ours alone; another writer drawing at the same moment can split the
        # run, and then we draw again (those values are simply never used).
        drawn = conn.execute(
            text("SELECT nextval(CAST(:seq AS regclass)) FROM generate_series(1, :n)"),
            {"seq": sequence, "n": count},
        ).scalars()
        keys = sorted(int(k) for k in drawn)
        if keys[-1] - keys[0] == count - 1:
            return keys[0]


def insert_rows(conn: Connection, table_name: str, rows: list[dict[str, Any]]) -> None:
    """Bulk insert. On SQLite straight through the driver: SQLAlchemy's per-value processing
    costs more than SQLite itself here, and intake speed is a feature."""
    if not rows:
        return
    table = t.message.metadata.tables[table_name]
    shapes = {tuple(row) for row in rows}
    if len(shapes) > 1:  # rows that set different columns: one statement per set
        for shape in sorted(shapes):
            insert_rows(conn, table_name, [row for row in rows if tuple(row) == shape])
        return
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), rows)
        return
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    sql = f'INSERT INTO "{table_name}" ({names}) VALUES ({marks})'
    convert = [_sqlite_converter(table.c[c].type) for c in columns]
    values = [
        tuple(f(row[c]) if f else row[c] for c, f in zip(columns, convert, strict=True))
        for row in rows
    ]
    conn.exec_driver_sql(sql, values)


def _sqlite_converter(column_type: Any) -> Any:
    """How SQLAlchemy would store a value of this type on SQLite (None: as it is)."""
    from sqlalchemy import Boolean

    from supportdesk.store.types import UTCDateTime

    if isinstance(column_type, UTCDateTime):
        return _sqlite_datetime
    if isinstance(column_type, Boolean):
        return _sqlite_bool
    return None


def _sqlite_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    # As SQLAlchemy writes it: strftime's %Y would not pad the years before 1000.
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
    )


def _sqlite_bool(value: bool | None) -> int | None:
    return None if value is None else int(value)


def lock_requests(conn: Connection, numbers: list[int]) -> None:
    """PostgreSQL: lock the rows an intake batch will change, in number order, before it
    changes any. Agents claim and answer one request at a time, so a batch that takes its
    rows in one order can wait for them but never close a circle of waits (a deadlock)."""
    if conn.dialect.name != "postgresql" or not numbers:
        return
    ordered = sorted(set(numbers))
    for i in range(0, len(ordered), 1000):
        conn.execute(
            select(t.request.c.id)
            .where(t.request.c.id.in_(ordered[i : i + 1000]))
            .order_by(t.request.c.id)
            .with_for_update(key_share=True)  # FOR NO KEY UPDATE: inserts that refer to it go on
        ).all()


def update_requests(conn: Connection, changes: list[dict[str, Any]]) -> None:
    """Apply per-request changes; each dict has `rid` plus the columns to set (same keys)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        groups.setdefault(tuple(sorted(k for k in change if k != "rid")), []).append(change)
    for keys, rows in groups.items():
        stmt = (
            update(t.request)
            .where(t.request.c.id == bindparam("rid"))
            .values({k: bindparam(k) for k in keys})
        )
        conn.execute(stmt, rows)


def add_counts(conn: Connection, counts: list[dict[str, Any]]) -> None:
    """Bump message_count / inbound_count by the given amounts (keys: rid, n, n_in)."""
    if not counts:
        return
    r = t.request
    stmt = (
        update(r)
        .where(r.c.id == bindparam("rid"))
        .values(
            message_count=r.c.message_count + bindparam("n"),
            inbound_count=r.c.inbound_count + bindparam("n_in"),
        )
    )
    conn.execute(stmt, counts)


def mark_messages(conn: Connection, changes: list[dict[str, Any]]) -> None:
    """Set status/last_error of messages by pk (keys: pk, status, error)."""
    if changes:
        m = t.message
        conn.execute(
            update(m)
            .where(m.c.id == bindparam("pk"))
            .values(status=bindparam("status"), last_error=bindparam("error")),
            changes,
        )
