"""Bugs, ideas and stories, and the requests linked to them (many requests → one item)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, insert, or_, select, update

from supportdesk.domain.enums import OPEN_ITEM_STATUSES, ItemKind, ItemStatus
from supportdesk.domain.enums import SHIPPED as _SHIPPED
from supportdesk.domain.records import ItemRecord
from supportdesk.store import tables as t
from supportdesk.store.requests import ON_STACK

KINDS = tuple(k.value for k in ItemKind)
ITEM_STATUSES = tuple(s.value for s in ItemStatus)
OPEN_STATUSES = tuple(s.value for s in OPEN_ITEM_STATUSES)
SHIPPED = tuple(s.value for s in _SHIPPED)
"""Statuses that tell the customers waiting on the item."""

_i, _r = t.item, t.request


_COLUMNS = (
    _i.c.id,
    _i.c.kind,
    _i.c.title,
    _i.c.description,
    _i.c.status,
    _i.c.tags,
    _i.c.ref,
    _i.c.created_by,
    _i.c.created_at,
    _i.c.updated_at,
    _i.c.fixed_at,
)

_WAITING = or_(
    _r.c.status.in_(("linked", *ON_STACK)),
    and_(_r.c.status == "closed", _r.c.close_reason == "idea"),
)
"""A linked request whose customer still waits: told "we'll write when it is fixed" (linked,
or closed as an idea), or back on the stack and not yet answered (lifecycle.waits_on_item,
as SQL)."""


def add_item(
    conn: Connection,
    kind: str,
    title: str,
    description: str,
    created_by: str,
    now: datetime,
    ref: str | None = None,
) -> int:
    row = conn.execute(
        insert(_i)
        .values(
            kind=kind,
            title=title,
            description=description,
            status="open",
            tags="sup",
            ref=ref,
            created_by=created_by,
            created_at=now,
            updated_at=now,
        )
        .returning(_i.c.id)
    ).one()
    return int(row[0])


def get_item(conn: Connection, number: int) -> ItemRecord | None:
    found = _records(conn, select(*_COLUMNS).where(_i.c.id == number))
    return found[0] if found else None


def list_items(
    conn: Connection,
    *,
    kind: str | None = None,
    statuses: Iterable[str] | None = None,
    limit: int | None = None,
) -> list[ItemRecord]:
    """Items with their counts, the most customers waiting first (then the most customers,
    then the newest)."""
    stmt = select(*_COLUMNS)
    if kind:
        stmt = stmt.where(_i.c.kind == kind)
    if statuses is not None:
        stmt = stmt.where(_i.c.status.in_(list(statuses)))
    records = _records(conn, stmt)
    records.sort(key=lambda r: (-r.waiting, -r.customers, -r.number))
    return records[:limit]


def is_open(conn: Connection, number: int) -> bool:
    status = conn.execute(select(_i.c.status).where(_i.c.id == number)).scalar()
    return status in OPEN_STATUSES


def fingerprint(conn: Connection) -> tuple[Any, ...]:
    """Changes when an item is added, changed or reopened, or a request is linked."""
    items = conn.execute(
        select(
            func.count(),
            func.max(_i.c.updated_at),
            func.count(case((_i.c.status.in_(OPEN_STATUSES), 1))),
        ).select_from(_i)
    ).one()
    linked = conn.execute(select(func.count()).where(_r.c.item_id.is_not(None))).scalar()
    return (*items, linked)


def linked_subjects(conn: Connection, numbers: list[int]) -> dict[int, list[str]]:
    """The subjects of the requests linked to each item (what fuzzy search also reads)."""
    found: dict[int, list[str]] = {}
    for i in range(0, len(numbers), 500):
        rows = conn.execute(
            select(_r.c.item_id, _r.c.subject).where(_r.c.item_id.in_(numbers[i : i + 500]))
        )
        for item_id, subject in rows:
            found.setdefault(item_id, []).append(subject)
    return found


def update_item(conn: Connection, number: int, **values: Any) -> bool:
    return bool(conn.execute(update(_i).where(_i.c.id == number).values(**values)).rowcount)


def link(conn: Connection, number: int, item: int, now: datetime) -> None:
    conn.execute(update(_r).where(_r.c.id == number).values(item_id=item))
    conn.execute(update(_i).where(_i.c.id == item).values(updated_at=now))


def push_shipped(
    conn: Connection, item: int, change: dict[str, Any], *, linked_only: bool = False
) -> list[int]:
    """Put every request whose customer waits on `item` back on the stack, setting `change`
    (lifecycle.item_pushed) in one statement: linked ones, ideas closed when they were
    recorded, and those already on the stack; with `linked_only`, the linked ones. Returns
    their numbers."""
    rows = conn.execute(
        update(_r)
        .where(_r.c.item_id == item, _r.c.status == "linked" if linked_only else _WAITING)
        .values(**change)
        .returning(_r.c.id)
    )
    return sorted(int(n) for (n,) in rows)


def _records(conn: Connection, stmt: Any) -> list[ItemRecord]:
    records = [
        ItemRecord(
            number=row.id,
            kind=row.kind,
            title=row.title,
            description=row.description,
            status=row.status,
            tags=[tag for tag in row.tags.split(",") if tag],
            ref=row.ref,
            created_by=row.created_by,
            created_at=row.created_at,
            updated_at=row.updated_at,
            fixed_at=row.fixed_at,
        )
        for row in conn.execute(stmt.order_by(_i.c.id))
    ]
    by_number = {r.number: r for r in records}
    numbers = list(by_number)
    for i in range(0, len(numbers), 500):
        chunk = numbers[i : i + 500]
        counts = conn.execute(
            select(
                _r.c.item_id,
                func.count(func.distinct(_r.c.customer_id)),
                func.count(func.distinct(case((_WAITING, _r.c.customer_id)))),
            )
            .where(_r.c.item_id.in_(chunk))
            .group_by(_r.c.item_id)
        )
        for item_id, customers, waiting in counts:
            by_number[item_id].customers = customers
            by_number[item_id].waiting = waiting
        for item_id, number in conn.execute(
            select(_r.c.item_id, _r.c.id).where(_r.c.item_id.in_(chunk)).order_by(_r.c.id)
        ):
            by_number[item_id].requests.append(number)
    return records
