"""Answer a request: the editor pre-filled with the best template, a picker, $EDITOR, send."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Header, Label, TextArea

from supportdesk.store.templates import TemplateRecord
from supportdesk.templating.render import TemplateError
from supportdesk.ui.keybar import KeyBar
from supportdesk.ui.text import inert

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
        self._load()

    @work(thread=True, exclusive=True, group="reply-load", exit_on_error=False)
    def _load(self) -> None:
        desk, agent = self.app.desk, self.app.agent
        detail = desk.request(self.number)
        draft = desk.draft(self.number, agent)
        cc = desk.reply_cc(self.number)
        text, template, source = "", None, None
        if draft is not None:
            text, template = draft.text, draft.template
        else:
            for record, _ in desk.suggest_templates(self.number, agent, limit=1):
                try:
                    rendered = desk.render_template(record.name, agent, self.number)
                    text, template, source = rendered.text, record.name, rendered.template
                except TemplateError:
                    pass
        self.app.call_from_thread(
            self._show,
            detail.request.subject,
            detail.request.language,
            text,
            template,
            draft is not None,
            source,
            cc,
        )

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

    @work(thread=True, exclusive=True, group="reply-draft", exit_on_error=False)
    def _save_draft(self, text: str) -> None:
        if self.sending:
            return
        if text.strip():
            self.app.desk.save_draft(self.number, self.app.agent, text, self.template)
        else:
            self.app.desk.drop_draft(self.number, self.app.agent)

    # -- actions ---------------------------------------------------------------------------

    def action_pick_template(self) -> None:
        from supportdesk.ui.modals.template_picker import TemplatePickerModal

        def chosen(record: TemplateRecord | None) -> None:
            if record is not None:
                self._use_template(record)

        self.app.push_screen(TemplatePickerModal(self.number, self.language), chosen)

    @work(thread=True, exclusive=True, group="reply-render", exit_on_error=False)
    def _use_template(self, record: TemplateRecord) -> None:
        try:
            rendered = self.app.desk.render_template(
                record.name, self.app.agent, self.number, record.language
            )
        except TemplateError as exc:
            self.app.call_from_thread(
                self.notify, str(exc), title="Template", severity="error", timeout=10
            )
            return
        self.app.call_from_thread(self._replace_text, rendered.text, record.name, rendered.template)

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

    @work(thread=True, exclusive=True, group="reply-send", exit_on_error=False)
    def _send(self, text: str) -> None:
        try:
            self.app.desk.reply(
                self.number,
                text,
                self.app.agent,
                template=self.template,
                cc=[] if self.cc_dropped else self.cc,
            )
        except Exception:
            self.sending = False
            raise
        self.app.call_from_thread(self.notify, f"Reply to #{self.number} queued.")
        self.app.call_from_thread(self.app.back_to_stack)

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

    @work(thread=True, group="reply-save", exit_on_error=False)
    def _ask_template_name(self, source: TemplateRecord | None, text: str) -> None:
        suggested = ""
        if self.template:
            suggested = self.app.desk.free_template_name(self.template, self.app.agent)
        self.app.call_from_thread(self._name_modal, source, text, suggested)

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

    @work(thread=True, group="reply-save", exit_on_error=False)
    def _check_template_name(self, name: str, source: TemplateRecord | None, text: str) -> None:
        scopes = self.app.desk.template_scopes(name, self.app.agent)
        if not scopes:
            self.app.call_from_thread(self._save_as_template, name, source, text)
            return
        where = {"personal": "Your", "team": "The team's", "system": "The system's"}[scopes[0]]
        question = (
            f"{where} template {name!r} exists: yours will replace it"
            + (" for you" if scopes[0] != "personal" else "")
            + ". Save anyway?"
        )
        self.app.call_from_thread(self._confirm_name, question, name, source, text)

    def _confirm_name(
        self, question: str, name: str, source: TemplateRecord | None, text: str
    ) -> None:
        from supportdesk.ui.modals.confirm import ConfirmModal

        def answered(yes: bool | None) -> None:
            if yes:
                self._save_as_template(name, source, text)
            else:
                self.notify(f"Not saved: {name!r} is left as it was.")

        self.app.push_screen(ConfirmModal(question, "save"), answered)

    @work(thread=True, group="reply-save", exit_on_error=False)
    def _save_as_template(self, name: str, source: TemplateRecord | None, text: str) -> None:
        desk, agent = self.app.desk, self.app.agent
        if source is not None:
            outcome = desk.save_template_from(source, name, agent)
            how = f"from {source.name}, placeholders kept"
        else:
            outcome = desk.add_template(name, text, owner=agent, language=self.language or "en")
            how = "as written"
        self.app.call_from_thread(self.notify, f"Your template {name!r} {outcome} ({how}).")

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
            self.notify(f"Cannot run {editor}: {exc}", severity="error")
        finally:
            path.unlink(missing_ok=True)
