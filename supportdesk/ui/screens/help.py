"""`?`: this desk's keys by screen (from the screens' bindings, hidden ones included, with the
config's `[keymap]` applied) and what each mark on the stack means."""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static

from supportdesk.ui.keybar import KeyBar
from supportdesk.ui.keys import TopBottom, top_bottom_bindings

if TYPE_CHECKING:
    from supportdesk.ui.app import SupportDeskApp

KEY_WIDTH = 16
"""Columns for the keys before each description."""

MARKS: list[tuple[str, str]] = [
    ("Why a request is on the stack (the reason column)", ""),
    ("new", "a new request: the customer's first mail"),
    ("reply", "the customer wrote again"),
    ("follow-up 1, 2", "no answer from the customer: the desk sent reminder 1, 2 and it is back"),
    ("bounced", "delivery failed: our answer did not reach the customer"),
    ("fixed", "the bug or idea it is linked to is fixed or done: tell the customer"),
    ("won't do", "the linked bug or idea will not be done: tell the customer"),
    ("reopened", "the customer wrote after it was closed"),
    ("escalated", "moved up to your line, with a note why"),
    ("handed back", "handed back down to your line, with a note"),
    ("returned", "your letter came back from your mentor: the comment is above your draft"),
    ("snoozed", "its snooze ended: it is back on top"),
    ("overdue", "its first answer is late (the SLA deadline has passed)"),
    ("due 20m", "its first answer is due soon: pinned until answered"),
    ("", ""),
    ("Marks", ""),
    ("!! ! ↓", "priority before the subject: urgent, high, low (normal has none)"),
    ("→bob", "assigned to someone else (dimmed), in the claimed column"),
    ("✎bob", "bob is writing an answer to it right now, in the claimed column"),
    ("bob", "claimed: bob has it open right now (dimmed)"),
    ("linked", "waiting on a bug, idea or story (status reason; `i` opens the item)"),
    ("waiting for review", "a trainee's letter waits for the mentor (f6)"),
]


def screens() -> list[tuple[str, type[Any]]]:
    """The console's screens in the order an agent meets them."""
    from supportdesk.ui.screens.backlog import BacklogScreen
    from supportdesk.ui.screens.fulltext import FullTextScreen
    from supportdesk.ui.screens.item import ItemScreen
    from supportdesk.ui.screens.quality import QualityScreen
    from supportdesk.ui.screens.reply import ReplyScreen
    from supportdesk.ui.screens.request import RequestScreen
    from supportdesk.ui.screens.requests import RequestsScreen
    from supportdesk.ui.screens.reviews import ReviewsScreen
    from supportdesk.ui.screens.stack import StackScreen
    from supportdesk.ui.screens.stats import StatsScreen

    return [
        ("Stack", StackScreen),
        ("Request", RequestScreen),
        ("Reply", ReplyScreen),
        ("All requests (f2)", RequestsScreen),
        ("Backlog (f3)", BacklogScreen),
        ("Item", ItemScreen),
        ("Stats (f4)", StatsScreen),
        ("Review (f6)", ReviewsScreen),
        ("Quality", QualityScreen),
        ("Full text, raw message", FullTextScreen),
    ]


KEY_NAMES = {"question_mark": "?", "slash": "/", "escape": "esc", "enter": "enter"}


def key_name(binding: Binding) -> str:
    """A key as the help writes it: `ctrl+l`, `/`, `esc`, `gg` (the first g waits for the
    second)."""
    if binding.action == "g_prefix":
        return binding.key * 2
    if binding.key_display:
        return binding.key_display
    return KEY_NAMES.get(binding.key, binding.key)


def key_lines(
    bindings: list[Binding], keymap: dict[str, str], display: Any
) -> list[tuple[str, str]]:
    """(keys, description) per action, with `keymap` (binding id → keys) applied; the keys
    of one action together ("G / end  Bottom")."""
    by_action: dict[str, tuple[list[str], str]] = {}
    for binding in bindings:
        keys = keymap.get(binding.id or "", binding.key) if binding.id else binding.key
        shown = [display(dataclasses.replace(binding, key=k.strip())) for k in keys.split(",")]
        action = binding.description or binding.action
        if action in by_action:
            by_action[action][0].extend(k for k in shown if k not in by_action[action][0])
        else:
            by_action[action] = (shown, binding.description)
    return [(" / ".join(keys), description) for keys, description in by_action.values()]


def help_text(
    app_bindings: list[Binding],
    keymap: dict[str, str],
    display: Any,
    first: type[Any] | None = None,
) -> Text:
    """The whole help as plain text: the screen the agent came from first."""
    text = Text()
    shown = screens()
    shown.sort(key=lambda pair: pair[1] is not first)  # stable: the rest keep their order

    def section(title: str, lines: list[tuple[str, str]], about: str = "") -> None:
        text.append(f"{title}\n", "bold")
        if about:
            text.append(f"{about}\n", "italic")
        for keys, description in lines:
            text.append(f"  {keys:<{KEY_WIDTH - 1}} ", "bold" if keys else "")
            text.append(f"{description}\n")
        text.append("\n")

    for title, screen in shown:
        # the screen's own words, as plain text (its markdown marks dropped)
        about = re.sub(r"\*\*|\*|`", "", (screen.__dict__.get("HELP") or "").strip())
        # paragraphs flow to the screen's width: the source's line breaks are not the reader's
        about = "\n\n".join(" ".join(p.split()) for p in about.split("\n\n"))
        section(title, key_lines(list(screen.BINDINGS), keymap, display), about)
    section("Everywhere", key_lines(app_bindings, keymap, display))
    text.append("What the stack shows\n", "bold")
    for mark, meaning in MARKS:
        if mark and not meaning:
            text.append(f"{mark}\n", "italic")
        elif mark:
            text.append(f"  {mark:<{KEY_WIDTH - 1}} ", "bold")
            text.append(f"{meaning}\n")
        else:
            text.append("\n")
    return text


class HelpScreen(TopBottom, Screen[None]):
    """This desk's keys by screen and what the stack's marks mean. Esc, q or ? closes it."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="help.back"),
        Binding("q", "back", "Back", show=False, id="help.q"),
        Binding("question_mark", "back", "Close help", show=False, id="help.close"),
        *top_bottom_bindings("help"),
    ]

    app: SupportDeskApp

    def __init__(self, came_from: type[Any] | None = None) -> None:
        super().__init__()
        self.came_from = came_from

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="✉")
        with VerticalScroll(id="help"):
            yield Static(id="help-text")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "Keys and marks · Esc, q or ? closes"
        keymap = dict(self.app.desk.settings.keymap or {})
        bindings = [b for b in self.app.BINDINGS if isinstance(b, Binding)]
        self.query_one("#help-text", Static).update(
            help_text(bindings, keymap, key_name, self.came_from)
        )
        self.query_one("#help", VerticalScroll).focus()

    def top_bottom_target(self) -> VerticalScroll:
        return self.query_one("#help", VerticalScroll)

    def action_back(self) -> None:
        self.app.pop_screen()
