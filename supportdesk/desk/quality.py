"""Quality review: a sample of the answers agents who are not trainees send is scored.

`[review] sample` (e.g. 5%) of sent answers go to the quality queue when queued (`sample`,
called by `replies.queue_mail` in its transaction); a reviewer (a mentor or an admin)
scores each 1-5, names the rule it broke and comments; the agent sees it."""

from __future__ import annotations

import hashlib
from datetime import datetime

from supportdesk.config import Settings
from supportdesk.desk.context import DeskContext
from supportdesk.domain.enums import QualityState, Role
from supportdesk.domain.records import AgentRecord, MessageRecord, QualityRecord
from supportdesk.errors import NotFoundError, SupportDeskError
from supportdesk.store import agents as store_agents
from supportdesk.store import messages as store_messages
from supportdesk.store import quality as store
from supportdesk.store.database import Connection
from supportdesk.store.events import add_event

SCORED = "quality_scored"
"""The event of a scored quality check (actor: the reviewer; detail: score, rule, comment)."""


def drawn(message_id: str, share: float) -> bool:
    """Whether the answer with `message_id` falls in a sample of `share` (0..1): a stable
    hash of the Message-ID (the first 8 hex digits of its sha256, as a fraction of 2**32),
    so the same answer is drawn the same way on every run and a retry does not re-draw."""
    if share <= 0:
        return False
    if share >= 1:
        return True
    digest = hashlib.sha256(message_id.encode("utf-8")).hexdigest()
    return int(digest[:8], 16) / 2**32 < share


def sample(
    conn: Connection,
    settings: Settings,
    now: datetime,
    number: int,
    message_pk: int,
    message_id: str,
    agent: str,
) -> bool:
    """Put the answer `message_pk` in the quality queue when it falls in the sample
    (`[review] sample`); True when it does."""
    if not drawn(message_id, settings.review.sample):
        return False
    # No event: the request's timeline says nothing until the answer is scored (a draw by a
    # random Message-ID would otherwise add a line to 5% of answers' timelines at random).
    store.add_check(conn, number, message_pk, agent, now)
    return True


def is_reviewer(conn: Connection, person: AgentRecord | None) -> bool:
    """Any admin and any agent who mentors a trainee scores answers."""
    if person is None or not person.active:
        return False
    return person.role == Role.ADMIN or person.login in store.mentors(conn)


def may_score(conn: Connection, person: AgentRecord | None, check: QualityRecord) -> bool:
    """A reviewer scores anyone's answers but their own."""
    return is_reviewer(conn, person) and person is not None and person.login != check.agent


class QualityService:
    """The quality queue: sampled answers, their scores, what each agent was told."""

    def __init__(self, ctx: DeskContext) -> None:
        self.ctx = ctx

    def get(self, check_id: int) -> QualityRecord:
        with self.ctx.db.read() as conn:
            check = store.get_check(conn, check_id)
        if check is None:
            raise NotFoundError(
                f"no quality check {check_id}: `supportdesk reviews quality` shows them"
            )
        return check

    def is_reviewer(self, login: str) -> bool:
        """Whether `login` scores answers (an admin, or the mentor of a trainee)."""
        with self.ctx.db.read() as conn:
            return is_reviewer(conn, store_agents.get_agent(conn, login))

    def queue(self, reviewer: str | None = None) -> list[QualityRecord]:
        """Sampled answers waiting for a score, oldest first (those `reviewer` may score:
        none unless they are a reviewer, never their own)."""
        pending = (QualityState.PENDING.value,)
        with self.ctx.db.read() as conn:
            if reviewer is None:
                return store.list_checks(conn, states=pending)
            if not is_reviewer(conn, store_agents.get_agent(conn, reviewer)):
                return []
            return store.list_checks(conn, states=pending, exclude_agent=reviewer)

    def pending_count(self, reviewer: str | None = None) -> int:
        with self.ctx.db.read() as conn:
            if reviewer is None:
                return store.pending_count(conn)
            if not is_reviewer(conn, store_agents.get_agent(conn, reviewer)):
                return 0
            return store.pending_count(conn, exclude_agent=reviewer)

    def score(
        self, check_id: int, reviewer: str, score: int, rule: str | None, comment: str
    ) -> QualityRecord:
        """Score a sampled answer 1-5 with the rule it broke (None: none) and a comment;
        once (a compare-and-set), by a mentor or an admin, never the answer's agent."""
        if not 1 <= score <= 5:
            raise SupportDeskError(f"a score is 1 to 5, not {score}")
        rule = (rule or "").strip() or None
        comment = comment.strip()
        if score < 5 and not comment:
            raise SupportDeskError("say what was wrong: a comment is required below 5")
        now = self.ctx.now()
        with self.ctx.db.write() as conn:
            check = store.get_check(conn, check_id)
            if check is None:
                raise NotFoundError(
                    f"no quality check {check_id}: `supportdesk reviews quality` shows them"
                )
            if check.state != QualityState.PENDING:
                raise SupportDeskError(f"check {check_id} was already scored by {check.reviewer}")
            person = store_agents.get_agent(conn, reviewer)
            if person is not None and person.login == check.agent:
                raise SupportDeskError("nobody scores their own answers: ask another reviewer")
            if not may_score(conn, person, check):
                raise SupportDeskError("only an admin or a mentor scores answers")
            done = store.score_check(
                conn, check_id, score=score, rule=rule, comment=comment, reviewer=reviewer, now=now
            )
            if not done:
                fresh = store.get_check(conn, check_id)
                by = fresh.reviewer if fresh is not None else "someone else"
                raise SupportDeskError(f"check {check_id} was already scored by {by}")
            detail = {"check": check_id, "agent": check.agent, "score": score, "rule": rule}
            detail["comment"] = comment
            add_event(conn, check.number, now, SCORED, actor=reviewer, detail=detail)
            found = store.get_check(conn, check_id)
            assert found is not None
            return found

    def checks(
        self, *, agent: str | None = None, states: tuple[str, ...] | None = None
    ) -> list[QualityRecord]:
        """Quality checks newest first: `agent`'s (what the agent sees), in `states`."""
        with self.ctx.db.read() as conn:
            return store.list_checks(conn, states=states, agent=agent, newest_first=True)

    def letters(self, check: QualityRecord) -> tuple[MessageRecord | None, MessageRecord | None]:
        """The sampled answer and the customer's message it answered (the last one before
        it); None where it is not found (e.g. moved by a merge)."""
        with self.ctx.db.read() as conn:
            number = store.request_of_message(conn, check.message_pk) or check.number
            found = store_messages.messages_of(conn, number)
        answer = next((m for m in found if m.pk == check.message_pk), None)
        before = [m for m in found if m.direction == "in" and m.pk < check.message_pk]
        return answer, before[-1] if before else None
