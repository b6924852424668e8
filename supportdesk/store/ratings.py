"""Customers' ratings (satisfaction by reply): writing them with the message that carried
them, and reading a request's."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, select

from supportdesk.domain.stats import RatingComment
from supportdesk.store import tables as t
from supportdesk.store.tables import upsert

ASKED = "csat_asked"
"""The event recorded when a message that asks for a rating is queued."""

_r, _e, _m = t.rating, t.event, t.message


def insert(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Store ratings (inside the caller's transaction, with their messages); a message that
    already carries one adds nothing (a rating per message)."""
    if not rows:
        return
    conn.execute(
        upsert(conn, _r).values(rows).on_conflict_do_nothing(index_elements=["message_pk"])
    )


def asked(conn: Connection, request_ids: Iterable[int]) -> set[int]:
    """Which of the requests were asked for a rating (an answer carried the question)."""
    ids = sorted(set(request_ids))
    found: set[int] = set()
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        rows = conn.execute(
            select(_e.c.request_id).where(_e.c.kind == ASKED, _e.c.request_id.in_(chunk)).distinct()
        )
        found.update(rid for (rid,) in rows)
    return found


def answering_agent(conn: Connection, request_id: int, message_ids: Sequence[str]) -> str | None:
    """Who is rated: the agent of our message the rating answers (the first of `message_ids`,
    In-Reply-To then References, that is ours), else of the request's last answer."""
    if message_ids:
        rows = conn.execute(
            select(_m.c.message_id, _m.c.agent_login).where(
                _m.c.request_id == request_id,
                _m.c.direction == "out",
                _m.c.message_id.in_(list(message_ids)),
            )
        ).all()
        agents = {mid: login for mid, login in rows}
        for mid in message_ids:
            if agents.get(mid):
                return str(agents[mid])
    row = conn.execute(
        select(_m.c.agent_login)
        .where(
            _m.c.request_id == request_id,
            _m.c.direction == "out",
            _m.c.agent_login.is_not(None),
            _m.c.kind != "ack",
        )
        .order_by(_m.c.id.desc())
        .limit(1)
    ).first()
    return str(row[0]) if row else None


def of_request(
    conn: Connection, request_id: int, *, newest_first: bool = False
) -> list[RatingComment]:
    """A request's ratings, oldest first (newest first on request)."""
    order = (_r.c.at.desc(), _r.c.id.desc()) if newest_first else (_r.c.at, _r.c.id)
    rows = conn.execute(
        select(_r.c.at, _r.c.score, _r.c.good, _r.c.comment, _r.c.agent_login)
        .where(_r.c.request_id == request_id)
        .order_by(*order)
    )
    return [
        RatingComment(request_id, at, score, bool(good), comment or "", agent)
        for at, score, good, comment, agent in rows
    ]
