"""`supportdesk import`: an mbox, a Maildir or .eml files through the intake pipeline."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

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


@dataclass(slots=True)
class ImportReport(IngestReport):
    """What an import stored, and the files of a folder it skipped because they are not mail."""

    not_mail: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            **IngestReport.as_dict(self),
            "not_mail": len(self.not_mail),
            "not_mail_files": list(self.not_mail),
        }


def import_mail(
    db: Database,
    settings: Settings,
    clock: Clock,
    path: Path,
    *,
    acknowledge: bool = False,
    history: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import every message under `path`; a second import of the same mail adds nothing.
    A file that is not mail is refused (a SupportDeskError naming it, before anything is
    stored); in a folder, such files are skipped and named in the report."""
    options = IngestOptions(acknowledge=acknowledge, history=history, date_as_pushed=True)
    total = count_messages(path) or 0  # refuses a single file that is not mail
    skipped: list[str] = []
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

        for _key, raw in read_messages(path, lambda file: skipped.append(str(file))):
            items.append((raw, None))
            size += len(raw)
            if size >= BATCH_BYTES or len(items) >= BATCH_COUNT:
                hand_over()
        if items:
            hand_over()
        if parsing is not None:
            store(parsing)
    stored = writer.report
    return ImportReport(
        **{f.name: getattr(stored, f.name) for f in fields(stored)}, not_mail=skipped
    )


def _progress(progress: Progress | None, done: int, total: int) -> Callable[[], None] | None:
    return (lambda: progress(done, total)) if progress else None
