"""The daily report's rows: one per day, claimed by one statement so it is mailed once even
when two processes reach it, retried while it fails, given up after a few tries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select, update

from supportdesk.store import tables as t

if TYPE_CHECKING:
    from supportdesk.store.maintenance import Check

_r = t.daily_report
_TRIES = re.compile(r"^try (\d+)/\d+: ")


@dataclass(slots=True)
class ReportRow:
    day: str
    claimed_by: str
    claimed_at: datetime
    sent_at: datetime | None
    error: str | None

    @property
    def tries(self) -> int:
        """Failed tries so far (kept at the head of `error`: "try 3/10: ...")."""
        match = _TRIES.match(self.error or "")
        return int(match.group(1)) if match else 0


def get(conn: Connection, day: str) -> ReportRow | None:
    row = conn.execute(
        select(_r.c.day, _r.c.claimed_by, _r.c.claimed_at, _r.c.sent_at, _r.c.error).where(
            _r.c.day == day
        )
    ).first()
    return ReportRow(*row) if row is not None else None


def claim(conn: Connection, day: str, holder: str, now: datetime) -> bool:
    """Claim the report of `day` for `holder`: True when this insert made the row (whoever
    inserts second gets False and sends nothing)."""
    stmt = t.upsert(conn, _r).values(day=day, claimed_by=holder, claimed_at=now)
    return bool(conn.execute(stmt.on_conflict_do_nothing(index_elements=[_r.c.day])).rowcount)


def reclaim(conn: Connection, row: ReportRow, holder: str, now: datetime) -> bool:
    """Take an unsent report over for another try: a compare-and-set on the claim it had, so
    two processes never both retry it."""
    done = conn.execute(
        update(_r)
        .where(_r.c.day == row.day, _r.c.sent_at.is_(None), _r.c.claimed_at == row.claimed_at)
        .values(claimed_by=holder, claimed_at=now)
    ).rowcount
    return bool(done)


def mark_sent(conn: Connection, day: str, now: datetime) -> None:
    conn.execute(update(_r).where(_r.c.day == day).values(sent_at=now, error=None))


def mark_failed(conn: Connection, day: str, tries: int, most: int, error: str) -> None:
    """Record the failed try (the count heads the text, as `ReportRow.tries` reads it)."""
    text = f"try {tries}/{most}: {' '.join(error.split())[:500]}"
    conn.execute(update(_r).where(_r.c.day == day).values(error=text))


def latest(conn: Connection) -> ReportRow | None:
    """The most recent day's report (for `db check`)."""
    row = conn.execute(
        select(_r.c.day, _r.c.claimed_by, _r.c.claimed_at, _r.c.sent_at, _r.c.error)
        .order_by(_r.c.day.desc())
        .limit(1)
    ).first()
    return ReportRow(*row) if row is not None else None


def check(conn: Connection, most_tries: int) -> Check:
    """The latest daily report: sent, still being retried, or given up (`db check`)."""
    from supportdesk.store.maintenance import Check

    row = latest(conn)
    if row is None:
        return Check("daily report", "ok", "none sent yet")
    if row.sent_at is not None:
        return Check("daily report", "ok", f"{row.day}: sent")
    if row.error is None:
        return Check("daily report", "ok", f"{row.day}: being sent by {row.claimed_by}")
    if row.tries >= most_tries:
        return Check(
            "daily report",
            "fail",
            f"{row.day}: not sent, given up after {row.error} (check [outgoing] and "
            "[stats] report_to)",
        )
    return Check("daily report", "warn", f"{row.day}: not sent yet, {row.error}")
