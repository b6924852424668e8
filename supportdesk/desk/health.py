"""The database file's health, for the CLI and the console: whether a SQLite desk is damaged,
recovering what can be read of it, backing it up, and a database error as one line. The SQL
and the driver stay in store/ (recovery.py, database.py); this is what callers above use."""

from __future__ import annotations

from pathlib import Path

from supportdesk.errors import SupportDeskError
from supportdesk.store import recovery
from supportdesk.store.database import database_error, libpq_url, sqlite_file
from supportdesk.store.maintenance import Check
from supportdesk.store.recovery import RecoveryReport

__all__ = [
    "Check",
    "RecoveryReport",
    "backup",
    "damaged_file",
    "database_error",
    "is_file",
    "recover",
]


def damaged_file(url: str, full: bool = False) -> tuple[Path, Check] | None:
    """For a SQLite desk whose file is damaged: the file and a failed `integrity` check that
    says what to do (read-only, before anything opens the desk). None when it is sound or on
    PostgreSQL (which checks its own pages)."""
    path = sqlite_file(url)
    problem = recovery.diagnose(path, full) if path is not None else None
    if path is None or problem is None:
        return None
    return path, Check("integrity", "fail", str(recovery.damaged(path, problem)))


def is_file(url: str) -> bool:
    """Whether the desk is a SQLite file (whose pages `damaged_file` has just checked)."""
    return sqlite_file(url) is not None


def recover(path: Path) -> RecoveryReport:
    """Copy what can be read of the damaged file into a new one; the old one is untouched."""
    return recovery.recover(path)


def backup(url: str, target: Path) -> None:
    """Copy the SQLite desk to `target` while it keeps running (PostgreSQL: say how)."""
    import sqlite3

    path = sqlite_file(url)
    if path is None:
        raise SupportDeskError(
            "this desk is on PostgreSQL: back it up with its own tool, e.g. "
            f"pg_dump --format=custom --file {target} '{libpq_url(url)}' "
            "(and restore with pg_restore --dbname URL FILE)"
        )
    if target.exists():
        raise SupportDeskError(f"{target} exists; choose a new file")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()
