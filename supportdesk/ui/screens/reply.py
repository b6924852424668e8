"""Answer a request: the editor pre-filled with the best template, a picker, $EDITOR, send."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Header, Label, TextArea

from supportdesk.domain import TemplateRecord
from supportdesk.errors import TemplateError
from supportdesk.ui.keybar import KeyBar
from supportdesk.ui.text import inert
from supportdesk.ui.work import run_desk

if TYPE_CHECKING:
    from supportdesk.ui.app import SupportDeskApp


class ReplyScreen(Screen[None]):
    """The draft is saved as you type and survives closing the console."""

    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="reply.send", priority=True),
        Binding("ctrl+t", "pick_template", "Template", id="reply.template", priority=True),
        Binding("ctrl+e", "external_editor", "$EDITOR", id="reply.editor", priority=True),
        Binding("ctrl+g", "save_template", "Save as my template", id="reply.save", priority=True),
        Binding("ctrl+r", "toggle_cc", "Cc on/off", id="reply.cc", priority=True),
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

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="✉")
        with Vertical(id="reply"):
            yield Label("", id="reply-title")
            yield Label("", id="reply-template")
            yield Label("", id="reply-cc")
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

    def _read(
        self,
    ) -> tuple[str, str | None, str, str | None, bool, TemplateRecord | None, list[str]]:
        desk, agent, number = self.app.desk, self.app.agent, self.number
        detail = desk.request(number)
        draft = desk.draft(number, agent)
        cc = desk.reply_cc(number)
        text, template, source = "", None, None
        if draft is not None:
            text, template = draft.text, draft.template
        else:
            for record, _ in desk.suggest_templates(number, agent, limit=1):
                try:
                    rendered = desk.render_template(record.name, agent, number)
                    text, template, source = rendered.text, record.name, rendered.template
                except TemplateError:
                    pass  # no suggestion: the agent starts from an empty editor
        return (
            detail.request.subject,
            detail.request.language,
            text,
            template,
            draft is not None,
            source,
            cc,
        )

    def _loaded(
        self,
        found: tuple[str, str | None, str, str | None, bool, TemplateRecord | None, list[str]],
    ) -> None:
        self._show(*found)

    def _show(
        self,
        subject: str,
        language: str | None,
        text: str,
        template: str | None,
        is_draft: bool,
        source: TemplateRecord | None = None,
        cc: list[str] | None = None,
    ) -> None:
        self.language = language
        self.query_one("#reply-title", Label).update(
            inert(f"Reply to #{self.number} {subject}", "bold")
        )
        editor = self.query_one("#editor", TextArea)
        self.pristine = None if is_draft else text
        self.source = None if is_draft else source
        editor.load_text(text)
        self._set_template(template, "draft" if is_draft else "suggested")
        self.cc = list(cc or [])
        self._show_cc()

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
        label = f"{how}: {name}" if name else "no template"
        self.query_one("#reply-template", Label).update(
            inert(f"{label} · ctrl+t templates · ctrl+e $EDITOR · ctrl+s send", "dim")
        )

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

    def action_send(self) -> None:
        text = self.query_one("#editor", TextArea).text
        if not text.strip():
            self.notify("The reply is empty.", severity="warning")
            return
        self.sending = True
        self._send(text)

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
