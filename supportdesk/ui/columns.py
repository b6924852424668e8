"""Table columns that fit the terminal: fixed ones keep their width, flexible ones share the
rest by weight, and optional ones appear only on a wide enough screen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

CELL_PADDING = 2


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int = 0
    """Fixed width; 0 makes the column flexible."""
    weight: int = 1
    """A flexible column's share of the room left."""
    wide_only: int = 0
    """Shown only when the table is at least this wide."""


MIN_LENT = 10
"""A flexible column lends room to a needier one down to this width, and never more than
a third of its own share (the subject stays readable beside a long address)."""


def fit_columns(
    table: DataTable[Any], columns: list[Column], wants: dict[str, int] | None = None
) -> list[str]:
    """Lay out `columns` for the table's current width; returns the keys shown, in order.

    `wants`: widths flexible columns need (a sender's address, say); one that needs more
    than its share borrows from the other flexible columns, the least weighty first, which
    keep `MIN_LENT`."""
    total = table.size.width or table.app.size.width
    shown = [c for c in columns if total >= c.wide_only]
    room = total - CELL_PADDING * len(shown) - sum(c.width for c in shown) - 2  # scrollbar
    weights = sum(c.weight for c in shown if not c.width) or 1
    widths = {c.key: c.width or max(8, room * c.weight // weights) for c in shown}
    # the least weighty columns lend first
    flexible = [c.key for c in sorted(shown, key=lambda c: c.weight) if not c.width]
    share = dict(widths)
    for key, want in (wants or {}).items():
        if key not in flexible or want <= widths[key]:
            continue
        for other in flexible:
            if other != key and want > widths[key]:
                keep = max(MIN_LENT, share[other] * 2 // 3)
                lent = min(want - widths[key], max(0, widths[other] - keep))
                widths[other] -= lent
                widths[key] += lent
    table.clear(columns=True)
    for c in shown:
        table.add_column(c.label, key=c.key, width=widths[c.key])
    return [c.key for c in shown]


def column_width(table: DataTable[Any], key: str) -> int:
    """The width a fitted column got (0 when it is not shown)."""
    for column_key, column in table.columns.items():
        if column_key.value == key:
            return column.width
    return 0


def add_fitted_row(
    table: DataTable[Any], keys: list[str], cells: dict[str, Text], key: str
) -> None:
    table.add_row(*(cells[k] for k in keys), key=key)


def damaged_cells(
    columns: list[Column], number: object, error: BaseException, where: str
) -> dict[str, Text]:
    """The cells of a row that cannot be shown: its number, and why in column `where`
    (`#12 … ⚠ cannot be shown: <reason>`). The rest of the list is shown as usual."""
    from supportdesk.ui.text import inert
    from supportdesk.ui.work import explain

    cells = {c.key: Text() for c in columns}
    cells[columns[0].key] = inert(f"#{number}", "bold red")
    reason = " ".join(explain(error)[0].split())
    cells[where] = inert(f"⚠ cannot be shown: {reason}", "bold red")
    return cells
