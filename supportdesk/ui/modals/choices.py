"""What the pickers share: moving the highlight of their list from the search field."""

from __future__ import annotations

from textual.widgets import OptionList


def move_highlight(choices: OptionList, step: int) -> None:
    """Move the highlighted choice `step` places (up or down), kept within the list."""
    if choices.option_count:
        current = choices.highlighted or 0
        choices.highlighted = max(0, min(choices.option_count - 1, current + step))
