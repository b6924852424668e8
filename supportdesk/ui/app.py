"""The console app: screens on top of one Desk, background mail work in thread workers."""

from __future__ import annotations

import contextlib
import gc
import os
import re
import socket
import time
import traceback
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.content import Content
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from supportdesk.desk import Desk
from supportdesk.desk.poller import Poller
from supportdesk.ui.presence import PresenceLine
from supportdesk.ui.screens.stack import StackScreen
from supportdesk.ui.text import plain
from supportdesk.ui.work import WorkDone, WorkFailed, failure_line, run_desk

REFRESH_EVERY = 0.5
"""Seconds between looks for other agents' changes (a cheap PRAGMA data_version on SQLite):
another console's answer shows here within a second."""
AGE_EVERY = 30.0
"""Seconds between re-reads of a list when nothing changed: its ages and the marks that come
with the clock alone (a letter late for review, overdue, due soon) move on screen too."""
READ_AHEAD_DELAY = 0.15
"""Seconds the cursor rests on a request before the console reads it ahead."""
READ_AHEAD_KEEP = 8
FAILURE_TIMEOUT = 10.0
"""Seconds a failure's toast stays up; the same failure again meanwhile adds no second one."""
LATE_REVIEWS = re.compile(r"f6 review \d+ · (\d+ late)\b")
"""The stack title's count of letters waiting past `[review] max_wait` ("f6 review 3 · 1
late")."""
GC_THRESHOLDS = (50_000, 20, 100)
"""Collect young objects less often than Python's (700, 10, 10): a keypress makes thousands."""


class SupportDeskApp(App[None]):
    """The agent console: the stack, a request's thread, answering and closing."""

    CSS_PATH = "app.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    TITLE = "SupportDesk"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("f2", "requests", "All requests", id="app.requests"),
        Binding("f3", "backlog", "Backlog", id="app.backlog"),
        Binding("f4", "stats", "Stats", id="app.stats"),
        Binding("f6", "reviews", "Review", id="app.reviews"),
        Binding("u", "undo_send", "Undo send", id="app.undo_send"),
    ]

    def __init__(self, desk: Desk, agent: str, *, background: bool = True) -> None:
        super().__init__()
        self.desk = desk
        self.agent = agent
        self.background = background
        self.holder = f"{agent}@{socket.gethostname()}:{os.getpid()}"
        self.mail_status = "mail: starting"
        self.outbox_status = ""
        self._version: int | None = None
        self._frozen = False
        self.ahead: dict[int, Any] = {}
        """Requests read ahead (the one under the cursor), by number: opening one draws at once."""
        self._read_ahead_timer: Timer | None = None
        self._stop_listening: Callable[[], None] | None = None
        self._last_failure: tuple[str, float] = ("", 0.0)
        settings = desk.settings
        self.title = f"{settings.desk.name} · {agent}"
        self.poller = Poller(desk, self.holder) if background else None
        """Mail in, the tick and the outbox, while this console holds the poller lease."""
        self._poll_timer: Timer | None = None
        self.undo: tuple[str, int, datetime] | None = None
        """The last reply sent from this console while it may be taken back: (Message-ID,
        request, until when); `u` brings it back to the editor."""
        if settings.keymap:
            self.set_keymap(dict(settings.keymap))

    def on_mount(self) -> None:
        gc.set_threshold(*GC_THRESHOLDS)
        self._version = self.desk.data_version()
        self.push_screen(StackScreen())
        if self.background:
            self.set_interval(REFRESH_EVERY, self.check_for_changes, name="watch")
            self.set_interval(AGE_EVERY, self.age_marks, name="ages")
            # PostgreSQL: another agent's change arrives as a notification, at once.
            self._stop_listening = self.desk.watch_changes(
                lambda: self.call_from_thread(self.check_for_changes)
            )
            self.poll_mail()

    # -- what reaches the screen as a string ------------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast (a screen's `notify` comes here too) is plain text: a file name, a
        subject or an error's text is shown as it is, never read as markup (`[a==x.pdf` once
        crashed the console) and never with escapes or control characters."""
        super().notify(
            plain(message), title=plain(title), severity=severity, timeout=timeout, markup=False
        )

    def format_title(self, title: str, sub_title: str) -> Content:
        """The header's title and sub-title (the mail status holds a server's error text);
        the stack's "· 1 late" (letters past `[review] max_wait`) in the warning colour."""
        title = plain(title)
        late = LATE_REVIEWS.search(title)
        if late is None:
            return super().format_title(title, plain(sub_title))
        content = Content(title).stylize("bold $warning", late.start(1), late.end(1))
        shown = super().format_title("", plain(sub_title))
        return Content.assemble(content, shown) if shown else content

    # -- actions -------------------------------------------------------------------------------

    def action_help(self) -> None:
        """This desk's keys by screen and what the stack's marks mean (ui/screens/help.py)."""
        from supportdesk.ui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
        else:
            self.push_screen(HelpScreen(type(self.screen)))

    def action_requests(self) -> None:
        from supportdesk.ui.screens.requests import RequestsScreen

        if not isinstance(self.screen, RequestsScreen):
            self.push_screen(RequestsScreen())

    def action_backlog(self) -> None:
        from supportdesk.ui.screens.backlog import BacklogScreen

        if not isinstance(self.screen, BacklogScreen):
            self.push_screen(BacklogScreen())

    def action_stats(self) -> None:
        from supportdesk.ui.screens.stats import StatsScreen

        if not isinstance(self.screen, StatsScreen):
            self.push_screen(StatsScreen())

    def action_reviews(self) -> None:
        from supportdesk.ui.screens.reviews import ReviewsScreen

        if not isinstance(self.screen, ReviewsScreen):
            self.push_screen(ReviewsScreen())

    def open_item(self, number: int) -> None:
        from supportdesk.ui.screens.item import ItemScreen

        self.push_screen(ItemScreen(number))

    def open_request(self, number: int) -> None:
        from supportdesk.ui.screens.request import RequestScreen

        self.push_screen(RequestScreen(number, self.ahead.get(number)))

    def read_ahead(self, number: int | None) -> None:
        """Read the request under the cursor once the cursor rests on it, so that opening it
        draws the whole screen at once. Moving through a list reads nothing."""
        if self._read_ahead_timer is not None:
            self._read_ahead_timer.stop()
            self._read_ahead_timer = None
        if number is not None and number not in self.ahead:
            self._read_ahead_timer = self.set_timer(
                READ_AHEAD_DELAY, partial(self._read_ahead_one, number), name="read-ahead"
            )

    @work(
        thread=True, exclusive=True, group="read-ahead", exit_on_error=False, name="Reading ahead"
    )
    def _read_ahead_one(self, number: int) -> None:
        from supportdesk.ui.screens.request import load

        with contextlib.suppress(Exception):  # only a head start: opening reads it anyway
            loaded = load(self.desk, number)
            self.call_from_thread(self._keep_read_ahead, number, loaded)

    def _forget_read_ahead(self) -> None:
        self.ahead.clear()

    def _keep_read_ahead(self, number: int, loaded: Any) -> None:
        self.ahead[number] = loaded
        while len(self.ahead) > READ_AHEAD_KEEP:
            del self.ahead[next(iter(self.ahead))]

    def reply_to(self, number: int) -> None:
        from supportdesk.ui.screens.reply import ReplyScreen

        self.push_screen(ReplyScreen(number))

    # -- undo send ---------------------------------------------------------------------------

    def offer_undo(self, message_id: str, number: int, until: datetime) -> None:
        """`u` takes the reply back until `until` (shown in the footer only meanwhile)."""
        self.undo = (message_id, number, until)
        self.refresh_bindings()
        seconds = (until - self.desk.clock.now()).total_seconds()
        self.set_timer(max(seconds, 0) + 0.1, self.undo_window_closed, name="undo-window")

    def undo_window_closed(self) -> None:
        """The reply can no longer be taken back: `u` leaves the footer, and a console that
        polls runs a round now, so the reply goes out at once instead of at the next round
        (up to `mailbox.poll_interval` later)."""
        self.refresh_bindings()
        if self.background and self.is_running and self.poller is not None:
            self.poll_mail()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "undo_send":
            return self.undo is not None and self.desk.clock.now() < self.undo[2]
        return True

    def action_undo_send(self) -> None:
        if self.undo is None:
            return
        message_id, number, _until = self.undo
        desk, agent = self.desk, self.agent
        self.undo = None
        self.refresh_bindings()

        def undone(_: object) -> None:
            self.notify(f"Reply to #{number} taken back: it is in the editor again.")
            self.reply_to(number)

        run_desk(
            self,
            "Undo send",
            lambda: desk.sending.unsend(message_id, agent),
            undone,
            group="undo-send",
        )

    def back_to_stack(self) -> None:
        """After an answer or a close: the stack, with the next request on top."""
        while len(self.screen_stack) > 2 and not isinstance(self.screen, StackScreen):
            self.pop_screen()
        self.reload_screen()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "All requests", "Every request, with filters and search", self.action_requests
        )
        yield SystemCommand(
            "Backlog",
            "Bugs, ideas and stories, the most customers waiting first",
            self.action_backlog,
        )
        yield SystemCommand(
            "Stats",
            "Today, the last 30 days, each agent, the backlog by age, CSAT",
            self.action_stats,
        )
        yield SystemCommand(
            "Review",
            "Trainees' letters to approve, edit or return; my letters and what became of them",
            self.action_reviews,
        )
        yield SystemCommand(
            "Poll mail now", "Fetch new mail and deliver the outbox", self.poll_mail
        )
        for binding in screen.BINDINGS:
            if isinstance(binding, Binding) and binding.description:
                action = binding.action

                def run(action: str = action, screen: Screen[Any] = screen) -> None:
                    self.call_later(screen.run_action, action)

                yield SystemCommand(binding.description, f"{binding.key}", run)

    # -- background ------------------------------------------------------------------------

    def first_screen_shown(self) -> None:
        """Freeze what the console holds once its first screen is up (modules, Textual's
        objects, the stack) out of the garbage collector's full passes. Those passes walk
        every object and, with a stack of hundreds of rows, froze the screen for 100-300 ms
        while the agent moved through it (bench/console.py)."""
        if not self._frozen:
            self._frozen = True
            gc.freeze()

    def reload_screen(self) -> None:
        reload = getattr(self.screen, "reload", None)
        if reload is not None:
            reload()
        for line in self.screen.query(PresenceLine):  # who else is at the request
            line.reread()

    def age_marks(self) -> None:
        """The clock moved on: a list that shows ages and time-based marks reads again. Only
        lists (`AGES_WITH_THE_CLOCK`): the request and reply screens keep their place."""
        if getattr(self.screen, "AGES_WITH_THE_CLOCK", False):
            self.reload_screen()

    def check_for_changes(self) -> None:
        self._check_for_changes()

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False, name="Refresh")
    def _check_for_changes(self) -> None:
        version = self.desk.data_version()
        if version == self._version and self.outbox_status:
            return
        self._version = version
        self.call_from_thread(self._forget_read_ahead)
        self.call_from_thread(self.reload_screen)
        counts = self.desk.outbox_pending()
        queued = counts.get("queued", 0)
        failed = counts.get("failed", 0)
        unconfirmed = counts.get("unconfirmed", 0)
        self.outbox_status = (
            f"outbox: {queued} queued"
            + (f", {failed} failed" if failed else "")
            + (f", {unconfirmed} unconfirmed" if unconfirmed else "")
        )
        self.call_from_thread(self._show_status)

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False, name="Mail")
    def poll_mail(self) -> None:
        """One round of the poller (desk/poller.py): mail in, the tick and the outbox when
        this console holds the poller lease; then the next round is scheduled."""
        if self.poller is None:
            return
        result = self.poller.round()
        if result.tick_error is not None:  # reported; the next round tries again
            self.post_message(WorkFailed("Time-based rules", result.tick_error))
        if result.report_error is not None:
            self.post_message(WorkFailed("Daily report", result.report_error))
        if result.report is not None and result.report.error is not None:
            self.post_message(
                WorkFailed(
                    f"Daily report of {result.report.day}",
                    RuntimeError(result.report.error),
                    "given up" if result.report.gave_up else "a later round tries again",
                )
            )
        if result.held_by is not None:
            self.mail_status = f"mail: polled by {result.held_by}"
        elif result.error is not None:  # a mail server that is down must not stop the console
            self.mail_status = f"mail: {result.error[:120]} — retrying in {result.next_in:.0f}s"
        else:
            status = self.desk.mailbox_status()
            when = (
                status.last_poll_at.astimezone().strftime("%H:%M") if status.last_poll_at else "–"
            )
            self.mail_status = f"mail: checked {when}"
            self.call_from_thread(self.check_for_changes)
        self.call_from_thread(self._show_status)
        self.call_from_thread(self._schedule_poll, result.next_in)

    def _schedule_poll(self, delay: float) -> None:
        if self._poll_timer is not None:  # "Poll mail now" replaces the round that was due
            self._poll_timer.stop()
            self._poll_timer = None
        if self.background and self.is_running:
            self._poll_timer = self.set_timer(delay, self.poll_mail, name="poll")

    def _show_status(self) -> None:
        self.sub_title = " · ".join(s for s in (self.mail_status, self.outbox_status) if s)

    # -- failures: one handler -------------------------------------------------------------

    def on_work_done(self, message: WorkDone) -> None:
        """A desk call started with `run_desk` ended: its screen takes the result, unless a
        newer load replaced it or the screen has closed."""
        if message.then is None or message.superseded:
            return
        try:
            message.then(message.result)
        except Exception as exc:  # showing the result failed: reported like the call
            node = message.node
            if node is not self and not node.is_attached:  # its screen closed meanwhile
                self.log.warning(f"{message.what}: its screen closed before it ended: {exc!r}")
                return
            self.report_failure(message.what, exc)

    def on_work_failed(self, message: WorkFailed) -> None:
        if message.or_else is not None:
            try:
                message.or_else(message.error)
            except Exception as exc:
                self.log.error(f"{message.what}: undoing after the failure failed: {exc!r}")
        self.report_failure(message.what, message.error, message.advice)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The app's own workers (refresh, mail) fail here; the console keeps working."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.report_failure(event.worker.name or "Background work", event.worker.error)

    def report_failure(self, what: str, error: BaseException, advice: str = "") -> None:
        """The one place a failure reaches the agent: a toast of one line saying what failed,
        why and what to do (plain text, never markup), and the whole error in the log."""
        line = failure_line(what, error, advice, self.desk.settings.database_url)
        self.log.error(line)
        self.log.error("".join(traceback.format_exception(error)))
        now = time.monotonic()
        last, at = self._last_failure
        if line == last and now - at < FAILURE_TIMEOUT:
            return  # a failure that repeats (a claim renewed, a refresh) is shown once
        self._last_failure = (line, now)
        self.notify(line, severity="error", timeout=FAILURE_TIMEOUT, markup=False)

    def on_unmount(self) -> None:
        if self._stop_listening is not None:
            self._stop_listening()
        self._stop_polling()

    async def action_quit(self) -> None:
        """Quit; with unsent drafts, ask first (they are kept either way)."""
        from supportdesk.ui.modals.confirm import ConfirmModal

        if isinstance(self.screen, ConfirmModal):
            return  # already asking
        try:
            drafts = self.desk.unsent_drafts(self.agent)
        except Exception as exc:  # quitting must always work
            self.log.warning(f"the unsent drafts cannot be read: {exc!r}")
            drafts = []
        if not drafts:
            self._quit_now()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._quit_now()

        self.push_screen(ConfirmModal(unsent_question(drafts), "quit, keep the drafts"), answered)

    def _quit_now(self) -> None:
        self._stop_polling()
        self.exit()

    def _stop_polling(self) -> None:
        """Give the poller lease back (another process takes over at once) and log out."""
        if self.poller is not None:
            with contextlib.suppress(Exception):  # quitting must always work
                self.poller.close()


def unsent_question(numbers: list[int]) -> str:
    """ "2 unsent drafts (#12, #15): quit anyway?" """
    count = len(numbers)
    shown = ", ".join(f"#{n}" for n in numbers[:8]) + (", …" if count > 8 else "")
    drafts = "1 unsent draft" if count == 1 else f"{count} unsent drafts"
    return f"{drafts} ({shown}): quit anyway? y/n"


def make_app(desk: Desk, agent: str, *, background: bool = True) -> SupportDeskApp:
    """The console for `agent` on `desk`: the factory the CLI and the tests use."""
    return SupportDeskApp(desk, agent, background=background)
