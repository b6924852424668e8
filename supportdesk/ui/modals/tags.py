"""Edit a request's tags on one line, with completion from the tags in use (`t`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.suggester import Suggester
from textual.widgets import Input, Label, Static

from supportdesk.domain.tags import tag_difference
from supportdesk.ui.text import inert
from supportdesk.ui.work import run_desk

if TYPE_CHECKING:
    from supportdesk.ui.app import SupportDeskApp


class TagSuggester(Suggester):
    """Completes the word being typed from the tags in use (not one already on the line)."""

    def __init__(self, tags: list[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.tags = tags

    async def get_suggestion(self, value: str) -> str | None:
        words = re.split(r"[\s,]+", value)
        word = words[-1].lower()
        if not word:
            return None
        typed = {w.lower() for w in words[:-1]}
        for tag in self.tags:
            if tag.startswith(word) and tag != word and tag not in typed:
                return value + tag[len(word) :]
        return None


class TagsModal(ModalScreen[str | None]):
    """Returns the tag line as typed (Enter; empty: no tags), or None (Escape)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="tags.cancel"),
        Binding("q", "cancel", "Cancel", show=False, id="tags.q"),
    ]

    def __init__(self, number: int, tags: list[str], known: list[str]) -> None:
        super().__init__()
        self.number = number
        self.tags = tags
        self.known = known

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(inert(f"Tags of #{self.number}"), classes="dialog-title")
            yield Input(value=" ".join(self.tags), id="tags", suggester=TagSuggester(self.known))
            yield Static(
                "Separate tags with spaces; → completes a tag in use. Enter saves.",
                classes="dialog-hint",
            )

    def on_mount(self) -> None:
        # typing goes on after the tags it has (not over them)
        self.query_one(Input).action_end()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


def edit_tags(screen: Screen[Any], number: int, tags: list[str], then: Callable[[], None]) -> None:
    """`t`: read the tags in use, ask for the request's tags, and save what changed (only
    the difference: a tag another agent added meanwhile stays). Failures are toasts."""
    app = cast("SupportDeskApp", screen.app)
    desk, agent = app.desk, app.agent

    def save(line: str | None) -> None:
        if line is None:
            return

        def change() -> tuple[list[str], list[str]]:
            add, remove = tag_difference(tags, line)
            return desk.change_tags(number, add, remove, agent)

        run_desk(screen, f"Tags of #{number}", change, lambda _: then(), group="act")

    def ask(known: list[str]) -> None:
        app.push_screen(TagsModal(number, tags, known), save)

    run_desk(screen, "Reading the tags", desk.known_tags, ask, group="act")
