"""Set a request's priority: pick one of four (`p`)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from supportdesk.domain.enums import PRIORITIES

DESCRIPTIONS = {
    "urgent": "!!  pinned on top of the stack",
    "high": "!   shown, in the LIFO order",
    "normal": "    the usual",
    "low": "↓   shown, in the LIFO order",
}


class PriorityModal(ModalScreen[str | None]):
    """Returns the priority chosen, or None when cancelled; the cursor starts on the current."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="priority.cancel"),
        Binding("q", "cancel", "Cancel", show=False, id="priority.q"),
    ]

    def __init__(self, number: int, current: str) -> None:
        super().__init__()
        self.number = number
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Priority of #{self.number}", classes="dialog-title")
            yield OptionList(
                *(Option(f"{p:<7} {DESCRIPTIONS[p]}", id=p) for p in PRIORITIES), id="priorities"
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if self.current in PRIORITIES:
            options.highlighted = [p.value for p in PRIORITIES].index(self.current)
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
