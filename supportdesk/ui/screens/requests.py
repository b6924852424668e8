"""Every request: filter by status, tag and customer, or search the text of all mail."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Select
from textual.worker import Worker

from supportdesk.desk.senders import SenderLabel, request_sender
from supportdesk.domain import RequestStatus
from supportdesk.ui.columns import (
    Column,
    add_fitted_row,
    column_width,
    damaged_cells,
    fit_columns,
)
from supportdesk.ui.keybar import KeyBar
from supportdesk.ui.keys import RowTable, TopBottom, back_binding, top_bottom_bindings
from supportdesk.ui.text import age, inert, status_words
from supportdesk.ui.work import run_desk

if TYPE_CHECKING:
    from supportdesk.ui.app import SupportDeskApp


class RequestsScreen(TopBottom, Screen[None]):
    AGES_WITH_THE_CLOCK = True  # the app re-reads it now and then (`age_marks`)
    BINDINGS = [
        Binding("escape", "back", "Back", id="requests.back"),
        back_binding("requests"),
        *top_bottom_bindings("requests"),
        Binding("ctrl+f", "focus_search", "Search", id="requests.search"),
    ]

    app: SupportDeskApp

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="✉")
        with Vertical(id="requests-body"):
            with Horizontal(id="filters"):
                yield Input(placeholder="search all mail (Enter)", id="search")
                yield Select(
                    [(status_words(s), s) for s in RequestStatus],
                    prompt="any status",
                    id="status",
                    allow_blank=True,
                )
                yield Input(placeholder="tag", id="tag")
                yield Input(placeholder="customer", id="customer")
            yield RowTable(id="results", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    COLUMNS = [
        Column("number", "#", width=7),
        Column("status", "status", width=8),
        Column("age", "age", width=4),
        Column("customer", "customer", weight=2),
        Column("subject", "subject", weight=3),
        Column("match", "tags / match", weight=2, wide_only=110),
    ]

    running: Worker[None] | None = None
    """The load or search under way: a change to the desk starts no second one beside it."""
    stale = False
    """The desk changed while it ran: run it once more when it is done."""

    def on_mount(self) -> None:
        self.query_one("#search", Input).focus()
        self.reload()

    def _filters(self) -> tuple[str, str | None, str | None, str | None]:
        status = self.query_one("#status", Select).value
        return (
            self.query_one("#search", Input).value.strip(),
            status if isinstance(status, str) else None,
            self.query_one("#tag", Input).value.strip() or None,
            self.query_one("#customer", Input).value.strip() or None,
        )

    def reload(self) -> None:
        """A change to the desk (the console calls this for each one): the list read again,
        but never a second search beside one that still runs; it runs once more after it."""
        if self.running is not None and not self.running.is_finished:
            self.stale = True
            return
        self._start()

    def _start(self) -> None:
        """What the filters ask, now: a search still running is cancelled (the group is
        superseded) and its result never shown."""
        self.stale = False
        self.running = self._load(*self._filters())

    def _load(
        self, query: str, status: str | None, tag: str | None, customer: str | None
    ) -> Worker[None]:
        started: list[Worker[None]] = []  # the worker, known once run_desk returns

        def failed(_: BaseException) -> None:
            if started and started[0] is self.running:
                self.running = None
                if self.stale:
                    self._start()

        started.append(
            run_desk(
                self,
                "Search" if query else "Listing requests",
                lambda: self._read(query, status, tag, customer),
                lambda rows: self._show(rows, started[0]),
                group="requests",
                supersede=True,  # a newer load replaces this one
                or_else=failed,
            )
        )
        return started[0]

    def _read(
        self, query: str, status: str | None, tag: str | None, customer: str | None
    ) -> list[tuple[Any, ...]]:
        desk = self.app.desk
        rows: list[tuple[Any, ...]] = []
        now = desk.clock.now()
        if query:
            for hit in desk.search(query, limit=200):
                if status and hit.status != status:
                    continue
                rows.append(
                    (hit.request_id, hit.status, "", hit.from_addr, hit.subject, hit.snippet)
                )
        else:
            for r in desk.list_requests(status=status, tag=tag, customer=customer, limit=300):
                try:
                    rows.append(
                        (
                            r.number,
                            status_words(r.status),
                            age(r.created_at, now),
                            request_sender(r),
                            r.subject,
                            ", ".join(r.tags),
                        )
                    )
                except Exception as exc:  # shown as damaged; the rest of the list stays
                    rows.append((r.number, exc))
        return rows

    rows: list[tuple[Any, ...]] | None = None
    """What the screen shows, kept to lay it out again on a resize without a query."""

    def _show(self, rows: list[tuple[Any, ...]], worker: Worker[None]) -> None:
        if worker is not self.running:
            return  # cancelled after its last look: a newer query's result is coming
        self.running = None
        self._lay_out(rows)
        if self.stale:
            self._start()

    def _lay_out(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows
        table = self.query_one("#results", DataTable)
        want = max(
            (
                len(str(r[3]))
                for r in rows
                if len(r) > 3 and isinstance(r[3], SenderLabel) and r[3].show_address
            ),
            default=0,
        )
        # "waiting for review" is shown whole: its column grows while one is listed
        status = max(
            (len(str(r[1])) for r in rows if len(r) > 1 and isinstance(r[1], str)), default=0
        )
        columns = [
            replace(c, width=max(c.width, status)) if c.key == "status" else c for c in self.COLUMNS
        ]
        keys = fit_columns(table, columns, {"customer": want})
        widths = [column_width(table, c.key) for c in self.COLUMNS]
        seen: set[int] = set()
        for row in rows:
            if row[0] in seen:
                continue
            seen.add(row[0])
            try:
                if isinstance(row[1], Exception):
                    raise row[1]
                texts = [f"#{row[0]}", *(_shown(c, widths[i]) for i, c in enumerate(row[1:], 1))]
                cells = {c.key: inert(text) for c, text in zip(self.COLUMNS, texts, strict=True)}
            except Exception as exc:  # one row that cannot be shown never empties the list
                self.log.error(f"requests: #{row[0]} cannot be shown: {exc!r}")
                cells = damaged_cells(self.COLUMNS, row[0], exc, "subject")
            add_fitted_row(table, keys, cells, str(row[0]))

    def on_resize(self) -> None:
        if self.rows is not None:
            self._lay_out(self.rows)

    @on(Input.Submitted)
    @on(Select.Changed)
    def _filters_changed(self) -> None:
        self._start()

    @on(DataTable.RowHighlighted, "#results")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.app.read_ahead(int(event.row_key.value) if event.row_key.value else None)

    @on(DataTable.RowSelected, "#results")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.open_request(int(event.row_key.value))

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def top_bottom_target(self) -> DataTable[Any]:
        return self.query_one("#results", DataTable)

    def action_back(self) -> None:
        self.app.pop_screen()


def _shown(value: Any, width: int) -> str:
    if isinstance(value, SenderLabel):  # the name gives way, not the address
        return value.fit(width)
    return str(value).replace("\n", " ")
