"""Answer a request: the customer's latest message beside the editor, the editor pre-filled
with the template that fits (and why), the other suggestions a key away, a picker, $EDITOR,
send."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Label, Static, TextArea

from supportdesk.desk.attachments import size_label, split_attach_lines
from supportdesk.domain import MessageRecord, TemplateRecord
from supportdesk.domain.enums import Activity
from supportdesk.domain.records import (
    HeldLetter,
    PresenceRecord,
    ReplyAttachment,
    ReviewRecord,
    Suggestion,
)
from supportdesk.errors import SupportDeskError, TemplateError
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
    returned: ReviewRecord | None = None
    """The agent's letter the mentor returned: its comment is shown above the draft."""
    attached: list[tuple[str, ReplyAttachment]] = field(default_factory=list)
    """The draft's attached files (path, file) that could be read again."""
    unreadable: list[str] = field(default_factory=list)
    """Why some of the draft's files could not be read again."""


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

    # The key bar shows these in this order, as many as fit: at 80 columns the sends, the
    # template, attach, quote and $EDITOR (`?` lists them all).
    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="reply.send", priority=True),
        Binding("f8", "send_close", "Send+close", id="reply.send_close", priority=True),
        Binding(
            "ctrl+shift+s",
            "send_close",
            "Send+close",
            show=False,
            id="reply.send_close2",
            priority=True,
        ),
        Binding("f9", "send_snooze", "Send+snooze", id="reply.send_snooze", priority=True),
        Binding("ctrl+t", "pick_template", "Template", id="reply.template", priority=True),
        # ctrl+f (file) and ctrl+b: the editor keeps ctrl+a (line start) and ctrl+x (cut)
        Binding("ctrl+f", "attach", "Attach", id="reply.attach", priority=True),
        Binding(QUOTE_KEY, "quote", "Quote", id="reply.quote", priority=True),
        Binding("ctrl+e", "external_editor", "$EDITOR", id="reply.editor", priority=True),
        Binding("ctrl+r", "toggle_cc", "Cc on/off", id="reply.cc", priority=True),
        Binding("ctrl+g", "save_template", "Save as my template", id="reply.save", priority=True),
        Binding(  # the list of attached files says "ctrl+b drops one"
            "ctrl+b", "drop_attachment", "Drop file", show=False, id="reply.drop", priority=True
        ),
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
        self.attached: list[tuple[str, ReplyAttachment]] = []
        self._saves = 0  # the newest draft save; an older one still running writes nothing
        self._save_lock = threading.Lock()
        """The files sent with the answer: (the path as given, the file read)."""

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="✉")
        yield PresenceLine(self.number, Activity.REPLYING, id="presence")
        with Vertical(id="reply"):
            yield Label("", id="reply-title")
            returned = Label("", id="reply-returned")
            returned.display = False
            yield returned
            yield Label("", id="reply-template")
            yield Label("", id="reply-suggestions")
            yield Label("", id="reply-cc")
            yield Label("", id="reply-attached")
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
            returned=desk.reviews.returned_for(number, agent),
        )
        if draft is not None:
            opened.text, opened.template = draft.text, draft.template
            for path in draft.attachments:
                try:
                    opened.attached.append((path, desk.read_attachment(path)))
                except SupportDeskError as exc:
                    opened.unreadable.append(str(exc))
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
        for problem in opened.unreadable:
            self.notify(f"{problem}: dropped from the draft", severity="warning", markup=False)

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
        self._show_returned(opened.returned)
        self.attached = list(opened.attached)
        self._show_attached()

    def _show_returned(self, review: ReviewRecord | None) -> None:
        """ "Returned by mia: say how to put it out", above the draft."""
        label = self.query_one("#reply-returned", Label)
        label.display = review is not None
        if review is not None:
            label.update(
                inert(f"Returned by {review.decided_by}: {review.comment or ''}", "bold yellow")
            )

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

    def _show_attached(self) -> None:
        """ "Attached: report.pdf 120 KB · log.txt 3 KB" under the headers."""
        label = self.query_one("#reply-attached", Label)
        label.display = bool(self.attached)
        files = " · ".join(f"{a.filename} {size_label(len(a.data))}" for _, a in self.attached)
        label.update(inert(f"Attached: {files} · ctrl+b drops one"))

    def action_attach(self) -> None:
        from supportdesk.ui.modals.attach import AttachModal

        def chosen(path: str | None) -> None:
            if path:
                self._attach_files([path])

        self.app.push_screen(AttachModal(), chosen)

    def _attach_files(self, paths: list[str]) -> None:
        """Read the files at `paths` (in a thread) and attach them, unless together with
        those attached they weigh more than the limit (then none is, and it says why)."""
        desk, before = self.app.desk, [a for _, a in self.attached]

        def read() -> list[tuple[str, ReplyAttachment]]:
            found = [(path, desk.read_attachment(path)) for path in paths]
            desk.check_attachments(before + [a for _, a in found])
            return found

        def attached(found: list[tuple[str, ReplyAttachment]]) -> None:
            self.attached.extend(found)
            self._show_attached()
            self._save_draft(self.query_one("#editor", TextArea).text)

        run_desk(self, "Attach", read, attached, group="reply-attach")

    def action_drop_attachment(self) -> None:
        if not self.attached:
            self.notify("Nothing is attached.")
            return
        if len(self.attached) == 1:
            self._drop(0)
            return
        from supportdesk.ui.modals.attach import DropAttachmentModal

        def chosen(index: int | None) -> None:
            if index is not None:
                self._drop(index)

        names = [a.filename for _, a in self.attached]
        self.app.push_screen(DropAttachmentModal(names), chosen)

    def _drop(self, index: int) -> None:
        _, dropped = self.attached.pop(index)
        self._show_attached()
        self._save_draft(self.query_one("#editor", TextArea).text)
        self.notify(f"{dropped.filename} is no longer attached.", markup=False)

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
        paths = [path for path, _ in self.attached]
        self._saves += 1
        mine = self._saves

        def save() -> None:
            # A superseded save's thread still runs: in order, and only the newest writes, so
            # an older one (without the file just attached) never lands after it.
            with self._save_lock:
                if self.sending or mine != self._saves:
                    return
                if text.strip() or paths:
                    desk.save_draft(number, agent, text, template, paths)
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
        text = self._text()
        if text is not None:
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

    def _text(self) -> str | None:
        text = self.query_one("#editor", TextArea).text
        if not text.strip():
            self.notify("The reply is empty.", severity="warning")
            return None
        return text

    def action_send_close(self) -> None:
        """Send, then close with the reason picked (the picker `c` uses): one step."""
        from supportdesk.ui.modals.close import CloseModal

        if self._text() is None:
            return

        def chosen(reason: str | None) -> None:
            text = self._text()
            if reason and text is not None:
                self.sending = True
                self._unless_someone_replies(lambda: self._send(text, close=reason))

        self.app.push_screen(CloseModal(self.number), chosen)

    def action_send_snooze(self) -> None:
        """Send, then snooze until a time asked for (read before anything is sent)."""
        from supportdesk.ui.modals.snooze import SnoozeModal

        if self._text() is None:
            return
        sending = self.app.desk.sending

        def chosen(until: datetime | None) -> None:
            text = self._text()
            if until is not None and text is not None:
                self.sending = True
                self._unless_someone_replies(lambda: self._send(text, snooze_until=until))

        modal = SnoozeModal(f"Snooze #{self.number} until", sending.examples, sending.parse_when)
        self.app.push_screen(modal, chosen)

    def _send(
        self, text: str, *, close: str | None = None, snooze_until: datetime | None = None
    ) -> None:
        desk, number, agent, template = self.app.desk, self.number, self.app.agent, self.template
        cc = [] if self.cc_dropped else self.cc
        files = [a for _, a in self.attached]

        def send() -> tuple[str, str | None, tuple[str, datetime] | None]:
            result = desk.reply(
                number,
                text,
                agent,
                template=template,
                cc=cc,
                attachments=files,
                close=close,
                snooze_until=snooze_until,
            )
            if isinstance(result, HeldLetter):  # a trainee's: held for their mentor
                mentor = None
                try:
                    mentor = desk.reviews.get(result.review_id).mentor
                except Exception as exc:  # held all the same: the toast names no one
                    self.log.warning(f"the held letter cannot be read: {exc!r}")
                return result, mentor, None
            return result, None, desk.sending.undoable(result)

        def sent(done: tuple[str, str | None, tuple[str, datetime] | None]) -> None:
            message_id, mentor, undoable = done
            then = f", closed ({close})" if close else ""
            then += f", {desk.sending.label(snooze_until)}" if snooze_until else ""
            if isinstance(message_id, HeldLetter):
                by = f" by {mentor}" if mentor else ""
                self.notify(f"Held for review{by}: #{number} waits for the approval.")
            elif undoable is None:
                self.notify(f"Reply to #{number} queued{then}.", markup=False)
            else:
                to, until = undoable
                seconds = round((until - desk.clock.now()).total_seconds())
                self.notify(f"Sent to {to}{then} · u to undo ({seconds} s)", markup=False)
                self.app.offer_undo(message_id, number, until)
            self.app.back_to_stack()

        def not_sent(_: BaseException) -> None:
            self.sending = False  # the draft is kept and saved again as the agent edits

        run_desk(
            self,
            "Send",
            send,
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
            paths, text = split_attach_lines(path.read_text("utf-8"))
            area.load_text(text)  # `Attach: /path/file` lines at the top attach the files
            self._save_draft(area.text)
            if paths:
                self._attach_files(paths)
        except Exception as exc:  # no terminal to suspend, editor missing ...
            self.app.report_failure(f"Running {editor}", exc)
        finally:
            path.unlink(missing_ok=True)
