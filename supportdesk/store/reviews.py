"""Trainees' letters held for review: writing them, deciding them once, reading the queue."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from supportdesk.domain.enums import ReviewState
from supportdesk.domain.records import ReviewRecord
from supportdesk.store import tables as t

_v, _r, _c = t.review, t.request, t.customer

_COLUMNS = (
    _v.c.id,
    _v.c.request_id,
    _v.c.agent_login,
    _v.c.mentor_login,
    _v.c.state,
    _v.c.body,
    _v.c.subject,
    _v.c.cc,
    _v.c.template_name,
    _v.c.template_language,
    _v.c.created_at,
    _v.c.decided_at,
    _v.c.decided_by,
    _v.c.comment,
    _v.c.final_body,
    _v.c.message_id,
    _r.c.subject,
    _c.c.email,
)


def _record(row: Any) -> ReviewRecord:
    (pk, number, agent, mentor, state, body, subject, cc, template, language, created) = row[:11]
    (decided_at, decided_by, comment, final_body, message_id, request_subject, email) = row[11:]
    return ReviewRecord(
        id=pk,
        number=number,
        agent=agent,
        mentor=mentor,
        state=state,
        body=body,
        subject=subject,
        cc=json.loads(cc) if cc is not None else None,
        template=template,
        template_language=language,
        created_at=created,
        decided_at=decided_at,
        decided_by=decided_by,
        comment=comment,
        final_body=final_body,
        message_id=message_id,
        request_subject=request_subject or "",
        customer_email=email or "",
    )


def _select() -> Any:
    return select(*_COLUMNS).select_from(
        _v.join(_r, _r.c.id == _v.c.request_id).join(_c, _c.c.id == _r.c.customer_id)
    )


def insert_review(
    conn: Connection,
    *,
    number: int,
    agent: str,
    mentor: str | None,
    body: str,
    subject: str | None,
    cc: list[str] | None,
    template: str | None,
    template_language: str | None,
    idempotency_key: str | None,
    now: datetime,
    attachments: str | None = None,
) -> int:
    """Hold a trainee's letter (pending); returns the review's id. KeyTaken when a letter
    with the same `idempotency_key` for the request is there already (in a savepoint, so
    the caller's transaction goes on). `attachments`: the letter's files as JSON text."""
    values = {
        "request_id": number,
        "agent_login": agent,
        "mentor_login": mentor,
        "state": ReviewState.PENDING.value,
        "body": body,
        "subject": subject,
        "cc": json.dumps(cc) if cc is not None else None,
        "template_name": template,
        "template_language": template_language,
        "idempotency_key": idempotency_key,
        "created_at": now,
        "attachments": attachments,
    }
    stmt = insert(_v).values(**values).returning(_v.c.id)
    if idempotency_key is None:
        return int(conn.execute(stmt).scalar_one())
    try:  # the unique index decides: a concurrent hold with the same key waits, then fails
        with conn.begin_nested():
            return int(conn.execute(stmt).scalar_one())
    except IntegrityError:
        found = by_idempotency_key(conn, number, idempotency_key)
        if found is None:  # another constraint: not ours to hide
            raise
        raise KeyTaken(found) from None


class KeyTaken(Exception):
    """Another transaction already held a letter for the request with this idempotency key
    (`review_id`): nothing was written."""

    def __init__(self, review_id: int) -> None:
        super().__init__(f"review {review_id} holds this key")
        self.review_id = review_id


def review_attachments(conn: Connection, review_id: int) -> str | None:
    """The held letter's attachments as stored (JSON text), None when it has none."""
    found = conn.execute(select(_v.c.attachments).where(_v.c.id == review_id)).scalar()
    return str(found) if found else None


def by_idempotency_key(conn: Connection, number: int, key: str) -> int | None:
    """The review already holding request `number`'s letter sent with `key`."""
    found = conn.execute(
        select(_v.c.id).where(_v.c.request_id == number, _v.c.idempotency_key == key)
    ).scalar()
    return int(found) if found is not None else None


def get_review(conn: Connection, review_id: int) -> ReviewRecord | None:
    row = conn.execute(_select().where(_v.c.id == review_id)).first()
    return _record(row) if row else None


def list_reviews(
    conn: Connection,
    *,
    states: tuple[str, ...] | None = (ReviewState.PENDING.value,),
    agents: list[str] | None = None,
    number: int | None = None,
    limit: int = 500,
) -> list[ReviewRecord]:
    """Letters oldest first, in `states` (None: any), by `agents` (None: anyone's), of
    request `number` (None: any)."""
    stmt = _select()
    if states is not None:
        stmt = stmt.where(_v.c.state.in_(states))
    if agents is not None:
        stmt = stmt.where(_v.c.agent_login.in_(agents))
    if number is not None:
        stmt = stmt.where(_v.c.request_id == number)
    stmt = stmt.order_by(_v.c.created_at, _v.c.id).limit(limit)
    return [_record(row) for row in conn.execute(stmt)]


def latest_for(conn: Connection, number: int, agent: str) -> ReviewRecord | None:
    """`agent`'s latest letter on request `number`, in whatever state."""
    stmt = (
        _select()
        .where(_v.c.request_id == number, _v.c.agent_login == agent)
        .order_by(_v.c.id.desc())
        .limit(1)
    )
    row = conn.execute(stmt).first()
    return _record(row) if row else None


def pending_count(conn: Connection, agents: list[str] | None = None) -> int:
    """How many letters wait for review (by `agents`; None: anyone's)."""
    stmt = select(func.count()).select_from(_v).where(_v.c.state == ReviewState.PENDING.value)
    if agents is not None:
        stmt = stmt.where(_v.c.agent_login.in_(agents))
    return int(conn.execute(stmt).scalar_one())


def decide(
    conn: Connection,
    review_id: int,
    state: str,
    now: datetime,
    by: str,
    *,
    comment: str | None = None,
    final_body: str | None = None,
) -> bool:
    """Move a pending letter to `state` (approved or returned): a compare-and-set, so of two
    reviewers deciding at once exactly one does (False for the other). On PostgreSQL the
    second UPDATE waits for the first to commit and then finds the row no longer pending."""
    stmt = (
        update(_v)
        .where(_v.c.id == review_id, _v.c.state == ReviewState.PENDING.value)
        .values(state=state, decided_at=now, decided_by=by, comment=comment, final_body=final_body)
    )
    return bool(conn.execute(stmt).rowcount)


def set_message(conn: Connection, review_id: int, message_id: str) -> None:
    """The Message-ID an approved letter was queued as."""
    conn.execute(update(_v).where(_v.c.id == review_id).values(message_id=message_id))


def move_request(conn: Connection, source: int, target: int) -> int:
    """A merge: request `source`'s letters become `target`'s."""
    stmt = update(_v).where(_v.c.request_id == source).values(request_id=target)
    return int(conn.execute(stmt).rowcount)
