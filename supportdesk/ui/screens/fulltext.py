"""A long text in full (a request's whole thread): plain lines in a log view, which draws only
the lines in sight, so a 2 MB body opens at once and scrolls smoothly."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Log

from supportdesk.ui.keybar import KeyBar
from supportdesk.ui.keys import TopBottom, back_binding, top_bottom_bindings
from supportdesk.ui.text import plain

WRAP_AT = 1_000
"""Characters: a longer line is shown as several (a log view does not wrap)."""


class FullTextScreen(TopBottom, Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="fulltext.back"),
        back_binding("fulltext"),
        *top_bottom_bindings("fulltext"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.heading = title
        self.text = text

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="✉")
        yield Log(id="fulltext", auto_scroll=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = self.heading
        view = self.query_one("#fulltext", Log)
        width = max(40, min(WRAP_AT, self.size.width - 2))
        view.write_lines(_wrapped(plain(self.text).split("\n"), width))
        view.scroll_home(animate=False)
        view.focus()

    def top_bottom_target(self) -> Log:
        return self.query_one("#fulltext", Log)

    def action_back(self) -> None:
        self.app.pop_screen()


def _wrapped(lines: list[str], width: int) -> list[str]:
    """`lines` cut at `width`; an empty line as one space, which the log view keeps (it
    drops empty ones, and a mail without its blank lines runs its paragraphs together)."""
    out: list[str] = []
    for line in lines:
        if not line:
            out.append(" ")
        elif len(line) <= width:
            out.append(line.expandtabs())
        else:
            out += [line[i : i + width] for i in range(0, len(line), width)]
    return out
