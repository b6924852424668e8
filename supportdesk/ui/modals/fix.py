"""Mark an item fixed (or done): tell every waiting customer now, or put them on the stack."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from supportdesk.domain import ItemRecord


class FixModal(ModalScreen[bool | None]):
    """Returns True (send fixed_notice to each waiting customer now), False (put their
    requests back on the stack with fixed_notice pre-selected), or None (cancel)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="fix.cancel"),
        Binding("q", "cancel", "Cancel", show=False, id="fix.q"),
    ]

    def __init__(self, item: ItemRecord, status: str) -> None:
        super().__init__()
        self.item = item
        self.status = status

    def compose(self) -> ComposeResult:
        waiting = self.item.waiting
        with Vertical(classes="dialog", id="fix"):
            yield Label(f"Mark {self.item.label} {self.status}", classes="dialog-title")
            if waiting:
                customers = (
                    "the waiting customer" if waiting == 1 else f"all {waiting} waiting customers"
                )
                options = [
                    Option(f"Tell {customers} now (fixed_notice to each)", id="tell"),
                    Option("Put them back on the stack (fixed_notice pre-selected)", id="stack"),
                ]
            else:
                options = [Option(f"Mark it {self.status} (nobody is waiting)", id="stack")]
            yield OptionList(*options, Option("Cancel", id="cancel"), id="fix-choices")

    @on(OptionList.OptionSelected, "#fix-choices")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        choice = event.option.id
        self.dismiss(None if choice == "cancel" else choice == "tell")

    def action_cancel(self) -> None:
        self.dismiss(None)
