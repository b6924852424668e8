"""The SQL of the team's figures (desk.stats puts them together): counts aggregated in the
database, grouped by local day, agent, tag or language.

Days are counted in a time zone without building a datetime per row: a stored time becomes
whole epoch seconds in SQL, plus the zone's UTC offset at that moment (a CASE over the few
offset changes of the period, computed in Python: `Shifts`), divided by 86,400. That is the
local day number (days since 1970-01-01), DST-correct. The period itself is filtered with
the indexed time columns (request.created_at, event.at, message.received_at, rating.at).

Imported history (requests with close_reason 'imported') counts nowhere."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Float,
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from supportdesk.store import tables as t

_r, _m, _e, _g, _tag = t.request, t.message, t.event, t.rating, t.request_tag

Shifts = Sequence[tuple[int, int]]
"""The zone's UTC offsets over the period: (from epoch second, offset seconds), oldest first;
the first one applies before its start too."""

KEYS = ("day", "none", "agent", "tag", "language")
"""What the figures can be grouped by here: local day number, nothing (one group, key 0),
the agent, the request's tag, the request's language ("" when none)."""

ANSWER_KINDS = ("reply", "reminder")


def _not_imported() -> ColumnElement[bool]:
    return or_(_r.c.close_reason.is_(None), _r.c.close_reason != "imported")


def _epoch(conn: Connection, col: Any) -> ColumnElement[int]:
    """Whole seconds since 1970 of a stored (naive UTC) time."""
    if conn.dialect.name == "sqlite":
        return cast(func.strftime("%s", col), Integer)
    return cast(func.floor(func.extract("epoch", col)), BigInteger)


def _seconds_between(conn: Connection, later: Any, earlier: Any) -> ColumnElement[float]:
    if conn.dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return cast(func.extract("epoch", later - earlier), Float)


def _local_day(conn: Connection, col: Any, shifts: Shifts) -> ColumnElement[int]:
    epoch = _epoch(conn, col)
    if len(shifts) == 1:
        offset: Any = literal(shifts[0][1])
    else:
        offset = case(
            *((epoch >= start, literal(off)) for start, off in reversed(shifts[1:])),
            else_=literal(shifts[0][1]),
        )
    # Times before 1970 do not occur here: integer division is floor division.
    return (epoch + offset) // 86400


def _key(conn: Connection, by: str, col: Any, shifts: Shifts, agent: Any = None) -> Any:
    if by == "day":
        return _local_day(conn, col, shifts)
    if by == "none":
        return literal(0)
    if by == "agent":
        return agent
    if by == "tag":
        return _tag.c.tag
    if by == "language":
        return func.coalesce(_r.c.language, "")
    raise ValueError(by)


def _with_request(by: str, frm: Any, on: Any) -> Any:
    """`frm` joined to its request (and, by tag, to the request's tags)."""
    joined = frm.join(_r, on) if frm is not _r else _r
    if by == "tag":
        joined = joined.join(_tag, _tag.c.request_id == _r.c.id)
    return joined


def arrivals(
    conn: Connection, since: datetime, until: datetime, now: datetime, by: str, shifts: Shifts
) -> list[tuple[Any, float | None, int]]:
    """The requests that arrived in [since, until): (group, seconds to the first answer or
    None, SLA state: 1 met, 2 missed, 0 not counted). By agent: only the answered ones,
    grouped by the agent whose answer was the first.

    sla_due_at is set at arrival and kept after the answer (nothing clears it), so the
    promise is read as stored: met if first answered at or before it; missed if answered
    after it, or still unanswered once it has passed; not counted before that, without one
    (automatic mail), or when it was closed unanswered before it was due (spam, duplicates)."""
    first, due = _r.c.first_response_at, _r.c.sla_due_at
    sla = case(
        (due.is_(None), 0),
        (and_(first.is_not(None), first <= due), 1),
        (first.is_not(None), 2),
        # unanswered: missed once due, unless closed before it (spam, a duplicate: no
        # answer was owed)
        (and_(due <= now, or_(_r.c.closed_at.is_(None), _r.c.closed_at > due)), 2),
        else_=0,
    )
    wait = case((first.is_(None), None), else_=_seconds_between(conn, first, _r.c.created_at))
    agent = None
    if by == "agent":
        # The agent of the first answer: the answer event at the moment of the first answer
        # (both are written in the same transaction with the same time).
        agent = (
            select(_e.c.actor)
            .where(
                _e.c.request_id == _r.c.id,
                _e.c.at == first,
                _e.c.kind.in_(ANSWER_KINDS),
                _e.c.actor != "system",
            )
            .order_by(_e.c.id)
            .limit(1)
            .scalar_subquery()
        )
    key = _key(conn, by, _r.c.created_at, shifts, agent)
    query = (
        select(key, wait, sla)
        .select_from(_with_request(by, _r, None))
        .where(_r.c.created_at >= since, _r.c.created_at < until, _not_imported())
    )
    if by == "agent":
        query = query.where(first.is_not(None))
    return [(k, w, s) for k, w, s in conn.execute(query) if not (by == "agent" and k is None)]


def event_counts(
    conn: Connection, since: datetime, until: datetime, by: str, shifts: Shifts
) -> list[tuple[Any, str, str | None, int]]:
    """(group, kind, reason, count) of the events the figures count in [since, until):
    answers by agents (reply, reminder: an automatic reminder's actor is "system"), closes,
    and the pushes `reopened` and `follow_up`.

    Imported history has one event, its close with reason 'imported': left out by reason
    (no join with the request needed for days and agents)."""
    kinds = or_(
        and_(_e.c.kind.in_(ANSWER_KINDS), _e.c.actor != "system"),
        _e.c.kind == "close",
        and_(_e.c.kind == "push", _e.c.reason.in_(("reopened", "follow_up"))),
    )
    not_imported = or_(_e.c.reason.is_(None), _e.c.reason != "imported")
    key = _key(conn, by, _e.c.at, shifts, _e.c.actor)
    frm: Any = _e
    if by in ("tag", "language"):
        frm = _with_request(by, _e, _r.c.id == _e.c.request_id)
    query = (
        select(key, _e.c.kind, _e.c.reason, func.count())
        .select_from(frm)
        .where(_e.c.at >= since, _e.c.at < until, kinds, not_imported)
        .group_by(key, _e.c.kind, _e.c.reason)
    )
    if by == "agent":
        query = query.where(_e.c.kind.in_(ANSWER_KINDS))
    return [(k, kind, reason, n) for k, kind, reason, n in conn.execute(query)]


def received_counts(
    conn: Connection, since: datetime, until: datetime, by: str, shifts: Shifts
) -> list[tuple[Any, int]]:
    """(group, customer messages) that arrived in [since, until): automatic mail and the
    messages of imported history not counted."""
    key = _key(conn, by, _m.c.received_at, shifts)
    query = (
        select(key, func.count())
        .select_from(_with_request(by, _m, _r.c.id == _m.c.request_id))
        .where(
            _m.c.received_at >= since,
            _m.c.received_at < until,
            _m.c.direction == "in",
            _m.c.automatic.is_(None),
            _not_imported(),
        )
        .group_by(key)
    )
    return [(k, n) for k, n in conn.execute(query)]


def rating_counts(
    conn: Connection, since: datetime, until: datetime, by: str, shifts: Shifts
) -> list[tuple[Any, int, int, int, int, int, int]]:
    """(group, ratings, good ones, politeness sum, politeness scores, proficiency sum,
    proficiency scores) of the ratings given in [since, until)."""
    key = _key(conn, by, _g.c.at, shifts, _g.c.agent_login)
    frm: Any = _g
    if by in ("tag", "language"):
        frm = _with_request(by, _g, _r.c.id == _g.c.request_id)
    query = (
        select(
            key,
            func.count(),
            func.sum(case((_g.c.good, 1), else_=0)),
            func.sum(_g.c.politeness),
            func.count(_g.c.politeness),
            func.sum(_g.c.proficiency),
            func.count(_g.c.proficiency),
        )
        .select_from(frm)
        .where(_g.c.at >= since, _g.c.at < until)
        .group_by(key)
    )
    if by == "agent":
        query = query.where(_g.c.agent_login.is_not(None))
    return [
        (k, n, int(good or 0), int(ps or 0), pn, int(qs or 0), qn)
        for k, n, good, ps, pn, qs, qn in conn.execute(query)
    ]


def latest_comments(
    conn: Connection, since: datetime, until: datetime, limit: int = 10
) -> list[tuple[int, datetime | None, int, bool, str, str | None]]:
    """The latest ratings with a comment in [since, until), newest first: (request, at, score,
    good, comment, agent)."""
    rows = conn.execute(
        select(_g.c.request_id, _g.c.at, _g.c.score, _g.c.good, _g.c.comment, _g.c.agent_login)
        .where(_g.c.at >= since, _g.c.at < until, func.trim(_g.c.comment) != "")
        .order_by(_g.c.at.desc(), _g.c.id.desc())
        .limit(limit)
    )
    return [
        (n, at, score, bool(good), comment, agent) for n, at, score, good, comment, agent in rows
    ]


def backlog(
    conn: Connection, now: datetime, bounds: Sequence[datetime], on_stack: Sequence[str]
) -> tuple[int, list[int], datetime | None]:
    """The requests on the stack now: how many, how many pushed at or after each of `bounds`
    (newest first: pushed within the last hour, 4 hours, ...), the oldest pushed_at."""
    columns: list[Any] = [func.count(), func.min(_r.c.pushed_at)]
    columns += [func.sum(case((_r.c.pushed_at >= b, 1), else_=0)) for b in bounds]
    row = conn.execute(select(*columns).where(_r.c.status.in_(tuple(on_stack)))).one()
    total, oldest, *within = row
    return int(total or 0), [int(w or 0) for w in within], oldest
