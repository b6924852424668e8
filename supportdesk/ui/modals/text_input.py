"""Ask for one piece of text (a note, a language, a folder)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from supportdesk.ui.text import inert


class TextInputModal(ModalScreen[str | None]):
    """Returns the text entered (Enter), or None (Escape; and Enter on nothing unless
    `allow_empty`, which returns "" for it: clearing a value)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="input.cancel"),
        Binding("q", "cancel", "Cancel", show=False, id="input.q"),
    ]

    def __init__(self, title: str, value: str = "", *, allow_empty: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.allow_empty = allow_empty

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(inert(self.title_text), classes="dialog-title")
            yield Input(value=self.value, id="text")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        self.dismiss(text if text or self.allow_empty else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
