"""How bugs, ideas and stories read on screen: statuses in words, one item on one line."""

from __future__ import annotations

from rich.text import Text

from supportdesk.domain import ItemRecord
from supportdesk.ui.text import inert

STATUS_LABELS = {
    "open": "open",
    "in_progress": "in progress",
    "fixed": "fixed",
    "done": "done",
    "wont_do": "won't do",
}
STATUS_STYLES = {"in_progress": "cyan", "fixed": "green", "done": "green", "wont_do": "dim"}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def status_text(status: str) -> Text:
    return inert(status_label(status), STATUS_STYLES.get(status, ""))


def shipped_word(kind: str) -> str:
    """What shipping is called for this kind: a bug is fixed, an idea or a story done."""
    return "fixed" if kind == "bug" else "done"


def item_line(item: ItemRecord, width: int) -> Text:
    """`bug #3  Export fails… · 4 waiting · in progress`, the title cut to fit `width`."""
    label = f"{item.label:<9} "
    facts = f" · {item.waiting} waiting · {status_label(item.status)}"
    room = max(10, width - len(label) - len(facts))
    title = inert(" ".join(item.title.split()))
    title.truncate(room, overflow="ellipsis")
    return Text.assemble(inert(label, "bold"), title, inert(facts, "dim"))
