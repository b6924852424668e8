"""Set an item's status."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from supportdesk.domain import ItemRecord, ItemStatus
from supportdesk.ui.item_labels import status_label

DESCRIPTIONS = {
    "open": "nobody is on it yet",
    "in_progress": "someone is working on it",
    "fixed": "shipped: its customers back on the stack",
    "done": "shipped: its customers back on the stack",
    "wont_do": "not happening: its requests come back",
}


class ItemStatusModal(ModalScreen[str | None]):
    """Returns the status chosen, or None when cancelled (or the same one chosen)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="item-status.cancel"),
        Binding("q", "cancel", "Cancel", show=False, id="item-status.q"),
    ]

    def __init__(self, item: ItemRecord) -> None:
        super().__init__()
        self.item = item

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Status of {self.item.label}", classes="dialog-title")
            yield OptionList(
                *(
                    Option(f"{status_label(s):<12} {DESCRIPTIONS.get(s, '')}", id=s)
                    for s in ItemStatus
                ),
                id="statuses",
            )

    def on_mount(self) -> None:
        choices = self.query_one("#statuses", OptionList)
        if self.item.status in tuple(ItemStatus):
            choices.highlighted = list(ItemStatus).index(ItemStatus(self.item.status))

    @on(OptionList.OptionSelected, "#statuses")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        status = event.option.id
        self.dismiss(status if status != self.item.status else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
