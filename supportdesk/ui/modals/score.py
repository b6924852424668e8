"""Score a sampled answer: 1-5, the rule it broke (suggestions from `[review] checklist`)
and a comment (required below 5)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label

from supportdesk.ui.text import inert

Score = tuple[int, str | None, str]
"""The score, the rule (None: none) and the comment."""


class ScoreModal(ModalScreen[Score | None]):
    """Returns (score, rule, comment) on Enter in the comment, or None (Escape)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="score.cancel"),
        Binding("q", "cancel", "Cancel", show=False, id="score.q"),
    ]

    def __init__(self, title: str, rules: list[str]) -> None:
        super().__init__()
        self.title_text = title
        self.rules = rules

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(inert(self.title_text), classes="dialog-title")
            yield Input(placeholder="score 1-5", id="score", type="integer", max_length=1)
            hint = ", ".join(self.rules[:4])
            yield Input(
                placeholder=f"rule broken (e.g. {hint})" if hint else "rule broken",
                id="rule",
                suggester=SuggestFromList(self.rules, case_sensitive=False),
            )
            yield Input(placeholder="comment: what to do better (Enter scores)", id="comment")
            yield Label("", id="score-error", classes="dialog-hint")

    @on(Input.Submitted, "#score")
    def _next_rule(self) -> None:
        self.query_one("#rule", Input).focus()

    @on(Input.Submitted, "#rule")
    def _next_comment(self) -> None:
        self.query_one("#comment", Input).focus()

    @on(Input.Submitted, "#comment")
    def _submitted(self) -> None:
        error = self.query_one("#score-error", Label)
        text = self.query_one("#score", Input).value.strip()
        if text not in ("1", "2", "3", "4", "5"):
            error.update("The score is 1 to 5.")
            self.query_one("#score", Input).focus()
            return
        score = int(text)
        rule = self.query_one("#rule", Input).value.strip() or None
        comment = self.query_one("#comment", Input).value.strip()
        if score < 5 and not comment:
            error.update("Below 5, say what to do better.")
            return
        self.dismiss((score, rule, comment))

    def action_cancel(self) -> None:
        self.dismiss(None)
