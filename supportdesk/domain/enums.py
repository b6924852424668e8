"""The fixed sets of words the desk is made of. Each is a `StrEnum`: a member *is* its string,
so the database, JSON and comparisons with plain strings keep working unchanged."""

from __future__ import annotations

from enum import StrEnum


class RequestStatus(StrEnum):
    """Where a request is in its life cycle (DESIGN.md §1)."""

    NEW = "new"
    """First customer message arrived; on the stack."""
    OPEN = "open"
    """Pushed back on the stack: the customer wrote again, a follow-up is due, …"""
    WAITING = "waiting"
    """An agent replied; waiting for the customer."""
    LINKED = "linked"
    """Turned into (or attached to) a bug or story; waits for the fix."""
    REVIEW = "review"
    """A trainee answered; the letter waits for their mentor (off the stack, not sent)."""
    CLOSED = "closed"


ON_STACK: tuple[RequestStatus, ...] = (RequestStatus.NEW, RequestStatus.OPEN)
"""The statuses of requests on the stack."""


class Reason(StrEnum):
    """Why a request last moved: a push onto the stack, or what took it off."""

    NEW = "new"
    CUSTOMER_REPLY = "customer_reply"
    FOLLOW_UP = "follow_up"
    DELIVERY_FAILED = "delivery_failed"
    FIXED = "fixed"
    WONT_DO = "wont_do"
    REOPENED = "reopened"
    ANSWERED = "answered"
    LINKED = "linked"
    IDEA = "idea"
    ESCALATED = "escalated"
    """Moved up to a higher line (second line, …) with an internal note."""
    HANDED_BACK = "handed_back"
    """Handed back down to the line it came from (or the first) with an internal note."""
    RETURNED = "returned"
    """A mentor returned the trainee's letter with a comment: back on the trainee's stack."""
    SNOOZED = "snoozed"
    """The agent snoozed it after answering; the time came and the customer had not written."""


PUSH_REASONS: tuple[Reason, ...] = (
    Reason.NEW,
    Reason.CUSTOMER_REPLY,
    Reason.FOLLOW_UP,
    Reason.DELIVERY_FAILED,
    Reason.FIXED,
    Reason.WONT_DO,
    Reason.REOPENED,
    Reason.ESCALATED,
    Reason.HANDED_BACK,
    Reason.RETURNED,
    Reason.SNOOZED,
)
"""The reasons that put a request on the stack (the console's badges)."""


class CloseReason(StrEnum):
    RESOLVED = "resolved"
    NO_REPLY = "no_reply"
    IDEA = "idea"
    SPAM = "spam"
    DUPLICATE = "duplicate"
    OTHER = "other"
    IMPORTED = "imported"
    """Closed history brought in by `supportdesk import`; never chosen by an agent."""


CLOSE_REASONS: tuple[CloseReason, ...] = tuple(
    r for r in CloseReason if r is not CloseReason.IMPORTED
)
"""The reasons an agent may close a request with."""


class ItemKind(StrEnum):
    BUG = "bug"
    IDEA = "idea"
    STORY = "story"


class ItemStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    FIXED = "fixed"
    DONE = "done"
    WONT_DO = "wont_do"


OPEN_ITEM_STATUSES: tuple[ItemStatus, ...] = (ItemStatus.OPEN, ItemStatus.IN_PROGRESS)
SHIPPED: tuple[ItemStatus, ...] = (ItemStatus.FIXED, ItemStatus.DONE)
"""Statuses that tell the customers waiting on the item."""


class Priority(StrEnum):
    """How soon a request needs an answer; `urgent` is pinned above the LIFO order."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


PRIORITIES: tuple[Priority, ...] = tuple(Priority)
"""Most urgent first."""


class Role(StrEnum):
    AGENT = "agent"
    ADMIN = "admin"


class TemplateScope(StrEnum):
    """Whose a template is; by name an agent gets their personal one, else the team's, else
    the system one."""

    SYSTEM = "system"
    TEAM = "team"
    PERSONAL = "personal"


class Direction(StrEnum):
    """Which way a message went: from a customer, from us, or an internal note."""

    IN = "in"
    OUT = "out"
    NOTE = "note"


class ReviewState(StrEnum):
    """Where a trainee's letter is: in exactly one of these."""

    PENDING = "pending"
    """Waits for the mentor (or an admin)."""
    RETURNED = "returned"
    """Back to the trainee with a comment; their draft holds it again."""
    APPROVED = "approved"
    """Queued to the customer (as written, or as the reviewer edited it)."""


class QualityState(StrEnum):
    """A sampled answer's quality review."""

    PENDING = "pending"
    SCORED = "scored"


class Activity(StrEnum):
    """What an agent is doing at a request (the collision warning)."""

    VIEWING = "viewing"
    REPLYING = "replying"
