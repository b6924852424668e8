"""Pick a template: suggestions first, fuzzy search as you type, the rendered text beside."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from supportdesk.domain import TemplateRecord
from supportdesk.errors import TemplateError
from supportdesk.ui.modals.choices import move_highlight
from supportdesk.ui.text import inert
from supportdesk.ui.work import run_desk

if TYPE_CHECKING:
    from supportdesk.ui.app import SupportDeskApp


class TemplatePickerModal(ModalScreen[TemplateRecord | None]):
    """Returns the chosen template (the variant for the request's language), or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("q", "cancel", "Cancel", show=False, id="picker.q"),
        Binding("down", "move(1)", "Next", show=False, id="picker.down"),
        Binding("up", "move(-1)", "Previous", show=False, id="picker.up"),
    ]

    app: SupportDeskApp

    def __init__(self, number: int, language: str | None) -> None:
        super().__init__()
        self.number = number
        self.language = language
        self.records: dict[str, TemplateRecord] = {}
        self.shown_for: str | None = None
        """The query the list shows the results of."""
        self.submit_pending = False
        """Enter came before the results of what was typed: pick when they arrive."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="picker"):
            yield Label(f"Template for #{self.number}", classes="dialog-title")
            yield Input(placeholder="type to search: name, tags, text…", id="query")
            with Horizontal():
                yield OptionList(id="choices")
                with VerticalScroll(id="preview-box"):
                    yield Static(id="preview")

    def on_mount(self) -> None:
        self.query_one("#query", Input).focus()
        self._search("")

    @on(Input.Changed, "#query")
    def _changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    def _search(self, query: str) -> None:
        desk, agent, number, language = self.app.desk, self.app.agent, self.number, self.language

        def find() -> tuple[list[TemplateRecord], set[str]]:
            if query.strip():
                found = [
                    r
                    for r, _ in desk.search_templates(
                        query, agent, language, limit=30, number=number
                    )
                ]
                return found, set()
            tops = desk.suggest_templates(number, agent, limit=5)
            suggested = {r.name for r, _ in tops}
            rest = [
                r
                for r in desk.templates(agent, for_request=number)
                if r.name not in suggested and r.scope != "system"
            ]
            return [r for r, _ in tops] + _one_per_name(rest, language), suggested

        # a newer search replaces this one
        run_desk(
            self,
            "Searching templates",
            find,
            lambda got: self._show(*got, query),
            group="picker-search",
            supersede=True,
        )

    def _show(self, records: list[TemplateRecord], suggested: set[str], query: str) -> None:
        self.shown_for = query
        choices = self.query_one("#choices", OptionList)
        choices.clear_options()
        self.records = {}
        for r in records:
            key = f"{r.id}"
            self.records[key] = r
            mark = "★ " if r.name in suggested else "  "
            scope = "mine" if r.scope == "personal" else r.scope
            choices.add_option(Option(inert(f"{mark}{r.name} ({r.language}, {scope})"), id=key))
        if records:
            choices.highlighted = 0
            self._preview(records[0])
        else:
            self.query_one("#preview", Static).update("No template matches.")
        if self.submit_pending:
            self._submitted()

    @on(OptionList.OptionHighlighted, "#choices")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        record = self.records.get(event.option.id or "")
        if record is not None:
            self._preview(record)

    def _preview(self, record: TemplateRecord) -> None:
        desk, agent, number = self.app.desk, self.app.agent, self.number

        def render() -> str:
            try:
                return desk.render_template(record.name, agent, number, record.language).text
            except TemplateError as exc:  # shown in the preview: the agent picks another
                return f"This template cannot be rendered:\n{exc}"

        # a newer preview replaces this one
        run_desk(
            self,
            f"Preview of {record.name}",
            render,
            lambda text: self.query_one("#preview", Static).update(inert(text)),
            group="picker-preview",
            supersede=True,
        )

    def action_move(self, step: int) -> None:
        move_highlight(self.query_one("#choices", OptionList), step)

    @on(Input.Submitted, "#query")
    def _submitted(self) -> None:
        self.submit_pending = self.shown_for != self.query_one("#query", Input).value
        if self.submit_pending:  # a fast typist's Enter: the list is of an earlier query
            return
        choices = self.query_one("#choices", OptionList)
        if choices.highlighted is not None and choices.option_count:
            option = choices.get_option_at_index(choices.highlighted)
            self.dismiss(self.records.get(option.id or ""))

    @on(OptionList.OptionSelected, "#choices")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.records.get(event.option.id or ""))

    def action_cancel(self) -> None:
        self.dismiss(None)


def _one_per_name(records: list[TemplateRecord], language: str | None) -> list[TemplateRecord]:
    best: dict[str, TemplateRecord] = {}
    for r in records:
        current = best.get(r.name)
        if current is None or (r.language == language and current.language != language):
            best[r.name] = r
    return sorted(best.values(), key=lambda r: r.name)
