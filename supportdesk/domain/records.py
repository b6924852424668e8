"""The plain records the desk hands out (read from the store), so no caller holds a database
session and the console and the CLI need nothing of the store to name them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from supportdesk.domain.enums import OPEN_ITEM_STATUSES


def iso(value: datetime | None) -> str | None:
    """A time as JSON shows it (ISO 8601), or None."""
    return value.isoformat() if value else None


_iso = iso


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
    line: int = 1
    """The line whose stack it is on: 1 (first line) unless escalated or set by a rule."""
    merged_into: int | None = None
    """The request this duplicate was merged into."""
    snoozed_until: datetime | None = None
    """A waiting request the agent snoozed: back on top then unless the customer writes."""
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
            "line": self.line,
            "merged_into": self.merged_into,
            "snoozed_until": _iso(self.snoozed_until),
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


@dataclass(slots=True)
class ItemRecord:
    number: int
    kind: str
    title: str
    description: str
    status: str
    tags: list[str]
    ref: str | None
    created_by: str
    created_at: datetime | None
    updated_at: datetime | None
    fixed_at: datetime | None
    requests: list[int] = field(default_factory=list)
    """The linked requests' numbers, in order."""
    customers: int = 0
    """Distinct customers who wrote the linked requests."""
    waiting: int = 0
    """Customers still waiting on it: their request is linked (or closed as an idea) and
    nobody has told them it shipped yet."""

    @property
    def label(self) -> str:
        return f"{self.kind} #{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ITEM_STATUSES

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": self.kind,
            "title": self.title,
            "description": self.description,
            "status": self.status,
            "tags": list(self.tags),
            "ref": self.ref,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "fixed_at": self.fixed_at.isoformat() if self.fixed_at else None,
            "requests": list(self.requests),
            "customers": self.customers,
            "waiting": self.waiting,
        }

    def context(self) -> dict[str, Any]:
        """What templates see as `item`."""
        return {
            "kind": self.kind,
            "number": self.number,
            "title": self.title,
            "status": self.status,
            "ref": self.ref or "",
        }


@dataclass(frozen=True, slots=True)
class TemplateRecord:
    id: int
    name: str
    language: str
    scope: str
    owner: str
    subject: str | None
    tags: tuple[str, ...]
    description: str
    body: str
    created_at: datetime | None
    updated_at: datetime | None
    use_count: int
    last_used_at: datetime | None

    @property
    def label(self) -> str:
        """How errors name it: `'refund' (team, en)`."""
        scope = f"personal of {self.owner}" if self.scope == "personal" else self.scope
        return f"{self.name!r} ({scope}, {self.language})"

    def as_dict(self, *, body: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "scope": self.scope,
            "owner": self.owner or None,
            "subject": self.subject,
            "tags": list(self.tags),
            "description": self.description,
            "use_count": self.use_count,
            "last_used_at": _iso(self.last_used_at),
            "updated_at": _iso(self.updated_at),
        }
        if body:
            data["body"] = self.body
        return data


@dataclass(slots=True)
class AgentRecord:
    login: str
    name: str
    email: str
    role: str
    active: bool
    signature: str
    languages: list[str]
    line: int = 1
    """1: the first line; 2, 3 ...: the lines that take escalated requests."""
    trainee: bool = False
    """A trainee's answers wait for review by `mentor` (or any admin) before they go out."""
    mentor: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "login": self.login,
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "active": self.active,
            "languages": list(self.languages),
            "line": self.line,
            "trainee": self.trainee,
            "mentor": self.mentor,
        }


@dataclass(slots=True)
class DraftRecord:
    number: int
    agent: str
    text: str
    template: str | None
    updated_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "agent": self.agent,
            "text": self.text,
            "template": self.template,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


@dataclass(slots=True)
class Suggestion:
    """A template suggested for a request: how well it fits (0..1), the customer's words it
    matched, and whether the reply editor opens with it already rendered (at most one)."""

    template: TemplateRecord
    score: float
    matched: tuple[str, ...] = ()
    preselected: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.template.as_dict(body=False),
            "score": round(self.score, 4),
            "matched": list(self.matched),
            "preselected": self.preselected,
        }


class HeldLetter(str):
    """What `reply` returns for a trainee's answer held for review instead of a Message-ID:
    the string `review:<id>`, with the review's id as `review_id`."""

    review_id: int

    def __new__(cls, review_id: int) -> HeldLetter:
        held = super().__new__(cls, f"review:{review_id}")
        held.review_id = review_id
        return held


@dataclass(slots=True)
class ReviewRecord:
    """A trainee's letter and what the reviewer decided (`state`: a ReviewState)."""

    id: int
    number: int
    agent: str
    mentor: str | None
    state: str
    body: str
    subject: str | None
    cc: list[str] | None
    template: str | None
    template_language: str | None
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    comment: str | None = None
    final_body: str | None = None
    message_id: str | None = None
    overdue: bool = False
    """Pending for longer than `[review] max_wait` (set by the desk when listing)."""
    request_subject: str = ""
    customer_email: str = ""

    @property
    def edited(self) -> bool:
        return self.final_body is not None and self.final_body != self.body

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "request": self.number,
            "agent": self.agent,
            "mentor": self.mentor,
            "state": self.state,
            "body": self.body,
            "subject": self.subject,
            "cc": self.cc,
            "template": self.template,
            "created_at": iso(self.created_at),
            "decided_at": iso(self.decided_at),
            "decided_by": self.decided_by,
            "comment": self.comment,
            "final_body": self.final_body,
            "edited": self.edited,
            "message_id": self.message_id,
            "overdue": self.overdue,
            "request_subject": self.request_subject,
            "customer": self.customer_email,
        }


@dataclass(slots=True)
class QualityRecord:
    """A sampled sent answer and its quality review (`state`: a QualityState)."""

    id: int
    number: int
    message_pk: int
    agent: str
    created_at: datetime
    state: str
    score: int | None = None
    rule: str | None = None
    comment: str | None = None
    reviewer: str | None = None
    scored_at: datetime | None = None
    request_subject: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "request": self.number,
            "message_pk": self.message_pk,
            "agent": self.agent,
            "created_at": iso(self.created_at),
            "state": self.state,
            "score": self.score,
            "rule": self.rule,
            "comment": self.comment,
            "reviewer": self.reviewer,
            "scored_at": iso(self.scored_at),
            "request_subject": self.request_subject,
        }


@dataclass(slots=True)
class ReplyAttachment:
    """A file an agent attaches to an answer: sent as a MIME part of the reply."""

    filename: str
    content_type: str
    data: bytes


@dataclass(slots=True)
class PresenceRecord:
    """Someone at a request: `viewing` it or `replying` to it, since when, last seen when."""

    number: int
    agent: str
    activity: str
    since: datetime
    seen_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "request": self.number,
            "agent": self.agent,
            "activity": self.activity,
            "since": iso(self.since),
            "seen_at": iso(self.seen_at),
        }
