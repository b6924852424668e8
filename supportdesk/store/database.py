"""Opening the database: engine settings per dialect, write transactions, schema upgrades."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from supportdesk.errors import (
    DamagedDatabaseError,
    DatabaseError,
    RetryableError,
    SupportDeskError,
)

HEAD_REVISION = "0014"
CHANGES_CHANNEL = "supportdesk_changes"
"""PostgreSQL: every transaction that wrote NOTIFYs this channel of its database."""
CHANGES_SEQUENCE = "supportdesk_changes"
"""PostgreSQL: counts this database's committed writes (migration 0014); `data_version()`."""
WROTE = "SELECT txid_current_if_assigned() IS NOT NULL"
"""A write transaction that changed nothing (a claim renewed, an agent already there) wakes
no console: only a transaction with an id of its own has written."""
ANNOUNCE = f"SELECT nextval(to_regclass('{CHANGES_SEQUENCE}')), pg_notify('{CHANGES_CHANNEL}', '')"
"""Run right after a write commits, as a transaction of its own: the counter moves and the
listening consoles wake only once the change is there to read (to_regclass: NULL, and no
error, on a database still before migration 0014)."""
log = logging.getLogger("supportdesk.store")
MIGRATIONS = Path(__file__).parent / "migrations"


class Database:
    """One engine. `read()` and `write()` hand out connections inside a transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._bulk: dict[str, bool] = {}
        self.engine = make_engine(url, self._bulk)
        self.dialect = self.engine.dialect.name
        self._watch: Any = None  # the connection data_version() asks, opened on first use
        self._watch_lock = threading.Lock()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction; on SQLite it takes the write lock at BEGIN (no upgrade deadlock).
        On PostgreSQL, once it has committed a change, it moves this database's change counter
        and notifies the consoles listening (`listen`, `data_version`)."""
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(sqlite_write=True)
                wrote = False
                with conn.begin():
                    yield conn
                    if self.dialect == "postgresql":
                        wrote = bool(conn.exec_driver_sql(WROTE).scalar())
                if wrote:
                    _announce(conn)
        except OperationalError as exc:
            if not _transient(exc):
                raise
            reason = str(getattr(exc, "orig", exc)).splitlines()[0]
            raise RetryableError(f"the database gave the transaction up ({reason})") from exc

    def listen(self, on_change: Callable[[], None]) -> Callable[[], None] | None:
        """PostgreSQL: call `on_change` (in a thread of its own) soon after any process
        commits a write to this desk, through LISTEN/NOTIFY; returns what stops it. None on
        SQLite, where `data_version()` is cheap enough to poll."""
        if self.dialect != "postgresql":
            return None
        listener = _Listener(self.url, on_change)
        return listener.stop

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Many large write transactions ahead (a fetch, an import).

        On SQLite the committing thread stops copying the WAL into the database after each
        commit; a helper thread does it instead, on the other core, while intake goes on.
        """
        if self.dialect != "sqlite" or self._bulk.get("on"):
            yield
            return
        checkpointer = _Checkpointer(self.engine)
        self._bulk["on"] = True
        try:
            yield
        finally:
            self._bulk["on"] = False
            checkpointer.stop()

    def data_version(self) -> int:
        """A number that changes whenever another connection (in this process or another one)
        commits to the database; the console polls it to know when to refresh.

        SQLite: `PRAGMA data_version` on one connection kept open for it (the value is per
        connection, so it must always be the same one). PostgreSQL: this database's change
        counter, which every write transaction that changed something moves right after its
        commit (`write`); readers, and other databases on the same server, leave it alone."""
        with self._watch_lock:
            if self.dialect != "sqlite":
                with self.read() as conn:
                    counter = conn.exec_driver_sql(
                        f"SELECT pg_sequence_last_value(to_regclass('{CHANGES_SEQUENCE}'))"
                    ).scalar()
                return int(counter or 0)
            if self._watch is None:
                self._watch = self.engine.raw_connection()
            cursor = self._watch.cursor()
            try:
                return int(cursor.execute("PRAGMA data_version").fetchone()[0])
            finally:
                cursor.close()

    def close(self) -> None:
        with self._watch_lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None
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
            # Two processes opening a new PostgreSQL database: the second waits for the first,
            # then finds the schema done (SQLite's write lock does the same).
            transaction_lock(conn, "schema upgrade")
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        return True


def _announce(conn: Connection) -> None:
    """After a write committed (PostgreSQL): move the change counter and notify, in a
    transaction of their own. Failing here does not undo the write, so it is not the caller's
    error: the other consoles then see the change with the next one (or ctrl+l)."""
    try:
        conn.exec_driver_sql(ANNOUNCE)
        conn.commit()
    except SQLAlchemyError as exc:
        reason = (str(getattr(exc, "orig", exc)).splitlines() or [type(exc).__name__])[0]
        log.warning("a change was saved, but the other consoles were not told (%s)", reason)


def transaction_lock(conn: Connection, name: str) -> None:
    """Hold lock `name` until the transaction ends: one such transaction at a time across
    every process. On PostgreSQL an advisory lock (per database); on SQLite nothing to do,
    since a write transaction holds the whole database from BEGIN."""
    if conn.dialect.name == "postgresql":
        digest = hashlib.blake2b(f"supportdesk:{name}".encode(), digest_size=8).digest()
        key = int.from_bytes(digest, "big", signed=True)
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def safe_url(url: str) -> str:
    """The URL for messages: any password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


TRANSIENT_SQLSTATES = {"40P01", "40001", "55P03"}
"""PostgreSQL: deadlock detected, serialization failure, lock not available."""


def _transient(exc: OperationalError) -> bool:
    """A failure that running the same transaction again may not meet."""
    state = getattr(exc.orig, "sqlstate", None)
    return state in TRANSIENT_SQLSTATES or "database is locked" in str(exc.orig)


def libpq_url(url: str) -> str:
    """postgresql+psycopg://u:secret@h/db -> postgresql://u@h/db, as pg_dump takes it (the
    password comes from PGPASSWORD or ~/.pgpass, never from a command line)."""
    try:
        u = make_url(url)
    except ArgumentError:
        return "URL"
    user = f"{u.username}@" if u.username else ""
    port = f":{u.port}" if u.port else ""
    return f"postgresql://{user}{u.host or ''}{port}/{u.database or ''}"


def make_engine(url: str, bulk: dict[str, bool] | None = None) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url, {} if bulk is None else bulk)
    try:
        parsed = make_url(url)
        if parsed.drivername == "postgresql":  # no driver named: psycopg 3, which we ship
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.get_backend_name() != "postgresql":
            raise SupportDeskError(
                f"cannot use database {safe_url(url)}: SupportDesk works on SQLite "
                "(sqlite:///desk.db) and PostgreSQL (postgresql+psycopg://...)"
            )
        return _postgresql_engine(parsed)
    except (SQLAlchemyError, ImportError) as exc:
        raise SupportDeskError(f"cannot use database {safe_url(url)}: {exc}") from None


def _postgresql_engine(url: URL) -> Engine:
    # A process uses a few connections at once (the console's workers, the intake writer, the
    # tick); each is checked before use, so a restarted server costs a reconnect, not an error.
    defaults = {"connect_timeout": 10, "application_name": "supportdesk"}
    connect_args = {k: v for k, v in defaults.items() if k not in url.query}
    engine = create_engine(
        url,
        pool_size=5,
        max_overflow=10,
        pool_pre_ping=True,
        pool_recycle=3600,
        connect_args=connect_args,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        from supportdesk.store.types import register_lenient_timestamps

        register_lenient_timestamps(dbapi_conn)

    return engine


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (sqlite:///desk.db, sqlite:///file:desk.db?mode=ro&uri=true);
    None for PostgreSQL and in-memory databases."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///") :].removeprefix("file:").partition("?")[0]
    return Path(path) if path and path != ":memory:" else None


def _sqlite_engine(url: str, bulk: dict[str, bool]) -> Engine:
    path = sqlite_file(url)
    if path is not None:
        folder = path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SupportDeskError(f"cannot create the database folder {folder}: {exc}") from None
    # A pool keeps connections open: closing the last connection to a WAL database makes
    # SQLite checkpoint and delete the WAL, which is slow to do after every transaction.
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA page_size=16384")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA cache_size=-16384")
        cur.execute("PRAGMA mmap_size=268435456")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("sqlite_write", False)
        if write:
            conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={0 if bulk.get('on') else 1000}")
            conn.exec_driver_sql(f"PRAGMA synchronous={'NORMAL' if bulk.get('on') else 'FULL'}")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class _Listener:
    """A connection of its own that LISTENs for commits, in a daemon thread; it reconnects
    after a dropped connection (the console's polling covers the gap)."""

    def __init__(self, url: str, on_change: Callable[[], None]) -> None:
        self.url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.on_change = on_change
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="listen", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import psycopg

        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {CHANGES_CHANNEL}")
                    while not self.stopping.is_set():
                        if any(True for _ in conn.notifies(timeout=0.5, stop_after=1)):
                            self.on_change()
            except Exception:  # noqa: BLE001 - a lost connection: try again in a moment
                self.stopping.wait(5)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(2)


class _Checkpointer:
    """Copies the WAL into the database file every few hundred milliseconds, in a thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with self.engine.connect() as conn:
            while not self.stopping.wait(0.25):
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()


_NEXT_STEPS = (
    (
        ("readonly", "read-only"),
        "check that this user may write to {where} (and that the desk's database URL does "
        "not open it read-only)",
    ),
    (("database is locked", "busy"), "another process holds the database: try again"),
    (("unable to open",), "check that {where} exist and this user may use them"),
    (("disk is full", "no space"), "free some disk space and try again"),
    (
        ("connection refused", "could not connect", "connection failed", "timeout expired"),
        "check that the database server is running and reachable",
    ),
    (
        ("constraint", "violates", "duplicate key"),
        "nothing was written; run with --debug and report it",
    ),
)


def database_error(exc: BaseException, url: str | None = None) -> DatabaseError | None:
    """A driver or SQLAlchemy error as one line: the driver's reason (the first line of its
    message, never the statement or parameters, which hold customers' addresses) and what to
    do next. None when `exc` is not a database error."""
    import sqlite3

    if isinstance(exc, DatabaseError):
        return exc
    if isinstance(exc, SQLAlchemyError):
        driver = getattr(exc, "orig", None)
        reason = str(driver) if driver is not None else str(exc).split("[SQL:")[0]
    elif isinstance(exc, sqlite3.Error) or type(exc).__module__.startswith("psycopg"):
        driver, reason = exc, str(exc)
    else:
        return None
    reason = (reason.strip().splitlines() or [type(exc).__name__])[0].strip()
    path = sqlite_file(url) if url else None
    if path is not None and driver is not None:
        from supportdesk.store.recovery import damaged, is_damage

        if is_damage(driver):
            return damaged(path, reason)
    if path is not None:
        where = f"{path} and its folder"
    else:
        where = safe_url(url) if url else "the database"
    return DatabaseError(f"database error: {_with_next_step(reason, where)}")


def _with_next_step(reason: str, where: str) -> str:
    lowered = reason.lower()
    for words, step in _NEXT_STEPS:
        if any(word in lowered for word in words):
            return f"{reason}: {step.format(where=where)}"
    return f"{reason} (run with --debug for the traceback)"


def open_database(url: str, *, upgrade: bool = True) -> Database:
    """Open (and by default upgrade) the database, with errors the user can act on."""
    try:
        db = Database(url)
        if upgrade:
            db.upgrade()
        elif db.needs_upgrade():
            raise SupportDeskError(
                "the database schema is out of date: run `supportdesk db upgrade`"
            )
        return db
    except SQLAlchemyError as exc:
        error = database_error(exc, url)
        if error is None or isinstance(error, DamagedDatabaseError):
            raise error or SupportDeskError(f"cannot open database {safe_url(url)}") from exc
        detail = str(error).removeprefix("database error: ")
        raise DatabaseError(f"cannot open database {safe_url(url)}: {detail}") from exc
