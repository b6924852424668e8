"""The schema. Every change here needs an Alembic migration in store/migrations/versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from supportdesk.store.types import UID, UTCDateTime


def _when(nullable: bool = False, index: bool = False) -> datetime:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)  # type: ignore[no-any-return]


class Customer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    name: str = Field(default="", max_length=200)
    created_at: datetime = _when()
    last_ack_at: datetime | None = _when(nullable=True)


class Agent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=64, unique=True)
    name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=320)
    role: str = Field(default="agent", max_length=16)
    active: bool = True
    signature: str = Field(default="", sa_type=Text)
    languages: str = Field(default="", max_length=100)
    created_at: datetime = _when()


class Request(SQLModel, table=True):
    """A customer's question; `id` is the number customers see as #N."""

    __table_args__ = (
        Index("ix_request_stack", "status", "pushed_at"),
        Index("ix_request_status", "status", "id"),
        Index("ix_request_waiting", "status", "last_outbound_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    subject: str = Field(default="", sa_type=Text)
    status: str = Field(default="new", max_length=16)
    reason: str = Field(default="new", max_length=32)
    reminder_count: int = 0
    priority: str = Field(default="normal", max_length=16)
    language: str | None = Field(default=None, max_length=16)
    assignee: str | None = Field(default=None, max_length=64)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = _when(nullable=True, index=True)
    created_at: datetime = _when(index=True)
    pushed_at: datetime = _when()
    updated_at: datetime = _when()
    first_response_at: datetime | None = _when(nullable=True, index=True)
    last_inbound_at: datetime | None = _when(nullable=True)
    last_outbound_at: datetime | None = _when(nullable=True)
    closed_at: datetime | None = _when(nullable=True)
    close_reason: str | None = Field(default=None, max_length=32)
    message_count: int = 0
    inbound_count: int = 0
    sla_due_at: datetime | None = _when(nullable=True, index=True)
    """When the first answer is due (sla.first_response, in business hours if set)."""
    sla_mark: str | None = Field(default=None, max_length=16)
    """What the tick last marked: warn (due soon) or overdue; each is an event once."""
    item_id: int | None = Field(default=None, foreign_key="item.id", index=True)
    """The bug, idea or story this request was turned into or attached to."""
    mentions: int | None = None
    """The request whose number or thread a stranger's message named: it was not let in
    there (its sender is not in that conversation), so it opened this one instead."""


class Item(SQLModel, table=True):
    """A bug, idea or story for the product team; many requests may link to one."""

    __table_args__ = (Index("ix_item_status", "status", "kind"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    title: str = Field(sa_type=Text)
    description: str = Field(default="", sa_type=Text)
    status: str = Field(default="open", max_length=16)
    tags: str = Field(default="sup", sa_type=Text)
    ref: str | None = Field(default=None, sa_type=Text)
    """The product team's tracker key or URL."""
    created_by: str = Field(max_length=64)
    created_at: datetime = _when()
    updated_at: datetime = _when()
    fixed_at: datetime | None = _when(nullable=True)


class RequestTag(SQLModel, table=True):
    __tablename__ = "request_tag"
    request_id: int = Field(foreign_key="request.id", primary_key=True)
    tag: str = Field(max_length=64, primary_key=True, index=True)


class Message(SQLModel, table=True):
    """Every message of a conversation: in (customer), out (outbox fields), note (internal)."""

    __table_args__ = (
        Index("ux_message_idempotency", "request_id", "idempotency_key", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    message_id: str = Field(max_length=998, unique=True)
    direction: str = Field(max_length=8)
    kind: str = Field(default="mail", max_length=16)
    status: str = Field(default="received", max_length=16, index=True)
    from_addr: str = Field(default="", max_length=320)
    from_name: str = Field(default="", max_length=200)
    to_addrs: str = Field(default="", sa_type=Text)
    cc_addrs: str = Field(default="", sa_type=Text)
    reply_to: str = Field(default="", max_length=320)
    subject: str = Field(default="", sa_type=Text)
    text: str = Field(default="", sa_type=Text)
    date: datetime | None = _when(nullable=True)
    received_at: datetime = _when(index=True)
    in_reply_to: str | None = Field(default=None, sa_type=Text)
    references: str = Field(default="", sa_type=Text)
    sha256: str = Field(default="", max_length=64)
    size: int = 0
    warnings: str | None = Field(default=None, sa_type=Text)
    automatic: str | None = Field(default=None, max_length=64)
    html_only: bool = False
    agent_login: str | None = Field(default=None, max_length=64)
    attempts: int = 0
    next_attempt_at: datetime | None = _when(nullable=True)
    sent_at: datetime | None = _when(nullable=True)
    last_error: str | None = Field(default=None, sa_type=Text)
    joined_by: str | None = Field(default=None, max_length=16)
    """How an incoming message found its request (see desk.intake.JOINED_BY)."""
    idempotency_key: str | None = Field(default=None, max_length=200)
    """The key a script gave its reply (`requests reply --idempotency-key`): the same key
    again for the same request sends nothing new."""


class AckLog(SQLModel, table=True):
    """One acknowledgement sent, by the address it went to: the per-address rate limit."""

    __tablename__ = "ack_log"
    __table_args__ = (Index("ix_ack_log_address", "address", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(max_length=320)
    at: datetime = _when()


class TextSeen(SQLModel, table=True):
    """A fingerprint of a message's text by its sender, kept for a day: the same text again
    from the same sender joins the earlier request (workflow.repeat_window)."""

    __tablename__ = "text_seen"
    __table_args__ = (
        Index("ix_text_seen_key", "sender", "text_key"),
        Index("ix_text_seen_at", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    sender: str = Field(max_length=320)
    text_key: str = Field(max_length=64)
    request_id: int
    at: datetime = _when()


class MessageRaw(SQLModel, table=True):
    """The bytes as received (or as sent). A second, different copy under the same
    Message-ID is kept as another row, so nothing is lost."""

    __tablename__ = "message_raw"
    __table_args__ = (UniqueConstraint("message_pk", "sha256"),)
    id: int | None = Field(default=None, primary_key=True)
    message_pk: int = Field(foreign_key="message.id")
    sha256: str = Field(max_length=64)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Attachment(SQLModel, table=True):
    """An attachment is a byte range of the raw message, decoded only when opened."""

    id: int | None = Field(default=None, primary_key=True)
    message_pk: int = Field(foreign_key="message.id", index=True)
    filename: str = Field(max_length=255)
    original_filename: str | None = Field(default=None, sa_type=Text)
    content_type: str = Field(default="application/octet-stream", max_length=200)
    encoding: str = Field(default="7bit", max_length=40)
    start: int = 0
    end: int = 0
    inline: bool = False


class Event(SQLModel, table=True):
    """The audit trail: every push, claim, reply, conversion and close."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int | None = Field(default=None, foreign_key="request.id", index=True)
    at: datetime = _when(index=True)
    actor: str = Field(default="system", max_length=64)
    kind: str = Field(max_length=32)
    reason: str | None = Field(default=None, max_length=32)
    detail: str | None = Field(default=None, sa_type=Text)


class Template(SQLModel, table=True):
    """An answer template: `system` (sent by the workflow), `team` (shared) or `personal`
    (owned by one agent; it shadows a team template of the same name for its owner)."""

    __table_args__ = (UniqueConstraint("scope", "owner", "name", "language"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, index=True)
    language: str = Field(default="en", max_length=16)
    scope: str = Field(default="team", max_length=16)
    owner: str = Field(default="", max_length=64)
    subject: str | None = Field(default=None, sa_type=Text)
    tags: str = Field(default="", sa_type=Text)
    description: str = Field(default="", sa_type=Text)
    body: str = Field(default="", sa_type=Text)
    created_at: datetime = _when()
    updated_at: datetime = _when()
    use_count: int = 0
    last_used_at: datetime | None = _when(nullable=True)


class TemplateUse(SQLModel, table=True):
    """One answer sent with a template: what suggestions learn from."""

    __tablename__ = "template_use"
    __table_args__ = (Index("ix_template_use_agent", "agent_login", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    template_name: str = Field(max_length=80)
    template_id: int | None = None
    agent_login: str = Field(max_length=64)
    request_id: int = Field(foreign_key="request.id", index=True)
    at: datetime = _when()
    keywords: str = Field(default="", sa_type=Text)


class MailboxState(SQLModel, table=True):
    """Intake checkpoint per account and folder."""

    __tablename__ = "mailbox_state"
    __table_args__ = (UniqueConstraint("account", "folder"),)
    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=400)
    folder: str = Field(max_length=400)
    uidvalidity: int = Field(default=0, sa_type=UID)
    last_uid: int = Field(default=0, sa_type=UID)
    updated_at: datetime = _when()
    last_error: str | None = Field(default=None, sa_type=Text)


class Draft(SQLModel, table=True):
    """An answer an agent is writing: kept across sessions, dropped when the reply is sent."""

    __table_args__ = (UniqueConstraint("request_id", "agent_login"),)
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id")
    agent_login: str = Field(max_length=64)
    text: str = Field(default="", sa_type=Text)
    template_name: str | None = Field(default=None, max_length=80)
    updated_at: datetime = _when()


class Lease(SQLModel, table=True):
    """Which process polls the mailbox and runs the tick."""

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=200)
    expires_at: datetime = _when()


metadata = SQLModel.metadata
