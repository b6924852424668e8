"""Close a request: pick the reason."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from supportdesk.domain import CLOSE_REASONS

DESCRIPTIONS = {
    "resolved": "the customer has what they needed",
    "no_reply": "the customer went silent",
    "idea": "a suggestion for the product",
    "spam": "not a customer",
    "duplicate": "another request covers it",
    "other": "none of these",
}


class CloseModal(ModalScreen[str | None]):
    """Returns the close reason, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="close.cancel"),
        Binding("q", "cancel", "Cancel", show=False, id="close.q"),
    ]

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Close #{self.number} because…", classes="dialog-title")
            yield OptionList(
                *(Option(f"{r:<10} {DESCRIPTIONS[r]}", id=r) for r in CLOSE_REASONS),
                id="reasons",
            )

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
