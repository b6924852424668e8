"""Turn a request into a bug, an idea or a story, or attach it to an open one.

The title doubles as the search: as the agent edits it, the open items that match it are
listed right under it. Enter in the title creates a new item; ↓ moves into the list, where
Enter attaches the request to the highlighted item.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, RadioButton, RadioSet, TextArea
from textual.widgets.option_list import Option

from supportdesk.domain import ItemKind, ItemRecord
from supportdesk.ui.item_labels import item_line
from supportdesk.ui.work import run_desk

if TYPE_CHECKING:
    from supportdesk.ui.app import SupportDeskApp

SEARCH_LIMIT = 20

KINDS: tuple[ItemKind, ...] = tuple(ItemKind)
"""The kind buttons, in order (the first is chosen at first)."""


@dataclass(frozen=True, slots=True)
class NewItem:
    """Create an item of `kind` from the request."""

    kind: str
    title: str
    description: str
    move: bool = False
    """The request is linked to another item, and the agent said to move it."""


@dataclass(frozen=True, slots=True)
class AttachTo:
    """Link the request to this existing item."""

    item: ItemRecord
    move: bool = False
    """The request is linked to another item, and the agent said to move it."""


class ItemChoices(OptionList):
    """The open items; ↑ on the first one goes back up to the title."""

    class LeftAtTop(Message):
        """The agent moved up out of the list."""

    def action_cursor_up(self) -> None:
        if not self.highlighted:
            self.post_message(self.LeftAtTop())
        else:
            super().action_cursor_up()


class ConvertModal(ModalScreen[NewItem | AttachTo | None]):
    """Returns a new item to create, an item to attach to, or None (Escape)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="convert.cancel"),
        Binding("q", "cancel", "Cancel", show=False, id="convert.q"),
        Binding("ctrl+t", "next_kind", "Kind", priority=True, id="convert.kind"),
        Binding("ctrl+s", "create", "Create", priority=True, id="convert.create"),
        Binding("down", "to_list", "Existing items", show=False, id="convert.list"),
    ]

    app: SupportDeskApp

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number
        self.records: dict[str, ItemRecord] = {}
        self.asked_for: str | None = None
        """The title the latest search was started for."""
        self.shown_for: str | None = None
        """The title the list shows the results of."""
        self.to_list_pending = False
        """↓ came before the results of what was typed: move into the list when they come."""
        self.attach_pending = False
        """…and Enter after it: attach to the top result when they come."""
        self.linked: ItemRecord | None = None
        """The item the request is linked to now: choosing another one asks first."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="convert"):
            yield Label(f"Bug, idea or story from #{self.number}", classes="dialog-title")
            with Horizontal(classes="convert-row", id="convert-kind-row"):
                yield Label("kind", classes="convert-label")
                with RadioSet(id="convert-kind", compact=True):
                    for kind in KINDS:
                        yield RadioButton(kind, value=kind == KINDS[0], id=f"kind-{kind}")
            with Horizontal(classes="convert-row"):
                yield Label("title", classes="convert-label")
                yield Input(
                    placeholder="what is wrong, or what is wanted",
                    id="title",
                    compact=True,
                    select_on_focus=False,  # the draft comes in with the cursor at its end
                )
            with Horizontal(id="convert-items"):
                yield Label("or\nattach", classes="convert-label")
                yield ItemChoices(id="existing", compact=True)
            with Horizontal(id="convert-description"):
                yield Label("about", classes="convert-label")
                yield TextArea(id="description", soft_wrap=True, compact=True)
            yield Label("", id="convert-hint", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()
        self._show_hint()
        self._load()

    @property
    def kind(self) -> str:
        index = self.query_one("#convert-kind", RadioSet).pressed_index
        return KINDS[index] if 0 <= index < len(KINDS) else KINDS[0]

    # -- loading and searching -------------------------------------------------------------

    def _load(self) -> None:
        desk, number = self.app.desk, self.number

        def read() -> tuple[str, str, list[ItemRecord], ItemRecord | None]:
            title, description = desk.item_draft(number)
            found = desk.search_items("", number, limit=SEARCH_LIMIT)
            linked = desk.request(number).request.item
            item = desk.item(linked).item if linked is not None else None
            return title, description, found, item

        run_desk(self, f"Reading #{number}", read, self._read, group="convert-load", supersede=True)

    def _read(self, found: tuple[str, str, list[ItemRecord], ItemRecord | None]) -> None:
        self._loaded(*found)

    def _loaded(
        self,
        title: str,
        description: str,
        found: list[ItemRecord],
        linked: ItemRecord | None = None,
    ) -> None:
        self.linked = linked
        area = self.query_one("#description", TextArea)
        if not area.text:
            area.load_text(description)
        field = self.query_one("#title", Input)
        if field.value:  # the agent typed first: their words and their search stay
            return
        self.asked_for = title
        field.value = title
        field.action_end()
        self._show(found, title)

    @on(Input.Changed, "#title")
    def _title_changed(self, event: Input.Changed) -> None:
        if event.value != self.asked_for:
            self.asked_for = event.value
            self._search(event.value)

    def _search(self, query: str) -> None:
        desk, number = self.app.desk, self.number
        # a newer search replaces this one
        run_desk(
            self,
            "Searching items",
            lambda: desk.search_items(query, number, limit=SEARCH_LIMIT),
            lambda found: self._show(found, query),
            group="convert-search",
            supersede=True,
        )

    shown: list[ItemRecord] | None = None
    """The items listed, kept to lay them out again on a resize."""

    def _show(self, found: list[ItemRecord], query: str) -> None:
        self.shown_for = query
        self.shown = found
        choices = self.query_one("#existing", ItemChoices)
        width = (choices.scrollable_content_region.width or 60) - 1
        choices.clear_options()
        self.records = {str(i.number): i for i in found}
        if found:
            choices.add_options(Option(item_line(i, width), id=str(i.number)) for i in found)
            choices.highlighted = 0
        else:
            choices.add_option(Option("No open item matches: Enter creates one.", disabled=True))
        if self.to_list_pending:
            self.to_list_pending = False
            self.action_to_list()
            if self.attach_pending:
                self.attach_pending = False
                self._attach_highlighted()

    def on_resize(self) -> None:
        if self.shown is not None and self.shown_for is not None:
            highlighted = self.query_one("#existing", ItemChoices).highlighted
            self._show(self.shown, self.shown_for)
            if highlighted is not None and self.shown:
                self.query_one("#existing", ItemChoices).highlighted = highlighted

    def _stale(self) -> bool:
        return self.shown_for != self.query_one("#title", Input).value

    # -- choosing ---------------------------------------------------------------------------

    def action_to_list(self) -> None:
        if self._stale():  # a fast typist's ↓: the list is of an earlier title
            self.to_list_pending = True
            return
        choices = self.query_one("#existing", ItemChoices)
        if self.records:
            choices.focus()
            choices.highlighted = choices.highlighted or 0

    @on(ItemChoices.LeftAtTop)
    def _back_to_title(self) -> None:
        self.query_one("#title", Input).focus()

    @on(Input.Submitted, "#title")
    def _title_submitted(self) -> None:
        if self.to_list_pending:  # ↓ then Enter before the results: attach when they come
            self.attach_pending = True
            return
        self.action_create()

    def action_create(self) -> None:
        title = " ".join(self.query_one("#title", Input).value.split())
        if not title:
            self.notify("Give the new item a title.", severity="warning")
            return
        description = self.query_one("#description", TextArea).text
        self._choose(NewItem(self.kind, title, description))

    @on(OptionList.OptionSelected, "#existing")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        record = self.records.get(event.option.id or "")
        if record is not None:
            self._choose(AttachTo(record))

    def _attach_highlighted(self) -> None:
        choices = self.query_one("#existing", ItemChoices)
        if choices.highlighted is not None and self.records:
            option = choices.get_option_at_index(choices.highlighted)
            record = self.records.get(option.id or "")
            if record is not None:
                self._choose(AttachTo(record))

    def _choose(self, choice: NewItem | AttachTo) -> None:
        """The agent's choice; for a request linked to another item, after asking."""
        linked = self.linked
        if linked is None or (isinstance(choice, AttachTo) and choice.item.number == linked.number):
            self.dismiss(choice)
            return
        from supportdesk.ui.modals.confirm import ConfirmModal

        target = choice.item.label if isinstance(choice, AttachTo) else f"a new {choice.kind}"

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(replace(choice, move=True))

        self.app.push_screen(
            ConfirmModal(
                f"#{self.number} is linked to {linked.label}. Move it to {target}? "
                f"{linked.label} loses this customer; one message tells them of {target}.",
                "move",
            ),
            answered,
        )

    def action_next_kind(self) -> None:
        buttons = list(self.query_one("#convert-kind", RadioSet).query(RadioButton))
        buttons[(KINDS.index(self.kind) + 1) % len(buttons)].value = True

    @on(RadioSet.Changed, "#convert-kind")
    def _show_hint(self) -> None:
        self.query_one("#convert-hint", Label).update(
            f"Enter: new {self.kind} · ↓ Enter: attach · ctrl+t: kind · Esc: cancel"
        )

    def action_cancel(self) -> None:
        self.dismiss(None)
