"""Pick the owner of a request: the enabled agents (login and name), fuzzy search as you
type, and "nobody" to give the request back to the line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from supportdesk.domain import AgentRecord
from supportdesk.ui.modals.choices import move_highlight
from supportdesk.ui.text import inert
from supportdesk.ui.work import run_desk

if TYPE_CHECKING:
    from supportdesk.ui.app import SupportDeskApp

NOBODY = ""
"""What the picker returns for "nobody" (None: cancelled)."""

_NOBODY_ID = "-nobody"


class AgentPickerModal(ModalScreen[str | None]):
    """Returns the chosen agent's login, NOBODY to unassign, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="owner.cancel"),
        Binding("q", "cancel", "Cancel", show=False, id="owner.q"),
        Binding("down", "move(1)", "Next", show=False, id="owner.down"),
        Binding("up", "move(-1)", "Previous", show=False, id="owner.up"),
    ]

    app: SupportDeskApp

    def __init__(self, number: int, current: str | None) -> None:
        super().__init__()
        self.number = number
        self.current = current
        self.agents: list[AgentRecord] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="owner-picker"):
            yield Label(f"Owner of #{self.number}", classes="dialog-title")
            yield Input(placeholder="type to search: login or name…", id="owner-query")
            yield OptionList(id="owners")

    def on_mount(self) -> None:
        self.query_one("#owner-query", Input).focus()
        desk = self.app.desk
        run_desk(self, "Reading the agents", desk.agents, self._loaded, group="owner-agents")

    def _loaded(self, agents: list[AgentRecord]) -> None:
        self.agents = [a for a in agents if a.active]
        self._show(self.query_one("#owner-query", Input).value)

    @on(Input.Changed, "#owner-query")
    def _changed(self, event: Input.Changed) -> None:
        self._show(event.value)

    def _show(self, query: str) -> None:
        choices = self.query_one("#owners", OptionList)
        choices.clear_options()
        found = self.agents
        if query.strip():
            matcher = Matcher(query.strip())
            scored = [(matcher.match(f"{a.login} {a.name}"), a) for a in self.agents]
            found = [a for score, a in sorted(scored, key=lambda x: -x[0]) if score > 0]
        for a in found:
            mark = "• " if a.login == self.current else "  "
            name = f" ({a.name})" if a.name and a.name != a.login else ""
            choices.add_option(Option(inert(f"{mark}{a.login}{name}"), id=a.login))
        if not query.strip() or "nobody".startswith(query.strip().lower()):
            choices.add_option(Option(inert("  nobody (back to the line)"), id=_NOBODY_ID))
        if choices.option_count:
            choices.highlighted = 0

    def action_move(self, step: int) -> None:
        move_highlight(self.query_one("#owners", OptionList), step)

    @on(Input.Submitted, "#owner-query")
    def _submitted(self) -> None:
        choices = self.query_one("#owners", OptionList)
        if choices.highlighted is not None and choices.option_count:
            self._pick(choices.get_option_at_index(choices.highlighted).id)

    @on(OptionList.OptionSelected, "#owners")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(event.option.id)

    def _pick(self, option_id: str | None) -> None:
        if option_id:
            self.dismiss(NOBODY if option_id == _NOBODY_ID else option_id)

    def action_cancel(self) -> None:
        self.dismiss(None)
