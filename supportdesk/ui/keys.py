"""Keys agents bring from mutt and aerc, the same on every list and thread: `q` back, `gg`
and Home the top, `G` and End the bottom, ctrl+l refresh (mutt's redraw).

A first `g` waits for the second; any other key in between forgets it.
"""

from __future__ import annotations

import time
from typing import Any

from textual import events
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable

G_CHORD = 1.5
"""Seconds the first `g` of `gg` waits for the second (keyboard timing, not a desk rule)."""


def back_binding(prefix: str) -> Binding:
    """`q` back, as escape: on a screen or modal where q is no letter to type."""
    return Binding("q", "back", "Back", show=False, id=f"{prefix}.q")


def refresh_binding(prefix: str, *, show: bool = False) -> Binding:
    """ctrl+l reads the screen again (it was `g`; the id is kept so keymaps still apply)."""
    return Binding("ctrl+l", "reload", "Refresh", show=show, id=f"{prefix}.refresh")


def top_bottom_bindings(prefix: str) -> list[Binding]:
    return [
        Binding("g", "g_prefix", "Top", show=False, id=f"{prefix}.gg"),
        Binding("G", "to_bottom", "Bottom", show=False, id=f"{prefix}.bottom"),
        Binding("home", "to_top", "Top", show=False, id=f"{prefix}.home"),
        Binding("end", "to_bottom", "Bottom", show=False, id=f"{prefix}.end"),
    ]


class TopBottom:
    """For a screen with one list or thread: `gg`/Home go to its top, `G`/End to its bottom.
    The screen says which widget by `top_bottom_target`."""

    _g_at = float("-inf")

    def top_bottom_target(self) -> Widget | None:
        raise NotImplementedError

    def on_key(self, event: events.Key) -> None:
        if event.key != "g":
            self._g_at = float("-inf")

    def action_g_prefix(self) -> None:
        now = time.monotonic()
        if now - self._g_at <= G_CHORD:
            self._g_at = float("-inf")
            self.action_to_top()
        else:
            self._g_at = now

    def action_to_top(self) -> None:
        go_to(self._target(), top=True)

    def action_to_bottom(self) -> None:
        go_to(self._target(), top=False)

    def _target(self) -> Widget | None:
        focused = getattr(self, "focused", None)  # of two tables, the one in use
        return focused if isinstance(focused, DataTable) else self.top_bottom_target()


def go_to(target: Widget | None, *, top: bool) -> None:
    """The cursor of a table on its first or last row; a scrolling view at its start or end."""
    if isinstance(target, DataTable):
        table: DataTable[Any] = target
        if table.row_count:
            table.move_cursor(row=0 if top else table.row_count - 1, animate=False)
    elif target is not None:
        if top:
            target.scroll_home(animate=False, immediate=True)
        else:
            target.scroll_end(animate=False, immediate=True)


class RowTable(DataTable[Any]):
    """A table of rows where Home and End go to the first and last row (Textual's scroll
    sideways), as `gg` and `G` do."""

    BINDINGS = [
        Binding("home", "scroll_top", "Top", show=False),
        Binding("end", "scroll_bottom", "Bottom", show=False),
    ]
