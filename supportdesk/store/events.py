"""The audit trail: events of a request, and writing one."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from supportdesk.store import tables as t

_e = t.event


def add_event(
    conn: Connection,
    request_id: int | None,
    at: datetime,
    kind: str,
    *,
    actor: str = "system",
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        insert(_e).values(
            request_id=request_id,
            at=at,
            actor=actor,
            kind=kind,
            reason=reason,
            detail=json.dumps(detail, ensure_ascii=False) if detail else None,
        )
    )


def events_of(conn: Connection, request_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(_e.c.at, _e.c.actor, _e.c.kind, _e.c.reason, _e.c.detail)
        .where(_e.c.request_id == request_id)
        .order_by(_e.c.id)
    )
    return [
        {
            "at": at.isoformat() if at else None,  # None: unreadable
            "actor": actor,
            "kind": kind,
            "reason": reason,
            "detail": json.loads(detail) if detail else None,
        }
        for at, actor, kind, reason, detail in rows
    ]


def last_detail(conn: Connection, request_id: int, kind: str) -> dict[str, Any] | None:
    """The detail of the request's latest event of `kind` (None: no such event, or none)."""
    detail = conn.execute(
        select(_e.c.detail)
        .where(_e.c.request_id == request_id, _e.c.kind == kind)
        .order_by(_e.c.id.desc())
        .limit(1)
    ).scalar()
    found = json.loads(detail) if detail else None
    return found if isinstance(found, dict) else None
