"""Sampled answers in the quality queue: adding one, scoring it once, reading them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from supportdesk.domain.enums import QualityState
from supportdesk.domain.records import QualityRecord
from supportdesk.store import tables as t
from supportdesk.store.tables import upsert

_q, _r = t.quality_check, t.request

_COLUMNS = (
    _q.c.id,
    _q.c.request_id,
    _q.c.message_pk,
    _q.c.agent_login,
    _q.c.created_at,
    _q.c.state,
    _q.c.score,
    _q.c.rule,
    _q.c.comment,
    _q.c.reviewer,
    _q.c.scored_at,
    _r.c.subject,
)


def _record(row: Any) -> QualityRecord:
    (pk, number, message_pk, agent, created, state, score, rule, comment) = row[:9]
    (reviewer, scored_at, subject) = row[9:]
    return QualityRecord(
        id=pk,
        number=number,
        message_pk=message_pk,
        agent=agent,
        created_at=created,
        state=state,
        score=score,
        rule=rule,
        comment=comment,
        reviewer=reviewer,
        scored_at=scored_at,
        request_subject=subject or "",
    )


def _select() -> Any:
    return select(*_COLUMNS).select_from(_q.join(_r, _r.c.id == _q.c.request_id))


def add_check(conn: Connection, number: int, message_pk: int, agent: str, now: datetime) -> bool:
    """Put the sent answer `message_pk` in the quality queue (pending); a message already
    there adds nothing (False)."""
    values = {
        "request_id": number,
        "message_pk": message_pk,
        "agent_login": agent,
        "created_at": now,
        "state": QualityState.PENDING.value,
    }
    stmt = upsert(conn, _q).values(**values).on_conflict_do_nothing(index_elements=["message_pk"])
    return bool(conn.execute(stmt).rowcount)


def get_check(conn: Connection, check_id: int) -> QualityRecord | None:
    row = conn.execute(_select().where(_q.c.id == check_id)).first()
    return _record(row) if row else None


def list_checks(
    conn: Connection,
    *,
    states: tuple[str, ...] | None = None,
    agent: str | None = None,
    exclude_agent: str | None = None,
    newest_first: bool = False,
    limit: int = 500,
) -> list[QualityRecord]:
    """Checks in `states` (None: any), of `agent` (None: anyone's) but not `exclude_agent`'s,
    oldest first (or newest first)."""
    stmt = _select()
    if states is not None:
        stmt = stmt.where(_q.c.state.in_(states))
    if agent is not None:
        stmt = stmt.where(_q.c.agent_login == agent)
    if exclude_agent is not None:
        stmt = stmt.where(_q.c.agent_login != exclude_agent)
    if newest_first:
        stmt = stmt.order_by(_q.c.created_at.desc(), _q.c.id.desc())
    else:
        stmt = stmt.order_by(_q.c.created_at, _q.c.id)
    return [_record(row) for row in conn.execute(stmt.limit(limit))]


def pending_count(conn: Connection, exclude_agent: str | None = None) -> int:
    stmt = select(func.count()).select_from(_q).where(_q.c.state == QualityState.PENDING.value)
    if exclude_agent is not None:
        stmt = stmt.where(_q.c.agent_login != exclude_agent)
    return int(conn.execute(stmt).scalar_one())


def score_check(
    conn: Connection,
    check_id: int,
    *,
    score: int,
    rule: str | None,
    comment: str,
    reviewer: str,
    now: datetime,
) -> bool:
    """Score a pending check: a compare-and-set on `pending`, so of two reviewers scoring at
    once exactly one does (False for the other; on PostgreSQL the second UPDATE waits for
    the first to commit and then finds the row scored)."""
    stmt = (
        update(_q)
        .where(_q.c.id == check_id, _q.c.state == QualityState.PENDING.value)
        .values(
            state=QualityState.SCORED.value,
            score=score,
            rule=rule,
            comment=comment,
            reviewer=reviewer,
            scored_at=now,
        )
    )
    return bool(conn.execute(stmt).rowcount)


def mentors(conn: Connection) -> set[str]:
    """Logins that mentor at least one trainee."""
    a = t.agent
    rows = conn.execute(select(a.c.mentor).where(a.c.trainee.is_(True), a.c.mentor.is_not(None)))
    return {m for (m,) in rows if m}


def request_of_message(conn: Connection, message_pk: int) -> int | None:
    """The request a sampled answer is on now (a merge moves messages)."""
    found = conn.execute(select(t.message.c.request_id).where(t.message.c.id == message_pk))
    value = found.scalar()
    return int(value) if value is not None else None
