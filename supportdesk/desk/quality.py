"""Quality review: a sample of the answers agents who are not trainees send is scored.

`[review] sample` (e.g. 5%) of sent answers go to the quality queue when queued (`sample`,
called by `replies.queue_mail` in its transaction); a reviewer (a mentor or an admin)
scores each 1-5, names the rule it broke and comments; the agent sees it."""

from __future__ import annotations

from datetime import datetime

from supportdesk.config import Settings
from supportdesk.desk.context import DeskContext
from supportdesk.domain.records import QualityRecord
from supportdesk.store.database import Connection


def sample(
    conn: Connection,
    settings: Settings,
    now: datetime,
    number: int,
    message_pk: int,
    message_id: str,
    agent: str,
) -> bool:
    """Put the answer `message_pk` in the quality queue when it falls in the sample;
    True when it does. TODO(issue 19, quality helper)."""
    return False


class QualityService:
    """The quality queue: sampled answers, their scores, what each agent was told."""

    def __init__(self, ctx: DeskContext) -> None:
        self.ctx = ctx

    def queue(self, reviewer: str | None = None) -> list[QualityRecord]:
        """Sampled answers waiting for a score, oldest first (those `reviewer` may score)."""
        raise NotImplementedError

    def pending_count(self, reviewer: str | None = None) -> int:
        raise NotImplementedError

    def score(
        self, check_id: int, reviewer: str, score: int, rule: str | None, comment: str
    ) -> QualityRecord:
        """Score a sampled answer 1-5 with the rule it broke (None: none) and a comment;
        once (a compare-and-set), by a mentor or an admin, never the answer's agent."""
        raise NotImplementedError

    def checks(
        self, *, agent: str | None = None, states: tuple[str, ...] | None = None
    ) -> list[QualityRecord]:
        """Quality checks newest first: `agent`'s (what the agent sees), in `states`."""
        raise NotImplementedError
