"""One bug, idea or story: what it is, who waits on it, and telling them when it ships."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Label, Static

from supportdesk.desk import ItemDetail
from supportdesk.desk.backlog import ItemChange
from supportdesk.desk.senders import request_sender
from supportdesk.ui.columns import (
    Column,
    add_fitted_row,
    column_width,
    damaged_cells,
    fit_columns,
)
from supportdesk.ui.item_labels import shipped_word, status_label, status_text
from supportdesk.ui.keybar import KeyBar
from supportdesk.ui.keys import back_binding
from supportdesk.ui.screens.stack import REASONS
from supportdesk.ui.text import inert, local_time
from supportdesk.ui.work import run_desk

if TYPE_CHECKING:
    from supportdesk.ui.app import SupportDeskApp

FACT_WIDTH = 30
"""The left column of the facts: label and value."""


class ItemScreen(Screen[None]):
    """An item's facts and description above the requests linked to it."""

    BINDINGS = [
        Binding("enter", "open", "Open request", id="item.open"),
        Binding("f", "fix", "Fixed/done", id="item.fix"),
        Binding("s", "status", "Status", id="item.status"),
        Binding("e", "ref", "Ref", id="item.ref"),
        Binding("t", "title", "Title", show=False, id="item.title"),
        Binding("escape", "back", "Back", id="item.back"),
        back_binding("item"),
    ]

    COLUMNS = [
        Column("number", "#", width=6),
        Column("status", "status", width=7),
        Column("reason", "reason", width=9),
        Column("customer", "customer", weight=2),
        Column("subject", "subject", weight=3),
    ]

    app: SupportDeskApp

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number
        self.detail: ItemDetail | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="✉")
        with Vertical(id="item-body"):
            yield Static(id="item-facts")
            with VerticalScroll(id="item-description"):
                yield Static(id="item-description-text")
            yield Label("Linked requests", classes="side-title")
            yield DataTable(id="linked", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = f"item #{self.number}"
        self.query_one("#linked", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.reload()  # also the first load; and back from a request, its new status

    def reload(self) -> None:
        desk, number = self.app.desk, self.number
        # a newer load replaces this one
        run_desk(
            self,
            f"Reading item #{number}",
            lambda: desk.item(number),
            self._show,
            group="item",
            supersede=True,
        )

    def _show(self, detail: ItemDetail, *, resized: bool = False) -> None:
        if detail == self.detail and not resized:
            return  # nothing changed: the agent keeps their place
        self.detail = detail
        item = detail.item
        self.sub_title = item.label
        self.query_one("#item-facts", Static).update(self._facts(detail))
        description = self.query_one("#item-description-text", Static)
        description.update(inert(item.description.strip() or "(no description)"))
        table = self.query_one("#linked", DataTable)
        selected = table.cursor_row if table.row_count else None
        keys = fit_columns(table, self.COLUMNS)
        customer_width = column_width(table, "customer")
        for r in detail.requests:
            try:
                cells = {
                    "number": inert(f"#{r.number}"),
                    "status": inert(r.status),
                    "reason": inert(REASONS.get(r.reason, r.reason).replace("_", " ")),
                    "customer": inert(request_sender(r).fit(customer_width)),
                    "subject": inert(r.subject or "(no subject)"),
                }
            except Exception as exc:  # one row that cannot be shown never empties the list
                self.log.error(f"item: request #{r.number} cannot be shown: {exc!r}")
                cells = damaged_cells(self.COLUMNS, r.number, exc, "subject")
            add_fitted_row(table, keys, cells, str(r.number))
        if selected is not None and table.row_count:
            table.move_cursor(row=min(selected, table.row_count - 1))

    def _facts(self, detail: ItemDetail) -> Text:
        item = detail.item
        text = Text.assemble(inert(f"{item.label}  ", "bold"), inert(item.title, "bold"))
        rows = [
            (("status", status_text(item.status)), ("customers", inert(str(item.customers)))),
            (
                ("waiting", inert(str(item.waiting), "bold" if item.waiting else "")),
                ("created", inert(f"{item.created_by}, {_when(item.created_at)}")),
            ),
            (
                ("tags", inert(", ".join(item.tags) or "–")),
                ("fixed", inert(_when(item.fixed_at) if item.fixed_at else "–")),
            ),
        ]
        for left, right in rows:
            text.append("\n")
            text.append(_fact(*left, FACT_WIDTH))
            text.append(_fact(*right, 0))
        text.append("\n")
        text.append(_fact("ref", inert(item.ref or "–"), 0))
        return text

    def on_resize(self) -> None:
        if self.detail is not None:
            self._show(self.detail, resized=True)

    @on(DataTable.RowHighlighted, "#linked")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.app.read_ahead(int(event.row_key.value) if event.row_key.value else None)

    @on(DataTable.RowSelected, "#linked")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        table = self.query_one("#linked", DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
            if key.value:
                self.app.open_request(int(key.value))

    # -- actions ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("fix", "status", "ref", "title") and self.detail is None:
            return None  # shown, greyed, until the item is read
        return True

    def action_fix(self) -> None:
        from supportdesk.ui.modals.fix import FixModal

        if self.detail is None:
            return
        status = shipped_word(self.detail.item.kind)

        def chosen(notify: bool | None) -> None:
            if notify is not None:
                self._fix(status, notify)

        self.app.push_screen(FixModal(self.detail.item, status), chosen)

    def _fix(self, status: str, notify: bool) -> None:
        desk, number, agent = self.app.desk, self.number, self.app.agent

        def fixed(change: ItemChange) -> None:
            label = f"{change.item.label} {status}"
            if notify:
                told = _requests(change.notified) if change.notified else "nobody waiting"
                message = f"{label}: fixed_notice queued on {told}."
            else:
                message = f"{label}{_pushed(change)}"
            self.notify(message, markup=False)
            if change.failed:
                failed = "; ".join(f"#{n}: {error}" for n, error in change.failed.items())
                self.notify(
                    f"Not told, left on the stack: {failed}"[:300],
                    severity="warning",
                    timeout=10,
                    markup=False,
                )
            self.reload()

        run_desk(
            self,
            f"Marking item #{number} {status}",
            lambda: desk.fix_item(number, agent, status=status, notify=notify),
            fixed,
            group="item-act",
        )

    def action_status(self) -> None:
        from supportdesk.ui.modals.item_status import ItemStatusModal

        if self.detail is None:
            return

        def chosen(status: str | None) -> None:
            if status:
                self._set(status=status)

        self.app.push_screen(ItemStatusModal(self.detail.item), chosen)

    def action_ref(self) -> None:
        from supportdesk.ui.modals.text_input import TextInputModal

        if self.detail is None:
            return
        item = self.detail.item

        def entered(ref: str | None) -> None:
            if ref is not None:
                self._set(ref=ref)

        self.app.push_screen(
            TextInputModal(
                f"Tracker key or URL of {item.label} (empty clears it)",
                item.ref or "",
                allow_empty=True,
            ),
            entered,
        )

    def action_title(self) -> None:
        from supportdesk.ui.modals.text_input import TextInputModal

        if self.detail is None:
            return
        item = self.detail.item

        def entered(title: str | None) -> None:
            if title:
                self._set(title=title)

        self.app.push_screen(TextInputModal(f"Title of {item.label}", item.title), entered)

    def _set(
        self, *, status: str | None = None, ref: str | None = None, title: str | None = None
    ) -> None:
        desk, number, agent = self.app.desk, self.number, self.app.agent

        def changed(change: ItemChange) -> None:
            if status is not None:
                message = f"{change.item.label} {status_label(status)}{_pushed(change)}"
                self.notify(message, markup=False)
            self.reload()

        what = "status" if status is not None else "ref" if ref is not None else "title"
        run_desk(
            self,
            f"Setting the {what} of item #{number}",
            lambda: desk.set_item(number, agent, status=status, ref=ref, title=title),
            changed,
            group="item-act",
        )

    def action_back(self) -> None:
        self.app.pop_screen()


def _fact(label: str, value: Text, width: int) -> Text:
    text = Text.assemble(inert(f"{label:<10}", "dim"), value)
    if width:
        text.truncate(width, overflow="ellipsis", pad=True)
        text.append("  ")
    return text


def _when(moment: datetime | None) -> str:
    return local_time(moment)


def _pushed(change: ItemChange) -> str:
    if not change.pushed:
        return "."
    return f": {_requests(change.pushed)} back on the stack."


def _requests(numbers: list[int]) -> str:
    """`#12, #21` for a few, `24 requests` for many."""
    if len(numbers) <= 4:
        return ", ".join(f"#{n}" for n in numbers)
    return f"{len(numbers)} requests"
