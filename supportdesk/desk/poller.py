"""The one mail poller: what the console and `fetch --watch` run, round after round.

Whichever process holds the poller lease (`mailbox.lease`) polls the mailbox, runs the tick
and delivers the outbox; the others wait and take over once the lease lapses. A `Poller`
owns that lease, the rhythm (the mailbox's interval, but at least once a minute for the tick
and at least every half lease), the backoff after a mail server or database error, and one
IMAP connection kept open across rounds (logged in once; reconnected after an error).
Each `round()` says what it did and when the next one is due; the caller only waits.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from supportdesk.desk.tick import POLLER_LEASE, TICK_EVERY
from supportdesk.errors import MailServerError, RetryableError

if TYPE_CHECKING:
    from supportdesk.desk import Desk
    from supportdesk.desk.delivery import DeliveryReport
    from supportdesk.desk.fetching import FetchReport, ImapPoller, Progress
    from supportdesk.desk.report import ReportResult
    from supportdesk.desk.tick import TickReport

RETRY_DELAYS = (2.0, 5.0, 15.0, 30.0, 60.0)
"""Seconds before the next round after a mail server or database error, by consecutive
failures (never longer than the normal rhythm)."""


@dataclass(slots=True)
class RoundResult:
    """What one round did, and when the next one is due."""

    at: datetime
    next_in: float
    """Seconds until the next round is due."""
    held_by: str | None = None
    """Who holds the poller lease when it is not ours (nothing else was done)."""
    took_over_from: str | None = None
    """Whose lease this round took over (it lapsed, or was given back)."""
    fetch: FetchReport | None = None
    """What the mailbox gave (None: no mailbox, or it failed)."""
    delivered: DeliveryReport | None = None
    tick: TickReport | None = None
    """The time-based rules, when they were due this round."""
    error: str | None = None
    """The mail server's, mailbox's or database's failure, one line; the next round retries."""
    error_source: str = ""
    """Where `error` came from: "mail server", "mailbox", "database", or "" for another failure."""
    exception: Exception | None = None
    tick_error: Exception | None = None
    """The time-based rules failed (the rest of the round went on)."""
    report: ReportResult | None = None
    """The daily report, when this round sent it or tried to."""
    report_error: Exception | None = None
    """The daily report could not be prepared (the rest of the round went on)."""

    @property
    def next_at(self) -> datetime:
        return self.at + timedelta(seconds=self.next_in)

    @property
    def ours(self) -> bool:
        """This process holds the poller lease (and did the round's work)."""
        return self.held_by is None

    @property
    def fetched(self) -> int:
        """Messages stored this round."""
        return self.fetch.intake.stored if self.fetch is not None else 0

    @property
    def retryable(self) -> bool:
        """The error is the server's or the database's, the kind a later round gets past."""
        return isinstance(self.exception, MailServerError | RetryableError)


class Poller:
    """Rounds of polling, tick and delivery for process `holder`, while it holds the lease."""

    def __init__(
        self, desk: Desk, holder: str, on_takeover: Callable[[str], None] | None = None
    ) -> None:
        self.desk = desk
        self.holder = holder
        self.on_takeover = on_takeover
        """Called with the former holder's name when a round takes the lease over, before
        it works (its fetch may take minutes)."""
        box = desk.settings.mailbox
        self.lease = box.lease
        self.every = min(
            box.poll_interval.total_seconds(),
            TICK_EVERY.total_seconds(),
            self.lease.total_seconds() / 2,
        )
        """Seconds between rounds: the mailbox's interval, but at least once a minute (the
        tick) and at least every half lease (so the lease never lapses while we live)."""
        self.failures = 0
        self._imap: ImapPoller | None = None
        self._seen_holder: str | None = None
        self._lock = threading.Lock()
        self._closed = False

    # -- one round -----------------------------------------------------------------------

    def round(self, progress: Progress | None = None) -> RoundResult:
        """Take the lease (or say who has it), poll the mailbox, run the tick when due,
        deliver the outbox. Errors do not escape: they are in the result, with a backoff."""
        with self._lock:
            try:
                return self._round(progress)
            finally:
                if self._closed:
                    self._shut()

    def _round(self, progress: Progress | None) -> RoundResult:
        desk = self.desk
        now = desk.clock.now()
        if self._closed or not desk.acquire_lease(POLLER_LEASE, self.holder, self.lease):
            held = desk.lease_holder(POLLER_LEASE)
            if held:
                self._seen_holder = held[0]
            self._drop_imap()  # another process polls: no connection idles here meanwhile
            return RoundResult(now, self.every, held_by=held[0] if held else "another process")
        result = RoundResult(now, self.every, took_over_from=self._seen_holder)
        self._seen_holder = None
        if result.took_over_from is not None and self.on_takeover is not None:
            self.on_takeover(result.took_over_from)
        with self._keeping_lease():
            try:
                if desk.settings.mailbox.kind != "none":
                    # first: a customer's answer waiting there stops a reminder
                    result.fetch = self._fetch(progress)
            except Exception as exc:  # reported in the result; the next round tries again
                self._failed(result, exc)
            try:
                result.tick = desk.tick_if_due()  # whatever the mail server does
            except Exception as exc:
                result.tick_error = exc
            try:
                result.delivered = desk.deliver()  # a mailbox that is down holds back no reply
            except Exception as exc:
                if result.exception is None:
                    self._failed(result, exc)
            try:
                result.report = desk.daily_report_if_due(self.holder)  # once a day, cheap else
            except Exception as exc:
                result.report_error = exc
        if result.exception is None:
            self.failures = 0
        else:
            self.failures += 1
            delay = RETRY_DELAYS[min(self.failures, len(RETRY_DELAYS)) - 1]
            result.next_in = min(delay, self.every)
        return result

    def _fetch(self, progress: Progress | None) -> FetchReport:
        if self.desk.settings.mailbox.kind != "imap":
            return self.desk.fetch(progress)  # a Maildir or an mbox: read as it is each time
        if self._imap is None:
            self._imap = self.desk.imap_poller()
        return self._imap.poll(progress)

    def _failed(self, result: RoundResult, exc: Exception) -> None:
        result.exception = exc
        result.error = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, RetryableError):
            result.error_source = "database"
        elif isinstance(exc, MailServerError):
            kind = self.desk.settings.mailbox.kind
            result.error_source = "mail server" if kind == "imap" else "mailbox"

    @contextlib.contextmanager
    def _keeping_lease(self) -> Iterator[None]:
        """Renew the lease every half round while the round works (a first fetch or a backlog
        takes minutes): it lapses only when this process dies."""
        stop = threading.Event()

        def keep() -> None:
            while not stop.wait(self.every / 2):
                with contextlib.suppress(Exception):  # the round's own calls report failures
                    self.desk.acquire_lease(POLLER_LEASE, self.holder, self.lease)

        keeper = threading.Thread(target=keep, name="poller-lease", daemon=True)
        keeper.start()
        try:
            yield
        finally:
            stop.set()
            keeper.join()

    # -- between rounds --------------------------------------------------------------------

    def wait(self, result: RoundResult) -> None:
        """Wait until the next round is due: on IMAP with IDLE, new mail ends the wait early.
        A connection that breaks meanwhile is dropped; the next round reconnects."""
        if result.ours and result.exception is None and self._imap is not None:
            try:
                self._imap.wait_for_news(result.next_in)
            except MailServerError:
                return  # the next round reconnects, and says so if the server is down
            return
        time.sleep(result.next_in)

    # -- the end ---------------------------------------------------------------------------

    def close(self) -> None:
        """Give the lease back (another process may take over at once) and log out. A round
        in flight on another thread ends first, then lets go itself."""
        if self._closed:
            return
        self._closed = True
        if self._lock.acquire(blocking=False):
            try:
                self._shut()
            finally:
                self._lock.release()

    def _shut(self) -> None:
        try:
            self._drop_imap()
        finally:
            self.desk.release_lease(POLLER_LEASE, self.holder)

    def _drop_imap(self) -> None:
        imap, self._imap = self._imap, None
        if imap is not None:
            imap.close()
