"""`supportdesk import`: an mbox, a Maildir or .eml files through the intake pipeline."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from supportdesk.clock import Clock
from supportdesk.config import Settings
from supportdesk.desk.fetching import Progress
from supportdesk.desk.intake import IngestOptions, IngestReport
from supportdesk.desk.parsing import WORKER_THRESHOLD, BatchParser, Item
from supportdesk.desk.pipeline import BatchWriter
from supportdesk.mail.local import count_messages, read_messages
from supportdesk.mail.parse import ParsedMessage
from supportdesk.store.database import Database

BATCH_BYTES = 8_000_000
BATCH_COUNT = 1000


def import_mail(
    db: Database,
    settings: Settings,
    clock: Clock,
    path: Path,
    *,
    acknowledge: bool = False,
    history: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Import every message under `path`; a second import of the same mail adds nothing."""
    options = IngestOptions(acknowledge=acknowledge, history=history, date_as_pushed=True)
    total = count_messages(path) or 0
    items: list[Item] = []
    size = done = 0
    parsing: tuple[Future[list[ParsedMessage]], int] | None = None
    # Read here, parse in a worker process, store on the writer thread: all three at once.
    with (
        BatchParser(total or WORKER_THRESHOLD) as parser,
        BatchWriter(db, settings, clock, options) as writer,
    ):

        def store(job: tuple[Future[list[ParsedMessage]], int]) -> None:
            future, count = job
            writer.submit(future.result(), after=_progress(progress, count, total or count))

        def hand_over() -> None:
            nonlocal items, size, done, parsing
            done += len(items)
            job = (parser.submit(items), done)
            items, size = [], 0
            if parsing is not None:
                store(parsing)
            parsing = job

        for _key, raw in read_messages(path):
            items.append((raw, None))
            size += len(raw)
            if size >= BATCH_BYTES or len(items) >= BATCH_COUNT:
                hand_over()
        if items:
            hand_over()
        if parsing is not None:
            store(parsing)
    return writer.report


def _progress(progress: Progress | None, done: int, total: int) -> Callable[[], None] | None:
    return (lambda: progress(done, total)) if progress else None
