"""Opening the database: engine settings per dialect, write transactions, schema upgrades."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from supportdesk.errors import SupportDeskError

HEAD_REVISION = "0001"
MIGRATIONS = Path(__file__).parent / "migrations"


class Database:
    """One engine. `read()` and `write()` hand out connections inside a transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction; on SQLite it takes the write lock at BEGIN (no upgrade deadlock)."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_write=True)
            with conn.begin():
                yield conn

    def close(self) -> None:
        self.engine.dispose()

    def current_revision(self) -> str | None:
        try:
            with self.read() as conn:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except OperationalError:
            return None
        except SQLAlchemyError as exc:
            if "alembic_version" in str(exc):
                return None
            raise

    def needs_upgrade(self) -> bool:
        return self.current_revision() != HEAD_REVISION

    def upgrade(self) -> bool:
        """Bring the schema to the newest revision. Returns True when something was done."""
        if not self.needs_upgrade():
            return False
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.write() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        return True


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    try:
        return create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError) as exc:
        raise SupportDeskError(f"cannot use database {url!r}: {exc}") from None


def _sqlite_engine(url: str) -> Engine:
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if path and path != ":memory:":
        folder = Path(path).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SupportDeskError(f"cannot create the database folder {folder}: {exc}") from None
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("sqlite_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def open_database(url: str, *, upgrade: bool = True) -> Database:
    """Open (and by default upgrade) the database, with errors the user can act on."""
    try:
        db = Database(url)
        if upgrade:
            db.upgrade()
        elif db.needs_upgrade():
            raise SupportDeskError("the database schema is out of date: run `supportdesk db upgrade`")
        return db
    except SQLAlchemyError as exc:
        raise SupportDeskError(f"cannot open database {url}: {exc.__class__.__name__}: "
                               f"{str(exc).splitlines()[0]}") from None
