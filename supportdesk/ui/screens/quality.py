"""The quality review: for a reviewer (an admin or a mentor) the sampled answers to score,
each beside the customer's message it answered (`s` scores it); for every agent, their own
scored answers with the score, the rule, the comment, who and when."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from supportdesk.domain.records import MessageRecord, QualityRecord
from supportdesk.ui.keybar import KeyBar
from supportdesk.ui.keys import (
    RowTable,
    TopBottom,
    back_binding,
    refresh_binding,
    top_bottom_bindings,
)
from supportdesk.ui.modals.score import Score, ScoreModal
from supportdesk.ui.text import age, cut_long, inert, local_time
from supportdesk.ui.work import run_desk

if TYPE_CHECKING:
    from supportdesk.desk import Desk
    from supportdesk.ui.app import SupportDeskApp


@dataclass(slots=True)
class QualityView:
    """What the screen shows, read in one go off the UI thread."""

    reviewer: bool
    queue: list[QualityRecord]
    mine: list[QualityRecord]


class QualityScreen(TopBottom, Screen[None]):
    """Pushable: `QualityScreen(desk, agent)`."""

    BINDINGS = [
        Binding("s", "score", "Score", id="quality.score"),
        refresh_binding("quality", show=True),
        Binding("escape", "back", "Back", id="quality.back"),
        back_binding("quality"),
        *top_bottom_bindings("quality"),
    ]

    DEFAULT_CSS = """
    QualityScreen #quality-queue { height: 6; }
    QualityScreen #quality-letters { height: 1fr; min-height: 5; }
    QualityScreen #quality-letters VerticalScroll { width: 1fr; border: round $panel; }
    QualityScreen #quality-mine { height: 6; }
    QualityScreen .quality-title { height: 1; text-style: bold; }
    """

    app: SupportDeskApp

    def __init__(self, desk: Desk, agent: str) -> None:
        super().__init__()
        self.desk = desk
        self.agent = agent
        self.view: QualityView | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="✉")
        with Vertical(id="quality-body"):
            yield Static("To score", id="queue-title", classes="quality-title")
            yield RowTable(id="quality-queue", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="quality-letters"):
                with VerticalScroll(id="customer-pane"):
                    yield Static(id="customer-text")
                with VerticalScroll(id="answer-pane"):
                    yield Static(id="answer-text")
            yield Static("My scored answers", classes="quality-title")
            yield RowTable(id="quality-mine", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "Quality review"
        self.query_one("#customer-pane").border_title = "The customer wrote"
        self.query_one("#answer-pane").border_title = "The answer sent"
        queue = self.query_one("#quality-queue", DataTable)
        queue.add_columns("id", "request", "agent", "age", "subject")
        mine = self.query_one("#quality-mine", DataTable)
        mine.add_columns("score", "rule", "comment", "by", "when")
        queue.focus()

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        desk, agent = self.desk, self.agent

        def read() -> QualityView:
            reviewer = desk.quality.is_reviewer(agent)
            queue = desk.quality.queue(agent) if reviewer else []
            mine = desk.quality.checks(agent=agent, states=("scored",))
            return QualityView(reviewer, queue, mine)

        run_desk(self, "Reading the quality queue", read, self._show, group="quality",
                 supersede=True)  # fmt: skip

    def _show(self, view: QualityView) -> None:
        self.view = view
        now = self.desk.clock.now()
        queue = self.query_one("#quality-queue", DataTable)
        queue.clear()
        for c in view.queue:
            queue.add_row(
                inert(c.id),
                inert(f"#{c.number}"),
                inert(c.agent),
                inert(age(c.created_at, now)),
                inert(c.request_subject),
                key=str(c.id),
            )
        title = self.query_one("#queue-title", Static)
        if not view.reviewer:
            title.update("To score: nothing (admins and mentors score answers)")
        else:
            title.update(f"To score: {len(view.queue)}")
        queue.display = view.reviewer
        self.query_one("#quality-letters").display = bool(view.queue)
        mine = self.query_one("#quality-mine", DataTable)
        mine.clear()
        for c in view.mine:
            mine.add_row(
                inert(c.score),
                inert(c.rule or "-"),
                inert(c.comment or ""),
                inert(c.reviewer or ""),
                inert(local_time(c.scored_at)),
                key=str(c.id),
            )
        self._letters()

    def selected(self) -> QualityRecord | None:
        if self.view is None or not self.view.queue:
            return None
        table = self.query_one("#quality-queue", DataTable)
        row = table.cursor_row
        return self.view.queue[row] if 0 <= row < len(self.view.queue) else None

    @on(DataTable.RowHighlighted, "#quality-queue")
    def _highlighted(self) -> None:
        self._letters()

    def _letters(self) -> None:
        check = self.selected()
        if check is None:
            return
        desk = self.desk
        run_desk(
            self,
            f"Reading #{check.number}",
            lambda: desk.quality.letters(check),
            self._show_letters,
            group="quality-letters",
            supersede=True,
        )

    def _show_letters(self, found: tuple[MessageRecord | None, MessageRecord | None]) -> None:
        answer, asked = found
        for widget, message in (("#customer-text", asked), ("#answer-text", answer)):
            text = "(not found)" if message is None else cut_long(message.text).head
            self.query_one(widget, Static).update(inert(text))

    def action_score(self) -> None:
        check = self.selected()
        if check is None:
            self.app.notify("Nothing to score here.")
            return
        rules = list(self.desk.settings.review.checklist)
        title = f"Score #{check.number}: {check.agent}'s answer"

        def scored(result: Score | None) -> None:
            if result is None:
                return
            score, rule, comment = result
            desk, agent = self.desk, self.agent

            def done(_: object) -> None:
                self.app.notify(f"Check {check.id} scored {score}.")
                self.reload()

            run_desk(
                self,
                f"Score check {check.id}",
                lambda: desk.quality.score(check.id, agent, score, rule, comment),
                done,
                group="quality-score",
                or_else=lambda _: self.reload(),
            )

        self.app.push_screen(ScoreModal(title, rules), scored)

    def top_bottom_target(self) -> DataTable[Any]:
        return self.query_one("#quality-queue", DataTable)

    def action_reload(self) -> None:
        self.reload()

    def action_back(self) -> None:
        self.app.pop_screen()
