"""Escalate a request to another line (or agent), or hand it back: where to, and a required
internal note. The customer is told nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from supportdesk.domain.records import AgentRecord
from supportdesk.ui.modals.choices import move_highlight
from supportdesk.ui.text import inert
from supportdesk.ui.work import run_desk

if TYPE_CHECKING:
    from textual.screen import Screen

    from supportdesk.ui.app import SupportDeskApp

MAX_LINE = 9


@dataclass(frozen=True, slots=True)
class LineChoice:
    """What the agent chose: `handback`, or escalate to `to_line` / `to_agent`, and why."""

    note: str
    handback: bool = False
    to_line: int | None = None
    to_agent: str | None = None


class EscalateModal(ModalScreen[LineChoice | None]):
    """Returns the choice, or None when cancelled. Type in the first field to pick a line
    number or an agent (fuzzy search of logins and names); Enter in the note sends."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="escalate.cancel"),
        Binding("q", "cancel", "Cancel", show=False, id="escalate.q"),
        Binding("down", "move(1)", "Next", show=False, id="escalate.down"),
        Binding("up", "move(-1)", "Previous", show=False, id="escalate.up"),
    ]

    app: SupportDeskApp

    def __init__(self, number: int, line: int, people: list[AgentRecord]) -> None:
        super().__init__()
        self.number = number
        self.line = line
        self.people = [p for p in people if p.active]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="escalate"):
            yield Label(
                f"Escalate #{self.number} (on line {self.line}); the customer is told nothing",
                classes="dialog-title",
            )
            yield Input(placeholder="to: next line, a line number or an agent…", id="target")
            yield OptionList(id="targets")
            yield Input(placeholder="why (required): an internal note", id="note")

    def on_mount(self) -> None:
        self.query_one("#targets", OptionList).can_focus = False  # up/down move it from a field
        self._fill("")
        self.query_one("#note", Input).focus()

    @on(Input.Changed, "#target")
    def _typed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def _fill(self, query: str) -> None:
        query = query.strip()
        options: list[Option] = []
        if not query:
            options.append(Option(f"next line (line {self.line + 1})", id="line:next"))
            if self.line > 1:
                options.append(Option("hand back (to the line it came from)", id="handback"))
        if query.isdigit():
            wanted = int(query)
            if self.line < wanted <= MAX_LINE:
                options.append(Option(f"line {wanted}", id=f"line:{wanted}"))
        else:
            upper = range(self.line + 1, min(self.line + 3, MAX_LINE) + 1)
            if not query:
                options += [Option(f"line {n}", id=f"line:{n}") for n in upper if n > self.line + 1]
            matcher = Matcher(query) if query else None
            scored = []
            for person in self.people:
                score = (
                    max(matcher.match(person.login), matcher.match(person.name)) if matcher else 1
                )
                if score > 0 and person.line > self.line:
                    scored.append((-score, person.login, person))
            options += [
                Option(inert(f"{p.name} ({p.login}) · line {p.line}"), id=f"agent:{p.login}")
                for _, _, p in sorted(scored)
            ]
        targets = self.query_one("#targets", OptionList)
        targets.clear_options()
        targets.add_options(options)
        if options:
            targets.highlighted = 0

    def action_move(self, step: int) -> None:
        move_highlight(self.query_one("#targets", OptionList), step)

    @on(OptionList.OptionSelected, "#targets")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#note", Input).focus()

    @on(Input.Submitted, "#target")
    def _target_done(self, event: Input.Submitted) -> None:
        self.query_one("#note", Input).focus()

    @on(Input.Submitted, "#note")
    def _send(self, event: Input.Submitted) -> None:
        note = event.value.strip()
        if not note:
            self.app.notify("Say why in the note: it is required (the customer never sees it).")
            return
        targets = self.query_one("#targets", OptionList)
        if targets.highlighted is None:
            self.app.notify("Nothing to escalate to: type a line number or an agent.")
            return
        chosen = targets.get_option_at_index(targets.highlighted).id or ""
        if chosen == "handback":
            self.dismiss(LineChoice(note, handback=True))
        elif chosen.startswith("agent:"):
            self.dismiss(LineChoice(note, to_agent=chosen.removeprefix("agent:")))
        elif chosen == "line:next":
            self.dismiss(LineChoice(note))
        else:
            self.dismiss(LineChoice(note, to_line=int(chosen.removeprefix("line:"))))

    def action_cancel(self) -> None:
        self.dismiss(None)


def escalate(screen: Screen[Any], number: int, line: int, then: Callable[[], None]) -> None:
    """`e`: read the agents, ask where to and why, then escalate (or hand back) request
    `number`, seen on `line`; `then` runs after a move (a reload). Failures are toasts."""
    app: SupportDeskApp = screen.app  # type: ignore[assignment]
    desk, agent = app.desk, app.agent

    def ask(people: list[AgentRecord]) -> None:
        app.push_screen(EscalateModal(number, line, people), chosen)

    def chosen(choice: LineChoice | None) -> None:
        if choice is None:
            return

        def move() -> Any:
            if choice.handback:
                return desk.handback(number, agent, choice.note, seen_line=line)
            return desk.escalate(
                number,
                agent,
                choice.note,
                to_line=choice.to_line,
                to_agent=choice.to_agent,
                seen_line=line,
            )

        verb = "Hand back" if choice.handback else "Escalate"
        run_desk(screen, f"{verb} #{number}", move, done, group="escalate")

    def done(move: Any) -> None:
        if move.moved:
            to = f", assigned to {move.assignee}" if move.assignee else ""
            app.notify(f"#{number} moved to line {move.to_line}{to}.", markup=False)
        else:
            app.notify(
                f"#{number} was moved by someone else meanwhile (now on line {move.line}); "
                "your note was added.",
                markup=False,
            )
        then()

    run_desk(screen, "Read the agents", desk.agents, ask, group="escalate")
