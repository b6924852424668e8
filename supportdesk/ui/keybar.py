"""The footer: the screen's key bindings on one line, drawn as one piece of text.

Textual's `Footer` builds a widget per key and rebuilds them all each time the bindings change
(every focus change, every mount): five rebuilds and some eighty widgets to open one request,
a third of the time that took. This bar draws the same keys in one `render`, redraws only
when what it shows changes, and a click on a key presses it, as the Footer's keys do.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget


class Key(NamedTuple):
    key: str
    display: str
    description: str
    enabled: bool


class KeyBar(Widget):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"keybar--key", "keybar--description", "keybar--disabled"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: clip;
        color: $footer-foreground;
        background: $footer-background;
        .keybar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .keybar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .keybar--disabled {
            text-style: dim;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.keys: list[Key] = []
        self.palette: Key | None = None
        self.spans: list[tuple[int, int, str]] = []
        """Where each key is drawn: (start, end, key), for clicks."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        keys, palette = self._collect(screen)
        if keys != self.keys or palette != self.palette:
            self.keys, self.palette = keys, palette
            self.refresh()

    def _collect(self, screen: Screen[object]) -> tuple[list[Key], Key | None]:
        app = self.app
        active = screen.active_bindings
        keys: list[Key] = []
        seen: set[str] = set()
        for _node, binding, enabled, _tooltip in active.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            display = app.get_key_display(binding)
            keys.append(Key(binding.key, display, binding.description, enabled))
        # The screen's own keys first, in the order it declares them (the focused widget's
        # come first in `active_bindings`, which put the editor's ctrl+e before ctrl+s).
        declared = {key: i for i, key in enumerate(screen._bindings.key_to_bindings)}
        keys.sort(key=lambda k: declared.get(k.key, len(declared)))
        palette = None
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
            _node, binding, enabled, _tooltip = active[app.COMMAND_PALETTE_BINDING]
            palette = Key(binding.key, app.get_key_display(binding), binding.description, enabled)
        return keys, palette

    def render(self) -> Text:
        text, spans = self._line(compact=False)
        if len(text) > self.size.width:  # 80 columns: the same keys, closer together
            text, spans = self._line(compact=True)
        self.spans = spans
        return text

    def _line(self, compact: bool) -> tuple[Text, list[tuple[int, int, str]]]:
        key_style = self.get_component_rich_style("keybar--key")
        description_style = self.get_component_rich_style("keybar--description")
        disabled_style = self.get_component_rich_style("keybar--disabled", partial=True)
        pad = "" if compact else " "
        text = Text(no_wrap=True, overflow="crop", end="")
        spans: list[tuple[int, int, str]] = []

        def add(key: Key) -> None:
            start = len(text)
            text.append(f"{pad}{key.display}{pad}", key_style)
            if key.description:
                text.append(f" {key.description}" if compact else f"{key.description} ")
                text.stylize(description_style, len(text) - len(key.description) - 1)
            if not key.enabled:
                text.stylize(disabled_style, start)
            spans.append((start, len(text), key.key))

        for key in self.keys:
            add(key)
            text.append(" ")
        if self.palette is not None:
            width = len(pad) * 2 + len(self.palette.display) + len(self.palette.description) + 1
            room = self.size.width - len(text) - width
            if room >= 0:
                text.append(" " * room)
                add(self.palette)
        return text, spans

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self.spans:
            if start <= event.x < end:
                event.stop()
                self.app.simulate_key(key)
                return
