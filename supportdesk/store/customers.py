"""A customer's requests, for the customer panel of the console."""

from __future__ import annotations

from sqlalchemy import Connection

from supportdesk.store import requests
from supportdesk.store import tables as t
from supportdesk.store.records import RequestRecord

_r = t.request


def customer_requests(
    conn: Connection, customer_id: int, exclude: int | None = None, limit: int = 50
) -> list[RequestRecord]:
    """The customer's requests, newest first (without request `exclude`)."""
    stmt = requests._select().where(_r.c.customer_id == customer_id)
    if exclude is not None:
        stmt = stmt.where(_r.c.id != exclude)
    stmt = stmt.order_by(_r.c.created_at.desc(), _r.c.id.desc()).limit(limit)
    return requests._records(conn, stmt)
