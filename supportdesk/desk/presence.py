"""Who else is at a request: the collision warning.

The console says it is there (`here`) when a request or reply screen opens and again every
`HEARTBEAT` while it stays open, and leaves when the screen closes. Others are listed while
their last heartbeat is younger than `STALE`, so a console that crashed stops warning by
itself. Presence is not part of a request's history: it writes no timeline event."""

from __future__ import annotations

from datetime import timedelta

from supportdesk.desk.context import DeskContext
from supportdesk.domain.enums import Activity
from supportdesk.domain.records import PresenceRecord
from supportdesk.errors import NotFoundError
from supportdesk.store import presence as store

HEARTBEAT = timedelta(seconds=15)
"""How often an open screen says it is still there."""
STALE = timedelta(seconds=45)
"""After this long without a heartbeat, someone is no longer counted as there."""


class PresenceService:
    """Heartbeats, leaving, and who else is at a request."""

    def __init__(self, ctx: DeskContext) -> None:
        self.ctx = ctx

    def here(self, number: int, agent: str, activity: Activity | str) -> None:
        """`agent` is at request `number`, `viewing` it or `replying` to it (a heartbeat:
        one upsert; `since` stays while the activity does)."""
        activity = Activity(activity)
        now = self.ctx.now()
        with self.ctx.db.write() as conn:
            found = store.touch(conn, number, agent, activity.value, now, now - STALE)
        if not found:
            raise NotFoundError(f"no request #{number}")

    def leave(self, number: int, agent: str) -> None:
        """`agent` closed request `number` (nothing happens when they were not there)."""
        with self.ctx.db.write() as conn:
            store.leave(conn, number, agent)

    def others(self, number: int, agent: str) -> list[PresenceRecord]:
        """Who but `agent` is at request `number` now: replying before viewing, each the
        earliest first."""
        with self.ctx.db.read() as conn:
            return store.at_request(conn, number, self.ctx.now() - STALE, besides=agent)

    def replying(self, numbers: list[int], agent: str) -> dict[int, list[str]]:
        """Of requests `numbers`, who but `agent` is replying to each now (one query)."""
        with self.ctx.db.read() as conn:
            return store.replying(conn, numbers, self.ctx.now() - STALE, besides=agent)
