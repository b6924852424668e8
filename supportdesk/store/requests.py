"""Requests: the stack, listings, one request, and status changes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Float,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from supportdesk.domain.enums import ON_STACK as _ON_STACK
from supportdesk.domain.enums import Priority, RequestStatus
from supportdesk.store import tables as t
from supportdesk.store.customers import name_key, namesakes
from supportdesk.store.records import RequestRecord
from supportdesk.store.types import UTCDateTime

ON_STACK = tuple(s.value for s in _ON_STACK)
STATUSES = tuple(s.value for s in RequestStatus)

_r, _c = t.request, t.customer
_COLUMNS = (
    _r.c.id,
    _r.c.status,
    _r.c.reason,
    _r.c.subject,
    _c.c.email,
    _c.c.name,
    _r.c.customer_id,
    _r.c.priority,
    _r.c.language,
    _r.c.reminder_count,
    _r.c.claimed_by,
    _r.c.claimed_until,
    _r.c.assignee,
    _r.c.created_at,
    _r.c.pushed_at,
    _r.c.updated_at,
    _r.c.first_response_at,
    _r.c.closed_at,
    _r.c.close_reason,
    _r.c.message_count,
    _r.c.inbound_count,
    _r.c.sla_due_at,
    _r.c.item_id,
    _r.c.mentions,
    _r.c.line,
    _r.c.merged_into,
    _r.c.snoozed_until,
)


def _select() -> Select[Any]:
    return select(*_COLUMNS).join(_c, _c.c.id == _r.c.customer_id)


def _records(conn: Connection, stmt: Select[Any]) -> list[RequestRecord]:
    records = [RequestRecord(*row) for row in conn.execute(stmt)]
    tags = tags_of(conn, [r.number for r in records])
    shared = namesakes(conn, {r.customer_name for r in records})
    for record in records:
        record.tags = tags.get(record.number, [])
        others = shared.get(name_key(record.customer_name), set()) - {record.customer_email}
        record.customer_name_shared = bool(others)
    return records


def tags_of(conn: Connection, numbers: Iterable[int]) -> dict[int, list[str]]:
    nums = list(numbers)
    found: dict[int, list[str]] = {}
    for i in range(0, len(nums), 500):
        rows = conn.execute(
            select(t.request_tag.c.request_id, t.request_tag.c.tag)
            .where(t.request_tag.c.request_id.in_(nums[i : i + 500]))
            .order_by(t.request_tag.c.tag)
        )
        for rid, tag in rows:
            found.setdefault(rid, []).append(tag)
    return found


def stack_order(r: Any = _r, pin_before: datetime | None = None) -> tuple[Any, ...]:
    """The stack's order (also what take-next follows), README "The stack's order":

    1. urgent requests whose first answer is due before `pin_before` (now + sla.warn_before),
       the earliest deadline first;
    2. the other urgent requests;
    3. requests still without a first answer whose deadline falls before `pin_before`, the
       earliest first;
    4. the rest.

    Within each group the last pushed comes first, ties by number (`high` and `low` do not
    reorder: they are shown only)."""
    lifo = (r.c.pushed_at.desc(), r.c.id.desc())
    urgent = r.c.priority == Priority.URGENT.value
    if pin_before is None:
        return (case((urgent, 0), else_=1), *lifo)
    pinned = and_(r.c.first_response_at.is_(None), r.c.sla_due_at <= pin_before)
    group = case((and_(urgent, pinned), 0), (urgent, 1), (pinned, 2), else_=3)
    # only groups 0 and 2 hold deadlines: no NULLs sorted beside them (the two databases
    # put NULLs at opposite ends)
    return (group, case((pinned, r.c.sla_due_at)), *lifo)


def stack(
    conn: Connection, limit: int = 500, pin_before: datetime | None = None, line: int | None = None
) -> list[RequestRecord]:
    """The LIFO stack: new and open requests, last pushed first, ties by number; urgent
    requests and those whose first answer is due before `pin_before` on top (stack_order).
    With `line`, only that line's (one query on the index request(line, status,
    pushed_at)); without, every line's."""
    stmt = _select().where(_r.c.status.in_(ON_STACK))
    if line is not None:
        stmt = stmt.where(_r.c.line == line)
    return _records(conn, stmt.order_by(*stack_order(pin_before=pin_before)).limit(limit))


def list_requests(
    conn: Connection,
    *,
    status: str | None = None,
    tag: str | None = None,
    customer: str | None = None,
    assignee: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[RequestRecord]:
    stmt = _select()
    if status:
        stmt = stmt.where(_r.c.status == status)
    if tag:
        stmt = stmt.where(
            _r.c.id.in_(select(t.request_tag.c.request_id).where(t.request_tag.c.tag == tag))
        )
    if assignee:
        stmt = stmt.where(_r.c.assignee == assignee)
    if customer:
        # Case-insensitive on both databases (SQLite's LIKE is, PostgreSQL's is not).
        stmt = stmt.where(
            or_(
                _c.c.email.icontains(customer, autoescape=True),
                _c.c.name.icontains(customer, autoescape=True),
            )
        )
    stmt = stmt.order_by(_r.c.id.desc()).limit(limit).offset(offset)
    return _records(conn, stmt)


def customer_requests(
    conn: Connection, customer_id: int, exclude: int | None = None, limit: int = 50
) -> list[RequestRecord]:
    """The customer's requests, newest first (without request `exclude`)."""
    stmt = _select().where(_r.c.customer_id == customer_id)
    if exclude is not None:
        stmt = stmt.where(_r.c.id != exclude)
    stmt = stmt.order_by(_r.c.created_at.desc(), _r.c.id.desc()).limit(limit)
    return _records(conn, stmt)


def get_requests(conn: Connection, numbers: list[int]) -> list[RequestRecord]:
    """Several requests by number (in number order), in a query per 500."""
    found: list[RequestRecord] = []
    for i in range(0, len(numbers), 500):
        chunk = numbers[i : i + 500]
        found += _records(conn, _select().where(_r.c.id.in_(chunk)).order_by(_r.c.id))
    return found


def get_request(conn: Connection, number: int) -> RequestRecord | None:
    found = _records(conn, _select().where(_r.c.id == number))
    return found[0] if found else None


def known_tags(conn: Connection) -> list[str]:
    """Every tag some request has, in order (the console completes tags from these)."""
    tag = t.request_tag.c.tag
    return list(conn.execute(select(tag).distinct().order_by(tag)).scalars())


def add_tag(conn: Connection, number: int, tag: str) -> bool:
    """Tag request `number`; False when it had the tag already (also when another agent
    added it at the same moment: the row is there once)."""
    rt = t.request_tag
    stmt = t.upsert(conn, rt).values(request_id=number, tag=tag).on_conflict_do_nothing()
    # RETURNING: what was inserted (a rowcount may be -1, "unknown", on PostgreSQL)
    return conn.execute(stmt.returning(rt.c.tag)).first() is not None


def remove_tag(conn: Connection, number: int, tag: str) -> bool:
    """Untag request `number`; False when it did not have the tag."""
    rt = t.request_tag
    stmt = rt.delete().where(rt.c.request_id == number, rt.c.tag == tag)
    return bool(conn.execute(stmt).rowcount)


def update_request(
    conn: Connection, number: int, expect_status: Iterable[str] | None = None, **values: Any
) -> bool:
    """Set columns of one request; with `expect_status`, only if its status is one of those."""
    stmt = update(_r).where(_r.c.id == number)
    if expect_status is not None:
        stmt = stmt.where(_r.c.status.in_(list(expect_status)))
    return bool(conn.execute(stmt.values(**values)).rowcount)


def move_line(conn: Connection, number: int, from_line: int, **values: Any) -> bool:
    """Set columns of a request (a line change) only if it is still on `from_line` and not
    merged into another: a compare-and-set, so of two agents moving the same request at once
    one wins and the other learns it moved, and a duplicate merged meanwhile stays closed.
    True when this change was made."""
    stmt = (
        update(_r)
        .where(_r.c.id == number, _r.c.line == from_line, _r.c.merged_into.is_(None))
        .values(**values)
    )
    return bool(conn.execute(stmt).rowcount)


def count_outgoing(
    conn: Connection,
    number: int,
    now: datetime,
    first_response: bool,
    answered_by: str | None = None,
) -> None:
    """Count a message to the customer; `first_response`: it answers the request (the first
    such sets first_response_at, first_response_seconds, and first_response_by to
    `answered_by`, the agent whose answer it is)."""
    values: dict[str, Any] = {
        "message_count": _r.c.message_count + 1,
        "last_outbound_at": now,
        "updated_at": now,
    }
    conn.execute(update(_r).where(_r.c.id == number).values(**values))
    if first_response:
        conn.execute(
            update(_r)
            .where(and_(_r.c.id == number, _r.c.first_response_at.is_(None)))
            .values(
                first_response_at=now,
                first_response_by=answered_by,
                first_response_seconds=seconds_between(
                    conn, literal(now, UTCDateTime), _r.c.created_at
                ),
            )
        )


def seconds_between(conn: Connection, later: Any, earlier: Any) -> ColumnElement[float]:
    """The seconds from `earlier` to `later` (two times), in SQL."""
    if conn.dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return cast(func.extract("epoch", later - earlier), Float)
