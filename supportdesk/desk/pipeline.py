"""Storing batches on a writer thread while the caller parses the next one.

SQLite (and hashing, and socket reads) release the GIL, so parsing on one core and writing on
the other overlap. Batches commit strictly in order, each with its checkpoint; at most one
batch is in flight, so memory stays flat however large the mailbox.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from types import TracebackType

from supportdesk.clock import Clock
from supportdesk.config import Settings
from supportdesk.desk.intake import IngestOptions, IngestReport, ingest_batch
from supportdesk.mail.parse import ParsedMessage
from supportdesk.store.checkpoints import Checkpoint
from supportdesk.store.database import Database


class BatchWriter:
    """Use as a context manager; `report` holds the sum of every stored batch."""

    def __init__(
        self, db: Database, settings: Settings, clock: Clock, options: IngestOptions | None = None
    ) -> None:
        self.db, self.settings, self.clock = db, settings, clock
        self.options = options or IngestOptions()
        self.report = IngestReport()
        self._stack = ExitStack()
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[IngestReport] | None = None
        self._after: Callable[[], None] | None = None

    def __enter__(self) -> BatchWriter:
        self._stack.enter_context(self.db.bulk())
        self._pool = self._stack.enter_context(
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        )
        return self

    def submit(
        self,
        parsed: list[ParsedMessage],
        checkpoint: Checkpoint | None = None,
        after: Callable[[], None] | None = None,
    ) -> None:
        """Queue a batch; `after` runs (on this thread) once the batch is committed."""
        self.wait()
        assert self._pool is not None, "use BatchWriter as a context manager"
        self._pending = self._pool.submit(
            ingest_batch, self.db, self.settings, self.clock.now(), parsed, self.options, checkpoint
        )
        self._after = after

    def wait(self) -> None:
        """Block until the batch in flight is committed (re-raising its error)."""
        pending, after = self._pending, self._after
        self._pending = self._after = None
        if pending is not None:
            self.report.add(pending.result())
            if after is not None:
                after()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc is None:
                self.wait()
        finally:
            self._stack.close()
