"""`supportdesk import`: an mbox, a Maildir or .eml files through the intake pipeline."""

from __future__ import annotations

from pathlib import Path

from supportdesk.clock import Clock
from supportdesk.config import Settings
from supportdesk.desk.fetching import Progress
from supportdesk.desk.intake import IngestOptions, IngestReport, ingest_batch
from supportdesk.mail.local import count_messages, read_messages
from supportdesk.mail.parse import parse_message
from supportdesk.store.database import Database

BATCH_BYTES = 8_000_000
BATCH_COUNT = 1000


def import_mail(db: Database, settings: Settings, clock: Clock, path: Path, *,
                acknowledge: bool = False, history: bool = False,
                progress: Progress | None = None) -> IngestReport:
    """Import every message under `path`; a second import of the same mail adds nothing."""
    options = IngestOptions(acknowledge=acknowledge, history=history, date_as_pushed=True)
    total = count_messages(path) or 0
    report = IngestReport()
    parsed = []
    size = done = 0
    for _key, raw in read_messages(path):
        parsed.append(parse_message(raw))
        size += len(raw)
        if size >= BATCH_BYTES or len(parsed) >= BATCH_COUNT:
            report.add(ingest_batch(db, settings, clock.now(), parsed, options))
            done += len(parsed)
            parsed, size = [], 0
            if progress:
                progress(done, total)
    if parsed:
        report.add(ingest_batch(db, settings, clock.now(), parsed, options))
        done += len(parsed)
    if progress:
        progress(done, total or done)
    return report
