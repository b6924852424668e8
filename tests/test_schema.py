"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from supportdesk.store.database import open_database
from supportdesk.store.models import metadata
from tests.databases import empty_database_url


def _full_text_index(d: tuple) -> bool:  # type: ignore[type-arg]
    """What the migration makes by hand for full-text search, which the models do not
    describe: SQLite's FTS5 tables, PostgreSQL's tsvector column and its GIN index."""
    kind = d[0]
    if kind == "remove_table":
        return bool(d[1].name.startswith("message_fts"))
    if kind == "remove_column":
        return bool(d[2] == "message" and d[3].name == "search")
    if kind == "remove_index":
        return bool(d[1].name == "ix_message_search")
    return False


def test_migrations_match_the_models(tmp_path: Path) -> None:
    db = open_database(empty_database_url(tmp_path))
    try:
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        db.close()
    assert [d for d in diff if not _full_text_index(d)] == []
