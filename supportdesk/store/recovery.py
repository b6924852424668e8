"""A damaged SQLite desk: telling that it is damaged, and copying what can still be read into a
new file (the damaged one is only ever opened read-only).

Python's sqlite3 module has no `.recover`; this reads every table of the schema row by row in
rowid order, and when a page cannot be read it seeks past it (doubling the step, then
narrowing it back down), so the rows on either side of a damaged page are kept.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supportdesk.errors import DamagedDatabaseError, SupportDeskError

_DAMAGE_CODES = {11, 26}
"""SQLITE_CORRUPT and SQLITE_NOTADB (extended codes keep these in their low byte)."""
_DAMAGE_WORDS = ("malformed", "not a database", "corrupt")
_SKIPPED = ("alembic_version",)
"""The new file's schema revision is the one it was built with."""
_LOWEST_ROWID = -(2**63)


def is_damage(exc: BaseException) -> bool:
    """Whether a driver error says the database file itself is damaged."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _DAMAGE_CODES:
        return True
    return any(word in str(exc).lower() for word in _DAMAGE_WORDS)


def recovery_target(path: Path) -> Path:
    """Where `db check --repair` recovers `path` to: desk.recovered.db, or the first of
    desk.recovered-2.db, -3, ... that does not exist yet."""
    n = 1
    while True:
        suffix = "" if n == 1 else f"-{n}"
        candidate = path.with_name(f"{path.stem}.recovered{suffix}{path.suffix or '.db'}")
        if not candidate.exists():
            return candidate
        n += 1


def damaged(path: Path, reason: str) -> DamagedDatabaseError:
    """The one-line error for a damaged desk file: what is wrong and what to do."""
    return DamagedDatabaseError(
        f"{path.name} is damaged ({reason}): run `supportdesk db check --repair` to recover "
        f"it into {recovery_target(path).name}, or restore a backup",
        path=path,
        reason=reason,
    )


def _open_read_only(path: Path, salvage: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
    if salvage:  # read past a header that promises more pages than the file has (truncated)
        conn.execute("PRAGMA writable_schema=ON")  # the connection is read-only all the same
    return conn


def diagnose(path: Path, full: bool = False) -> str | None:
    """Why the SQLite file at `path` is damaged (SQLite's quick_check, or integrity_check
    with `full`), or None when it is sound or is not there yet. Read-only."""
    if not path.is_file():
        return None
    pragma = "integrity_check" if full else "quick_check"
    try:
        conn = _open_read_only(path)
        try:
            problems = [row[0] for row in conn.execute(f"PRAGMA {pragma}") if row[0] != "ok"]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return str(exc) if is_damage(exc) else None
    if problems:
        more = f" and {len(problems) - 1} more problems" if len(problems) > 1 else ""
        return f"{pragma}: {problems[0]}{more}"
    return None


@dataclass(slots=True)
class RecoveryReport:
    source: Path
    target: Path
    rows: dict[str, int] = field(default_factory=dict)
    """Rows copied, per table."""
    incomplete: list[str] = field(default_factory=list)
    """Tables where some pages could not be read (their rows there are lost)."""
    unreadable: list[str] = field(default_factory=list)
    """Tables of which nothing could be read."""
    orphans: int = 0
    """Copied rows that point at a row that was lost (e.g. a message of a lost request)."""

    @property
    def next_step(self) -> str:
        return (
            f'check it: set desk.database = "sqlite:///{self.target}" in config.toml and run '
            f"`supportdesk db check`; keep {self.source.name} until you are sure, or restore a "
            "backup instead"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "damaged": str(self.source),
            "recovered_into": str(self.target),
            "rows": self.rows,
            "incomplete_tables": self.incomplete,
            "unreadable_tables": self.unreadable,
            "rows_pointing_at_lost_rows": self.orphans,
            "next_step": self.next_step,
        }


def recover(path: Path) -> RecoveryReport:
    """Copy every row that can still be read from the damaged SQLite file at `path` into a
    new desk file next to it (built with this version's schema); `path` is not written."""
    from supportdesk.store.database import open_database

    if not path.is_file():
        raise SupportDeskError(f"{path}: no such database file")
    target = recovery_target(path)
    salvaged = target.with_name(target.name + ".salvaged")
    source = _open_read_only(path, salvage=True)
    try:
        try:
            old_tables = _old_tables(source)
        except sqlite3.DatabaseError as exc:
            source.close()  # its schema is lost: SQLite's own .recover reads pages one by one
            if not _cli_recover(path, salvaged):
                raise SupportDeskError(
                    f"{path.name} cannot be read at all ({exc}): there is nothing to recover "
                    "from it here; restore a backup"
                    + (
                        ""
                        if shutil.which("sqlite3")
                        else " (or install the sqlite3 command-line tool, whose .recover may "
                        "find more, and run this again)"
                    )
                ) from None
            source = _open_read_only(salvaged)
            old_tables = _old_tables(source)
        partial = target.with_name(target.name + ".partial")
        for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            leftover.unlink(missing_ok=True)
        open_database(f"sqlite:///{partial}").close()  # the schema, at this version
        report = RecoveryReport(path, target)
        dest = sqlite3.connect(partial, isolation_level=None)
        try:
            dest.execute("PRAGMA foreign_keys=OFF")
            dest.execute("BEGIN")
            for table, new_columns in _tables(dest).items():
                old_columns = old_tables.get(table)
                if old_columns is None:
                    continue
                columns = [c for c in new_columns if c in old_columns]
                copied, complete = _copy(source, dest, table, columns)
                report.rows[table] = copied
                if not complete:
                    (report.unreadable if copied == 0 else report.incomplete).append(table)
            dest.execute("COMMIT")
            report.orphans = len(dest.execute("PRAGMA foreign_key_check").fetchall())
        finally:
            dest.close()
        partial.rename(target)
        return report
    finally:
        source.close()
        salvaged.unlink(missing_ok=True)


def _old_tables(conn: sqlite3.Connection) -> dict[str, list[str]]:
    names = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name: _columns(conn, name) for (name,) in names}


def _cli_recover(path: Path, into: Path) -> bool:
    """`sqlite3 -readonly PATH .recover | sqlite3 INTO` when the sqlite3 tool is installed;
    whether it found any table to read."""
    import subprocess

    tool = shutil.which("sqlite3")
    if tool is None:
        return False
    into.unlink(missing_ok=True)
    try:
        dump = subprocess.run(
            [tool, "-readonly", str(path), ".recover"], capture_output=True, timeout=3600
        )
        subprocess.run([tool, str(into)], input=dump.stdout, capture_output=True, timeout=3600)
        conn = sqlite3.connect(f"file:{into}?mode=ro", uri=True)
        try:
            tables = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                "AND name NOT IN ('lost_and_found', 'sqlite_sequence')"
            ).fetchone()[0]
        finally:
            conn.close()
    except (OSError, subprocess.SubprocessError, sqlite3.DatabaseError):
        return False
    return bool(tables)


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    try:
        return [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]
    except sqlite3.DatabaseError:
        return []


def _tables(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """The new file's own tables (not SQLite's, not the search index: its triggers fill it)."""
    names = [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE "
            "VIRTUAL%' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'message_fts%' "
            "ORDER BY rootpage"
        )
    ]
    return {name: _columns(conn, name) for name in names if name not in _SKIPPED}


def _copy(
    source: sqlite3.Connection, dest: sqlite3.Connection, table: str, columns: list[str]
) -> tuple[int, bool]:
    """Copy the readable rows of `table`; (rows copied, whether every page could be read)."""
    if not columns:
        return 0, False
    names = ", ".join(f'"{c}"' for c in columns)
    insert = f'INSERT OR IGNORE INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'
    copied = 0
    rows = _readable_rows(source, table, names)
    for row in rows:
        dest.execute(insert, row)
        copied += 1
    return copied, rows.complete


class _readable_rows:  # noqa: N801 - used as a generator with a flag
    """The rows of a table in rowid order, skipping the pages that cannot be read."""

    def __init__(self, conn: sqlite3.Connection, table: str, names: str) -> None:
        self.conn, self.table, self.names = conn, table, names
        self.complete = True

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        scan = f'SELECT rowid, {self.names} FROM "{self.table}" WHERE rowid > ? ORDER BY rowid'
        after: int | None = _LOWEST_ROWID
        while after is not None:
            try:
                for row in self.conn.execute(scan, (after,)):
                    after = row[0]
                    yield row[1:]
                return
            except sqlite3.DatabaseError:
                self.complete = False
                after = self._past_damage(after)

    def _readable_after(self, rowid: int) -> bool:
        seek = f'SELECT rowid FROM "{self.table}" WHERE rowid > ? ORDER BY rowid LIMIT 1'
        try:
            self.conn.execute(seek, (rowid,)).fetchone()
        except sqlite3.DatabaseError:
            return False
        return True

    def _past_damage(self, after: int) -> int | None:
        """The lowest rowid (roughly) from which the table can be read again, or None."""
        step = 1
        while after + step < 2**63 - 1 and not self._readable_after(after + step):
            step *= 2
        if after + step >= 2**63 - 1:
            return None
        bad, good = after + step // 2, after + step  # narrow back down to the damage's end
        while good - bad > 1:
            middle = (bad + good) // 2
            if self._readable_after(middle):
                good = middle
            else:
                bad = middle
        return good
