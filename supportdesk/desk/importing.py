"""`supportdesk import`: an mbox, a Maildir or .eml files through the intake pipeline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from supportdesk.clock import Clock
from supportdesk.config import Settings
from supportdesk.desk.fetching import Progress
from supportdesk.desk.intake import IngestOptions, IngestReport
from supportdesk.desk.pipeline import BatchWriter
from supportdesk.mail.local import count_messages, read_messages
from supportdesk.mail.parse import parse_message
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
    parsed = []
    size = done = 0
    with BatchWriter(db, settings, clock, options) as writer:
        for _key, raw in read_messages(path):
            parsed.append(parse_message(raw))
            size += len(raw)
            if size >= BATCH_BYTES or len(parsed) >= BATCH_COUNT:
                done += len(parsed)
                writer.submit(parsed, after=_progress(progress, done, total))
                parsed, size = [], 0
        if parsed:
            done += len(parsed)
            writer.submit(parsed, after=_progress(progress, done, total or done))
    return writer.report


def _progress(progress: Progress | None, done: int, total: int) -> Callable[[], None] | None:
    return (lambda: progress(done, total)) if progress else None
