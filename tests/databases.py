"""The database behind each test desk: a SQLite file in the desk's folder by default; with
SUPPORTDESK_TEST_DATABASE_URL (a PostgreSQL server, e.g.
postgresql+psycopg://supportdesk@127.0.0.1:5433/postgres) a database of its own there, new
and empty for each test, dropped when the test ends.

Each is a copy of a template database that this test session makes once, as a desk's first
opening leaves it (a copied file on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL: much
faster than running the migrations and storing the system templates every time); tests of the
migrations themselves take an empty database instead.
"""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path
from typing import Any

SERVER_URL = os.environ.get("SUPPORTDESK_TEST_DATABASE_URL", "")
ON_POSTGRESQL = bool(SERVER_URL)

_PREFIX = f"sdtest_{os.getpid()}"
_numbers = itertools.count(1)
_by_folder: dict[Path, str] = {}
_made: list[str] = []
_template: list[str] = []
_admin: list[Any] = []
_sqlite_template: list[Path] = []


def database_url(folder: Path) -> str:
    """The URL a desk in `folder` uses: the same database for the same folder until the test
    ends (a second console opens the first one's database)."""
    if not ON_POSTGRESQL:
        if not (folder / "desk.db").exists():
            import shutil

            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_migrated_sqlite_template(), folder / "desk.db")
        return "sqlite:///desk.db"
    key = folder.resolve()
    if key not in _by_folder:
        _by_folder[key] = _create(template=_migrated_template())
    return _url(_by_folder[key])


def empty_database_url(folder: Path) -> str:
    """A database without any schema yet (for testing the migrations)."""
    if not ON_POSTGRESQL:
        return f"sqlite:///{folder / 'empty.db'}"
    return _url(_create(template="template0"))


def query(folder: Path, sql: str, default: Any = None) -> Any:
    """The first column of the first row of `sql` on the desk in `folder`, as a test looks
    at what another process stored (read-only on SQLite); `default` while the database or
    its schema does not exist yet."""
    found = rows(folder, sql)
    if found is None:
        return default
    return found[0][0] if found else None


def rows(folder: Path, sql: str) -> list[tuple[Any, ...]] | None:
    """Every row of `sql` on the desk in `folder`; None while there is no database or schema."""
    if not ON_POSTGRESQL:
        import sqlite3

        try:
            db = folder / "desk.db"
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
                return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return None
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError, ProgrammingError
    from sqlalchemy.pool import NullPool

    engine = create_engine(database_url(folder), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    except (OperationalError, ProgrammingError):
        return None
    finally:
        engine.dispose()


def drop_test_databases() -> None:
    """Drop the databases this test made (connections left open are ended)."""
    while _made:
        name = _made.pop()
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _by_folder.clear()


def drop_template() -> None:
    if _sqlite_template:
        import shutil

        shutil.rmtree(_sqlite_template.pop().parent, ignore_errors=True)
    if _template:
        _admin_execute(f'DROP DATABASE IF EXISTS "{_template.pop()}" WITH (FORCE)')
    for engine in _admin:
        engine.dispose()
    _admin.clear()


def _url(name: str) -> str:
    from sqlalchemy import make_url

    return make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)


def _admin_execute(sql: str) -> None:
    from sqlalchemy import create_engine

    if not _admin:
        _admin.append(create_engine(SERVER_URL, isolation_level="AUTOCOMMIT"))
    with _admin[0].connect() as conn:
        conn.exec_driver_sql(sql)


def _create(template: str) -> str:
    from sqlalchemy.exc import OperationalError

    name = f"{_PREFIX}_{next(_numbers)}"
    for attempt in range(50):
        try:
            _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            break
        except OperationalError as exc:
            # The template's last connection can take a moment to end on the server.
            if "is being accessed by other users" not in str(exc) or attempt == 49:
                raise
            time.sleep(0.1)
    _made.append(name)
    return name


def _migrated_template() -> str:
    if not _template:
        name = f"{_PREFIX}_template"
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        _first_opening(_url(name))
        _template.append(name)
    return _template[0]


def _migrated_sqlite_template() -> Path:
    if not _sqlite_template:
        import sqlite3
        import tempfile

        path = Path(tempfile.mkdtemp(prefix="supportdesk-template-")) / "desk.db"
        _first_opening(f"sqlite:///{path}")
        conn = sqlite3.connect(path)
        try:  # everything in the one file that is copied
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        _sqlite_template.append(path)
    return _sqlite_template[0]


def _first_opening(url: str) -> None:
    """What a desk's first opening leaves in its database: the newest schema and the shipped
    system templates, stored at the time of the `clock` fixture (saves each test ~0.2 s)."""
    from datetime import UTC, datetime

    from supportdesk.clock import FrozenClock
    from supportdesk.config import parse_settings
    from supportdesk.desk import open_desk

    settings = parse_settings({"desk": {"database": url}})
    open_desk(settings, FrozenClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))).close_database()
