"""The rows of one intake batch, built in memory and written with bulk statements."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from supportdesk.mail.parse import ParsedMessage
from supportdesk.store import intake as q
from supportdesk.store import ratings

LOOP_TAG = "possible-loop"


class Batch:
    """The rows of one batch, built in memory, then written with bulk statements."""

    def __init__(self, db_ids: dict[str, int]) -> None:
        self.next_id = dict(db_ids)
        self.customers: list[dict[str, Any]] = []
        self.requests: dict[int, dict[str, Any]] = {}
        self.messages: list[dict[str, Any]] = []
        self.raws: list[dict[str, Any]] = []
        self.attachments: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.tags: list[dict[str, Any]] = []
        self.request_changes: dict[int, dict[str, Any]] = {}
        self.counts: dict[int, list[int]] = {}
        self.ack_log: list[dict[str, Any]] = []
        self.texts: list[dict[str, Any]] = []
        """Fingerprints of the texts taken in (a repeat joins its request)."""
        self.loop_tags: set[int] = set()
        """Requests to tag possible-loop (some of them stored by earlier batches)."""
        self.failed: list[dict[str, Any]] = []
        self.ratings: list[dict[str, Any]] = []
        """Ratings the batch's messages carry (satisfaction by reply), written with them."""

    def take_id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] += 1
        return value

    def count(self, rid: int, inbound: int) -> None:
        entry = self.counts.setdefault(rid, [0, 0])
        entry[0] += 1
        entry[1] += inbound


def message_row(
    pk: int, rid: int, p: ParsedMessage, now: datetime, auto: str | None
) -> dict[str, Any]:
    return {
        "id": pk,
        "request_id": rid,
        "message_id": p.message_id,
        "direction": "in",
        "kind": "mail",
        "status": "received",
        "from_addr": p.from_addr,
        "from_name": p.from_name,
        "to_addrs": ", ".join(p.to),
        "cc_addrs": ", ".join(p.cc),
        "reply_to": p.reply_to,
        "subject": p.subject,
        "text": p.text,
        "date": p.date,
        "received_at": now,
        "in_reply_to": p.in_reply_to[0] if p.in_reply_to else None,
        "references": " ".join(p.references),
        "sha256": p.sha256,
        "size": len(p.raw),
        "warnings": json.dumps(p.warnings, ensure_ascii=False) if p.warnings else None,
        "automatic": auto[:64] if auto else None,
        "html_only": p.html_only,
        "agent_login": None,
        "attempts": 0,
        "next_attempt_at": None,
        "sent_at": None,
        "last_error": None,
        "joined_by": None,
    }


def event_row(
    rid: int | None,
    now: datetime,
    kind: str,
    reason: str | None,
    detail: dict[str, Any] | None,
    actor: str = "system",
) -> dict[str, Any]:
    return {
        "request_id": rid,
        "at": now,
        "actor": actor,
        "kind": kind,
        "reason": reason,
        "detail": json.dumps(detail, ensure_ascii=False) if detail else None,
    }


def write_batch(conn: Any, batch: Batch, now: datetime) -> None:
    q.lock_requests(
        conn, [rid for rid in (*batch.request_changes, *batch.counts) if rid not in batch.requests]
    )
    q.insert_rows(conn, "customer", batch.customers)
    for rid, counts in batch.counts.items():
        if rid in batch.requests:
            batch.requests[rid]["message_count"] += counts[0]
            batch.requests[rid]["inbound_count"] += counts[1]
    q.insert_rows(conn, "request", list(batch.requests.values()))
    q.insert_rows(conn, "request_tag", batch.tags)
    q.insert_rows(conn, "message", batch.messages)
    q.insert_rows(conn, "message_raw", batch.raws)
    q.insert_rows(conn, "attachment", batch.attachments)
    ratings.insert(conn, batch.ratings)
    q.insert_rows(conn, "event", batch.events)
    q.update_requests(
        conn, [{"rid": rid, **values} for rid, values in batch.request_changes.items()]
    )
    q.add_counts(
        conn,
        [
            {"rid": rid, "n": c[0], "n_in": c[1]}
            for rid, c in batch.counts.items()
            if rid not in batch.requests
        ],
    )
    q.insert_rows(conn, "ack_log", batch.ack_log)
    if batch.texts:
        q.forget_texts(conn, now - timedelta(days=1))
        q.insert_rows(conn, "text_seen", batch.texts)
    q.add_tags(conn, [{"request_id": rid, "tag": LOOP_TAG} for rid in sorted(batch.loop_tags)])
    q.mark_messages(conn, batch.failed)
