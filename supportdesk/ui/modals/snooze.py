"""Send and snooze: ask until when, and refuse a time that cannot be read before anything
is sent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from supportdesk.errors import SupportDeskError
from supportdesk.ui.text import inert


class SnoozeModal(ModalScreen[datetime | None]):
    """Returns the time the request is snoozed until (read by `parse`), or None (Escape).
    A value `parse` refuses keeps the dialog open with its one-line reason."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="snooze.cancel")]
    DEFAULT_CSS = """
    SnoozeModal #snooze-problem { width: 100%; }
    """

    def __init__(self, title: str, examples: str, parse: Callable[[str], datetime]) -> None:
        super().__init__()
        self.title_text = title
        self.examples = examples
        self.parse = parse

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(inert(self.title_text), classes="dialog-title")
            yield Input(placeholder=self.examples, id="until")
            yield Label("", id="snooze-problem")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            when = self.parse(event.value)
        except SupportDeskError as exc:
            self.query_one("#snooze-problem", Label).update(inert(str(exc)))
            return
        self.dismiss(when)

    def action_cancel(self) -> None:
        self.dismiss(None)
