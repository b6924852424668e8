"""Answer a request: the customer's latest message beside the editor, the editor pre-filled
with the template that fits (and why), the other suggestions a key away, a picker, $EDITOR,
send."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Label, Static, TextArea

from supportdesk.domain import MessageRecord, TemplateRecord
from supportdesk.domain.enums import Activity
from supportdesk.domain.records import PresenceRecord, Suggestion
from supportdesk.errors import TemplateError
from supportdesk.ui.keybar import KeyBar
from supportdesk.ui.presence import PresenceLine, presence_phrase
from supportdesk.ui.screens.request import message_text
from supportdesk.ui.text import cut_long, inert
from supportdesk.ui.work import run_desk

if TYPE_CHECKING:
    from supportdesk.ui.app import SupportDeskApp

QUOTE_KEY = "ctrl+o"
PICK_KEYS = ("f5", "f6", "f7")
"""The keys of the first suggestions, listed when none is preselected. Function keys: a
terminal sends alt+digit as ESC and the digit, which Textual reads as another character."""
PICKS = len(PICK_KEYS)


@dataclass(slots=True)
class Opened:
    """What the reply screen opens with, read in a thread."""

    subject: str
    language: str | None
    text: str
    template: str | None
    is_draft: bool
    source: TemplateRecord | None = None
    cc: list[str] = field(default_factory=list)
    latest: MessageRecord | None = None
    """The customer's latest message: what is being answered."""
    suggestions: list[Suggestion] = field(default_factory=list)
    problem: str | None = None
    """Why the preselected template could not be rendered (the editor opens empty)."""


def matched_words(suggestion: Suggestion) -> str:
    return ", ".join(suggestion.matched)


def why(suggestion: Suggestion) -> str:
    """ "suggested: password-reset — matched: password, reset"."""
    words = matched_words(suggestion)
    return f"suggested: {suggestion.template.name}" + (f" — matched: {words}" if words else "")


def quoted(text: str) -> str:
    """Mail text as "> " lines (a long body cut as on screen)."""
    lines = cut_long(text.rstrip()).head.split("\n")
    return "".join(f"> {line}".rstrip() + "\n" for line in lines)


class ReplyScreen(Screen[None]):
    """The draft is saved as you type and survives closing the console."""

    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="reply.send", priority=True),
        Binding("ctrl+t", "pick_template", "Template", id="reply.template", priority=True),
        Binding("ctrl+e", "external_editor", "$EDITOR", id="reply.editor", priority=True),
        Binding("ctrl+g", "save_template", "Save as my template", id="reply.save", priority=True),
        Binding("ctrl+r", "toggle_cc", "Cc on/off", id="reply.cc", priority=True),
        Binding(QUOTE_KEY, "quote", "Quote", id="reply.quote", priority=True),
        *(
            Binding(
                PICK_KEYS[i - 1],
                f"use_suggestion({i})",
                f"Suggestion {i}",
                show=False,
                id=f"reply.suggestion{i}",
                priority=True,
            )
            for i in range(1, PICKS + 1)
        ),
        Binding("escape", "back", "Back (keeps the draft)", id="reply.back"),
    ]

    app: SupportDeskApp

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number
        self.template: str | None = None
        self.language: str | None = None
        self.pristine: str | None = None
        """The text as loaded or rendered: only edits of it are saved as a draft."""
        self.source: TemplateRecord | None = None
        """The template the text was rendered from (ctrl+g saves its source while the text
        is not edited)."""
        self.cc: list[str] = []
        """Whom the answer is copied to: the Cc of the customer's latest message."""
        self.cc_dropped = False
        self.sending = False
        self.latest: MessageRecord | None = None
        """The customer's latest message, shown beside (or above) the editor."""
        self.suggestions: list[Suggestion] = []

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="✉")
        yield PresenceLine(self.number, Activity.REPLYING, id="presence")
        with Vertical(id="reply"):
            yield Label("", id="reply-title")
            yield Label("", id="reply-template")
            yield Label("", id="reply-suggestions")
            yield Label("", id="reply-cc")
            with Horizontal(id="reply-body"):
                with VerticalScroll(id="reply-latest"):
                    yield Static("", id="reply-latest-text")
                yield TextArea("", id="editor", soft_wrap=True, show_line_numbers=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#editor", TextArea).focus()
        run_desk(
            self,
            f"Reading #{self.number}",
            self._read,
            self._loaded,
            group="reply-load",
            supersede=True,
        )

    def _read(self) -> Opened:
        desk, agent, number = self.app.desk, self.app.agent, self.number
        detail = desk.request(number)
        draft = desk.draft(number, agent)
        cc = desk.reply_cc(number)
        latest = next((m for m in reversed(detail.messages) if m.direction == "in"), None)
        suggestions = desk.suggestions(number, agent)
        opened = Opened(
            detail.request.subject,
            detail.request.language,
            "",
            None,
            draft is not None,
            cc=cc,
            latest=latest,
            suggestions=suggestions,
        )
        if draft is not None:
            opened.text, opened.template = draft.text, draft.template
            return opened
        for suggestion in suggestions:
            if suggestion.preselected:
                name = suggestion.template.name
                try:
                    rendered = desk.render_template(name, agent, number)
                    opened.text, opened.template = rendered.text, name
                    opened.source = rendered.template
                except TemplateError as exc:  # an empty editor, the suggestions listed
                    opened.problem = f"{exc}: pick another template or fix this one"
        return opened

    def _loaded(self, opened: Opened) -> None:
        self._show(opened)
        if opened.problem:
            self.notify(opened.problem, severity="warning", markup=False)

    def _show(self, opened: Opened) -> None:
        self.language = opened.language
        self.query_one("#reply-title", Label).update(
            inert(f"Reply to #{self.number} {opened.subject}", "bold")
        )
        editor = self.query_one("#editor", TextArea)
        self.pristine = None if opened.is_draft else opened.text
        self.source = None if opened.is_draft else opened.source
        editor.load_text(opened.text)
        self.suggestions = opened.suggestions
        self._set_template(opened.template, "draft" if opened.is_draft else "suggested")
        self._show_suggestions(listed=not opened.text)
        self.latest = opened.latest
        self._show_latest()
        self.cc = list(opened.cc)
        self._show_cc()

    def _show_latest(self) -> None:
        pane = self.query_one("#reply-latest", VerticalScroll)
        pane.display = self.latest is not None
        if self.latest is not None:
            self.query_one("#reply-latest-text", Static).update(
                message_text(self.latest, unfold=True, show_all_key=None)
            )

    def _show_suggestions(self, listed: bool) -> None:
        """With nothing in the editor, the suggestions with why each fits and its key."""
        label = self.query_one("#reply-suggestions", Label)
        picks = self.suggestions[:PICKS]
        label.display = listed and bool(picks)
        if not label.display:
            return
        text = Text()
        text.append(inert("Suggestions: ", "bold"))
        for i, suggestion in enumerate(picks, 1):
            if i > 1:
                text.append(" · ")
            text.append(inert(PICK_KEYS[i - 1], "bold"))
            words = matched_words(suggestion)
            text.append(inert(f" {suggestion.template.name}" + (f" ({words})" if words else "")))
        label.update(text)

    def _show_cc(self) -> None:
        label = self.query_one("#reply-cc", Label)
        label.display = bool(self.cc)
        if self.cc_dropped:
            label.update(inert(f"Cc dropped: {', '.join(self.cc)} · ctrl+r copies them", "dim"))
        else:
            label.update(inert(f"Cc {', '.join(self.cc)} · ctrl+r drops them"))

    def action_toggle_cc(self) -> None:
        if not self.cc:
            self.notify("Nobody is in Cc.")
            return
        self.cc_dropped = not self.cc_dropped
        self._show_cc()

    def _set_template(self, name: str | None, how: str) -> None:
        self.template = name
        label = f"{how}: {name}" if name else "no template fits well: pick one"
        if how == "suggested" and name:
            label = next((why(s) for s in self.suggestions if s.template.name == name), label)
        self.query_one("#reply-template", Label).update(
            inert(
                f"{label} · ctrl+t templates · {QUOTE_KEY} quote · ctrl+e $EDITOR · ctrl+s send",
                "dim",
            )
        )

    def action_quote(self) -> None:
        """The customer's latest message as "> " lines at the cursor, on lines of their own."""
        if self.latest is None:
            self.notify("There is no customer message to quote.")
            return
        editor = self.query_one("#editor", TextArea)
        _, column = editor.cursor_location
        before = "\n" if column > 0 else ""
        editor.insert(before + quoted(self.latest.text))
        editor.focus()

    def action_use_suggestion(self, index: int) -> None:
        if index > len(self.suggestions) or index > PICKS:
            self.notify(f"There is no suggestion {index}.")
            return
        self._use_template(self.suggestions[index - 1].template)

    @on(TextArea.Changed, "#editor")
    def _edited(self) -> None:
        text = self.query_one("#editor", TextArea).text
        if not self.sending and text != self.pristine:
            self.pristine = None
            self._save_draft(text)

    def _save_draft(self, text: str) -> None:
        desk, number, agent, template = self.app.desk, self.number, self.app.agent, self.template

        def save() -> None:
            if self.sending:
                return
            if text.strip():
                desk.save_draft(number, agent, text, template)
            else:
                desk.drop_draft(number, agent)

        # each keystroke saves again: a newer save replaces this one
        run_desk(self, "Saving the draft", save, group="reply-draft", supersede=True)

    # -- actions ---------------------------------------------------------------------------

    def action_pick_template(self) -> None:
        from supportdesk.ui.modals.template_picker import TemplatePickerModal

        def chosen(record: TemplateRecord | None) -> None:
            if record is not None:
                self._use_template(record)

        self.app.push_screen(TemplatePickerModal(self.number, self.language), chosen)

    def _use_template(self, record: TemplateRecord) -> None:
        desk, number, agent = self.app.desk, self.number, self.app.agent
        run_desk(
            self,
            f"Template {record.name}",
            lambda: desk.render_template(record.name, agent, number, record.language),
            lambda rendered: self._replace_text(rendered.text, record.name, rendered.template),
            group="reply-render",
            supersede=True,
        )

    def _replace_text(self, text: str, template: str, source: TemplateRecord | None = None) -> None:
        self._set_template(template, "template")
        self.pristine = text
        self.source = source
        self.query_one("#editor", TextArea).load_text(text)
        self._show_suggestions(listed=False)

    def action_send(self) -> None:
        text = self.query_one("#editor", TextArea).text
        if not text.strip():
            self.notify("The reply is empty.", severity="warning")
            return
        self.sending = True
        self._unless_someone_replies(lambda: self._send(text))

    def _unless_someone_replies(self, go: Callable[[], None]) -> None:
        """Run `go` (a send) at once, or after a `y` when someone else is replying to this
        request now (read fresh: the warning line may be seconds old); `n` leaves the
        editor as it was, nothing sent."""
        from supportdesk.ui.modals.confirm import ConfirmModal

        desk, number, agent = self.app.desk, self.number, self.app.agent

        def replying() -> list[PresenceRecord]:
            return [
                p for p in desk.presence.others(number, agent) if p.activity == Activity.REPLYING
            ]

        def answered(yes: bool | None) -> None:
            if yes:
                go()
            else:
                self.sending = False
                self.notify("Not sent: the reply is still here.", markup=False)

        def checked(others: list[PresenceRecord]) -> None:
            if not others:
                go()
                return
            now = desk.clock.now()
            who = ", ".join(presence_phrase(p, now) for p in others)
            self.app.push_screen(ConfirmModal(f"{who} — send anyway? y/n", "send"), answered)

        def not_checked(_: BaseException) -> None:
            self.sending = False

        run_desk(
            self,
            "Send",
            replying,
            checked,
            group="reply-send",
            advice="the draft is kept",
            or_else=not_checked,
        )

    def _send(self, text: str) -> None:
        desk, number, agent, template = self.app.desk, self.number, self.app.agent, self.template
        cc = [] if self.cc_dropped else self.cc

        def sent(_: str) -> None:
            self.notify(f"Reply to #{number} queued.", markup=False)
            self.app.back_to_stack()

        def not_sent(_: BaseException) -> None:
            self.sending = False  # the draft is kept and saved again as the agent edits

        run_desk(
            self,
            "Send",
            lambda: desk.reply(number, text, agent, template=template, cc=cc),
            sent,
            group="reply-send",
            advice="the draft is kept",
            or_else=not_sent,
        )

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_save_template(self) -> None:
        """Save as my template: the template's own source (placeholders kept) while the text
        is as rendered from it; otherwise the text as it is, after saying so. Never offered
        under the name of a template that exists; a name that exists asks first."""
        text = self.query_one("#editor", TextArea).text
        if not text.strip():
            self.notify("The reply is empty: nothing to save.", severity="warning")
            return
        source = self.source if self.pristine is not None and text == self.pristine else None
        self._ask_template_name(source, text)

    def _ask_template_name(self, source: TemplateRecord | None, text: str) -> None:
        desk, agent, template = self.app.desk, self.app.agent, self.template
        run_desk(
            self,
            "Saving template",
            lambda: desk.free_template_name(template, agent) if template else "",
            lambda suggested: self._name_modal(source, text, suggested),
            group="reply-save",
        )

    def _name_modal(self, source: TemplateRecord | None, text: str, suggested: str) -> None:
        from supportdesk.ui.modals.text_input import TextInputModal

        if source is not None:
            title = f"Save template {source.name} (placeholders kept) as my template named"
        else:
            title = (
                "The text is saved as it is, greeting and names included. "
                "Save it as my template named"
            )

        def named(name: str | None) -> None:
            if name:
                self._check_template_name(name, source, text)

        self.app.push_screen(TextInputModal(title, suggested), named)

    def _check_template_name(self, name: str, source: TemplateRecord | None, text: str) -> None:
        desk, agent = self.app.desk, self.app.agent

        def checked(scopes: list[str]) -> None:
            if not scopes:
                self._save_as_template(name, source, text)
                return
            where = {"personal": "Your", "team": "The team's", "system": "The system's"}[scopes[0]]
            question = (
                f"{where} template {name!r} exists: yours will replace it"
                + (" for you" if scopes[0] != "personal" else "")
                + ". Save anyway?"
            )
            self._confirm_name(question, name, source, text)

        run_desk(
            self,
            f"Saving template {name!r}",
            lambda: desk.template_scopes(name, agent),
            checked,
            group="reply-save",
        )

    def _confirm_name(
        self, question: str, name: str, source: TemplateRecord | None, text: str
    ) -> None:
        from supportdesk.ui.modals.confirm import ConfirmModal

        def answered(yes: bool | None) -> None:
            if yes:
                self._save_as_template(name, source, text)
            else:
                self.notify(f"Not saved: {name!r} is left as it was.", markup=False)

        self.app.push_screen(ConfirmModal(question, "save"), answered)

    def _save_as_template(self, name: str, source: TemplateRecord | None, text: str) -> None:
        desk, agent, language = self.app.desk, self.app.agent, self.language or "en"

        def save() -> str:
            if source is not None:
                outcome = desk.save_template_from(source, name, agent)
                return f"{outcome} (from {source.name}, placeholders kept)"
            return f"{desk.add_template(name, text, owner=agent, language=language)} (as written)"

        run_desk(
            self,
            f"Saving template {name!r}",
            save,
            lambda outcome: self.notify(f"Your template {name!r} {outcome}.", markup=False),
            group="reply-save",
        )

    def action_external_editor(self) -> None:
        """Suspend the console and edit the draft in $EDITOR, as mutt does."""
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        area = self.query_one("#editor", TextArea)
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
            f.write(area.text)
            path = Path(f.name)
        try:
            with self.app.suspend():
                subprocess.run([*shlex.split(editor), str(path)], check=False)
            area.load_text(path.read_text("utf-8"))
            self._save_draft(area.text)
        except Exception as exc:  # no terminal to suspend, editor missing ...
            self.app.report_failure(f"Running {editor}", exc)
        finally:
            path.unlink(missing_ok=True)
