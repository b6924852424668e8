"""Owners: who a request is assigned to. A change is a compare-and-set update (the owner the
caller read is still the owner), so two agents assigning at once never lose a change and a
request never has two owners, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select, update

from supportdesk.store import tables as t
from supportdesk.store.records import RequestRecord
from supportdesk.store.requests import _records, _select, stack_order

_r = t.request


def owner(conn: Connection, number: int) -> tuple[bool, str | None]:
    """(whether the request exists, its assignee)."""
    row = conn.execute(select(_r.c.assignee).where(_r.c.id == number)).first()
    return (False, None) if row is None else (True, row[0])


def set_owner(conn: Connection, number: int, expect: str | None, new: str | None) -> bool:
    """Set the assignee to `new` if it still is `expect`; True when changed by this call."""
    same = _r.c.assignee.is_(None) if expect is None else _r.c.assignee == expect
    return bool(
        conn.execute(update(_r).where(_r.c.id == number, same).values(assignee=new)).rowcount
    )


def assigned_to(conn: Connection, login: str, statuses: Iterable[str]) -> list[int]:
    """The numbers of the requests assigned to `login` with one of `statuses`."""
    return list(
        conn.execute(
            select(_r.c.id)
            .where(_r.c.assignee == login, _r.c.status.in_(list(statuses)))
            .order_by(_r.c.id)
        ).scalars()
    )


def mine(
    conn: Connection, login: str, statuses: Iterable[str], limit: int = 500
) -> list[RequestRecord]:
    """The requests assigned to `login` with one of `statuses`, last pushed first."""
    stmt = (
        _select()
        .where(_r.c.assignee == login, _r.c.status.in_(list(statuses)))
        .order_by(*stack_order())
        .limit(limit)
    )
    return _records(conn, stmt)
