"""Trainees' letters (f6): a reviewer's queue of letters to approve, edit or return, and
"My letters" (each of the agent's own letters with what became of it). Read in a thread
worker; read again when the data changes (the app's watch calls `reload`) or on `g`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Header, Label, Static, TextArea

from supportdesk.desk.reviews import letter_diff
from supportdesk.domain import MessageRecord
from supportdesk.domain.enums import ReviewState
from supportdesk.domain.records import ReviewRecord
from supportdesk.ui.keybar import KeyBar
from supportdesk.ui.keys import (
    RowTable,
    TopBottom,
    back_binding,
    refresh_binding,
    top_bottom_bindings,
)
from supportdesk.ui.screens.request import message_text
from supportdesk.ui.text import age, inert, local_time
from supportdesk.ui.work import run_desk

if TYPE_CHECKING:
    from supportdesk.desk import Desk
    from supportdesk.ui.app import SupportDeskApp

LATE_STYLE = "bold yellow"
"""The warning colour of a letter waiting past `[review] max_wait` (as `due` on the stack)."""


@dataclass(slots=True)
class ReviewView:
    """What the screen shows, read in one go."""

    queue: list[ReviewRecord]
    mine: list[ReviewRecord]
    reviewer: bool
    """The agent may review letters (an admin, or someone's mentor)."""
    latest: dict[int, MessageRecord | None] = field(default_factory=dict)
    """The customer's latest message of each request shown, by request number."""


MINE_SHOWN = 200
"""My letters: the newest this many."""


def read_reviews(desk: Desk, agent: str) -> ReviewView:
    """The letters `agent` may decide, their own letters (newest first), and the customer's
    message each one answers."""
    reviewer = desk.quality.is_reviewer(agent)  # an admin, or a trainee's mentor: one rule
    queue = desk.reviews.queue(agent)
    mine = list(reversed(desk.reviews.letters(agent=agent)))[:MINE_SHOWN]
    view = ReviewView(queue, mine, reviewer or bool(queue))
    view.latest = desk.reviews.customer_messages(r.number for r in [*queue, *mine])
    return view


def waiting(review: ReviewRecord, now: datetime) -> Text:
    """ "12m", or "late 42m" in the warning colour past `[review] max_wait`."""
    if review.overdue:
        return inert(f"late {age(review.created_at, now)}", LATE_STYLE)
    return inert(age(review.created_at, now))


def state_text(review: ReviewRecord) -> Text:
    """pending, returned, approved or edited (approved with the reviewer's changes)."""
    if review.state == ReviewState.APPROVED and review.edited:
        return inert("edited", "cyan")
    style = {"pending": "", "returned": "yellow", "approved": "green"}.get(review.state, "")
    return inert(review.state, style)


def letter_text(review: ReviewRecord) -> Text:
    """The letter as the reviewer sees it (or the trainee: with the comment, the diff)."""
    text = Text()
    subject = review.subject or review.request_subject
    text.append(inert(f"{review.agent}'s letter to #{review.number}", "bold"))
    text.append(inert(f" · {local_time(review.created_at)} · {subject}", "dim"))
    if review.state == ReviewState.RETURNED:
        text.append("\n")
        text.append(inert(f"Returned by {review.decided_by}: {review.comment or ''}", "yellow"))
    elif review.state == ReviewState.APPROVED:
        how = "edited and approved" if review.edited else "approved"
        text.append("\n")
        text.append(inert(f"{how.capitalize()} by {review.decided_by}", "green"))
    text.append("\n\n")
    text.append(inert(review.body.rstrip()))
    diff = letter_diff(review)
    if diff:
        text.append("\n\n")
        text.append(inert("What the reviewer changed:", "bold"))
        for line in diff:
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
            text.append("\n")
            text.append(inert(line, style))
    return text


class EditLetterModal(ModalScreen[str | None]):
    """The letter in an editor: ctrl+s returns the edit (to approve), escape cancels."""

    BINDINGS = [
        Binding("ctrl+s", "approve", "Approve the edit", id="edit-letter.approve", priority=True),
        Binding("escape", "cancel", "Cancel", id="edit-letter.cancel"),
    ]

    def __init__(self, review: ReviewRecord) -> None:
        super().__init__()
        self.review = review

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="edit-letter"):
            yield Label(
                inert(f"Edit {self.review.agent}'s letter to #{self.review.number}"),
                classes="dialog-title",
            )
            yield TextArea(self.review.body, id="letter-editor", soft_wrap=True)
            yield Label(inert("ctrl+s approve the edit · esc cancel", "dim"))

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_approve(self) -> None:
        text = self.query_one(TextArea).text
        if not text.strip():
            self.notify("The letter is empty.", severity="warning")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReviewsScreen(TopBottom, Screen[None]):
    """The review queue, or "My letters" (m switches); escape goes back."""

    AGES_WITH_THE_CLOCK = True  # the app re-reads it now and then (`age_marks`)

    HELP = """
**Letters to review**: your trainees' letters (an admin's: everyone's), the late ones
(waiting past `[review] max_wait`) on top, then the oldest first. **a** approves (queued
to the customer as the trainee's answer), **e** edits then approves (ctrl+s; esc cancels),
**x** returns it with a comment (back on the trainee's stack, the comment above the draft).

**My letters** (m): your letters, pending, returned (with the comment), approved or edited
(with what was changed). **s** opens the quality review.
"""

    BINDINGS = [
        Binding("a", "approve", "Approve", id="reviews.approve"),
        Binding("e", "edit", "Edit, approve", id="reviews.edit"),
        Binding("x", "return_letter", "Return", id="reviews.return"),
        Binding("m", "toggle_mine", "My letters", id="reviews.mine"),
        Binding("s", "quality", "Quality", id="reviews.quality"),
        refresh_binding("reviews", show=True),
        Binding("escape", "back", "Back", id="reviews.back"),
        back_binding("reviews"),
        *top_bottom_bindings("reviews"),
        Binding("j", "cursor_down", "Down", show=False, id="reviews.down"),
        Binding("k", "cursor_up", "Up", show=False, id="reviews.up"),
    ]

    app: SupportDeskApp

    shown: ReviewView | None = None
    mine: bool | None = None
    """Showing "My letters" instead of the queue (None: chosen with the first load, the
    queue for a reviewer)."""

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="✉")
        with Vertical(id="reviews-body"):
            yield Static(id="reviews-heading")
            yield RowTable(id="reviews", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="review-pair"):
                with VerticalScroll(id="review-customer"):
                    yield Static(id="review-customer-text")
                with VerticalScroll(id="review-letter"):
                    yield Static(id="review-letter-text")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "Review"

    def on_screen_resume(self) -> None:
        self.reload()  # also the first load

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("approve", "edit", "return_letter"):
            return not self.mine  # the keys show on the queue only
        if action == "toggle_mine":  # someone with nothing to review has their letters only
            return self.shown is None or self.shown.reviewer
        return True

    def reload(self) -> None:
        desk, agent = self.app.desk, self.app.agent
        run_desk(
            self,
            "Reading the review queue",
            lambda: read_reviews(desk, agent),
            self._show,
            group="reviews",
            supersede=True,
        )

    def _rows(self) -> list[ReviewRecord]:
        if self.shown is None:
            return []
        return self.shown.mine if self.mine else self.shown.queue

    def _show(self, view: ReviewView) -> None:
        first = self.shown is None
        self.shown = view
        if self.mine is None:
            self.mine = not view.reviewer
            self.refresh_bindings()
        table = self.query_one("#reviews", DataTable)
        selected = self._selected()
        table.clear(columns=True)
        now = self.app.desk.clock.now()
        if self.mine:
            for key, label in (("request", "request"), ("when", "age"), ("state", "state")):
                table.add_column(label, key=key)
            table.add_column("subject", key="subject")
            for r in view.mine:
                table.add_row(
                    inert(f"#{r.number}"),
                    inert(age(r.created_at, now)),
                    state_text(r),
                    inert(r.subject or r.request_subject),
                    key=str(r.id),
                )
        else:
            for key, label in (("request", "request"), ("trainee", "trainee")):
                table.add_column(label, key=key)
            table.add_column("waiting", key="waiting")
            table.add_column("subject", key="subject")
            for r in view.queue:
                table.add_row(
                    inert(f"#{r.number}"),
                    inert(r.agent),
                    waiting(r, now),
                    inert(r.subject or r.request_subject),
                    key=str(r.id),
                )
        if selected is not None and str(selected.id) in table.rows:
            table.move_cursor(row=table.get_row_index(str(selected.id)))
        self._heading()
        self._show_selected()
        if first or self.app.focused is None:
            table.focus()

    def _heading(self) -> None:
        rows = self._rows()
        text = Text()
        if self.mine:
            text.append("My letters", style="bold")
            text.append(inert(f" · {len(rows)}" if rows else " · none yet"))
            if self.shown is not None and self.shown.reviewer:
                text.append(inert(" · m the review queue", "dim"))
        else:
            late = sum(1 for r in rows if r.overdue)
            text.append("Letters to review", style="bold")
            text.append(inert(f" · {len(rows)} pending" if rows else " · none pending"))
            if late:
                text.append(" · ")
                text.append(inert(f"{late} late", LATE_STYLE))
            text.append(inert(" · m my letters", "dim"))
        self.query_one("#reviews-heading", Static).update(text)

    def _selected(self) -> ReviewRecord | None:
        table = self.query_one("#reviews", DataTable)
        if not table.row_count or self.shown is None:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self._rows() if str(r.id) == key), None)

    def _show_selected(self) -> None:
        review = self._selected()
        pair = self.query_one("#review-pair", Horizontal)
        pair.display = review is not None
        if review is None or self.shown is None:
            return
        latest = self.shown.latest.get(review.number)
        customer = (
            message_text(latest, unfold=False, show_all_key=None)
            if latest is not None
            else inert("(no message from the customer)", "dim")
        )
        self.query_one("#review-customer-text", Static).update(customer)
        self.query_one("#review-letter-text", Static).update(letter_text(review))

    @on(DataTable.RowHighlighted, "#reviews")
    def _highlighted(self) -> None:
        self._show_selected()

    # -- actions ---------------------------------------------------------------------------

    def action_cursor_down(self) -> None:
        self.query_one("#reviews", DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#reviews", DataTable).action_cursor_up()

    def top_bottom_target(self) -> DataTable[Any]:
        return self.query_one("#reviews", DataTable)

    def action_reload(self) -> None:
        self.reload()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_toggle_mine(self) -> None:
        self.mine = not self.mine
        self.refresh_bindings()
        if self.shown is not None:
            self._show(self.shown)

    def action_quality(self) -> None:
        """The quality review: sampled answers to score, and my own scored answers."""
        from supportdesk.ui.screens.quality import QualityScreen

        self.app.push_screen(QualityScreen(self.app.desk, self.app.agent))

    def _pending(self) -> ReviewRecord | None:
        review = None if self.mine else self._selected()
        if review is None:
            self.notify("No letter to review here.")
        return review

    def action_approve(self) -> None:
        review = self._pending()
        if review is not None:
            self._approve(review, None)

    def action_edit(self) -> None:
        review = self._pending()
        if review is None:
            return

        def edited(body: str | None) -> None:
            if body is not None:
                self._approve(review, body)

        self.app.push_screen(EditLetterModal(review), edited)

    def _approve(self, review: ReviewRecord, body: str | None) -> None:
        desk, agent = self.app.desk, self.app.agent
        to = review.customer_email or f"#{review.number}"
        how = "Edited and approved" if body is not None else "Approved"

        def done(_: str) -> None:
            self.notify(f"{how}: queued to {to} as {review.agent}'s answer")
            self.reload()

        run_desk(
            self,
            f"Approving {review.agent}'s letter to #{review.number}",
            lambda: desk.reviews.approve(review.id, agent, body),
            done,
            group="review-decide",
            or_else=self._refused,
        )

    def action_return_letter(self) -> None:
        from supportdesk.ui.modals.text_input import TextInputModal

        review = self._pending()
        if review is None:
            return

        def commented(comment: str | None) -> None:
            if comment:
                self._return(review, comment)
            elif comment is not None:  # Enter on nothing: the trainee needs to know why
                self.notify("Not returned: say what to change (the comment is required).")

        title = f"Return {review.agent}'s letter to #{review.number}: what should change?"
        self.app.push_screen(TextInputModal(title, allow_empty=True), commented)

    def _return(self, review: ReviewRecord, comment: str) -> None:
        desk, agent = self.app.desk, self.app.agent

        def done(_: Any) -> None:
            self.notify(f"Returned to {review.agent} with your comment")
            self.reload()

        run_desk(
            self,
            f"Returning {review.agent}'s letter to #{review.number}",
            lambda: desk.reviews.return_letter(review.id, agent, comment),
            done,
            group="review-decide",
            or_else=self._refused,
        )

    def _refused(self, _: BaseException) -> None:
        """Decided meanwhile by someone else (the toast says so): show the queue as it is."""
        self.reload()
