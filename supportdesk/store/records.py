"""Plain records handed out by the store, so no caller holds a database session."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class RequestRecord:
    number: int
    status: str
    reason: str
    subject: str
    customer_email: str
    customer_name: str
    customer_id: int
    priority: str
    language: str | None
    reminder_count: int
    claimed_by: str | None
    claimed_until: datetime | None
    assignee: str | None
    created_at: datetime | None
    pushed_at: datetime | None
    updated_at: datetime | None
    first_response_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None
    message_count: int
    inbound_count: int
    sla_due_at: datetime | None = None
    """When the first answer is due; None once answered (or for requests without an SLA)."""
    item: int | None = None
    """The number of the bug, idea or story the request is linked to."""
    mentions: int | None = None
    """The request a stranger's message named (its [#N] or its thread): this request is
    that message's own, because its sender is not in that conversation."""
    tags: list[str] = field(default_factory=list)
    customer_name_shared: bool = False
    """Another customer, with a different address, goes by the same name."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "status": self.status,
            "reason": self.reason,
            "subject": self.subject,
            "customer": {"email": self.customer_email, "name": self.customer_name},
            "priority": self.priority,
            "language": self.language,
            "reminder_count": self.reminder_count,
            "claimed_by": self.claimed_by,
            "claimed_until": _iso(self.claimed_until),
            "assignee": self.assignee,
            "message_count": self.message_count,
            "inbound_count": self.inbound_count,
            "created_at": _iso(self.created_at),
            "pushed_at": _iso(self.pushed_at),
            "updated_at": _iso(self.updated_at),
            "first_response_at": _iso(self.first_response_at),
            "closed_at": _iso(self.closed_at),
            "close_reason": self.close_reason,
            "sla_due_at": _iso(self.sla_due_at),
            "item": self.item,
            "mentions": self.mentions,
            "tags": list(self.tags),
        }


@dataclass(slots=True)
class AttachmentRecord:
    id: int
    filename: str
    content_type: str
    encoded_size: int
    inline: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.encoded_size,
            "inline": self.inline,
        }


@dataclass(slots=True)
class MessageRecord:
    pk: int
    request_id: int
    message_id: str
    direction: str
    kind: str
    status: str
    from_addr: str
    from_name: str
    to_addrs: str
    subject: str
    text: str
    date: datetime | None
    received_at: datetime | None
    warnings: list[str]
    automatic: str | None
    agent_login: str | None
    attempts: int
    sent_at: datetime | None
    last_error: str | None
    in_reply_to: str | None
    joined_by: str | None = None
    """How an incoming message found its request: new, bounce, ours, tag, headers,
    same_body or stranger (desk.intake.JOINED_BY says each in words)."""
    cc_addrs: str = ""
    """The Cc of the message (", "-joined): as received, or whom our answer was copied to."""
    attachments: list[AttachmentRecord] = field(default_factory=list)
    known_name: str | None = None
    """The name on record for `from_addr` when it is a customer's (incoming mail)."""
    name_shared: bool = False
    """A customer with another address goes by `from_name` (incoming mail)."""

    @property
    def cc(self) -> list[str]:
        return [a.strip() for a in self.cc_addrs.split(",") if a.strip()]

    def as_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "direction": self.direction,
            "kind": self.kind,
            "from": self.from_addr,
            "from_name": self.from_name,
            "to": [a for a in self.to_addrs.split(", ") if a],
            "cc": self.cc,
            "date": _iso(self.date or self.received_at),
            "received_at": _iso(self.received_at),
            "subject": self.subject,
            "in_reply_to": self.in_reply_to,
            "joined_by": self.joined_by,
            "text": self.text,
            "status": self.status,
            "warnings": self.warnings,
            "automatic": self.automatic,
            "agent": self.agent_login,
            "attempts": self.attempts,
            "sent_at": _iso(self.sent_at),
            "error": self.last_error,
            "attachments": [a.as_dict() for a in self.attachments],
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def load_warnings(value: str | None) -> list[str]:
    if not value:
        return []
    try:
        loaded = json.loads(value)
    except ValueError:
        return [value]
    return [str(w) for w in loaded] if isinstance(loaded, list) else [str(loaded)]
