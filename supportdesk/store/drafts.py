"""Drafts: the answer an agent is writing, one per request and agent, kept across sessions."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, delete, select

from supportdesk.domain.records import DraftRecord
from supportdesk.store import tables as t

_d = t.draft


def save_draft(
    conn: Connection,
    number: int,
    agent: str,
    text: str,
    template: str | None,
    now: datetime,
    attachments: list[str] | None = None,
) -> None:
    """Create or replace `agent`'s draft of request `number` (inside a write transaction).
    `attachments`: the paths of the files attached to it (None: left as they were)."""
    values: dict[str, object] = {"text": text, "template_name": template, "updated_at": now}
    if attachments is not None:
        values["attachments"] = json.dumps(attachments) if attachments else None
    stmt = t.upsert(conn, _d).values(request_id=number, agent_login=agent, **values)
    conn.execute(
        stmt.on_conflict_do_update(index_elements=[_d.c.request_id, _d.c.agent_login], set_=values)
    )


def get_draft(conn: Connection, number: int, agent: str) -> DraftRecord | None:
    row = conn.execute(
        select(_d.c.text, _d.c.template_name, _d.c.updated_at, _d.c.attachments).where(
            _d.c.request_id == number, _d.c.agent_login == agent
        )
    ).first()
    if row is None:
        return None
    return DraftRecord(number, agent, row[0], row[1], row[2], _paths(row[3]))


def _paths(stored: str | None) -> list[str]:
    try:
        found = json.loads(stored) if stored else []
    except ValueError:
        return []
    return [str(p) for p in found] if isinstance(found, list) else []


def drop_draft(conn: Connection, number: int, agent: str) -> bool:
    """Forget `agent`'s draft of request `number`; False when there was none."""
    done = conn.execute(
        delete(_d).where(_d.c.request_id == number, _d.c.agent_login == agent)
    ).rowcount
    return bool(done)


def draft_numbers(conn: Connection, agent: str) -> list[int]:
    """The requests `agent` has an unsent draft of (with some text), in number order."""
    rows = conn.execute(
        select(_d.c.request_id)
        .where(_d.c.agent_login == agent, _d.c.text != "")
        .order_by(_d.c.request_id)
    )
    return [int(r[0]) for r in rows]
