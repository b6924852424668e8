"""The home screen: the LIFO stack, newest on top."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from supportdesk.desk.senders import SenderLabel, request_sender
from supportdesk.domain import RequestRecord, lifecycle
from supportdesk.domain.stats import duration
from supportdesk.ui.columns import (
    Column,
    add_fitted_row,
    column_width,
    damaged_cells,
    fit_columns,
)
from supportdesk.ui.keybar import KeyBar
from supportdesk.ui.keys import RowTable, TopBottom, refresh_binding, top_bottom_bindings
from supportdesk.ui.text import age, inert, status_words
from supportdesk.ui.work import run_desk

if TYPE_CHECKING:
    from supportdesk.ui.app import SupportDeskApp

REASONS = {
    "new": "new",
    "customer_reply": "reply",
    "follow_up": "follow-up",
    "delivery_failed": "bounced",
    "fixed": "fixed",
    "wont_do": "won't do",
    "reopened": "reopened",
    "escalated": "escalated",
    "handed_back": "handed back",
    "returned": "returned",
}


class StackList(RowTable):
    """The stack as a table; row keys are request numbers."""

    COLUMNS = [
        Column("number", "#", width=7),
        Column("age", "age", width=4),
        Column("reason", "reason", width=11),
        Column("customer", "customer", weight=2),
        Column("subject", "subject", weight=3),
        Column("tags", "tags", weight=1, wide_only=110),
        Column("claimed", "claimed", width=9),
    ]

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True

    def show(
        self,
        records: list[RequestRecord],
        now: datetime,
        agent: str,
        warn: timedelta,
        mine: bool = False,
        replying: dict[int, list[str]] | None = None,
    ) -> None:
        """`replying`: who else is writing an answer to each request now (✎bob)."""
        selected = self.selected_number()
        on_top = self.cursor_row == 0  # new mail on top: the cursor follows the top
        senders: dict[int, SenderLabel] = {}
        for r in records:
            with contextlib.suppress(Exception):  # the row says why below
                senders[r.number] = request_sender(r)
        # a name shown with its address needs the room for the address
        want = max((len(str(s)) for s in senders.values() if s.show_address), default=0)
        keys = fit_columns(self, self.COLUMNS, {"customer": want})
        customer_width = column_width(self, "customer")
        for r in records:
            try:
                sender = senders.get(r.number) or request_sender(r)  # raises again: why
                cells = _cells(r, now, agent, warn, sender, customer_width, mine)
                writers = (replying or {}).get(r.number)
                if writers:  # someone else is answering it right now: say who
                    cells["claimed"] = inert(f"✎{writers[0]}", "bold yellow")
            except Exception as exc:  # one row that cannot be shown never empties the stack
                self.log.error(f"stack: request #{r.number} cannot be shown: {exc!r}")
                cells = damaged_cells(self.COLUMNS, r.number, exc, "subject")
            add_fitted_row(self, keys, cells, str(r.number))
        if on_top and self.row_count:
            self.move_cursor(row=0)
        elif selected is not None and str(selected) in self.rows:
            self.move_cursor(row=self.get_row_index(str(selected)))

    def selected_number(self) -> int | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return int(key.value) if key.value else None


def _cells(
    r: RequestRecord,
    now: datetime,
    agent: str,
    warn: timedelta,
    sender: SenderLabel,
    customer_width: int,
    mine_view: bool = False,
) -> dict[str, Text]:
    mine = r.claimed_by == agent
    claimed = r.claimed_by is not None and r.claimed_until is not None and r.claimed_until > now
    others = r.assignee is not None and r.assignee != agent  # someone else's: dimmed
    style = "dim" if (claimed and not mine) or others else ""
    owner = f"→{r.assignee}" if others else ""
    holder = (r.claimed_by or "") if claimed else owner
    if mine_view and not lifecycle.on_stack(r.status):  # off the stack: its status says why
        reason = inert(status_words(r.status), style)
    else:
        reason = _reason(r, now, warn, style)
    return {
        "number": inert(f"#{r.number}", style),
        "age": inert(age(r.pushed_at, now), style),
        "reason": reason,
        # the name, and the address when the name alone could pass for someone else
        "customer": inert(sender.fit(customer_width), style),
        "subject": _subject(r, style),
        "tags": inert(", ".join(r.tags), style),
        "claimed": inert(holder, style),
    }


PRIORITY_MARKS = {"urgent": ("!!", "bold red"), "high": ("!", "bold yellow"), "low": ("↓", "dim")}
"""The priority before the subject: `!!` urgent, `!` high, nothing for normal, `↓` low. Not a
column of its own: at 80 columns every cell of room goes to the sender's address and the
subject."""


def _subject(r: RequestRecord, style: str) -> Text:
    subject = inert(r.subject or "(no subject)", style)
    mark, own = PRIORITY_MARKS.get(r.priority, ("", ""))
    if not mark:
        return subject
    return Text.assemble(inert(mark, style or own), " ", subject)


def _reason(r: RequestRecord, now: datetime, warn: timedelta, style: str) -> Text:
    """Why the request is on the stack; for one pinned by its deadline, the time left."""
    due = r.sla_due_at
    if r.first_response_at is None and due is not None and due <= now + warn:
        if due <= now:
            return inert("overdue", style or "bold red")
        return inert(f"due {age(now, due)}", style or "bold yellow")
    label = REASONS.get(r.reason, r.reason)
    if r.reason == "follow_up":
        label = f"{label} {r.reminder_count + 1}"
    return inert(label, style or _reason_style(r.reason))


def _reason_style(reason: str) -> str:
    return {
        "delivery_failed": "red",
        "reopened": "yellow",
        "follow_up": "cyan",
        "fixed": "green",
        "wont_do": "magenta",
        "escalated": "bold magenta",
        "handed_back": "blue",
        "returned": "bold yellow",
    }.get(reason, "")


class StackScreen(TopBottom, Screen[None]):
    """Newest request on top; Enter opens it, r answers it, n takes the next free one."""

    AGES_WITH_THE_CLOCK = True  # the app re-reads it now and then (`age_marks`)

    HELP = """
The stack: the newest request on top. Why each is here (the **reason**):
new, reply (the customer wrote), follow-up, bounced, fixed, won't do, reopened,
escalated, handed back, **returned** (your letter came back from your mentor: the
comment is shown above your draft), or *due*/*overdue* (its first answer is late).

**f6** opens the review: the letters waiting for your review (the header counts them,
with the late ones), or your own letters and what became of them.
"""

    BINDINGS = [
        Binding("enter", "open", "Open", id="stack.open"),
        Binding("r", "reply", "Reply", id="stack.reply"),
        Binding("n", "take_next", "Take next", id="stack.next"),
        Binding("a", "assign", "Assign", id="stack.assign"),
        Binding("e", "escalate", "Escalate", id="stack.escalate"),
        Binding("m", "mine", "Mine", id="stack.mine"),
        Binding("t", "tags", "Tags", id="stack.tags"),
        Binding("slash", "search", "Search", id="stack.search"),
        Binding("f5", "toggle_lines", "All lines", id="stack.lines"),
        Binding("j", "cursor_down", "Down", show=False, id="stack.down"),
        Binding("k", "cursor_up", "Up", show=False, id="stack.up"),
        refresh_binding("stack"),
        Binding("q", "quit", "Quit", show=False, id="stack.quit"),
        *top_bottom_bindings("stack"),
    ]

    app: SupportDeskApp

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="✉")
        with Vertical(id="stack-body"):
            yield Static(id="speed")
            yield StackList(id="stack")
            yield Static(id="empty", classes="empty")
        yield KeyBar()

    mine = False
    """Showing "mine" (the requests assigned to this agent, whatever their status) instead
    of the stack."""

    shown: tuple[list[RequestRecord], Any, datetime, dict[int, list[str]]] | None = None
    """What the screen shows, and the minute its ages are for: laid out again on a resize
    without a query, and not redrawn when a reload finds the same."""

    my_line: int | None = None
    """The agent's line (read with the first load): the stack shows it by default."""
    all_lines = False
    """f5: every line's requests instead of the agent's line's."""

    def on_mount(self) -> None:
        self.query_one("#empty").display = False

    def on_screen_resume(self) -> None:
        self.reload()  # also the first load: a pushed screen is resumed

    def on_resize(self) -> None:
        if self.shown is not None:
            self._show(*self.shown[:2], resized=True)

    def reload(self) -> None:
        desk, agent, all_lines, known = self.app.desk, self.app.agent, self.all_lines, self.my_line
        mine = self.mine

        def read() -> tuple[list[RequestRecord], Any, int, dict[int, list[str]]]:
            line = known if known is not None else desk.agent_line(agent)
            if mine:
                records, today = desk.mine(agent, 500), None
            else:
                records = desk.stack(500, None if all_lines else line)
                today = desk.today() if not records else None
            return records, today, line, writers(records)

        def writers(records: list[RequestRecord]) -> dict[int, list[str]]:
            """Who else is replying to the requests shown (one query); the stack shows
            without it when it cannot be read."""
            try:
                return desk.presence.replying([r.number for r in records], agent)
            except Exception as exc:
                self.log.warning(f"who is replying cannot be read: {exc!r}")
                return {}

        # a newer load replaces this one
        run_desk(self, "Reading the stack", read, self._loaded, group="stack", supersede=True)
        self._read_speed()
        self._read_reviews()

    reviews: tuple[int, int] = (0, 0)
    """The letters waiting for this agent's review, and how many of them are late."""

    def _read_reviews(self) -> None:
        """How many letters wait for this agent's review: "f6 review 3 · 1 late" in the
        header. Apart from the stack, as the speed line: a failure leaves it out."""
        desk, agent = self.app.desk, self.app.agent

        def read() -> tuple[int, int] | Exception:
            try:
                queue = desk.reviews.queue(agent)
            except Exception as exc:  # the stack works without it; the log says why
                return exc
            return len(queue), sum(1 for r in queue if r.overdue)

        run_desk(
            self,
            "Reading the review queue",
            read,
            self._show_reviews,
            group="review-count",
            supersede=True,
        )

    def _show_reviews(self, counts: tuple[int, int] | Exception) -> None:
        if isinstance(counts, Exception):
            self.log.warning(f"the review queue cannot be read: {counts!r}")
        elif counts != self.reviews:
            self.reviews = counts
            self._show_lines()

    def _read_speed(self) -> None:
        """Today's speed score and median (the team's), read after the stack, apart from it:
        a slow count never holds the stack back, and a failure leaves the line empty."""
        from supportdesk.ui.screens.stats import today_figures

        desk = self.app.desk

        def read() -> Any:
            try:
                return today_figures(desk)
            except Exception as exc:  # the stack works without it; the log says why
                return exc

        run_desk(
            self, "Reading today's speed", read, self._show_speed, group="speed", supersede=True
        )

    def _show_speed(self, figures: Any) -> None:
        from supportdesk.ui.screens.stats import speed_line

        line = self.query_one("#speed", Static)
        if isinstance(figures, Exception):
            self.log.warning(f"today's speed cannot be read: {figures!r}")
            line.update("")
            return
        line.update(inert(speed_line(figures)))

    replying: dict[int, list[str]] = {}
    """Who else is writing an answer to each request shown, by number."""

    def _loaded(self, found: tuple[list[RequestRecord], Any, int, dict[int, list[str]]]) -> None:
        records, today, self.my_line, self.replying = found
        self._show_lines()
        self._show(records, today)

    def _show_lines(self) -> None:
        """The header says whose stack it is, what f5 does, and the letters waiting for this
        agent's review ("f6 review 3 · 1 late")."""
        title = self.app.title
        pending, late = self.reviews
        if pending:  # first: at 80 columns the end of the title is cut
            title += f" · f6 review {pending}" + (f" · {late} late" if late else "")
        if self.mine:
            self.title = f"{title} · Mine · m back to the stack"
        elif self.my_line is None:
            return
        elif self.all_lines:
            self.title = f"{title} · all lines · f5 line {self.my_line}"
        else:
            self.title = f"{title} · line {self.my_line} · f5 all lines"

    def _empty_words(self) -> str:
        if self.all_lines or self.my_line is None:
            return "The stack is empty."
        return f"The stack is empty (line {self.my_line}; f5: all lines)."

    def action_toggle_lines(self) -> None:
        self.all_lines = not self.all_lines
        self.shown = None
        self.reload()

    def action_escalate(self) -> None:
        from supportdesk.ui.modals.escalate import escalate

        number = self._selected()
        records = self.shown[0] if self.shown else []
        found = next((r for r in records if r.number == number), None)
        if found is not None:
            escalate(self, found.number, found.line, self.reload)

    def _show(self, records: list[RequestRecord], today: Any, *, resized: bool = False) -> None:
        now = self.app.desk.clock.now()
        shown = (records, today, now.replace(second=0, microsecond=0), self.replying)
        if shown == self.shown and not resized:
            return  # back from a request, nothing changed: keep the table as it is
        self.shown = shown
        table = self.query_one(StackList)
        empty = self.query_one("#empty", Static)
        warn = self.app.desk.settings.sla.warn_before
        table.show(records, now, self.app.agent, warn, self.mine, self.replying)
        table.display = bool(records)
        empty.display = not records
        if not records and self.mine:
            empty.update(inert("Mine: nothing is assigned to you. m goes back to the stack."))
        elif not records and today is not None:
            empty.update(
                inert(
                    f"{self._empty_words()} Nothing waits for an answer.\n\n"
                    f"Today: {today.received} received · {today.new_requests} new requests · "
                    f"{today.answered} answered · median first answer "
                    f"{duration(_seconds(today.median_first_answer))}"
                )
            )
        if records:
            table.focus()
        self.app.first_screen_shown()

    # -- actions ---------------------------------------------------------------------------

    def _selected(self) -> int | None:
        return self.query_one(StackList).selected_number()

    def action_open(self) -> None:
        number = self._selected()
        if number is not None:
            self.app.open_request(number)

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.app.read_ahead(int(event.row_key.value) if event.row_key.value else None)

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_reply(self) -> None:
        number = self._selected()
        if number is not None:
            self.app.reply_to(number)

    def action_tags(self) -> None:
        from supportdesk.ui.modals.tags import edit_tags

        number = self._selected()
        if number is None or self.shown is None:
            return
        tags = next((r.tags for r in self.shown[0] if r.number == number), [])
        edit_tags(self, number, tags, self.reload)

    def action_cursor_down(self) -> None:
        self.query_one(StackList).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one(StackList).action_cursor_up()

    def action_search(self) -> None:
        self.app.action_requests()

    def top_bottom_target(self) -> StackList:
        return self.query_one(StackList)

    async def action_quit(self) -> None:
        await self.app.action_quit()

    def action_reload(self) -> None:
        self.reload()

    def action_mine(self) -> None:
        """Toggle between the stack and "mine"."""
        self.mine = not self.mine
        self._show_lines()
        self.shown = None
        self.reload()

    def action_assign(self) -> None:
        from supportdesk.ui.modals.agent_picker import AgentPickerModal

        number = self._selected()
        if number is None or self.shown is None:
            return
        current = next((r.assignee for r in self.shown[0] if r.number == number), None)

        def chosen(login: str | None) -> None:
            if login is not None:
                self._assign(number, login or None)

        self.app.push_screen(AgentPickerModal(number, current), chosen)

    def _assign(self, number: int, login: str | None) -> None:
        desk, agent = self.app.desk, self.app.agent
        run_desk(
            self,
            f"Assigning #{number}",
            lambda: desk.assign(number, login, agent),
            lambda _: self.reload(),
            group="assign",
        )

    def action_take_next(self) -> None:
        desk, agent = self.app.desk, self.app.agent
        run_desk(self, "Take next", lambda: desk.claim_next(agent), self._taken, group="take")

    def _taken(self, record: RequestRecord | None) -> None:
        if record is None:
            self.notify("Nothing to take: every request is claimed.")
        else:
            self.app.open_request(record.number)


def _seconds(value: Any) -> float | None:
    return value.total_seconds() if value is not None else None
