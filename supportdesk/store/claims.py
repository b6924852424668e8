"""Claims: which agent is working a request. Every change is a compare-and-set update, so two
agents can never both hold one request, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, or_, select, update

from supportdesk.store import tables as t
from supportdesk.store.requests import ON_STACK, stack_order

_r = t.request

CLAIM_ATTEMPTS = 5
"""How often claim_next tries again after losing a race for the top request."""


def _free_for(agent: str, now: datetime, r: Any = _r) -> ColumnElement[bool]:
    """Nobody else holds an unexpired claim (the agent's own claim counts as free)."""
    return or_(
        r.c.claimed_by.is_(None),
        r.c.claimed_until.is_(None),
        r.c.claimed_until <= now,
        r.c.claimed_by == agent,
    )


def _not_others(agent: str, r: Any = _r) -> ColumnElement[bool]:
    """Not assigned to another agent: unassigned, or assigned to `agent`."""
    return or_(r.c.assignee.is_(None), r.c.assignee == agent)


def holder(conn: Connection, number: int, now: datetime) -> tuple[bool, str | None]:
    """(whether the request exists, who holds an unexpired claim on it)."""
    row = conn.execute(select(_r.c.claimed_by, _r.c.claimed_until).where(_r.c.id == number)).first()
    if row is None:
        return False, None
    by, until = row
    return True, by if by is not None and until is not None and until > now else None


def claim(conn: Connection, number: int, agent: str, now: datetime, until: datetime) -> bool:
    """Claim or renew request `number` for `agent` until `until`, unless another agent holds
    an unexpired claim. One compare-and-set UPDATE; True when the agent holds it now."""
    done = conn.execute(
        update(_r)
        .where(_r.c.id == number, _free_for(agent, now))
        .values(claimed_by=agent, claimed_until=until)
    ).rowcount
    return bool(done)


def release(conn: Connection, number: int, agent: str) -> bool:
    """Drop `agent`'s claim on the request; False when the agent did not hold it."""
    done = conn.execute(
        update(_r)
        .where(_r.c.id == number, _r.c.claimed_by == agent)
        .values(claimed_by=None, claimed_until=None)
    ).rowcount
    return bool(done)


def held_by(conn: Connection, agent: str, now: datetime) -> set[int]:
    """The requests `agent` holds an unexpired claim on."""
    return set(
        conn.execute(
            select(_r.c.id).where(_r.c.claimed_by == agent, _r.c.claimed_until > now)
        ).scalars()
    )


def claim_next(
    conn: Connection,
    agent: str,
    now: datetime,
    until: datetime,
    pin_before: datetime | None = None,
    line: int | None = None,
) -> int | None:
    """Claim the top request of the stack that is free for `agent` and not assigned to another
    agent; its number, or None when nothing is left to take. With `line`, only from that
    line's stack.

    One statement picks and claims (UPDATE ... WHERE id = (SELECT ... LIMIT 1) AND still
    free ... RETURNING id); on PostgreSQL the pick is FOR UPDATE SKIP LOCKED. Where
    transactions run side by side another agent may take that request first: the claim
    condition fails, and we try the next one."""
    candidate = _r.alias("candidate")  # not correlated with the row being updated
    free = select(candidate.c.id).where(
        candidate.c.status.in_(ON_STACK),
        _free_for(agent, now, candidate),
        _not_others(agent, candidate),
    )
    if line is not None:
        free = free.where(candidate.c.line == line)
    free = free.order_by(*stack_order(candidate, pin_before)).limit(1)
    pick = free
    if conn.dialect.name == "postgresql":
        # Take the first row nobody is changing right now: never wait for another agent's
        # claim or an intake batch, so claims never join a circle of waits.
        pick = free.with_for_update(skip_locked=True, of=candidate)
    stmt = (
        update(_r)
        .where(
            _r.c.id == pick.scalar_subquery(),
            _r.c.status.in_(ON_STACK),
            _free_for(agent, now),
            _not_others(agent),
            *([] if line is None else [_r.c.line == line]),
        )
        .values(claimed_by=agent, claimed_until=until)
        .returning(_r.c.id)
    )
    for _ in range(CLAIM_ATTEMPTS):
        number = conn.execute(stmt).scalar()
        if number is not None:
            return int(number)
        if conn.execute(free).scalar() is None:
            return None
    return None
