"""Attach a file to an answer (a path, completed from the file system) or drop one."""

from __future__ import annotations

import os
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from supportdesk.ui.text import inert


class PathSuggester(Suggester):
    """Completes a path from the directory it names: the first entry (sorted, hidden ones
    only when asked for with a leading '.') starting with what is typed; a folder ends in
    '/'. `~` is expanded for the look-up and kept in what is shown."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return complete_path(value)


def complete_path(value: str) -> str | None:
    if not value:
        return None
    folder_part, _, prefix = value.rpartition("/")
    shown_folder = folder_part + "/" if "/" in value else ""
    folder = Path(os.path.expanduser(folder_part or ("/" if value.startswith("/") else ".")))
    if value.startswith("~") and "/" not in value:
        return "~/" if value == "~" else None
    try:
        names = sorted(entry.name for entry in os.scandir(folder))
    except OSError:
        return None
    for name in names:
        if name.startswith(prefix) and (prefix.startswith(".") or not name.startswith(".")):
            suffix = "/" if (folder / name).is_dir() else ""
            found = shown_folder + name + suffix
            return found if found != value else None
    return None


class AttachModal(ModalScreen[str | None]):
    """Returns the path entered (Enter; → takes the completion), or None (Escape)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="attach.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(inert("Attach a file (→ completes the path)"), classes="dialog-title")
            yield Input(id="attach-path", placeholder="~/report.pdf", suggester=PathSuggester())

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        self.dismiss(path or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class DropAttachmentModal(ModalScreen[int | None]):
    """Which attached file to drop: returns its index, or None (Escape)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="drop.cancel")]

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(inert("Drop which attachment?"), classes="dialog-title")
            yield OptionList(
                *(Option(inert(name), id=str(i)) for i, name in enumerate(self.names)),
                id="drop-choices",
            )

    def on_mount(self) -> None:
        choices = self.query_one("#drop-choices", OptionList)
        choices.highlighted = len(self.names) - 1
        choices.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))

    def action_cancel(self) -> None:
        self.dismiss(None)
