"""Agents: the people (and scripts) who answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from supportdesk.store import tables as t

_a = t.agent


@dataclass(slots=True)
class AgentRecord:
    login: str
    name: str
    email: str
    role: str
    active: bool
    signature: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "login": self.login,
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "active": self.active,
        }


_COLUMNS = (_a.c.login, _a.c.name, _a.c.email, _a.c.role, _a.c.active, _a.c.signature)


def get_agent(conn: Connection, login: str) -> AgentRecord | None:
    row = conn.execute(select(*_COLUMNS).where(_a.c.login == login)).first()
    return AgentRecord(*row) if row else None


def list_agents(conn: Connection) -> list[AgentRecord]:
    return [AgentRecord(*row) for row in conn.execute(select(*_COLUMNS).order_by(_a.c.login))]


def add_agent(
    conn: Connection, login: str, name: str, email: str, role: str, now: datetime
) -> bool:
    """Add the agent unless one with this login exists; True when added."""
    stmt = t.upsert(conn, _a).values(
        login=login,
        name=name,
        email=email,
        role=role,
        active=True,
        signature="",
        languages="",
        created_at=now,
    )
    return bool(conn.execute(stmt.on_conflict_do_nothing(index_elements=[_a.c.login])).rowcount)
