"""Polling the mailbox: IMAP, a local Maildir or an mbox, through the one intake pipeline.

For IMAP, each batch (sized in bytes, so memory stays flat) is downloaded on a helper thread
while the previous one is parsed and stored; the batch and the checkpoint commit together.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supportdesk.clock import Clock
from supportdesk.config import Settings, read_secret
from supportdesk.desk.intake import IngestOptions, IngestReport, ingest_batch
from supportdesk.desk.parsing import BatchParser
from supportdesk.desk.pipeline import BatchWriter
from supportdesk.errors import MailServerError
from supportdesk.mail.local import read_messages
from supportdesk.mail.parse import ParsedMessage, parse_message
from supportdesk.store.checkpoints import (
    Checkpoint,
    clear_error,
    get_checkpoint,
    mark_polled,
    record_error,
)
from supportdesk.store.database import Database

Progress = Callable[[int, int], None]
"""Called with (messages done, messages in all) as a fetch goes on."""


@dataclass(slots=True)
class FetchReport:
    intake: IngestReport = field(default_factory=IngestReport)
    folders: dict[str, int] = field(default_factory=dict)
    rescanned: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {**self.intake.as_dict(), "folders": self.folders, "rescanned": self.rescanned}


class ImapPoller:
    """Keeps one IMAP connection open across polls (so an empty poll costs milliseconds)."""

    def __init__(self, db: Database, settings: Settings, clock: Clock) -> None:
        self.db, self.settings, self.clock = db, settings, clock
        box = settings.mailbox
        self.account = f"imap://{box.username}@{box.host}:{box.effective_port}"
        self._box: Any = None
        self._password: str | None = None
        self._error_recorded = False
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imap")

    def _connect(self) -> Any:
        if self._box is None:
            from supportdesk.mail.imap import ImapMailbox

            box = self.settings.mailbox
            if self._password is None:
                self._password = read_secret(box, "mailbox")
            mailbox = ImapMailbox(
                box.host,
                box.effective_port,
                box.security,
                box.username,
                self._password,
                timeout=box.timeout.total_seconds(),
            )
            mailbox.__enter__()
            self._box = mailbox
        return self._box

    def close(self) -> None:
        if self._box is not None:
            box, self._box = self._box, None
            box.__exit__(None, None, None)
        self._io.shutdown(wait=True)

    def poll(self, progress: Progress | None = None) -> FetchReport:
        """Take everything new from every configured folder."""
        report = FetchReport()
        try:
            for folder in self.settings.mailbox.folders:
                self._poll_folder(folder, report, progress)
        except MailServerError as exc:
            self._drop_connection()
            with self.db.write() as conn:
                record_error(conn, self.account, "*", str(exc), self.clock.now())
            self._error_recorded = True
            raise
        idle = [folder for folder, n in report.folders.items() if n == 0]
        if idle or self._error_recorded:
            with self.db.write() as conn:
                # Stored batches moved their checkpoints' time; folders without news move it here.
                mark_polled(conn, self.account, idle, self.clock.now())
                if self._error_recorded:  # the server is back: the error is history
                    clear_error(conn, self.account, "*", self.clock.now())
            self._error_recorded = False
        return report

    def wait_for_news(self, timeout: float) -> bool:
        """Block until the server reports new mail (IDLE) or `timeout` passes."""
        folder = self.settings.mailbox.folders[0]
        try:
            box = self._connect()
            state = box.select(folder, readonly=True)
            with self.db.read() as conn:
                point = get_checkpoint(conn, self.account, folder)
            # Mail that arrived since the last poll is news even if the server announced it
            # before we started listening: the checkpoint says what we have taken.
            if (
                state.uidnext
                and point is not None
                and point.uidvalidity == state.uidvalidity
                and state.uidnext - 1 > point.last_uid
            ):
                return True
            return bool(box.wait_for_news(timeout))
        except MailServerError:
            self._drop_connection()
            raise

    def _drop_connection(self) -> None:
        box, self._box = self._box, None
        if box is not None:
            with contextlib.suppress(Exception):  # the connection is already broken
                box.__exit__(None, None, None)

    def _poll_folder(self, folder: str, report: FetchReport, progress: Progress | None) -> None:
        from supportdesk.mail.imap import plan_batches

        box = self._connect()
        after_fetch = self.settings.mailbox.after_fetch
        state = box.select(folder, readonly=after_fetch == "keep")
        with self.db.read() as conn:
            point = get_checkpoint(conn, self.account, folder)
        after = 0
        if point is not None and point.uidvalidity == state.uidvalidity:
            after = point.last_uid
        elif point is not None and point.last_uid:
            report.rescanned.append(folder)  # UIDVALIDITY changed: rescan, dedupe by Message-ID
        sizes = box.new_messages(after)
        report.folders[folder] = len(sizes)
        if not sizes:
            return
        batches = plan_batches(sizes, self.settings.mailbox.batch_bytes)
        self._run_pipeline(box, folder, state.uidvalidity, batches, len(sizes), report, progress)

    def _run_pipeline(
        self,
        box: Any,
        folder: str,
        uidvalidity: int,
        batches: list[list[int]],
        total: int,
        report: FetchReport,
        progress: Progress | None,
    ) -> None:
        """Download, parse and store at once, each stage on its own thread or process.

        The IMAP thread downloads batch after batch (at most three ahead, so memory stays
        flat) and hands each to the parser; the writer stores them strictly in order, each
        with its checkpoint, so a crash anywhere is safe. Server-side actions (seen, move)
        run on the IMAP thread for batches already committed.
        """
        action = self.settings.mailbox.after_fetch
        jobs: queue.Queue[tuple[Future[list[ParsedMessage]], list[int]] | None] = queue.Queue(2)
        committed: queue.Queue[list[int]] = queue.Queue()
        stop = threading.Event()

        def produce(parser: BatchParser) -> None:
            try:
                for uids in batches:
                    self._apply_after_fetch(box, action, committed)
                    raws = box.fetch(uids)
                    job = (parser.submit([(raws[u], None) for u in uids if u in raws]), uids)
                    del raws
                    while not stop.is_set():
                        try:
                            jobs.put(job, timeout=0.5)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
            finally:
                jobs.put(None) if not stop.is_set() else None

        done = 0
        with (
            BatchParser(total) as parser,
            BatchWriter(self.db, self.settings, self.clock) as writer,
        ):
            producing = self._io.submit(produce, parser)
            try:
                while (job := jobs.get()) is not None:
                    future, uids = job
                    point = Checkpoint(self.account, folder, uidvalidity, max(uids))
                    done += len(uids)
                    writer.submit(
                        future.result(),
                        point,
                        after=self._committed(committed, uids, done, total, progress),
                    )
            finally:
                stop.set()
                producing.result()
        self._io.submit(self._apply_after_fetch, box, action, committed).result()
        report.intake.add(writer.report)

    @staticmethod
    def _committed(
        committed: queue.Queue[list[int]],
        uids: list[int],
        done: int,
        total: int,
        progress: Progress | None,
    ) -> Callable[[], None]:
        def after() -> None:
            committed.put(uids)
            if progress:
                progress(done, total)

        return after

    @staticmethod
    def _apply_after_fetch(box: Any, action: str, committed: queue.Queue[list[int]]) -> None:
        """Mark as seen or move the messages whose batches are committed (IMAP thread only)."""
        uids: list[int] = []
        while True:
            try:
                uids.extend(committed.get_nowait())
            except queue.Empty:
                break
        if not uids or action == "keep":
            return
        if action == "seen":
            box.mark_seen(uids)
        elif action.startswith("move:"):
            box.move(uids, action[5:])


def poll_local(
    db: Database, settings: Settings, clock: Clock, progress: Progress | None = None
) -> FetchReport:
    """A local Maildir (new mail moves to cur/ once stored) or an mbox (a message count)."""
    box = settings.mailbox
    path = settings.resolve(box.path or "")
    report = FetchReport()
    if box.kind == "maildir":
        _poll_maildir(db, settings, clock, path, report, progress)
    else:
        _poll_mbox(db, settings, clock, path, report, progress)
    return report


def _poll_maildir(
    db: Database,
    settings: Settings,
    clock: Clock,
    path: Path,
    report: FetchReport,
    progress: Progress | None,
) -> None:
    account = f"maildir:{path}"
    with db.read() as conn:
        first_time = get_checkpoint(conn, account, "") is None
    subs = ("new", "cur") if first_time else ("new",)
    files = [
        path / sub / name
        for sub in subs
        if (path / sub).is_dir()
        for name in sorted(os.listdir(path / sub))
    ]
    report.folders[str(path)] = len(files)
    for start in range(0, max(len(files), 1), 200):
        chunk = files[start : start + 200]
        parsed, taken = [], []
        for file in chunk:
            try:
                parsed.append(parse_message(file.read_bytes()))
                taken.append(file)
            except FileNotFoundError:
                continue
        point = Checkpoint(account, "", 1, start + len(chunk))
        report.intake.add(
            ingest_batch(db, settings, clock.now(), parsed, IngestOptions(), checkpoint=point)
        )
        for file in taken:
            if file.parent.name == "new":
                target = path / "cur" / (file.name if ":2," in file.name else file.name + ":2,")
                # If the rename fails the message is stored already; a rescan dedupes it.
                with contextlib.suppress(OSError):
                    file.rename(target)
        if progress:
            progress(start + len(chunk), len(files))


def _poll_mbox(
    db: Database,
    settings: Settings,
    clock: Clock,
    path: Path,
    report: FetchReport,
    progress: Progress | None,
) -> None:
    account = f"mbox:{path}"
    identity = path.stat().st_ino if path.exists() else 0
    with db.read() as conn:
        point = get_checkpoint(conn, account, "")
    skip = point.last_uid if point and point.uidvalidity == identity else 0
    parsed: list[ParsedMessage] = []
    position = 0

    def store() -> None:
        point = Checkpoint(account, "", identity, position)
        report.intake.add(
            ingest_batch(db, settings, clock.now(), parsed, IngestOptions(), checkpoint=point)
        )
        parsed.clear()
        if progress:
            progress(position, 0)

    for position, (_key, raw) in enumerate(read_messages(path), start=1):  # noqa: B007
        if position > skip:
            parsed.append(parse_message(raw))
            if len(parsed) >= 200:
                store()
    if parsed or position > skip:
        store()
    else:  # nothing new: the checkpoint stays, its time records the poll
        with db.write() as conn:
            mark_polled(conn, account, [""], clock.now())
    report.folders[str(path)] = max(position - skip, 0)
