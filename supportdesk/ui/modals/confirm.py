"""Ask before doing something that is easy to regret: only `y` says yes.

Enter is not an answer here: the question usually follows an Enter in another dialog, and a
second, accidental one must not be taken for a yes.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from supportdesk.ui.text import inert


class ConfirmModal(ModalScreen[bool]):
    """Returns True for `y`, False for `n` or Escape."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n", "answer(False)", "No", id="confirm.no"),
        Binding("escape", "answer(False)", "No", id="confirm.cancel"),
    ]

    def __init__(self, question: str, yes: str = "yes") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="confirm"):
            yield Label(inert(self.question), classes="dialog-title", id="confirm-question")
            yield Label(f"y: {self.yes} · n or Esc: no", classes="dialog-hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
