"""Moving a desk between databases (SQLite to PostgreSQL and back): every table, row for row,
with the same ids, into a target whose schema the migrations have just built."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, func, select, text

from supportdesk.errors import SupportDeskError
from supportdesk.store.database import Database
from supportdesk.store.models import metadata

BATCH_ROWS = 1_000
BATCH_BYTES = 16_000_000
"""Rows per insert, fewer for big rows (raw messages), so memory stays flat."""

Progress = Callable[[int, int], None]
"""(rows copied, rows in all)."""


@dataclass(slots=True)
class Transfer:
    rows: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"tables": self.rows, "total_rows": sum(self.rows.values())}


def tables() -> list[Table]:
    """Every table of the schema, parents before children."""
    return list(metadata.sorted_tables)


def is_empty(db: Database) -> bool:
    with db.read() as conn:
        return all(
            conn.execute(select(func.count()).select_from(t)).scalar() == 0
            for t in tables()
            if t.name not in ("template",)  # a fresh desk may hold the shipped templates
        )


def copy_desk(source: Database, target: Database, progress: Progress | None = None) -> Transfer:
    """Copy every row of `source` into the empty `target` (same schema revision) in one
    transaction: a failure leaves the target as empty as it was."""
    if source.current_revision() != target.current_revision():
        raise SupportDeskError(
            "the two databases are at different schema revisions "
            f"({source.current_revision()} and {target.current_revision()}): "
            "run `supportdesk db upgrade` on the source first"
        )
    if not is_empty(target):
        raise SupportDeskError("the target already holds a desk: migrate only into an empty one")
    report = Transfer()
    with source.read() as src, target.write() as dst:
        totals = {
            t.name: int(src.execute(select(func.count()).select_from(t)).scalar() or 0)
            for t in tables()
        }
        everything = sum(totals.values())
        copied = 0
        dst.execute(text("DELETE FROM template"))  # the shipped ones come from the source
        for table in tables():
            done = 0
            for rows in _batches(src, table):
                dst.execute(table.insert(), rows)
                done += len(rows)
                if progress:
                    progress(copied + done, everything)
            copied += done
            report.rows[table.name] = done
        _sequences_after(dst)
    return report


def _batches(conn: Connection, table: Table) -> Any:
    """The table's rows in primary-key order, as dicts, in batches."""
    key = list(table.primary_key.columns)
    result = conn.execution_options(yield_per=BATCH_ROWS).execute(select(table).order_by(*key))
    batch: list[dict[str, Any]] = []
    size = 0
    for row in result.mappings():
        values = dict(row)
        batch.append(values)
        size += sum(len(v) for v in values.values() if isinstance(v, bytes | str))
        if len(batch) >= BATCH_ROWS or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _sequences_after(conn: Connection) -> None:
    """PostgreSQL: each id sequence continues after the ids just copied."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables():
        if "id" in table.c and table.c.id.primary_key:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f'coalesce((SELECT max(id) FROM "{table.name}"), 0) + 1, false)'
                )
            )
