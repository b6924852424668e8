"""Templates and the record of their use."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from supportdesk.domain.enums import TemplateScope
from supportdesk.domain.records import TemplateRecord, _iso
from supportdesk.store import tables as t

_t = t.template
_u = t.template_use

SCOPES = tuple(s.value for s in TemplateScope)


_COLUMNS = (
    _t.c.id,
    _t.c.name,
    _t.c.language,
    _t.c.scope,
    _t.c.owner,
    _t.c.subject,
    _t.c.tags,
    _t.c.description,
    _t.c.body,
    _t.c.created_at,
    _t.c.updated_at,
    _t.c.use_count,
    _t.c.last_used_at,
)


def _record(row: Any) -> TemplateRecord:
    values = list(row)
    values[6] = split_tags(values[6])
    return TemplateRecord(*values)


def split_tags(stored: str) -> tuple[str, ...]:
    return tuple(tag for tag in stored.split("\n") if tag)


def _visible(agent: str | None) -> Any:
    if agent is None:
        return _t.c.scope != "personal"
    return or_(_t.c.scope != "personal", _t.c.owner == agent)


def visible_templates(conn: Connection, agent: str | None) -> list[TemplateRecord]:
    """System and team templates, and `agent`'s personal ones (all of them, shadowed too)."""
    query = select(*_COLUMNS).where(_visible(agent)).order_by(_t.c.name, _t.c.language)
    return [_record(row) for row in conn.execute(query)]


def fingerprint(conn: Connection, agent: str | None) -> tuple[Any, ...]:
    """Changes whenever a template the agent sees is added, changed or removed."""
    row = conn.execute(
        select(func.count(), func.max(_t.c.id), func.max(_t.c.updated_at), func.sum(_t.c.id)).where(
            _visible(agent)
        )
    ).one()
    return tuple(row)


def templates_named(conn: Connection, name: str, agent: str | None) -> list[TemplateRecord]:
    query = select(*_COLUMNS).where(_t.c.name == name, _visible(agent))
    return [_record(row) for row in conn.execute(query)]


def templates_in_scope(conn: Connection, scope: str, owner: str = "") -> list[TemplateRecord]:
    query = (
        select(*_COLUMNS)
        .where(_t.c.scope == scope, _t.c.owner == owner)
        .order_by(_t.c.name, _t.c.language)
    )
    return [_record(row) for row in conn.execute(query)]


def count_in_scope(conn: Connection, scope: str) -> int:
    return int(conn.execute(select(func.count()).where(_t.c.scope == scope)).scalar_one())


def save_template(
    conn: Connection,
    *,
    scope: str,
    owner: str,
    name: str,
    language: str,
    subject: str | None,
    tags: Sequence[str],
    description: str,
    body: str,
    now: datetime,
) -> str:
    """Insert or update one template; returns 'added', 'updated' or 'unchanged'."""
    values = {
        "subject": subject,
        "tags": "\n".join(tags),
        "description": description,
        "body": body,
    }
    key = (_t.c.scope == scope, _t.c.owner == owner, _t.c.name == name, _t.c.language == language)
    columns = (_t.c.id, _t.c.subject, _t.c.tags, _t.c.description, _t.c.body)
    current = conn.execute(select(*columns).where(*key)).first()
    if current is None:
        # Two processes may store the same template at once (two desks opening a new
        # database both add the system templates): the second finds the first's row.
        added = conn.execute(
            t.upsert(conn, _t)
            .values(
                scope=scope,
                owner=owner,
                name=name,
                language=language,
                created_at=now,
                updated_at=now,
                use_count=0,
                **values,
            )
            .on_conflict_do_nothing(
                index_elements=[_t.c.scope, _t.c.owner, _t.c.name, _t.c.language]
            )
            .returning(_t.c.id)  # not rowcount: -1 on PostgreSQL for an INSERT returning rows
        ).first()
        if added is not None:
            return "added"
        current = conn.execute(select(*columns).where(*key)).one()
    if tuple(current[1:]) == tuple(values.values()):
        return "unchanged"
    conn.execute(update(_t).where(_t.c.id == current[0]).values(updated_at=now, **values))
    return "updated"


def delete_templates(conn: Connection, ids: Sequence[int]) -> int:
    return conn.execute(delete(_t).where(_t.c.id.in_(ids))).rowcount or 0


def record_use(
    conn: Connection,
    template: TemplateRecord,
    agent: str,
    request_id: int,
    now: datetime,
    keywords: Sequence[str],
) -> None:
    conn.execute(
        insert(_u).values(
            template_name=template.name,
            template_id=template.id,
            agent_login=agent,
            request_id=request_id,
            at=now,
            keywords=" ".join(keywords),
        )
    )
    conn.execute(
        update(_t)
        .where(_t.c.id == template.id)
        .values(use_count=_t.c.use_count + 1, last_used_at=now)
    )


def recent_uses(conn: Connection, agent: str, limit: int = 1000) -> list[tuple[str, str]]:
    """(template name, keywords) of the agent's latest uses, newest first."""
    query = (
        select(_u.c.template_name, _u.c.keywords)
        .where(_u.c.agent_login == agent)
        .order_by(_u.c.at.desc(), _u.c.id.desc())
        .limit(limit)
    )
    return [(row[0], row[1]) for row in conn.execute(query)]


def uses_of_request(conn: Connection, request_id: int) -> list[dict[str, Any]]:
    query = (
        select(_u.c.template_name, _u.c.agent_login, _u.c.at)
        .where(_u.c.request_id == request_id)
        .order_by(_u.c.id)
    )
    return [{"template": r[0], "agent": r[1], "at": _iso(r[2])} for r in conn.execute(query)]
