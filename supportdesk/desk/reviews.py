"""Trainees' letters reviewed by a mentor before they go out.

A trainee's answer is held (`hold`, called by `replies.reply` inside its transaction): the
letter is a `review` row in state pending and the request leaves the stack (status
`review`). The trainee's mentor, or any admin, then decides once:

- approve: the letter (or the reviewer's edit of it) is queued to the customer as the
  trainee's answer, in the same transaction that marks the review approved;
- return with a comment: the request goes back on top of the trainee's stack (`returned`,
  assigned to them) and their draft holds the letter again.

A letter is in exactly one state: the decision is a compare-and-set on `pending`, so two
reviewers deciding at once decide it once (the other is told who was first)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from supportdesk.desk import attachments as files
from supportdesk.desk.context import DeskContext
from supportdesk.desk.requests import write_note
from supportdesk.domain import lifecycle
from supportdesk.domain.enums import ReviewState, Role
from supportdesk.domain.records import (
    AgentRecord,
    HeldLetter,
    MessageRecord,
    ReplyAttachment,
    RequestRecord,
    ReviewRecord,
)
from supportdesk.errors import NotFoundError, SupportDeskError
from supportdesk.store import agents as store_agents
from supportdesk.store import messages as msgs
from supportdesk.store import requests as reqs
from supportdesk.store import reviews as store
from supportdesk.store.database import Connection
from supportdesk.store.drafts import drop_draft, save_draft
from supportdesk.store.events import add_event

HELD, APPROVED, RETURNED = "review_held", "review_approved", "review_returned"
"""The events of a letter's review."""


def hold(
    conn: Connection,
    now: datetime,
    request: RequestRecord,
    agent: AgentRecord,
    body: str,
    *,
    subject: str | None,
    cc: list[str] | None,
    template: str | None,
    template_language: str | None,
    idempotency_key: str | None,
    attachments: list[ReplyAttachment] | None = None,
) -> HeldLetter:
    """Hold trainee `agent`'s answer to `request` for review (inside the reply's write
    transaction): the same idempotency key again holds nothing new. Its `attachments` are
    kept with it (review.attachments) and go out on approval."""
    number = request.number
    if idempotency_key is not None:
        found = store.by_idempotency_key(conn, number, idempotency_key)
        if found is not None:
            return HeldLetter(found)
    try:
        review_id = store.insert_review(
            conn,
            number=number,
            agent=agent.login,
            mentor=agent.mentor,
            body=body,
            subject=subject,
            cc=cc,
            template=template,
            template_language=template_language,
            idempotency_key=idempotency_key,
            now=now,
            attachments=files.to_json(attachments or []),
        )
    except store.KeyTaken as taken:  # a concurrent retry with the same key held it first
        return HeldLetter(taken.review_id)
    reqs.update_request(conn, number, **lifecycle.held_for_review(now))
    detail = {"review": review_id, "mentor": agent.mentor}
    add_event(conn, number, now, HELD, actor=agent.login, detail=detail)
    drop_draft(conn, number, agent.login)  # the letter is the review's now
    return HeldLetter(review_id)


def may_review(reviewer: AgentRecord | None, review: ReviewRecord) -> bool:
    """The trainee's mentor and any admin review a letter; nobody reviews their own."""
    if reviewer is None or not reviewer.active or reviewer.login == review.agent:
        return False
    return reviewer.role == Role.ADMIN or reviewer.login == review.mentor


def letter_diff(review: ReviewRecord) -> list[str]:
    """What the reviewer changed in the trainee's letter, as unified diff lines (empty when
    approved as written)."""
    if not review.edited or review.final_body is None:
        return []
    return list(
        difflib.unified_diff(
            review.body.splitlines(),
            review.final_body.splitlines(),
            fromfile=f"{review.agent} wrote",
            tofile=f"{review.decided_by} sent",
            lineterm="",
        )
    )


class ReviewService:
    """The review queue: hold, list, approve (as written or edited), return."""

    def __init__(self, ctx: DeskContext) -> None:
        self.ctx = ctx

    # -- reading ------------------------------------------------------------------------

    def _late(self, review: ReviewRecord, now: datetime) -> ReviewRecord:
        review.overdue = (
            review.state == ReviewState.PENDING
            and now - review.created_at > self.ctx.settings.review.max_wait
        )
        return review

    def get(self, review_id: int) -> ReviewRecord:
        with self.ctx.db.read() as conn:
            review = store.get_review(conn, review_id)
        if review is None:
            raise NotFoundError(f"no review {review_id}: `supportdesk reviews list` shows them")
        return self._late(review, self.ctx.now())

    def queue(self, reviewer: str | None = None) -> list[ReviewRecord]:
        """Pending letters, late ones (past `[review] max_wait`) pinned on top, then oldest
        first: those `reviewer` may decide (their trainees'; an admin's: all), or all."""
        now = self.ctx.now()
        with self.ctx.db.read() as conn:
            found = store.list_reviews(conn)
            if reviewer is not None:
                person = store_agents.get_agent(conn, reviewer)
                found = [r for r in found if may_review(person, r)]
        found = [self._late(r, now) for r in found]
        return sorted(found, key=lambda r: (not r.overdue, r.created_at, r.id))

    def pending_count(self, reviewer: str | None = None) -> int:
        return len(self.queue(reviewer))

    def letters(
        self,
        *,
        agent: str | None = None,
        number: int | None = None,
        states: tuple[str, ...] | None = None,
    ) -> list[ReviewRecord]:
        """Letters of any state, oldest first: `agent`'s, request `number`'s."""
        now = self.ctx.now()
        with self.ctx.db.read() as conn:
            found = store.list_reviews(
                conn, states=states, agents=[agent] if agent else None, number=number
            )
        return [self._late(r, now) for r in found]

    def customer_messages(self, numbers: Iterable[int]) -> dict[int, MessageRecord | None]:
        """The customer's latest message on each request (what its letter answers), by
        request number: one read, whatever the size of the queue."""
        with self.ctx.db.read() as conn:
            return {number: msgs.last_inbound(conn, number) for number in set(numbers)}

    def returned_for(self, number: int, agent: str) -> ReviewRecord | None:
        """`agent`'s letter on request `number` that came back with a comment and was not
        sent again since: the reply screen shows the comment above the draft."""
        with self.ctx.db.read() as conn:
            latest = store.latest_for(conn, number, agent)
        return latest if latest is not None and latest.state == ReviewState.RETURNED else None

    # -- deciding -----------------------------------------------------------------------

    def _pending(self, conn: Connection, review_id: int, reviewer: str) -> ReviewRecord:
        review = store.get_review(conn, review_id)
        if review is None:
            raise NotFoundError(f"no review {review_id}: `supportdesk reviews list` shows them")
        if review.state != ReviewState.PENDING:
            by = f" by {review.decided_by}" if review.decided_by else ""
            raise SupportDeskError(f"review {review_id} was {review.state}{by} already")
        person = store_agents.get_agent(conn, reviewer)
        if not may_review(person, review):
            who = f"{review.mentor} (the mentor) or an admin" if review.mentor else "an admin"
            raise SupportDeskError(f"only {who} may review {review.agent}'s letters")
        return review

    def _decided(self, conn: Connection, review: ReviewRecord, state: str, **values: Any) -> None:
        if not store.decide(conn, review.id, state, self.ctx.now(), **values):
            fresh = store.get_review(conn, review.id)
            by = f" by {fresh.decided_by}" if fresh and fresh.decided_by else ""
            now_state = fresh.state if fresh else "gone"
            raise SupportDeskError(f"review {review.id} was {now_state}{by} meanwhile")

    def approve(self, review_id: int, reviewer: str, body: str | None = None) -> str:
        """Queue the letter to the customer as the trainee's answer, as written or as
        `body` (the reviewer's edit; the trainee sees the difference). Returns the
        Message-ID. Refused (one line) when it was decided already or `reviewer` is neither
        the mentor nor an admin."""
        from supportdesk.desk.replies import queue_mail, record_template_use

        if body is not None and not body.strip():
            raise SupportDeskError("the edited letter is empty")
        now = self.ctx.now()
        with self.ctx.db.write() as conn:
            review = self._pending(conn, review_id, reviewer)
            final = body if body is not None and body.rstrip() != review.body.rstrip() else None
            self._decided(conn, review, ReviewState.APPROVED, by=reviewer, final_body=final)
            request = reqs.get_request(conn, review.number)
            if request is None:
                raise NotFoundError(f"request #{review.number} does not exist")
            reminder = lifecycle.answer_is_reminder(request.status, request.reason)
            message_id = queue_mail(
                conn,
                self.ctx.settings,
                now,
                request,
                final if final is not None else review.body,
                kind="reply",
                agent_login=review.agent,
                subject=review.subject,
                cc=review.cc,
                ask=not reminder,
                answer_event=True,
                attachments=files.from_json(store.review_attachments(conn, review.id)),
            )
            store.set_message(conn, review.id, message_id)
            from supportdesk.store import items

            item_open = request.item is not None and items.is_open(conn, request.item)
            change = lifecycle.answered(
                request.status, request.reason, request.reminder_count, now, item_open=item_open
            )
            reqs.update_request(conn, review.number, **change)
            detail: dict[str, Any] = {"message_id": message_id, "review": review.id}
            if review.template is not None:
                used = record_template_use(
                    conn, now, request, review.agent, review.template, review.template_language
                )
                if used is not None:
                    detail["template"] = used
            if reminder:
                detail["reminder"] = change["reminder_count"]
            kind = "reminder" if reminder else "reply"
            add_event(conn, review.number, now, kind, actor=review.agent, detail=detail)
            decision = {"review": review.id, "agent": review.agent, "edited": final is not None}
            add_event(conn, review.number, now, APPROVED, actor=reviewer, detail=decision)
            if final is not None:  # the trainee sees what was changed, in the thread
                review.final_body, review.decided_by = final, reviewer
                diff = "\n".join(letter_diff(review))
                note = f"Approved {review.agent}'s letter with edits:\n{diff}"
                write_note(conn, self.ctx.settings, request, note, reviewer, now)
            return message_id

    def return_letter(self, review_id: int, reviewer: str, comment: str) -> ReviewRecord:
        """Send the letter back to the trainee with `comment` (required): the request goes
        on top of their stack (`returned`, assigned to them) and their draft holds the
        letter again, with the comment shown above it."""
        comment = comment.strip()
        if not comment:
            raise SupportDeskError("say what to change: the comment is required")
        now = self.ctx.now()
        with self.ctx.db.write() as conn:
            review = self._pending(conn, review_id, reviewer)
            self._decided(conn, review, ReviewState.RETURNED, by=reviewer, comment=comment)
            reqs.update_request(conn, review.number, **lifecycle.returned(review.agent, now))
            save_draft(conn, review.number, review.agent, review.body, review.template, now)
            detail = {"review": review.id, "agent": review.agent, "comment": comment}
            add_event(conn, review.number, now, RETURNED, actor=reviewer, detail=detail)
            request = reqs.get_request(conn, review.number)
            if request is not None:
                note = f"Returned to {review.agent}: {comment}"
                write_note(conn, self.ctx.settings, request, note, reviewer, now)
            found = store.get_review(conn, review.id)
            assert found is not None
            return found
