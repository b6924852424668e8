"""Bringing a desk's schema up to date and moving a desk to another database (SQLite to
PostgreSQL, or back): what `supportdesk db upgrade` and `supportdesk migrate` call. The SQL
stays in store/ (database.py, transfer.py)."""

from __future__ import annotations

from collections.abc import Callable

from supportdesk.config import Settings
from supportdesk.store.database import Database, open_database, safe_url
from supportdesk.store.transfer import Transfer, copy_desk

__all__ = ["Transfer", "move_desk", "safe_url", "upgrade_schema"]


def upgrade_schema(url: str) -> bool:
    """Bring the database at `url` to this version's schema; False when it already was."""
    db = Database(url)
    try:
        return db.upgrade()
    finally:
        db.close()


def move_desk(
    settings: Settings,
    source: str,
    target: str,
    login: str,
    progress: Callable[[int, int], None] | None = None,
) -> Transfer:
    """Copy every row of the desk at `source` into the empty database at `target` (its schema
    built first), in one transaction. `login` must be an admin of the desk being moved."""
    from supportdesk.desk import Desk

    src = open_database(source, upgrade=False)
    try:
        Desk(settings, src).acting_agent(login, admin="migrate")
        dst = open_database(target)
        try:
            return copy_desk(src, dst, progress)
        finally:
            dst.close()
    finally:
        src.close()
