"""Polling the mailbox: IMAP, a local Maildir or an mbox, through the one intake pipeline.

For IMAP, each batch (sized in bytes, so memory stays flat) is downloaded on a helper thread
while the previous one is parsed and stored; the batch and the checkpoint commit together.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import re
import threading
import time
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
from supportdesk.desk.sources import local_source
from supportdesk.errors import MailServerError
from supportdesk.mail.local import read_mbox
from supportdesk.mail.parse import ParsedMessage, parse_message, split_head_body
from supportdesk.store.checkpoints import (
    Checkpoint,
    clear_error,
    get_checkpoint,
    mark_polled,
    record_error,
)
from supportdesk.store.database import Database
from supportdesk.store.intake import known_messages, known_raw_copies

Progress = Callable[[int, int], None]
"""Called with (messages done, messages in all) as a fetch goes on."""


@dataclass(slots=True)
class FetchReport:
    intake: IngestReport = field(default_factory=IngestReport)
    folders: dict[str, int] = field(default_factory=dict)
    rescanned: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Files skipped this time (unreadable), each one line: they are tried again next time."""

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.intake.as_dict(),
            "folders": self.folders,
            "rescanned": self.rescanned,
            "warnings": self.warnings,
        }


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
            try:
                mailbox.__enter__()
            except MailServerError as exc:
                from imapclient.exceptions import LoginError

                if isinstance(exc.__cause__, LoginError):  # read the password again next time
                    self._password = None
                raise
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


MAILDIR_CUTOFF = 2
"""A Maildir checkpoint's `uidvalidity` when its `last_uid` is the cur/ cutoff (ns)."""

CUR_MARGIN_NS = 60 * 1_000_000_000
"""How far back of the last poll's start cur/ is looked at again: file times are coarse, and a
network share's clock may be a little off (what was already stored is skipped unparsed)."""

_MBOX_FLAG_HEADERS = re.compile(
    rb"^(?:Status|X-Status|X-Keywords|X-UID|X-IMAP|X-IMAPbase|Content-Length|Lines):[^\n]*\n",
    re.IGNORECASE | re.MULTILINE,
)
"""Headers that mail readers (mutt, Dovecot) rewrite in an mbox when mail is read."""


def poll_local(
    db: Database, settings: Settings, clock: Clock, progress: Progress | None = None
) -> FetchReport:
    """A local Maildir (new mail moves to cur/ once stored; mail read into cur/ by another
    client is taken too) or an mbox (the messages taken, checked against the file's content,
    so a file emptied or rewritten in place is rescanned, never skipped)."""
    box = settings.mailbox
    account = f"{box.kind}:{settings.resolve(box.path or '')}"
    with db.read() as conn:
        had_error = get_checkpoint(conn, account, "*") is not None
    try:
        path = local_source(settings)
    except MailServerError as exc:
        with db.write() as conn:
            record_error(conn, account, "*", str(exc), clock.now())
        raise
    report = FetchReport()
    if box.kind == "maildir":
        _poll_maildir(db, settings, clock, path, report, progress)
    else:
        _poll_mbox(db, settings, clock, path, report, progress)
    if had_error:  # the mailbox is back: the error is history
        with db.write() as conn:
            clear_error(conn, account, "*", clock.now())
    return report


def _poll_maildir(
    db: Database,
    settings: Settings,
    clock: Clock,
    path: Path,
    report: FetchReport,
    progress: Progress | None,
) -> None:
    """Everything in new/, and what reached cur/ since the last poll (a rename sets a file's
    ctime, so a message another client read is found by that); a file that cannot be read is
    named in the report's warnings and stays, to be tried again."""
    account = f"maildir:{path}"
    with db.read() as conn:
        point = get_checkpoint(conn, account, "")
    since = point.last_uid if point is not None and point.uidvalidity == MAILDIR_CUTOFF else 0
    started = time.time_ns()  # before listing: whatever lands in cur/ later is newer
    cutoff = started
    files = _listing(path / "new")
    # A file added to or renamed in cur/ also moves the folder's time: if that is older than
    # the cutoff, there is nothing to look at there (an empty poll stays cheap).
    changed = (path / "cur").stat().st_mtime_ns >= since
    for file in _listing(path / "cur") if changed else []:
        try:
            if file.stat().st_ctime_ns >= since:
                files.append(file)
        except FileNotFoundError:  # renamed meanwhile: its new name is newer than `started`
            continue
        except OSError:
            files.append(file)  # reading it says what is wrong
    taken = 0
    for start in range(0, max(len(files), 1), 200):
        chunk = files[start : start + 200]
        loaded: list[tuple[Path, bytes]] = []
        for file in chunk:
            try:
                loaded.append((file, file.read_bytes()))
            except FileNotFoundError:  # moved to cur/ meanwhile: the next poll takes it there
                continue
            except OSError as exc:
                report.warnings.append(
                    f"{file}: cannot be read ({exc.strerror or exc}); skipped, it is tried "
                    "again on the next fetch"
                )
                if file.parent.name == "cur":  # keep it above the next poll's cutoff
                    with contextlib.suppress(OSError):
                        cutoff = min(cutoff, file.lstat().st_ctime_ns)
        fresh = [(f, raw) for f, raw in loaded if f.parent.name == "new"]
        seen = _not_yet_stored(db, [(f, raw) for f, raw in loaded if f.parent.name == "cur"])
        parsed = [parse_message(raw) for _, raw in fresh] + [
            parse_message(raw, sha) for raw, sha in seen
        ]
        taken += len(parsed)
        last = start + 200 >= len(files)
        point = Checkpoint(
            account, "", MAILDIR_CUTOFF, max(cutoff - CUR_MARGIN_NS, 0) if last else since
        )
        report.intake.add(
            ingest_batch(db, settings, clock.now(), parsed, IngestOptions(), checkpoint=point)
        )
        for file, _raw in fresh:
            target = path / "cur" / (file.name if ":2," in file.name else file.name + ":2,")
            # If the rename fails the message is stored already; a rescan dedupes it.
            with contextlib.suppress(OSError):
                file.rename(target)
        if progress:
            progress(start + len(chunk), len(files))
    report.folders[str(path)] = taken


def _listing(folder: Path) -> list[Path]:
    return [folder / name for name in sorted(os.listdir(folder)) if not name.startswith(".")]


def _not_yet_stored(db: Database, loaded: list[tuple[Path, bytes]]) -> list[tuple[bytes, str]]:
    """(raw, sha256) of the messages not stored already with these very bytes. Only headers
    are parsed here: a message we moved to cur/ ourselves, or whose flags another client
    changed, costs a hash and a look-up, not a parse."""
    if not loaded:
        return []
    found: list[tuple[bytes, str, str]] = []
    for _file, raw in loaded:
        sha = hashlib.sha256(raw).hexdigest()
        _head_end, body_start = split_head_body(raw, 0, len(raw))
        found.append((raw, sha, parse_message(raw[:body_start], sha).message_id))
    with db.read() as conn:
        known = known_messages(conn, [mid for _, _, mid in found])
        stored = known_raw_copies(
            conn, [(known[mid].pk, sha) for _, sha, mid in found if mid in known]
        )
    return [
        (raw, sha)
        for raw, sha, mid in found
        if mid not in known or (known[mid].pk, sha) not in stored
    ]


def _poll_mbox(
    db: Database,
    settings: Settings,
    clock: Clock,
    path: Path,
    report: FetchReport,
    progress: Progress | None,
) -> None:
    """The checkpoint is how many messages were taken and a fingerprint of them (read flags
    left out). When the file no longer starts with those, it was emptied or rewritten in
    place: the whole file is taken again, deduplicated by Message-ID and bytes."""
    account = f"mbox:{path}"
    with db.read() as conn:
        point = get_checkpoint(conn, account, "")
    if point is None or not point.last_uid:
        _take_mbox(db, settings, clock, path, account, 0, 0, report, progress)
    elif not _take_mbox(
        db, settings, clock, path, account, point.last_uid, point.uidvalidity, report, progress
    ):
        report.rescanned.append(str(path))
        _take_mbox(db, settings, clock, path, account, 0, 0, report, progress, rescan=True)


def _take_mbox(
    db: Database,
    settings: Settings,
    clock: Clock,
    path: Path,
    account: str,
    skip: int,
    fingerprint: int,
    report: FetchReport,
    progress: Progress | None,
    rescan: bool = False,
) -> bool:
    """Take the messages after the first `skip`; False (and nothing stored) when the first
    `skip` are not the ones taken before (their fingerprint differs, or there are fewer)."""
    digest = hashlib.sha256()
    parsed: list[ParsedMessage] = []
    position = 0

    def store() -> None:
        point = Checkpoint(account, "", _mbox_fingerprint(digest), position)
        report.intake.add(
            ingest_batch(db, settings, clock.now(), parsed, IngestOptions(), checkpoint=point)
        )
        parsed.clear()
        if progress:
            progress(position, 0)

    for position, raw in enumerate(read_mbox(path), start=1):  # noqa: B007
        flagless = _without_read_flags(raw)
        digest.update(len(flagless).to_bytes(8, "big"))
        digest.update(flagless)
        if position < skip:
            continue
        if position == skip:
            if _mbox_fingerprint(digest) != fingerprint:
                return False
            continue
        parsed.append(parse_message(raw))
        if len(parsed) >= 200:
            store()
    if position < skip:
        return False
    if parsed or position > skip or rescan:
        store()
    else:  # nothing new: the checkpoint stays, its time records the poll
        with db.write() as conn:
            mark_polled(conn, account, [""], clock.now())
    report.folders[str(path)] = position - skip
    return True


def _without_read_flags(raw: bytes) -> bytes:
    _head_end, body_start = split_head_body(raw, 0, len(raw))
    return _MBOX_FLAG_HEADERS.sub(b"", raw[:body_start]) + raw[body_start:]


def _mbox_fingerprint(digest: Any) -> int:
    """The first 62 bits of the digest so far: fits the checkpoint's signed 64-bit column."""
    return int.from_bytes(digest.copy().digest()[:8], "big") >> 2
