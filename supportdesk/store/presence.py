"""Presence: who has a request open (`viewing`) or is writing an answer (`replying`) now.

One row per request and agent, kept fresh by the console's heartbeat: an upsert that keeps
`since` while the activity stays the same and refreshes `seen_at`. A row not seen for a while
is stale (a console that crashed never said goodbye) and is simply not listed; `forget_stale`
tidies such rows away."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, case, delete, select
from sqlalchemy.exc import IntegrityError

from supportdesk.domain.records import PresenceRecord
from supportdesk.store import tables as t

_p = t.presence


def touch(
    conn: Connection, number: int, agent: str, activity: str, now: datetime, stale: datetime
) -> bool:
    """Say `agent` is at request `number` doing `activity` (one statement): `since` stays
    while the activity is the same and the row was seen after `stale`, and starts again when
    the activity changes or the agent comes back after going stale. False when there is
    no request `number` (its foreign key says so; in a savepoint, so the transaction lives)."""
    stmt = t.upsert(conn, _p).values(
        request_id=number, agent_login=agent, activity=activity, since=now, seen_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[_p.c.request_id, _p.c.agent_login],
        set_={
            "activity": stmt.excluded.activity,
            "seen_at": stmt.excluded.seen_at,
            "since": case(
                (
                    (_p.c.activity == stmt.excluded.activity) & (_p.c.seen_at > stale),
                    _p.c.since,
                ),
                else_=stmt.excluded.since,
            ),
        },
    )
    try:
        with conn.begin_nested():
            conn.execute(stmt)
    except IntegrityError:
        return False
    return True


def leave(conn: Connection, number: int, agent: str) -> bool:
    """`agent` left request `number`; False when they were not there."""
    done = conn.execute(
        delete(_p).where(_p.c.request_id == number, _p.c.agent_login == agent)
    ).rowcount
    return bool(done)


def at_request(
    conn: Connection, number: int, seen_after: datetime, *, besides: str | None = None
) -> list[PresenceRecord]:
    """Who is at request `number` (seen after `seen_after`), but `besides`: replying first,
    then viewing, each the earliest first."""
    query = select(_p.c.agent_login, _p.c.activity, _p.c.since, _p.c.seen_at).where(
        _p.c.request_id == number, _p.c.seen_at > seen_after
    )
    if besides is not None:
        query = query.where(_p.c.agent_login != besides)
    rows = conn.execute(query).all()
    found = [PresenceRecord(number, row[0], row[1], row[2], row[3]) for row in rows]
    found.sort(key=lambda p: (p.activity != "replying", p.since, p.agent))
    return found


def replying(
    conn: Connection, numbers: list[int], seen_after: datetime, *, besides: str | None = None
) -> dict[int, list[str]]:
    """Of requests `numbers`, who (but `besides`) is replying to each (seen after
    `seen_after`): one query for a whole stack."""
    if not numbers:
        return {}
    query = select(_p.c.request_id, _p.c.agent_login).where(
        _p.c.request_id.in_(numbers), _p.c.activity == "replying", _p.c.seen_at > seen_after
    )
    if besides is not None:
        query = query.where(_p.c.agent_login != besides)
    found: dict[int, list[str]] = {}
    for number, agent in conn.execute(query.order_by(_p.c.since, _p.c.agent_login)):
        found.setdefault(number, []).append(agent)
    return found
