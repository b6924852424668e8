"""Agents: the people (and scripts) who answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from supportdesk.domain.enums import Role
from supportdesk.domain.records import AgentRecord
from supportdesk.store import tables as t

_a = t.agent
ROLES = tuple(r.value for r in Role)


_COLUMNS = (
    _a.c.login,
    _a.c.name,
    _a.c.email,
    _a.c.role,
    _a.c.active,
    _a.c.signature,
    _a.c.languages,
    _a.c.line,
    _a.c.trainee,
    _a.c.mentor,
)


def _record(row: Any) -> AgentRecord:
    login, name, email, role, active, signature, languages, line, trainee, mentor = row
    codes = [x for x in (languages or "").split(",") if x]
    return AgentRecord(
        login, name, email, role, active, signature, codes, line or 1, bool(trainee), mentor
    )


def get_agent(conn: Connection, login: str) -> AgentRecord | None:
    row = conn.execute(select(*_COLUMNS).where(_a.c.login == login)).first()
    return _record(row) if row else None


def list_agents(conn: Connection) -> list[AgentRecord]:
    return [_record(row) for row in conn.execute(select(*_COLUMNS).order_by(_a.c.login))]


def add_agent(
    conn: Connection,
    login: str,
    name: str,
    email: str,
    role: str,
    now: datetime,
    languages: list[str] | None = None,
    line: int = 1,
) -> bool:
    """Add the agent unless one with this login exists; True when added."""
    stmt = t.upsert(conn, _a).values(
        login=login,
        name=name,
        email=email,
        role=role,
        active=True,
        signature="",
        languages=",".join(languages or []),
        created_at=now,
        line=line,
    )
    # RETURNING, not rowcount: PostgreSQL's driver reports -1 for an INSERT that returns rows
    stmt = stmt.on_conflict_do_nothing(index_elements=[_a.c.login]).returning(_a.c.id)
    return conn.execute(stmt).first() is not None


def set_active(conn: Connection, login: str, active: bool) -> bool:
    done = conn.execute(update(_a).where(_a.c.login == login).values(active=active)).rowcount
    return bool(done)


def set_line(conn: Connection, login: str, line: int) -> bool:
    """The line the agent works (1: the first line); False when there is no such agent."""
    done = conn.execute(update(_a).where(_a.c.login == login).values(line=line)).rowcount
    return bool(done)


def set_training(conn: Connection, login: str, trainee: bool, mentor: str | None) -> bool:
    """Whether the agent is a trainee and who mentors them; False when there is no such
    agent."""
    stmt = update(_a).where(_a.c.login == login).values(trainee=trainee, mentor=mentor)
    return bool(conn.execute(stmt).rowcount)


def set_identity(
    conn: Connection, login: str, name: str | None = None, email: str | None = None
) -> bool:
    """The agent's display name and/or own address (None: unchanged); False when there is
    no such agent."""
    values = {k: v for k, v in (("name", name), ("email", email)) if v is not None}
    if not values:
        return get_agent(conn, login) is not None
    return bool(conn.execute(update(_a).where(_a.c.login == login).values(**values)).rowcount)
