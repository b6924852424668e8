"""The backlog: bugs, ideas and stories, the most customers waiting first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Select, Static

from supportdesk.domain import OPEN_ITEM_STATUSES, ItemKind, ItemRecord, ItemStatus
from supportdesk.ui.columns import Column, add_fitted_row, damaged_cells, fit_columns
from supportdesk.ui.item_labels import status_label, status_text
from supportdesk.ui.keybar import KeyBar
from supportdesk.ui.keys import (
    RowTable,
    TopBottom,
    back_binding,
    refresh_binding,
    top_bottom_bindings,
)
from supportdesk.ui.text import inert
from supportdesk.ui.work import run_desk

if TYPE_CHECKING:
    from supportdesk.ui.app import SupportDeskApp

OPEN_WORK = "open work"
ANY = "any"
STATUS_FILTERS: dict[str, tuple[str, ...] | None] = {
    OPEN_WORK: OPEN_ITEM_STATUSES,
    **{status: (status,) for status in ItemStatus},
    ANY: None,
}
"""What the status filter offers, and the statuses each one lists."""


class BacklogScreen(TopBottom, Screen[None]):
    """Every item with how many customers wait on it; Enter opens one."""

    BINDINGS = [
        Binding("enter", "open", "Open", id="backlog.open"),
        Binding("escape", "back", "Back", id="backlog.back"),
        refresh_binding("backlog"),
        back_binding("backlog"),
        *top_bottom_bindings("backlog"),
    ]

    COLUMNS = [
        Column("number", "#", width=5),
        Column("kind", "kind", width=5),
        Column("status", "status", width=11),
        Column("waiting", "waiting", width=7),
        Column("customers", "customers", width=9, wide_only=100),
        Column("title", "title", weight=3),
        Column("ref", "ref", weight=1, wide_only=110),
    ]

    app: SupportDeskApp

    items: list[ItemRecord] | None = None
    """What the screen shows: laid out again on a resize without a query."""

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="✉")
        with Vertical(id="backlog-body"):
            with Horizontal(id="filters"):
                yield Select(
                    [(kind, kind) for kind in ItemKind],
                    prompt="any kind",
                    id="item-kind",
                    allow_blank=True,
                )
                yield Select(
                    [(_filter_label(f), f) for f in STATUS_FILTERS],
                    value=OPEN_WORK,
                    id="item-status",
                    allow_blank=False,
                )
            yield RowTable(id="items", cursor_type="row", zebra_stripes=True)
            yield Static(id="no-items", classes="empty")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "Backlog"
        self.query_one("#no-items").display = False
        self.query_one("#items", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.reload()  # also the first load; and back from an item, its new status

    def reload(self) -> None:
        kind = self.query_one("#item-kind", Select).value
        status = self.query_one("#item-status", Select).value
        statuses = STATUS_FILTERS.get(status if isinstance(status, str) else OPEN_WORK)
        desk, of_kind = self.app.desk, kind if isinstance(kind, str) else None
        # a newer load replaces this one
        run_desk(
            self,
            "Reading the backlog",
            lambda: desk.items(kind=of_kind, statuses=statuses),
            self._show,
            group="backlog",
            supersede=True,
        )

    def _show(self, items: list[ItemRecord], *, resized: bool = False) -> None:
        if items == self.items and not resized:
            return  # nothing changed: the agent keeps their place
        self.items = items
        table = self.query_one("#items", DataTable)
        selected = self.selected_number()
        keys = fit_columns(table, self.COLUMNS)
        for i in items:
            try:
                cells = {
                    "number": inert(f"#{i.number}"),
                    "kind": inert(i.kind),
                    "status": status_text(i.status),
                    "waiting": inert(str(i.waiting), "bold" if i.waiting else "dim"),
                    "customers": inert(str(i.customers)),
                    "title": _cut(inert(i.title)),
                    "ref": _cut(inert(i.ref or "")),
                }
            except Exception as exc:  # one item that cannot be shown never empties the list
                self.log.error(f"backlog: item #{i.number} cannot be shown: {exc!r}")
                cells = damaged_cells(self.COLUMNS, i.number, exc, "title")
            add_fitted_row(table, keys, cells, str(i.number))
        if selected is not None and str(selected) in table.rows:
            table.move_cursor(row=table.get_row_index(str(selected)))
        empty = self.query_one("#no-items", Static)
        table.display = bool(items)
        empty.display = not items
        empty.update("No item matches these filters." if not items else "")
        if items and self.focused is None:  # the table was hidden; not while in a filter
            table.focus()

    def on_resize(self) -> None:
        if self.items is not None:
            self._show(self.items, resized=True)

    def selected_number(self) -> int | None:
        table = self.query_one("#items", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return int(key.value) if key.value else None

    @on(Select.Changed)
    def _filters_changed(self) -> None:
        self.reload()

    @on(DataTable.RowSelected, "#items")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        number = self.selected_number()
        if number is not None:
            self.app.open_item(number)

    def top_bottom_target(self) -> DataTable[Any]:
        return self.query_one("#items", DataTable)

    def action_reload(self) -> None:
        self.reload()

    def action_back(self) -> None:
        self.app.pop_screen()


def _cut(text: Text) -> Text:
    """A cell too long for its column ends in an ellipsis rather than mid-word."""
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


def _filter_label(name: str) -> str:
    if name == OPEN_WORK:
        return "open work (open, in progress)"
    if name == ANY:
        return "any status"
    return status_label(name)
