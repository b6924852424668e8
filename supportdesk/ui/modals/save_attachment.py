"""Save one attachment into a folder the agent chooses (the name is sanitised by the desk)."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from supportdesk.domain import AttachmentRecord
from supportdesk.ui.text import inert


class SaveAttachmentModal(ModalScreen[tuple[int, Path] | None]):
    """Returns (attachment id, folder), or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="attachment.cancel"),
        Binding("q", "cancel", "Cancel", show=False, id="attachment.q"),
    ]

    def __init__(self, attachments: list[AttachmentRecord], folder: Path) -> None:
        super().__init__()
        self.attachments = attachments
        self.folder = folder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Save which attachment?", classes="dialog-title")
            yield OptionList(
                *(
                    Option(inert(f"{a.filename} ({a.encoded_size:,} bytes)"), id=str(a.id))
                    for a in self.attachments
                ),
                id="attachments",
            )
            yield Label("into the folder")
            yield Input(value=str(self.folder), id="folder")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        folder = Path(self.query_one("#folder", Input).value.strip() or ".").expanduser()
        self.dismiss((int(event.option.id or 0), folder))

    def action_cancel(self) -> None:
        self.dismiss(None)
