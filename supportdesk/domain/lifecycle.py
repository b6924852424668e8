"""The request life cycle as pure functions: what an event does to a request.

Each function takes what it needs to know about the request and returns the columns to set
(a plain dict, `Change`). It is the one place a rule is decided; the store applies the result,
either for one request or as the target values of a conditional UPDATE that also checks the
rule's condition (the follow-up rules, pushing an item's requests back), so what must stay one
atomic statement on PostgreSQL still is, while its outcome is written only here.

| event                                  | status          | reason                 |
|----------------------------------------|-----------------|------------------------|
| first customer message                 | new             | new                    |
| customer writes again                  | open            | customer_reply/reopened|
| our mail bounced or failed             | open            | delivery_failed        |
| an agent answers                       | waiting (linked)| answered (linked)      |
| silence after an answer                | open            | follow_up              |
| silence after the last reminder        | closed          | (close_reason no_reply)|
| an agent closes                        | closed          | (close_reason given)   |
| linked to a bug or story / an idea     | linked / closed | linked / idea          |
| its item ships / is dropped            | open            | fixed / wont_do        |
| escalated / handed back to a line      | open            | escalated / handed_back|
| a trainee answers                      | review          | review                 |
| the mentor approves the letter         | (as an answer)  | (as an answer)         |
| the mentor returns the letter          | open            | returned               |
| a snooze ends, the customer silent     | open            | snoozed                |

Standard library only; the strings equal the values stored in the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from supportdesk.domain.enums import CLOSE_REASONS as _CLOSE_REASONS
from supportdesk.domain.enums import ON_STACK as _ON_STACK
from supportdesk.domain.enums import SHIPPED as _SHIPPED
from supportdesk.domain.enums import CloseReason, Reason, RequestStatus

Change = dict[str, Any]
"""Columns of a request to set, by name."""

NEW, OPEN, WAITING = RequestStatus.NEW, RequestStatus.OPEN, RequestStatus.WAITING
LINKED, CLOSED = RequestStatus.LINKED, RequestStatus.CLOSED
REVIEW = RequestStatus.REVIEW
STATUSES = tuple(RequestStatus)
ON_STACK = _ON_STACK
"""The statuses that put a request on the stack."""

OWNED = (NEW, OPEN, WAITING, LINKED, REVIEW)
"""The statuses in which an owner (assignee) still has a request: the "mine" view lists these,
and a disabled agent's requests in them go back to the line."""

CUSTOMER_REPLY = Reason.CUSTOMER_REPLY
DELIVERY_FAILED = Reason.DELIVERY_FAILED
REOPENED = Reason.REOPENED
FOLLOW_UP = Reason.FOLLOW_UP
FIXED = Reason.FIXED
WONT_DO = Reason.WONT_DO
ANSWERED = Reason.ANSWERED
IDEA = Reason.IDEA
NO_REPLY = CloseReason.NO_REPLY
IMPORTED = CloseReason.IMPORTED

CLOSE_REASONS = _CLOSE_REASONS
"""Why an agent (or the tick: no_reply) may close a request."""

SHIPPED = _SHIPPED
"""Item statuses that mean the work shipped: its customers are told."""

_UNCLAIMED: Change = {"claimed_by": None, "claimed_until": None}
_NOT_CLOSED: Change = {"closed_at": None, "close_reason": None}


def on_stack(status: str) -> bool:
    return status in ON_STACK


def created(at: datetime, now: datetime, *, history: bool = False) -> Change:
    """A first message makes a request: `new` on the stack (pushed when the message was
    written, `at`); imported history is closed at once (`imported`) and waits for nobody."""
    return {
        "status": CLOSED if history else NEW,
        "reason": NEW,
        "reminder_count": 0,
        "pushed_at": at,
        "updated_at": now,
        "closed_at": now if history else None,
        "close_reason": IMPORTED if history else None,
        "snoozed_until": None,
    }


def message_arrived(status: str, reason: str, at: datetime, now: datetime) -> Change:
    """A message about the request arrived: the customer wrote again (`customer_reply`) or
    our mail to them bounced (`delivery_failed`). Either way it goes back on the stack; a
    customer's message reopens a closed request (`reopened`) and resets the reminders; an
    open request is never left with a close reason."""
    if reason not in (CUSTOMER_REPLY, DELIVERY_FAILED):
        raise ValueError(f"not a reason a message pushes with: {reason!r}")
    if reason == CUSTOMER_REPLY and status == CLOSED:
        reason = REOPENED
    change: Change = {
        "status": OPEN,
        "reason": reason,
        "pushed_at": at,
        "updated_at": now,
        **_NOT_CLOSED,
        "snoozed_until": None,  # the customer wrote first: the snooze is over
    }
    if reason != DELIVERY_FAILED:
        change["reminder_count"] = 0
    return change


def delivery_failed(now: datetime) -> Change:
    """Mail to the customer cannot be delivered (the outbox gave up): an agent must look
    again. The same push as a bounce that comes back by mail."""
    return message_arrived(OPEN, DELIVERY_FAILED, now, now)


def answer_is_reminder(status: str, reason: str) -> bool:
    """Answering a request pushed back as a follow-up is a reminder: after max_reminders of
    them, silence closes it."""
    return reason == FOLLOW_UP and status in (*ON_STACK, REVIEW)


def answered(
    status: str, reason: str, reminder_count: int, now: datetime, *, item_open: bool = False
) -> Change:
    """An agent's answer takes the request off the stack: it waits for the customer, or,
    linked to an item still being worked on, for the fix (`linked`). A closed request
    answered is open again (waiting). Its claim ends."""
    reminder = answer_is_reminder(status, reason)
    return {
        "status": LINKED if item_open else WAITING,
        "reason": LINKED if item_open else ANSWERED,
        "reminder_count": reminder_count + 1 if reminder else reminder_count,
        "updated_at": now,
        "snoozed_until": None,  # a new answer starts a new wait (send-and-snooze sets it after)
        **_UNCLAIMED,
        **_NOT_CLOSED,
    }


def closed(reason: str, now: datetime) -> Change:
    """Closed by an agent (or `no_reply` by the tick): off the stack, the claim ends; a
    later customer message reopens it."""
    return {
        "status": CLOSED,
        "close_reason": reason,
        "closed_at": now,
        "updated_at": now,
        "snoozed_until": None,
        **_UNCLAIMED,
    }


SNOOZABLE = (WAITING,)
"""A request may be snoozed while it waits for the customer (answered, or just answered)."""


def snooze_refusal(number: int, status: str) -> str | None:
    """Why request `number` may not be snoozed (None: it may)."""
    if status in SNOOZABLE:
        return None
    return (
        f"#{number} is {status}, not waiting for the customer: answer it and snooze it with "
        "the answer (f9 in the reply screen, or requests reply N --snooze UNTIL)"
    )


def snoozed(until: datetime | None, now: datetime) -> Change:
    """Snoozed until `until` (None: the snooze is cleared): it keeps waiting, and comes
    back on top then unless the customer writes first; follow-ups wait meanwhile."""
    return {"snoozed_until": until, "updated_at": now}


def snooze_ended(now: datetime) -> Change:
    """The snooze time came and the customer had not written: back on top (`snoozed`)."""
    return {
        "status": OPEN,
        "reason": Reason.SNOOZED,
        "pushed_at": now,
        "updated_at": now,
        "snoozed_until": None,
    }


def follow_up(now: datetime, reminder_count: int | None = None) -> Change:
    """A waiting request whose customer stayed silent comes back on the stack for a
    reminder (`reminder_count`: only when it changes)."""
    change: Change = {"status": OPEN, "reason": FOLLOW_UP, "pushed_at": now, "updated_at": now}
    if reminder_count is not None:
        change["reminder_count"] = reminder_count
    return change


def reminder_template(count: int) -> str:
    """The workflow template for reminder number `count`: the first repeats the last answer,
    later ones ask whether all is well."""
    return "reminder_1" if count <= 1 else "reminder_2"


def linked(item_kind: str, item_status: str, now: datetime) -> Change:
    """Turned into or attached to an item: a bug or story keeps the request `linked` until
    it ships; an idea closes it (`idea`); an item that already shipped makes the request an
    answered one (the customer is told it is fixed). Reminders start over; the claim ends."""
    status: RequestStatus
    reason: Reason
    close_reason: CloseReason | None
    if item_status in SHIPPED:
        status, reason, close_reason = WAITING, ANSWERED, None
    elif item_kind == IDEA:
        status, reason, close_reason = CLOSED, Reason.IDEA, CloseReason.IDEA
    else:
        status, reason, close_reason = LINKED, Reason.LINKED, None
    return {
        "status": status,
        "reason": reason,
        "updated_at": now,
        **_UNCLAIMED,
        "closed_at": now if status == CLOSED else None,
        "close_reason": close_reason,
        "reminder_count": 0,
    }


def waits_on_item(status: str, close_reason: str | None) -> bool:
    """Whether a linked request's customer still waits for the item: told "we will write
    when it is fixed" (linked, or closed as an idea), or back on the stack and not answered."""
    return status in (LINKED, *ON_STACK) or (status == CLOSED and close_reason == IDEA)


def item_push(old_status: str, new_status: str) -> tuple[str, bool] | None:
    """Which of an item's requests a status change puts back on the stack, and why:
    shipping (fixed or done, not already shipped) pushes every waiting customer's request
    (`fixed`, False); wont_do pushes the `linked` ones (`wont_do`, True: linked only) so an
    agent tells them. None: nobody is pushed."""
    if new_status == old_status:
        return None
    if new_status in SHIPPED:
        return None if old_status in SHIPPED else (FIXED, False)
    if new_status == WONT_DO:
        return (WONT_DO, True)
    return None


def item_pushed(reason: str, now: datetime) -> Change:
    """A request pushed back by its item (`fixed` or `wont_do`): open, reminders start over,
    a request closed as an idea is open again."""
    return {
        "status": OPEN,
        "reason": reason,
        "pushed_at": now,
        "updated_at": now,
        **_NOT_CLOSED,
        "reminder_count": 0,
    }


def merged(into: int, now: datetime) -> Change:
    """Merged into request `into` as a duplicate: closed `duplicate`, pointing there (later
    replies to it join `into`); its claim ends."""
    return {**closed(CloseReason.DUPLICATE, now), "merged_into": into}


def merge_target(source_status: str, target_status: str, now: datetime) -> Change:
    """What a merge does to the request that receives a duplicate: its status stays, unless
    the duplicate was on the stack (its customer waits for an answer) and it is not; then it
    goes on top of the stack as if the customer wrote again (`customer_reply`, or `reopened`
    when it was closed)."""
    if source_status in ON_STACK and target_status not in ON_STACK:
        return message_arrived(target_status, CUSTOMER_REPLY, now, now)
    return {}


def merge_refusal(
    source: int, target: int, source_merged_into: int | None, target_merged_into: int | None
) -> str | None:
    """Why request `source` may not be merged into `target` (None: it may)."""
    if source == target:
        return f"cannot merge #{source} into itself: give another request's number"
    if source_merged_into is not None:
        return f"#{source} is already merged into #{source_merged_into}"
    if target_merged_into is not None:
        return (
            f"#{target} is itself merged into #{target_merged_into}: "
            f"merge #{source} into #{target_merged_into} instead"
        )
    return None


def line_moved(reason: str, to_line: int, now: datetime, *, assignee: str | None = None) -> Change:
    """Escalated up to line `to_line` (`escalated`) or handed back down to it
    (`handed_back`): on top of that line's stack (open, pushed now), the claim ends, and the
    request is assigned to `assignee` (an escalation to a named agent; None: nobody). The
    customer is told nothing: only an internal note goes with it."""
    if reason not in (Reason.ESCALATED, Reason.HANDED_BACK):
        raise ValueError(f"not a reason a request changes line with: {reason!r}")
    if to_line < 1:
        raise ValueError(f"no line {to_line}")
    return {
        "status": OPEN,
        "reason": reason,
        "line": to_line,
        "assignee": assignee,
        "pushed_at": now,
        "updated_at": now,
        **_UNCLAIMED,
        **_NOT_CLOSED,
    }


def escalation_target(
    current: int, to_line: int | None = None, agent_line: int | None = None
) -> int:
    """The line an escalation goes to: the agent's line (escalated to a named agent), the
    line asked for, or the next one up. ValueError (one line, what to do) unless higher."""
    target = agent_line if agent_line is not None else to_line
    target = current + 1 if target is None else target
    if target <= current:
        raise ValueError(
            f"it is on line {current} already and escalating moves it up (to line "
            f"{current + 1} or higher); to move it down, hand it back"
        )
    return target


def handback_target(current: int, came_from: int | None) -> int:
    """The line a hand-back goes to: the one the last escalation came from (when lower),
    else the first."""
    if current <= 1:
        raise ValueError("it is on line 1 already: there is no line to hand it back to")
    return came_from if came_from is not None and 1 <= came_from < current else 1


def held_for_review(now: datetime) -> Change:
    """A trainee answered: the letter waits for the mentor, so the request leaves the stack
    (status `review`) without being answered: no first answer yet, no follow-up clock, and
    the SLA keeps counting. The claim ends; the reason stays (a follow-up answered after
    review is a reminder)."""
    return {"status": REVIEW, "updated_at": now, **_UNCLAIMED}


def returned(trainee: str, now: datetime) -> Change:
    """The mentor returned a trainee's letter: back on top of the stack (`returned`),
    assigned to the trainee, who rewrites it."""
    return {
        "status": OPEN,
        "reason": Reason.RETURNED,
        "assignee": trainee,
        "pushed_at": now,
        "updated_at": now,
        **_UNCLAIMED,
        **_NOT_CLOSED,
    }
