"""The schema, as SQLAlchemy Core tables (a CLI command that only reads pays for neither an
ORM nor pydantic models). Every change here needs an Alembic migration in
store/migrations/versions."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from supportdesk.store.types import UID, UTCDateTime

metadata = MetaData()


customer = Table(
    "customer",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_ack_at", UTCDateTime, nullable=True),
)


agent = Table(
    "agent",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("login", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    Column("email", String(320), nullable=False, default=""),
    Column("role", String(16), nullable=False, default="agent"),
    Column("active", Boolean, nullable=False, default=True),
    Column("signature", Text, nullable=False, default=""),
    Column("languages", String(100), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    # 1: the first line, which talks to customers; 2, 3 ...: who takes what is escalated.
    Column("line", Integer, nullable=False, default=1, server_default="1"),
    # A trainee's answers wait for their mentor (or any admin) before they go out.
    Column("trainee", Boolean, nullable=False, default=False, server_default=false()),
    Column("mentor", String(64), nullable=True),
)


# A customer's question; `id` is the number customers see as #N.
request = Table(
    "request",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customer.id"), nullable=False, index=True),
    Column("subject", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False, default="new"),
    Column("reason", String(32), nullable=False, default="new"),
    Column("reminder_count", Integer, nullable=False, default=0),
    Column("priority", String(16), nullable=False, default="normal"),
    Column("language", String(16), nullable=True),
    Column("assignee", String(64), nullable=True),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_until", UTCDateTime, nullable=True, index=True),
    Column("created_at", UTCDateTime, nullable=False, index=True),
    Column("pushed_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("first_response_at", UTCDateTime, nullable=True, index=True),
    # The agent whose answer was the first, and the seconds from created_at (the figures).
    Column("first_response_by", String(64), nullable=True),
    Column("first_response_seconds", Float, nullable=True),
    Column("last_inbound_at", UTCDateTime, nullable=True),
    Column("last_outbound_at", UTCDateTime, nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("close_reason", String(32), nullable=True),
    Column("message_count", Integer, nullable=False, default=0),
    Column("inbound_count", Integer, nullable=False, default=0),
    # When the first answer is due (sla.first_response, in business hours if set).
    Column("sla_due_at", UTCDateTime, nullable=True, index=True),
    # What the tick last marked: warn (due soon) or overdue; each is an event once.
    Column("sla_mark", String(16), nullable=True),
    # The bug, idea or story this request was turned into or attached to.
    Column("item_id", Integer, ForeignKey("item.id"), nullable=True, index=True),
    # The request whose number or thread a stranger's message named: it was not let in
    # there (its sender is not in that conversation), so it opened this one instead.
    Column("mentions", Integer, nullable=True),
    # The line whose stack it is on (1 unless rules or an escalation say otherwise).
    Column("line", Integer, nullable=False, default=1, server_default="1"),
    # Merged into that request as a duplicate (closed `duplicate`; later replies join it).
    Column("merged_into", Integer, nullable=True),
    # A waiting request snoozed by the agent comes back on top then (reason `snoozed`).
    Column("snoozed_until", UTCDateTime, nullable=True),
    Index("ix_request_stack", "status", "pushed_at"),
    Index("ix_request_status", "status", "id"),
    Index("ix_request_waiting", "status", "last_outbound_at"),
    Index("ix_request_assignee", "assignee", "status"),
    Index("ix_request_line", "line", "status", "pushed_at"),
    Index("ix_request_snoozed", "status", "snoozed_until"),
    # Covering for the stats (store.figures): a period's requests are one index range.
    Index(
        "ix_request_stats",
        "created_at",
        "close_reason",
        "first_response_at",
        "first_response_seconds",
        "sla_due_at",
        "closed_at",
        "language",
        "first_response_by",
    ),
)


# A bug, idea or story for the product team; many requests may link to one.
item = Table(
    "item",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False, default="open"),
    Column("tags", Text, nullable=False, default="sup"),
    # The product team's tracker key or URL.
    Column("ref", Text, nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("fixed_at", UTCDateTime, nullable=True),
    Index("ix_item_status", "status", "kind"),
)


request_tag = Table(
    "request_tag",
    metadata,
    Column("request_id", Integer, ForeignKey("request.id"), primary_key=True),
    Column("tag", String(64), primary_key=True, index=True),
)


# Every message of a conversation: in (customer), out (outbox fields), note (internal).
message = Table(
    "message",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("request.id"), nullable=False, index=True),
    Column("message_id", String(998), nullable=False, unique=True),
    Column("direction", String(8), nullable=False),
    Column("kind", String(16), nullable=False, default="mail"),
    Column("status", String(16), nullable=False, default="received", index=True),
    Column("from_addr", String(320), nullable=False, default=""),
    Column("from_name", String(200), nullable=False, default=""),
    Column("to_addrs", Text, nullable=False, default=""),
    Column("cc_addrs", Text, nullable=False, default=""),
    Column("reply_to", String(320), nullable=False, default=""),
    Column("subject", Text, nullable=False, default=""),
    Column("text", Text, nullable=False, default=""),
    Column("date", UTCDateTime, nullable=True),
    Column("received_at", UTCDateTime, nullable=False, index=True),
    Column("in_reply_to", Text, nullable=True),
    Column("references", Text, nullable=False, default=""),
    Column("sha256", String(64), nullable=False, default=""),
    Column("size", Integer, nullable=False, default=0),
    Column("warnings", Text, nullable=True),
    Column("automatic", String(64), nullable=True),
    Column("html_only", Boolean, nullable=False, default=False),
    Column("agent_login", String(64), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    # How an incoming message found its request (see desk.intake.JOINED_BY).
    Column("joined_by", String(16), nullable=True),
    # The key a script gave its reply (`requests reply --idempotency-key`): the same key
    # again for the same request sends nothing new.
    Column("idempotency_key", String(200), nullable=True),
    # An agent's reply waits in the outbox until then: it can still be brought back.
    Column("undo_until", UTCDateTime, nullable=True),
    Index("ux_message_idempotency", "request_id", "idempotency_key", unique=True),
    # Covering for the stats: a period's customer messages are one index range.
    Index("ix_message_stats", "direction", "received_at", "automatic", "request_id"),
)


# One acknowledgement sent, by the address it went to: the per-address rate limit.
ack_log = Table(
    "ack_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("address", String(320), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_ack_log_address", "address", "at"),
)


# A fingerprint of a message's text by its sender, kept for a day: the same text again
# from the same sender joins the earlier request (workflow.repeat_window).
text_seen = Table(
    "text_seen",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sender", String(320), nullable=False),
    Column("text_key", String(64), nullable=False),
    Column("request_id", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False, index=True),
    Index("ix_text_seen_key", "sender", "text_key"),
)


# The bytes as received (or as sent). A second, different copy under the same
# Message-ID is kept as another row, so nothing is lost.
message_raw = Table(
    "message_raw",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_pk", Integer, ForeignKey("message.id"), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("raw", LargeBinary, nullable=False),
    UniqueConstraint("message_pk", "sha256"),
)


# An attachment is a byte range of the raw message, decoded only when opened.
attachment = Table(
    "attachment",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_pk", Integer, ForeignKey("message.id"), nullable=False, index=True),
    Column("filename", String(255), nullable=False),
    Column("original_filename", Text, nullable=True),
    Column("content_type", String(200), nullable=False, default="application/octet-stream"),
    Column("encoding", String(40), nullable=False, default="7bit"),
    Column("start", Integer, nullable=False, default=0),
    Column("end", Integer, nullable=False, default=0),
    Column("inline", Boolean, nullable=False, default=False),
)


# The audit trail: every push, claim, reply, conversion and close.
event = Table(
    "event",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("request.id"), nullable=True, index=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("actor", String(64), nullable=False, default="system"),
    Column("kind", String(32), nullable=False),
    Column("reason", String(32), nullable=True),
    Column("detail", Text, nullable=True),
    # Covering for the stats: a period's events of one kind are one index range.
    Index("ix_event_stats", "kind", "reason", "at", "actor", "request_id"),
)


# An answer template: `system` (sent by the workflow), `team` (shared) or `personal`
# (owned by one agent; it shadows a team template of the same name for its owner).
template = Table(
    "template",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(80), nullable=False, index=True),
    Column("language", String(16), nullable=False, default="en"),
    Column("scope", String(16), nullable=False, default="team"),
    Column("owner", String(64), nullable=False, default=""),
    Column("subject", Text, nullable=True),
    Column("tags", Text, nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
    Column("body", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("use_count", Integer, nullable=False, default=0),
    Column("last_used_at", UTCDateTime, nullable=True),
    UniqueConstraint("scope", "owner", "name", "language"),
)


# One answer sent with a template: what suggestions learn from.
template_use = Table(
    "template_use",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("template_name", String(80), nullable=False),
    Column("template_id", Integer, nullable=True),
    Column("agent_login", String(64), nullable=False),
    Column("request_id", Integer, ForeignKey("request.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("keywords", Text, nullable=False, default=""),
    Index("ix_template_use_agent", "agent_login", "at"),
)


# Intake checkpoint per account and folder.
mailbox_state = Table(
    "mailbox_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account", String(400), nullable=False),
    Column("folder", String(400), nullable=False),
    Column("uidvalidity", UID, nullable=False, default=0),
    Column("last_uid", UID, nullable=False, default=0),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("last_error", Text, nullable=True),
    UniqueConstraint("account", "folder"),
)


# An answer an agent is writing: kept across sessions, dropped when the reply is sent.
draft = Table(
    "draft",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("request.id"), nullable=False),
    Column("agent_login", String(64), nullable=False),
    Column("text", Text, nullable=False, default=""),
    Column("template_name", String(80), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("request_id", "agent_login"),
    # The files attached so far (JSON: [{"path", "filename", "content_type", "size"}]).
    Column("attachments", Text, nullable=True),
)


# Which process polls the mailbox and runs the tick.
lease = Table(
    "lease",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)


# A customer's answer to "How did we do?": for a request and the agent whose answer it rates.
# `good`: a 4 or 5, or the word good (CSAT is the share of good ratings).
rating = Table(
    "rating",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("request.id"), nullable=False),
    # The customer's message that carried the rating (None: entered by hand).
    Column("message_pk", Integer, ForeignKey("message.id"), nullable=True),
    Column("agent_login", String(64), nullable=True),
    Column("score", Integer, nullable=False),
    Column("good", Boolean, nullable=False),
    Column("politeness", Integer, nullable=True),
    Column("proficiency", Integer, nullable=True),
    Column("comment", Text, nullable=False, default="", server_default=""),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("message_pk", name="ux_rating_message"),
    Index("ix_rating_request", "request_id"),
    Index("ix_rating_at", "at"),
    Index("ix_rating_agent", "agent_login", "at"),
    # Covering for the stats: a period's ratings are one index range.
    Index(
        "ix_rating_stats", "at", "good", "politeness", "proficiency", "agent_login", "request_id"
    ),
)


# The morning report of one day (YYYY-MM-DD in the stats time zone): claimed once, so it is
# mailed once whichever process holds the poller lease.
daily_report = Table(
    "daily_report",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("claimed_by", String(200), nullable=False),
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("error", Text, nullable=True),
)


# A trainee's letter, held until a mentor (or an admin) decides: in exactly one state,
# `pending`, `returned` (back to the trainee with `comment`) or `approved` (queued as
# `message_id`, with `final_body` when the reviewer edited it).
review = Table(
    "review",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("request.id"), nullable=False),
    Column("agent_login", String(64), nullable=False),
    Column("mentor_login", String(64), nullable=True),
    Column("state", String(16), nullable=False, default="pending", server_default="pending"),
    Column("body", Text, nullable=False),
    Column("subject", Text, nullable=True),
    Column("cc", Text, nullable=True),
    Column("template_name", String(100), nullable=True),
    Column("template_language", String(16), nullable=True),
    Column("idempotency_key", String(200), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("decided_by", String(64), nullable=True),
    Column("comment", Text, nullable=True),
    Column("final_body", Text, nullable=True),
    Column("message_id", String(998), nullable=True),
    # The letter's attachments (JSON: [{"filename", "content_type", "data": base64}]).
    Column("attachments", Text, nullable=True),
    Index("ix_review_state", "state", "created_at"),
    Index("ix_review_request", "request_id", "agent_login"),
    Index("ix_review_agent", "agent_login", "created_at"),
    Index("ux_review_idempotency", "request_id", "idempotency_key", unique=True),
)


# A sent answer of an agent who is not a trainee, sampled (`[review] sample`) for a quality
# review: `pending` until a reviewer gives it a `score` (1-5), the `rule` it broke and a
# `comment`, which the agent sees.
quality_check = Table(
    "quality_check",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("request.id"), nullable=False),
    Column("message_pk", Integer, ForeignKey("message.id"), nullable=False),
    Column("agent_login", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("state", String(16), nullable=False, default="pending", server_default="pending"),
    Column("score", Integer, nullable=True),
    Column("rule", Text, nullable=True),
    Column("comment", Text, nullable=True),
    Column("reviewer", String(64), nullable=True),
    Column("scored_at", UTCDateTime, nullable=True),
    UniqueConstraint("message_pk", name="ux_quality_check_message"),
    Index("ix_quality_check_state", "state", "created_at"),
    Index("ix_quality_check_agent", "agent_login", "created_at"),
)


# An agent's signature in one language ("" = any language the agent has none for).
agent_signature = Table(
    "agent_signature",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("agent_login", String(64), nullable=False),
    Column("language", String(16), nullable=False, default="", server_default=""),
    Column("text", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("agent_login", "language", name="ux_agent_signature"),
)


# Who has a request open (`viewing`) or is writing an answer to it (`replying`), since when;
# `seen_at` is refreshed while they are there, and a row not seen for a while is stale.
presence = Table(
    "presence",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("request.id"), nullable=False),
    Column("agent_login", String(64), nullable=False),
    Column("activity", String(16), nullable=False),
    Column("since", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    UniqueConstraint("request_id", "agent_login", name="ux_presence"),
    Index("ix_presence_seen", "seen_at"),
)
