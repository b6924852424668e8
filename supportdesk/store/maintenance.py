"""Health checks of a desk's database: what `supportdesk db check` reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from supportdesk.store import tables as t

STUCK_AFTER = timedelta(minutes=30)
"""Mail still queued this long after it was due: nobody is delivering the outbox."""

_m = t.message


@dataclass(slots=True)
class Check:
    name: str
    status: str
    """ok, warn or fail."""
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.name, "status": self.status, "detail": self.detail}


def integrity(conn: Connection, full: bool, pages_checked: bool = False) -> Check:
    """SQLite's own page and index check (quick_check, or integrity_check with `full`; not
    again when `pages_checked`), and rows pointing at rows that do not exist."""
    if conn.dialect.name != "sqlite":
        return Check("integrity", "ok", "PostgreSQL checks its pages and foreign keys itself")
    pragma = "integrity_check" if full else "quick_check"
    problems = []
    if not pages_checked:
        problems = [row[0] for row in conn.exec_driver_sql(f"PRAGMA {pragma}") if row[0] != "ok"]
    orphans = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if problems:
        return Check(
            "integrity",
            "fail",
            f"{len(problems)} problems: {problems[0]} (`supportdesk db check --repair` "
            "recovers what can be read into a new file; or restore a backup)",
        )
    if orphans:
        tables = sorted({row[0] for row in orphans})
        return Check(
            "integrity", "fail", f"{len(orphans)} rows point at missing rows in {', '.join(tables)}"
        )
    return Check("integrity", "ok", f"{pragma}: ok; foreign keys: ok")


def full_text(conn: Connection) -> Check:
    """The search index holds exactly the messages (SQLite's FTS5 checks it against them)."""
    if conn.dialect.name != "sqlite":
        return Check("full-text index", "ok", "a generated tsvector column: always in step")
    try:
        conn.exec_driver_sql(
            "INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1)"
        )
    except Exception as exc:  # noqa: BLE001 - SQLITE_CORRUPT_VTAB and friends
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        return Check(
            "full-text index",
            "fail",
            f"out of step with the messages ({reason}): run `supportdesk db check --repair`",
        )
    count = conn.execute(select(func.count()).select_from(_m)).scalar()
    return Check("full-text index", "ok", f"{count:,} messages indexed")


def rebuild_full_text(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("INSERT INTO message_fts(message_fts) VALUES ('rebuild')")


def outbox(conn: Connection, now: datetime) -> Check:
    """Mail that should have gone out by now, and mail that failed for good."""
    stuck = conn.execute(
        select(func.count(), func.min(_m.c.next_attempt_at)).where(
            _m.c.status == "queued",
            _m.c.direction == "out",
            _m.c.next_attempt_at <= now - STUCK_AFTER,
        )
    ).one()
    failed = conn.execute(
        select(func.count()).where(_m.c.status == "failed", _m.c.direction == "out")
    ).scalar()
    if stuck[0]:
        since = stuck[1].astimezone().strftime("%Y-%m-%d %H:%M") if stuck[1] else "?"
        return Check(
            "outbox",
            "fail",
            f"{stuck[0]} messages due since {since} are still queued: is a console or "
            "`supportdesk fetch --watch` running? (`supportdesk send` delivers them now)",
        )
    if failed:
        return Check(
            "outbox",
            "warn",
            f"{failed} messages failed for good (their requests are back on the stack)",
        )
    return Check("outbox", "ok", "nothing stuck")


def poller(conn: Connection, now: datetime, name: str) -> Check:
    row = conn.execute(
        select(t.lease.c.holder, t.lease.c.expires_at).where(t.lease.c.name == name)
    ).first()
    if row is None or row[1] <= now:
        return Check(
            "poller",
            "warn",
            "no process polls the mailbox now (open a console or run `supportdesk fetch --watch`)",
        )
    return Check("poller", "ok", f"{row[0]} polls the mailbox")
