"""Find in a thread: `/` opens a bar under it, the matches are highlighted, `n`/`N` go to the
next/previous one and scroll it into view, Esc closes the bar.

Mail text is never read as markup: a view's text is a Rich Text and the matches are styled
by position on a copy of it (`Text.stylize`), whatever the mail says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.text import Text
from textual.containers import ScrollableContainer
from textual.widgets import Input, Static

MATCH_STYLE = "black on yellow"
CURRENT_STYLE = "bold black on bright_green"


class FindBar(Input):
    """The find bar: hidden until `/`."""

    DEFAULT_CSS = """
    FindBar {
        display: none;
        height: 1;
        border: none;
        padding: 0 1;
    }
    FindBar.-open {
        display: block;
    }
    """


@dataclass(slots=True)
class Match:
    view: Static
    start: int
    end: int


class Finder:
    """The matches of a query in a thread's views, and which one is current."""

    def __init__(self) -> None:
        self.query = ""
        self.matches: list[Match] = []
        self.current = -1

    def find(self, query: str, views: list[Static], originals: list[Text]) -> None:
        """Highlight `query` (case-insensitive, as typed) in every view; the first match at
        or after the top of the view is current."""
        self.query = query
        self.matches = []
        pattern = re.compile(re.escape(query), re.IGNORECASE) if query else None
        for view, text in zip(views, originals, strict=True):
            if pattern is not None:
                for found in pattern.finditer(text.plain):
                    if found.end() > found.start():
                        self.matches.append(Match(view, found.start(), found.end()))
        self.current = 0 if self.matches else -1
        self.paint(views, originals)

    def step(self, by: int, views: list[Static], originals: list[Text]) -> Match | None:
        if not self.matches:
            return None
        self.current = (self.current + by) % len(self.matches)
        self.paint(views, originals)
        return self.matches[self.current]

    def paint(self, views: list[Static], originals: list[Text]) -> None:
        for view, text in zip(views, originals, strict=True):
            marked = text.copy()
            for i, m in enumerate(self.matches):
                if m.view is view:
                    style = CURRENT_STYLE if i == self.current else MATCH_STYLE
                    marked.stylize(style, m.start, m.end)
            view.update(marked)

    def status(self) -> str:
        if not self.query:
            return ""
        if not self.matches:
            return f"“{self.query}”: not found"
        return f"“{self.query}”: {self.current + 1} of {len(self.matches)} · n next · N previous"


def scroll_to_match(thread: ScrollableContainer, match: Match, text: Text) -> None:
    """Scroll so the match's line is in sight, a third of the way down."""
    width = max(1, match.view.content_region.width)
    lines = 0
    for line in text.plain[: match.start].split("\n")[:-1]:
        lines += max(1, -(-len(line) // width))
    last = text.plain[: match.start].rsplit("\n", 1)[-1]
    lines += len(last) // width
    view = match.view
    top = view.virtual_region.y + view.styles.padding.top + lines
    thread.scroll_to(
        y=max(0, top - thread.scrollable_content_region.height // 3),
        animate=False,
        immediate=True,
    )
