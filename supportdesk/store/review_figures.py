"""The rows the review figures per agent are counted from (domain.stats.ReviewFigures):
trainee letters decided and sampled answers scored in a period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from supportdesk.domain.enums import QualityState, ReviewState
from supportdesk.store import tables as t

_v, _q = t.review, t.quality_check


def decided_letters(
    conn: Connection, since: datetime, until: datetime, agent: str | None = None
) -> list[tuple[str, datetime, str, bool]]:
    """(trainee, decided at, approved|returned, edited) of the letters decided in
    [since, until), `agent`'s only when given."""
    decided = (ReviewState.APPROVED.value, ReviewState.RETURNED.value)
    stmt = select(
        _v.c.agent_login, _v.c.decided_at, _v.c.state, _v.c.final_body.is_not(None)
    ).where(_v.c.state.in_(decided), _v.c.decided_at >= since, _v.c.decided_at < until)
    if agent is not None:
        stmt = stmt.where(_v.c.agent_login == agent)
    return [(a, at, state, bool(edited)) for a, at, state, edited in conn.execute(stmt)]


def scored_checks(
    conn: Connection, since: datetime, until: datetime, agent: str | None = None
) -> list[tuple[str, datetime, int]]:
    """(agent, scored at, score) of the sampled answers scored in [since, until)."""
    stmt = select(_q.c.agent_login, _q.c.scored_at, _q.c.score).where(
        _q.c.state == QualityState.SCORED.value,
        _q.c.scored_at >= since,
        _q.c.scored_at < until,
    )
    if agent is not None:
        stmt = stmt.where(_q.c.agent_login == agent)
    return [(a, at, int(score)) for a, at, score in conn.execute(stmt)]
