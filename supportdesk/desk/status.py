"""How the desk is doing: today's numbers, the mailbox, the outbox and the database's health."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from supportdesk.desk.context import DeskContext
from supportdesk.store import outbox, stats
from supportdesk.store.stats import MailboxStatus, TodayStats


class StatusService:
    def __init__(self, ctx: DeskContext) -> None:
        self.ctx = ctx

    def today(self) -> TodayStats:
        """Today's numbers, since midnight in the machine's local time zone."""
        local = self.ctx.now().astimezone()
        midnight = datetime.combine(local.date(), time()).astimezone()  # DST-aware offset
        with self.ctx.db.read() as conn:
            return stats.today(conn, midnight)

    def mailbox_status(self) -> MailboxStatus:
        with self.ctx.db.read() as conn:
            return stats.mailbox_status(conn, self.ctx.settings.mailbox.kind)

    def outbox_counts(self) -> dict[str, int]:
        with self.ctx.db.read() as conn:
            return outbox.counts(conn)

    def outbox_pending(self) -> dict[str, int]:
        """Queued and failed outgoing mail (what the console's header shows)."""
        with self.ctx.db.read() as conn:
            return outbox.pending_counts(conn)

    def check(
        self, *, full: bool = False, repair: bool = False, pages_checked: bool = False
    ) -> list[Any]:
        """The database's health: integrity, the search index, the outbox, the poller. With
        `repair`, a search index out of step is rebuilt (then checked again). With
        `pages_checked`, SQLite's page check was just run (store.recovery.diagnose)."""
        from supportdesk.desk.tick import POLLER_LEASE
        from supportdesk.store import maintenance as m

        db = self.ctx.db
        now = self.ctx.now()
        with db.read() as conn:
            found = [m.integrity(conn, full, pages_checked), m.full_text(conn)]
        if repair and found[1].status == "fail":
            with db.write() as conn:
                m.rebuild_full_text(conn)
            with db.read() as conn:
                found[1] = m.full_text(conn)
                found[1].detail += " (rebuilt)"
        with db.read() as conn:
            found += [m.outbox(conn, now), m.poller(conn, now, POLLER_LEASE)]
            if self.ctx.settings.stats.daily_report:
                from supportdesk.desk.report import MOST_TRIES
                from supportdesk.store import reports

                found.append(reports.check(conn, MOST_TRIES))
        return found
