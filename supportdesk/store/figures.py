"""The SQL of the team's figures (desk.stats puts them together), aggregated in the database.

Days and weeks are windows [lo, hi) computed in Python (local midnights, DST-correct): a CTE
of them is joined to the time columns, correlated subqueries per window. Every figure reads
a covering index (migration 0010: request(created_at, ...), event(kind, reason, at, ...),
message(direction, received_at, ...), rating(at, ...)): a window's figure is one index range
(an event figure: one per kind and reason), and no table row is read (a message row carries
its text). No date is parsed per row: the wait for the first answer and the agent who gave
it are stored with it (request.first_response_seconds, first_response_by). Agents, tags and
languages are GROUP BY queries.

Imported history (requests with close_reason 'imported') counts nowhere."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    String,
    and_,
    case,
    cast,
    column,
    func,
    literal,
    or_,
    select,
    values,
)
from sqlalchemy.sql.elements import ColumnElement

from supportdesk.store import tables as t
from supportdesk.store.types import UTCDateTime

_r, _m, _e, _g, _tag = t.request, t.message, t.event, t.rating, t.request_tag

Window = tuple[int, datetime, datetime]
"""A window of time, [lo, hi), by its key."""

KEYS = ("agent", "tag", "language")
"""What the figures can be grouped by here: the agent, the request's tag, the request's
language ("" when none)."""

ANSWER_KINDS = ("reply", "reminder")


def _not_imported() -> ColumnElement[bool]:
    return or_(_r.c.close_reason.is_(None), _r.c.close_reason != "imported")


def _has_imported(conn: Connection) -> bool:
    """Whether the desk has imported history (its requests count nowhere)."""
    found = select(_r.c.id).where(_r.c.close_reason == "imported").limit(1)
    return conn.execute(found).first() is not None


def _key(by: str, agent: Any = None) -> Any:
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


def _wait() -> ColumnElement[float | None]:
    """Seconds to the first answer (stored with it: see requests.count_outgoing)."""
    return _r.c.first_response_seconds


def _sla(now: datetime) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """1 when the SLA was met, 1 when it was missed (see `arrivals`; neither without a due
    time, or before it), each one CASE over the row's columns."""
    first, due = _r.c.first_response_at, _r.c.sla_due_at
    met = case((first <= due, 1), else_=0)
    missed = case(
        (first > due, 1),
        # unanswered: missed once due, unless closed before it (spam, a duplicate: no
        # answer was owed)
        (
            and_(
                first.is_(None),
                due <= now,
                or_(_r.c.closed_at.is_(None), _r.c.closed_at > due),
            ),
            1,
        ),
        else_=0,
    )
    return met, missed


EventSlot = tuple[str, str | None, Any, bool]
"""A figure of the events: (kind, reason it is counted under, condition, whether the reason
is the event's own). Each condition is a few tight ranges of the index event(kind, reason,
at, ...) once `at` is bounded."""


def _outside(base: Any, column_: Any, values_: Sequence[str]) -> ColumnElement[bool]:
    """`base` and `column_` not NULL and none of `values_`, as index ranges (the gaps
    between them; `base` in each, so that SQLite takes each gap as a range of its own)."""
    ordered = sorted(set(values_))
    gaps = [column_ < ordered[0], column_ > ordered[-1]]
    gaps += [and_(column_ > a, column_ < b) for a, b in zip(ordered, ordered[1:], strict=False)]
    return or_(*(and_(base, gap) for gap in gaps))


def _event_slots(close_reasons: Sequence[str], answers_only: bool = False) -> list[EventSlot]:
    """The events the figures count: answers by agents (reply, reminder: an automatic
    reminder's actor is "system"), closes by reason (any reason not in `close_reasons`:
    "other"; imported history's closes, reason 'imported', nowhere), and the pushes
    `reopened` and `follow_up`."""
    kind, reason, actor = _e.c.kind, _e.c.reason, _e.c.actor
    answer = and_(kind.in_(ANSWER_KINDS), actor != "system")
    slots: list[EventSlot] = [
        ("reply", None, and_(answer, reason.is_(None)), False),
        ("reply", None, and_(answer, reason.is_not(None)), False),
    ]
    if answers_only:
        return slots
    known = sorted({str(r) for r in close_reasons} - {"imported"})
    slots += [
        ("push", "reopened", and_(kind == "push", reason == "reopened"), False),
        ("push", "follow_up", and_(kind == "push", reason == "follow_up"), False),
        *(("close", r, and_(kind == "close", reason == r), False) for r in known),
        ("close", "other", and_(kind == "close", reason.is_(None)), False),
        ("close", "other", _outside(kind == "close", reason, [*known, "imported"]), True),
    ]
    return slots


def arrivals(
    conn: Connection, since: datetime, until: datetime, now: datetime, by: str
) -> list[tuple[Any, int, int, int, list[float]]]:
    """The requests that arrived in [since, until) added up by group: (group, requests, SLA
    met, SLA missed, the seconds to each first answer). By agent: by the agent whose answer
    was the first (request.first_response_by; None: unanswered, or not by an agent).

    sla_due_at is set at arrival and kept after the answer (nothing clears it), so the
    promise is read as stored: met if first answered at or before it; missed if answered
    after it, or still unanswered once it has passed; not counted before that, without one
    (automatic mail), or when it was closed unanswered before it was due (spam, duplicates)."""
    key = _key(by, _r.c.first_response_by)
    query = (
        select(key, _arrival_text(conn, now))
        .select_from(_with_request(by, _r, None))
        .where(_r.c.created_at >= since, _r.c.created_at < until, _not_imported())
        .group_by(key)
    )
    return [(k, *_arrival_figures(text)) for k, text in conn.execute(query)]


def event_counts(
    conn: Connection, since: datetime, until: datetime, by: str, close_reasons: Sequence[str]
) -> list[tuple[Any, str, str | None, int]]:
    """(group, kind, reason, count) of the events the figures count in [since, until) (see
    `_event_slots`), a query per figure over its index range."""
    key = _key(by, _e.c.actor)
    frm: Any = _e
    if by == "tag":  # the tags' primary key (request_id, tag): no request row is read
        frm = _e.join(_tag, _tag.c.request_id == _e.c.request_id)
    elif by == "language":
        frm = _with_request(by, _e, _r.c.id == _e.c.request_id)
    out: list[tuple[Any, str, str | None, int]] = []
    for kind, reason, condition, own in _event_slots(close_reasons, by == "agent"):
        where = (_e.c.at >= since, _e.c.at < until, condition)
        if own:
            rows = conn.execute(
                select(key, _e.c.reason, func.count())
                .select_from(frm)
                .where(*where)
                .group_by(key, _e.c.reason)
            )
            out += [(k, kind, r, n) for k, r, n in rows]
        else:
            rows = conn.execute(
                select(key, func.count()).select_from(frm).where(*where).group_by(key)
            )
            out += [(k, kind, reason, n) for k, n in rows]
    return out


def received_counts(
    conn: Connection, since: datetime, until: datetime, by: str
) -> list[tuple[Any, int]]:
    """(group, customer messages) that arrived in [since, until): automatic mail and the
    messages of imported history not counted. By tag, the messages are joined to their
    requests only on a desk with imported history (as `window_received`)."""
    key = _key(by)
    where = [
        _m.c.received_at >= since,
        _m.c.received_at < until,
        _m.c.direction == "in",
        _m.c.automatic.is_(None),
    ]
    if by == "tag" and not _has_imported(conn):
        frm: Any = _m.join(_tag, _tag.c.request_id == _m.c.request_id)
    else:
        frm = _with_request(by, _m, _r.c.id == _m.c.request_id)
        where.append(_not_imported())
    query = select(key, func.count()).select_from(frm).where(*where).group_by(key)
    return [(k, n) for k, n in conn.execute(query)]


def rating_counts(
    conn: Connection, since: datetime, until: datetime, by: str
) -> list[tuple[Any, int, int, int, int, int, int]]:
    """(group, ratings, good ones, politeness sum, politeness scores, proficiency sum,
    proficiency scores) of the ratings given in [since, until)."""
    key = _key(by, _g.c.agent_login)
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


# -- by windows of time (days, weeks, the whole period) -----------------------------------


def _windows(windows: Sequence[Window]) -> Any:
    rows = [(key, lo, hi) for key, lo, hi in windows]
    return (
        values(
            column("key", Integer),
            column("lo", UTCDateTime),
            column("hi", UTCDateTime),
            name="windows",
        )
        .data(rows)
        .cte("windows")
    )


def _packed(sums: Sequence[Any]) -> Any:
    """Several sums in one text ("3,0,12"): one correlated subquery (one walk over a
    window's rows) gives them all, SQLite and PostgreSQL alike."""
    parts: Any = None
    for expr in sums:
        text = cast(func.coalesce(func.sum(expr), 0), String)
        parts = text if parts is None else parts + literal(",") + text
    return parts


def _unpack(packed: str | None, n: int) -> list[int]:
    if not packed:
        return [0] * n
    return [int(v.split(".")[0]) for v in packed.split(",")]


def _flag(condition: Any) -> Any:
    return case((condition, 1), else_=0)


def _arrival_text(conn: Connection, now: datetime) -> Any:
    """The arrivals of a group as one text ("700,520,80;3600.0,..."): requests, SLA met,
    SLA missed; the seconds to each first answer. A year is a quarter of a million requests:
    one text per group instead of a row per request."""
    wait, (met, missed) = _wait(), _sla(now)
    if conn.dialect.name == "sqlite":
        waits: Any = func.group_concat(wait, ",")
    else:
        waits = func.string_agg(cast(wait, String), ",")
    text = _packed([literal(1), met, missed]) + literal(";")
    return text + func.coalesce(waits, "")


def _arrival_figures(value: str | None) -> tuple[int, int, int, list[float]]:
    head, _, tail = (value or "").partition(";")
    n, met, missed = _unpack(head, 3)
    return n, met, missed, [float(v) for v in tail.split(",")] if tail else []


def window_arrivals(
    conn: Connection, windows: Sequence[Window], now: datetime
) -> list[tuple[int, int, int, int, list[float]]]:
    """As `arrivals`, added up by window: (window key, requests, SLA met, SLA missed, the
    seconds to each first answer)."""
    w = _windows(windows)
    packed = (
        select(_arrival_text(conn, now))
        .where(_r.c.created_at >= w.c.lo, _r.c.created_at < w.c.hi, _not_imported())
        .scalar_subquery()
    )
    out: list[tuple[int, int, int, int, list[float]]] = []
    for key, value in conn.execute(select(w.c.key, packed)):
        n, met, missed, waits = _arrival_figures(value)
        if n:
            out.append((key, n, met, missed, waits))
    return out


def window_events(
    conn: Connection,
    windows: Sequence[Window],
    close_reasons: Sequence[str],
    answers: bool = True,
) -> list[tuple[int, str, str | None, int]]:
    """As `event_counts`, by window; closes under `close_reasons` (any other: "other");
    without the answers unless `answers`.

    Each figure is a count over its index range (event(kind, reason, at, ...)): SQLite and
    PostgreSQL step the index entries of the window and read no event row."""
    w = _windows(windows)
    slots = _event_slots(close_reasons)
    if not answers:
        slots = [slot for slot in slots if slot[0] != "reply"]
    at = _e.c.at
    counts = [
        select(func.count()).where(cond, at >= w.c.lo, at < w.c.hi).scalar_subquery()
        for _, _, cond, _ in slots
    ]
    out: list[tuple[int, str, str | None, int]] = []
    for key, *ns in conn.execute(select(w.c.key, *counts)):
        for (kind, reason, _, _), n in zip(slots, ns, strict=True):
            if n:
                out.append((key, kind, reason, n))
    return out


def window_received(conn: Connection, windows: Sequence[Window]) -> list[tuple[int, int]]:
    """As `received_counts`, by window. The messages are joined to their requests only on a
    desk with imported history (a look-up per message costs a third of the time)."""
    w = _windows(windows)
    imported = _has_imported(conn)
    frm: Any = _m.join(_r, _r.c.id == _m.c.request_id) if imported else _m
    where = [
        _m.c.received_at >= w.c.lo,
        _m.c.received_at < w.c.hi,
        _m.c.direction == "in",
        _m.c.automatic.is_(None),
    ]
    if imported:
        where.append(_not_imported())
    count = select(func.count()).select_from(frm).where(*where).scalar_subquery()
    return [(key, n) for key, n in conn.execute(select(w.c.key, count)) if n]


def window_ratings(
    conn: Connection, windows: Sequence[Window]
) -> list[tuple[int, int, int, int, int, int, int]]:
    """As `rating_counts`, by window."""
    w = _windows(windows)
    g = _g.c
    sums = [
        literal(1),
        _flag(g.good),
        func.coalesce(g.politeness, 0),
        _flag(g.politeness.is_not(None)),
        func.coalesce(g.proficiency, 0),
        _flag(g.proficiency.is_not(None)),
    ]
    packed = select(_packed(sums)).where(g.at >= w.c.lo, g.at < w.c.hi).scalar_subquery()
    out: list[tuple[int, int, int, int, int, int, int]] = []
    for key, text in conn.execute(select(w.c.key, packed)):
        n, good, ps, pn, qs, qn = _unpack(text, 6)
        if n:
            out.append((key, n, good, ps, pn, qs, qn))
    return out
