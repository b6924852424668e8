"""Agents' signatures, one per language ("" = any language)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from supportdesk.store import tables as t

_s = t.agent_signature


def set_signature(conn: Connection, login: str, language: str, text: str, now: datetime) -> None:
    """`login`'s signature for `language` ("" = any), replacing the one it had."""
    stmt = t.upsert(conn, _s).values(
        agent_login=login, language=language, text=text, updated_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[_s.c.agent_login, _s.c.language],
        set_={"text": text, "updated_at": now},
    )
    conn.execute(stmt)


def signatures(conn: Connection, login: str) -> dict[str, str]:
    """`login`'s signatures by language ("" first)."""
    rows = conn.execute(
        select(_s.c.language, _s.c.text).where(_s.c.agent_login == login).order_by(_s.c.language)
    )
    return {str(language): str(text) for language, text in rows}


def signature_for(conn: Connection, login: str, language: str) -> str | None:
    """`login`'s signature for `language`, else their "" one, else None."""
    found = signatures(conn, login)
    return found.get(language) or found.get("") or None
