"""One request: the whole thread, the customer beside it, and what an agent does with it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from supportdesk.desk import Desk, RequestDetail
from supportdesk.desk.csat import rating_label
from supportdesk.desk.senders import message_sender, request_sender
from supportdesk.desk.wording import mention_note
from supportdesk.domain import ItemRecord, MessageRecord, RequestRecord
from supportdesk.domain.enums import Activity, RequestStatus, ReviewState
from supportdesk.domain.records import ReviewRecord
from supportdesk.ui.find import FindBar, Finder, scroll_to_match
from supportdesk.ui.item_labels import status_label
from supportdesk.ui.keybar import KeyBar
from supportdesk.ui.keys import TopBottom, back_binding, top_bottom_bindings
from supportdesk.ui.presence import PresenceLine
from supportdesk.ui.text import (
    age,
    cut_long,
    fold_quotes,
    inert,
    local_time,
    status_words,
    visible_controls,
)
from supportdesk.ui.work import run_desk

if TYPE_CHECKING:
    from supportdesk.desk.backlog import Linked
    from supportdesk.desk.merging import MergeResult
    from supportdesk.ui.app import SupportDeskApp
    from supportdesk.ui.modals.convert import AttachTo, NewItem

HEADINGS = {"in": "From", "out": "Sent by", "note": "Note by"}
SHOW_ALL_KEY = "m"


@dataclass(slots=True)
class Loaded:
    """What the request screen shows: read in a thread, before the screen or while it is up."""

    detail: RequestDetail
    history: list[RequestRecord]
    item: ItemRecord | None = None
    """The bug, idea or story the request is linked to."""
    pending: ReviewRecord | None = None
    """A trainee's letter waiting for review (the request's status is `review`)."""


def load(desk: Desk, number: int) -> Loaded:
    detail = desk.request(number)
    linked = detail.request.item
    pending = None
    if detail.request.status == RequestStatus.REVIEW:
        waiting = desk.reviews.letters(number=number, states=(ReviewState.PENDING,))
        pending = waiting[-1] if waiting else None
    return Loaded(
        detail,
        desk.customer_requests(detail.request.customer_id, exclude=number),
        desk.item(linked).item if linked is not None else None,
        pending,
    )


def pending_text(review: ReviewRecord) -> Text:
    """ "Waiting for review by mia (since 14:02)" and the held letter, as plain text."""
    text = Text()
    by = f" by {review.mentor}" if review.mentor else ""
    since = review.created_at.astimezone().strftime("%H:%M")
    text.append(inert(f"Waiting for review{by} (since {since})", "bold"))
    text.append(inert(f" · {review.agent}'s letter, not sent yet", "dim"))
    text.append("\n")
    text.append(inert(review.body.rstrip()))
    return text


def message_heading(m: MessageRecord) -> str:
    when = local_time(m.date or m.received_at)
    who = m.agent_login or m.from_name or m.from_addr
    if m.direction == "in":
        who = message_sender(m).full
    return f"{HEADINGS.get(m.direction, m.direction)} {who} · {when}"


def message_text(m: MessageRecord, unfold: bool, show_all_key: str | None = SHOW_ALL_KEY) -> Text:
    """One message of the thread as inert text: who and when, warnings, body (a long one cut,
    with what is left and the key that shows it all: without one, where to read it all),
    attachments."""
    sender = message_sender(m) if m.direction == "in" else None
    text = Text()  # the heading alone is bold (a styled Text would embolden all it holds)
    text.append(inert(message_heading(m), "bold"))
    if m.direction == "out":
        text.append(inert(f" · {m.kind} · {m.status}", "dim"))
    if m.cc and m.direction in ("in", "out"):
        text.append(inert(f"\nCc {', '.join(m.cc)}", "dim"))
    parts = [inert(f"⚠ {warning}", "yellow") for warning in m.warnings]
    if sender is not None and sender.warning:
        parts.insert(0, inert(f"⚠ {sender.warning}", "bold yellow"))
    body = cut_long(m.text.rstrip())  # first: the work below does not grow with the text
    parts.append(inert(fold_quotes(body.head, unfold)))
    if body.cut:
        note = body.note(show_all_key) if show_all_key else body.note_elsewhere()
        parts.append(inert(note, "bold reverse"))
    for a in m.attachments:
        parts.append(inert(f"📎 {a.filename} ({a.content_type}, {a.encoded_size:,} bytes)", "cyan"))
    for part in parts:
        text.append("\n")
        text.append(part)
    return text


class MessageView(Static):
    """One message of the thread."""

    def __init__(self, message: MessageRecord, unfold: bool) -> None:
        self.message = message
        self.base = message_text(message, unfold)
        """What is shown, before the find bar's highlights."""
        super().__init__(self.base, classes=f"message {message.direction}")


class PendingLetterView(Static):
    """A trainee's letter waiting for review, after the thread."""

    def __init__(self, review: ReviewRecord) -> None:
        self.base = pending_text(review)
        super().__init__(self.base, classes="review-pending")


class ThreadView(VerticalScroll):
    """The conversation, oldest first, scrolled to the start of the newest message (or of
    the letter waiting for review)."""

    def __init__(
        self,
        messages: list[MessageRecord],
        unfold: bool,
        *,
        id: str,
        pending: ReviewRecord | None = None,
    ) -> None:
        super().__init__(*self._views(messages, unfold, pending), id=id)
        self.shown = (messages, unfold, pending)

    @staticmethod
    def _views(
        messages: list[MessageRecord], unfold: bool, pending: ReviewRecord | None = None
    ) -> list[Static]:
        views: list[Static] = [MessageView(m, unfold) for m in messages]
        if pending is not None:
            views.append(PendingLetterView(pending))
        return views

    def on_mount(self) -> None:
        self.call_after_refresh(self._to_newest)

    def show(
        self, messages: list[MessageRecord], unfold: bool, pending: ReviewRecord | None = None
    ) -> None:
        if (messages, unfold, pending) == self.shown:
            return  # a reload that found nothing new: the agent keeps their place
        self.shown = (messages, unfold, pending)
        with self.app.batch_update():
            self.remove_children()
            self.mount_all(self._views(messages, unfold, pending))
        self.call_after_refresh(self._to_newest)

    def _to_newest(self) -> None:
        views = self.query("MessageView, PendingLetterView")
        if views:
            self.scroll_to_widget(views.last(), top=True, animate=False, immediate=True)


class RequestScreen(TopBottom, Screen[None]):
    BINDINGS = [
        # The key bar shows the everyday keys first; the rest are listed by `?`.
        Binding("r", "reply", "Reply", id="request.reply"),
        Binding("c", "close_request", "Close", id="request.close"),
        Binding("e", "escalate", "Escalate", id="request.escalate"),
        Binding("a", "assign", "Assign", id="request.assign"),
        Binding("o", "note", "Note", id="request.note"),
        Binding("t", "tags", "Tags", id="request.tags"),
        Binding("b", "convert", "Bug/idea", id="request.convert"),
        Binding("M", "merge", "Merge", id="request.merge"),
        Binding("s", "save_attachment", "Save attachment", id="request.attachment"),
        Binding("escape", "back", "Back", id="request.back"),
        Binding("z", "toggle_quotes", "Quotes", show=False, id="request.quotes"),
        Binding(SHOW_ALL_KEY, "show_all", "Show all", show=False, id="request.show_all"),
        Binding("U", "toggle_claim", "Claim/release", show=False, id="request.claim"),
        Binding("l", "language", "Language", show=False, id="request.language"),
        Binding("p", "priority", "Priority", show=False, id="request.priority"),
        Binding("i", "open_item", "Item", show=False, id="request.item"),
        back_binding("request"),
        *top_bottom_bindings("request"),
        Binding("slash", "find", "Find", show=False, id="request.find"),
        Binding("n", "find_next(1)", "Next match", show=False, id="request.find_next"),
        Binding("N", "find_next(-1)", "Previous match", show=False, id="request.find_previous"),
        Binding("H", "raw_message", "Raw message", show=False, id="request.raw"),
    ]

    app: SupportDeskApp

    def __init__(self, number: int, loaded: Loaded | None = None) -> None:
        """`loaded`: the request as read ahead (the stack reads the highlighted one), so the
        screen is drawn once, complete; it is read again behind it in case it changed."""
        super().__init__()
        self.number = number
        self.loaded = loaded
        self.read_ahead = loaded is not None
        self.unfold = False
        self.claimed = False
        self.finder = Finder()

    @property
    def detail(self) -> RequestDetail | None:
        return self.loaded.detail if self.loaded else None

    def compose(self) -> ComposeResult:
        loaded = self.loaded
        yield Header(show_clock=False, icon="✉")
        yield PresenceLine(self.number, Activity.VIEWING, id="presence")
        with Horizontal():
            yield ThreadView(
                loaded.detail.messages if loaded else [],
                self.unfold,
                id="thread",
                pending=loaded.pending if loaded else None,
            )
            with Vertical(id="side"):
                yield Static(self._facts(), id="facts")
                yield Static("Earlier requests", classes="side-title")
                yield OptionList(*self._history(loaded.history if loaded else []), id="history")
        yield FindBar(placeholder="find in the thread (Enter: n next, N previous; Esc closes)")
        yield KeyBar()

    def on_mount(self) -> None:
        if self.detail is not None:
            self.sub_title = f"#{self.number}"
        self.reload()
        self.claim()
        ttl = self.app.desk.settings.workflow.claim_ttl.total_seconds()
        self.set_interval(max(ttl / 2, 5), self.claim, name="renew-claim")

    def on_unmount(self) -> None:
        if self.claimed:  # on an app worker: this screen's workers end with it
            desk, number, agent = self.app.desk, self.number, self.app.agent
            run_desk(
                self.app,
                f"Releasing #{number}",
                lambda: desk.release(number, agent),
                group="release",
            )

    def claim(self) -> None:
        desk, number, agent = self.app.desk, self.number, self.app.agent
        run_desk(
            self,
            f"Claiming #{number}",
            lambda: desk.claim(number, agent),
            self._claimed,
            group="claim",
        )

    def _claimed(self, claimed: bool) -> None:
        self.claimed = claimed
        if self.is_attached:
            self._show_facts()
        elif claimed:  # the agent left before the claim came back: let it go
            self.claimed = False
            desk, number, agent = self.app.desk, self.number, self.app.agent
            run_desk(
                self.app,
                f"Releasing #{number}",
                lambda: desk.release(number, agent),
                group="release",
            )

    def reload(self) -> None:
        desk, number = self.app.desk, self.number
        # a newer load replaces this one
        run_desk(
            self,
            f"Reading #{number}",
            lambda: load(desk, number),
            self._show,
            group="request",
            supersede=True,
        )

    def _show(self, loaded: Loaded) -> None:
        self.sub_title = f"#{self.number}"
        linked_before = self.loaded.item if self.loaded else None
        self.query_one(ThreadView).show(loaded.detail.messages, self.unfold, loaded.pending)
        if self.finder.query:
            self.call_after_refresh(self._find_again)
        if self.loaded is None or loaded.history != self.loaded.history:
            options = self.query_one("#history", OptionList)
            options.clear_options()
            options.add_options(self._history(loaded.history))
        self.loaded = loaded
        self._show_facts()
        if (linked_before is None) != (loaded.item is None):
            self.refresh_bindings()  # i opens the linked item

    def _history(self, history: list[RequestRecord]) -> list[Option]:
        now = self.app.desk.clock.now()
        return [
            Option(
                inert(
                    f"#{r.number} {age(r.created_at, now)} {status_words(r.status)} · {r.subject}"
                ),
                id=str(r.number),
            )
            for r in history
        ]

    def _show_facts(self) -> None:
        self.query_one("#facts", Static).update(self._facts())

    def _facts(self) -> Text:
        if self.detail is None:
            return Text()
        r = self.detail.request
        holder = r.claimed_by
        if self.claimed:
            claim = "claimed by you"
        elif holder and holder != self.app.agent:
            claim = f"claimed by {holder}"
        else:
            claim = "not claimed"
        lines = [
            f"#{r.number} {r.subject}",
            "",
            r.customer_name,
            r.customer_email,
            *([f"⚠ {warning}"] if (warning := request_sender(r).warning) else []),
            "",
            f"status   {status_words(r.status)} ({r.reason})",
            *([self.app.desk.sending.label(r.snoozed_until)] if r.snoozed_until else []),
            f"priority {r.priority}",
            f"language {r.language or '?'}",
            f"tags     {', '.join(r.tags) or '–'}",
            f"owner    {r.assignee or 'nobody'}",
        ]
        item = self.loaded.item if self.loaded else None
        if item is not None:
            lines.append(f"item     {item.label} · {status_label(item.status)}")
        elif r.item is not None:
            lines.append(f"item     #{r.item}")
        if r.mentions is not None:
            lines.append(f"⚠ {mention_note(r.mentions)}")
        if r.reminder_count:
            lines.append(f"reminders sent {r.reminder_count}")
        if r.first_response_at is None and r.sla_due_at is not None:
            now = self.app.desk.clock.now()
            when = r.sla_due_at.astimezone().strftime("%a %H:%M")
            lines.append(
                f"overdue since {when}"
                if r.sla_due_at <= now
                else f"due {when}, in {age(now, r.sla_due_at)}"
            )
        for rating in self.detail.ratings[-3:]:  # the latest counts; the customer's words
            lines.append(rating_label(rating.score, rating.good, rating.comment))
        lines.append(claim)
        return inert("\n".join(lines))

    # -- actions ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_item":
            return self.loaded is not None and self.loaded.item is not None
        return True

    def action_reply(self) -> None:
        self.app.reply_to(self.number)

    def action_back(self) -> None:
        bar = self.query_one(FindBar)
        if bar.has_class("-open"):  # Esc closes the find bar first
            bar.remove_class("-open")
            bar.value = ""
            self.query_one(ThreadView).focus()
            return
        self.app.pop_screen()

    # -- mutt's habits: find in the thread, the raw message ---------------------------------

    finder: Finder

    def top_bottom_target(self) -> ThreadView:
        return self.query_one(ThreadView)

    def _views(self) -> tuple[list[Static], list[Text]]:
        views = list(self.query_one(ThreadView).query("MessageView, PendingLetterView"))
        return [v for v in views if isinstance(v, Static)], [
            getattr(v, "base", Text()) for v in views
        ]

    def action_find(self) -> None:
        bar = self.query_one(FindBar)
        bar.add_class("-open")
        bar.focus()

    @on(Input.Changed, "FindBar")
    def _find_changed(self, event: Input.Changed) -> None:
        self.finder.find(event.value, *self._views())
        self._to_match()

    @on(Input.Submitted, "FindBar")
    def _find_submitted(self, event: Input.Submitted) -> None:
        self.query_one(ThreadView).focus()  # n and N go from match to match
        self._to_match()
        self.notify(self.finder.status(), timeout=3)

    def _find_again(self) -> None:
        self.finder.find(self.finder.query, *self._views())

    def action_find_next(self, by: int) -> None:
        if self.finder.step(by, *self._views()) is not None:
            self._to_match()
        elif self.finder.query:
            self.notify(self.finder.status(), timeout=3)

    def _to_match(self) -> None:
        finder = self.finder
        if finder.current >= 0:
            match = finder.matches[finder.current]
            base = getattr(match.view, "base", Text())
            scroll_to_match(self.query_one(ThreadView), match, base)

    def _message_in_sight(self) -> MessageRecord | None:
        """The message of the current match; else the last one when the thread is scrolled to
        its end (as it opens), or the one at the top of the view."""
        finder = self.finder
        if finder.current >= 0 and isinstance(finder.matches[finder.current].view, MessageView):
            view = finder.matches[finder.current].view
            return view.message if isinstance(view, MessageView) else None
        thread = self.query_one(ThreadView)
        views = list(thread.query(MessageView))
        if views and thread.scroll_y >= thread.max_scroll_y:  # at the end: the last message
            return views[-1].message
        for view in views:
            if view.virtual_region.bottom > thread.scroll_y:
                return view.message
        return views[-1].message if views else None

    def action_raw_message(self) -> None:
        """The message's source (headers and body) as stored: control characters shown as
        symbols, never read as markup."""
        message = self._message_in_sight()
        if message is None:
            return
        desk = self.app.desk

        def shown(raw: bytes) -> None:
            from supportdesk.ui.screens.fulltext import FullTextScreen

            source = visible_controls(raw.decode("utf-8", errors="replace"))
            title = f"#{self.number} raw message · {message_heading(message)}"
            self.app.push_screen(FullTextScreen(title, source))

        run_desk(
            self,
            "Reading the raw message",
            lambda: desk.raw_message(message.pk),
            shown,
            group="raw",
        )

    def action_toggle_quotes(self) -> None:
        self.unfold = not self.unfold
        if self.detail is not None:
            pending = self.loaded.pending if self.loaded else None
            self.query_one(ThreadView).show(self.detail.messages, self.unfold, pending)

    def action_show_all(self) -> None:
        """The whole thread, every body uncut and every quote shown, as plain lines."""
        from supportdesk.ui.screens.fulltext import FullTextScreen

        if self.detail is not None:
            parts: list[str] = []
            for m in self.detail.messages:
                parts += [f"── {message_heading(m)}", m.text.rstrip()]
                parts += [f"📎 {a.filename} ({a.content_type})" for a in m.attachments]
                parts.append("")
            self.app.push_screen(FullTextScreen(f"#{self.number} in full", "\n".join(parts)))

    def action_close_request(self) -> None:
        from supportdesk.ui.modals.close import CloseModal

        def closed(reason: str | None) -> None:
            if reason:
                self._close(reason)

        self.app.push_screen(CloseModal(self.number), closed)

    def _close(self, reason: str) -> None:
        desk, number, agent = self.app.desk, self.number, self.app.agent

        def closed(_: None) -> None:
            self.claimed = False
            self.notify(f"#{number} closed ({reason}).", markup=False)
            self.app.back_to_stack()

        run_desk(
            self,
            f"Closing #{number}",
            lambda: desk.close(number, reason, agent),
            closed,
            group="act",
        )

    def action_convert(self) -> None:
        from supportdesk.ui.modals.convert import ConvertModal

        def chosen(choice: NewItem | AttachTo | None) -> None:
            if choice is not None:
                self._convert(choice)

        self.app.push_screen(ConvertModal(self.number), chosen)

    def _convert(self, choice: NewItem | AttachTo) -> None:
        from supportdesk.ui.modals.convert import NewItem

        desk, number, agent = self.app.desk, self.number, self.app.agent
        moved = " moved" if choice.move else ""

        def link() -> Linked:
            if isinstance(choice, NewItem):
                return desk.convert(
                    number,
                    choice.kind,
                    agent,
                    title=choice.title,
                    description=choice.description,
                    move=choice.move,
                )
            return desk.attach(number, choice.item.number, agent, move=choice.move)

        def linked(done: Linked) -> None:
            self.claimed = False
            closed = " (closed)" if done.status == "closed" else ""
            self.notify(
                f"#{number}{moved} → {done.item.label}{closed}, {done.template} queued.",
                markup=False,
            )
            self.app.back_to_stack()

        what = f"Converting #{number}" if isinstance(choice, NewItem) else f"Attaching #{number}"
        run_desk(self, what, link, linked, group="act")

    def action_open_item(self) -> None:
        item = self.loaded.item if self.loaded else None
        if item is not None:
            self.app.open_item(item.number)

    def action_escalate(self) -> None:
        from supportdesk.ui.modals.escalate import escalate

        if self.detail is not None:
            escalate(self, self.number, self.detail.request.line, self.reload)

    def action_note(self) -> None:
        from supportdesk.ui.modals.text_input import TextInputModal

        def noted(text: str | None) -> None:
            if text:
                self._add_note(text)

        self.app.push_screen(TextInputModal("Internal note (never sent)", ""), noted)

    def _add_note(self, text: str) -> None:
        desk, number, agent = self.app.desk, self.number, self.app.agent
        run_desk(
            self,
            f"Note on #{number}",
            lambda: desk.add_note(number, text, agent),
            lambda _: self.reload(),
            group="act",
        )

    def action_language(self) -> None:
        from supportdesk.ui.modals.text_input import TextInputModal

        current = self.detail.request.language if self.detail else ""

        def chosen(language: str | None) -> None:
            if language:
                self._set_language(language.strip())

        self.app.push_screen(
            TextInputModal("Language of this request (en, ru …)", current or ""), chosen
        )

    def _set_language(self, language: str) -> None:
        desk, number, agent = self.app.desk, self.number, self.app.agent
        run_desk(
            self,
            f"Language of #{number}",
            lambda: desk.set_language(number, language, agent),
            lambda _: self.reload(),
            group="act",
        )

    def action_tags(self) -> None:
        from supportdesk.ui.modals.tags import edit_tags

        if self.detail is not None:
            edit_tags(self, self.number, self.detail.request.tags, self.reload)

    def action_priority(self) -> None:
        from supportdesk.ui.modals.priority import PriorityModal

        if self.detail is None:
            return
        desk, number, agent = self.app.desk, self.number, self.app.agent

        def chosen(priority: str | None) -> None:
            if priority:
                run_desk(
                    self,
                    f"Priority of #{number}",
                    lambda: desk.set_priority(number, priority, agent),
                    lambda _: self.reload(),
                    group="act",
                )

        self.app.push_screen(PriorityModal(number, self.detail.request.priority), chosen)

    def action_toggle_claim(self) -> None:
        if self.claimed:
            self._release()
        else:
            self.claim()

    def _release(self) -> None:
        desk, number, agent = self.app.desk, self.number, self.app.agent
        run_desk(
            self,
            f"Releasing #{number}",
            lambda: desk.release(number, agent),
            lambda _: self._claimed(False),
            group="claim",
        )

    def action_assign(self) -> None:
        from supportdesk.ui.modals.agent_picker import AgentPickerModal

        if self.detail is None:
            return
        desk, number, agent = self.app.desk, self.number, self.app.agent

        def chosen(login: str | None) -> None:
            if login is not None:
                run_desk(
                    self,
                    f"Assigning #{number}",
                    lambda: desk.assign(number, login or None, agent),
                    lambda _: self.reload(),
                    group="act",
                )

        self.app.push_screen(AgentPickerModal(number, self.detail.request.assignee), chosen)

    def action_save_attachment(self) -> None:
        from supportdesk.ui.modals.save_attachment import SaveAttachmentModal

        if self.detail is None:
            return
        attachments = [a for m in self.detail.messages for a in m.attachments]
        if not attachments:
            self.notify("This request has no attachments.")
            return

        def chosen(choice: tuple[int, Path] | None) -> None:
            if choice:
                self._save_attachment(*choice)

        folder = self.app.desk.settings.attachment_folder
        self.app.push_screen(SaveAttachmentModal(attachments, folder), chosen)

    def _save_attachment(self, attachment_id: int, folder: Path) -> None:
        desk = self.app.desk
        run_desk(
            self,
            "Saving the attachment",
            lambda: desk.save_attachment(attachment_id, folder),
            lambda path: self.notify(f"Saved {path}", markup=False),
            group="act",
            advice="choose a folder you may write to",
        )

    def action_merge(self) -> None:
        """Merge this request, a duplicate, into another (shift+m): the number, then y."""
        from supportdesk.ui.modals.confirm import ConfirmModal
        from supportdesk.ui.modals.text_input import TextInputModal

        number = self.number
        history = self.loaded.history if self.loaded else []
        others = [r.number for r in history if r.status != "closed" and r.merged_into is None]
        hint = f" (the customer's open: {', '.join(f'#{n}' for n in others[:5])})" if others else ""

        def chosen(text: str | None) -> None:
            if not text:
                return
            target = text.strip().lstrip("#")
            if not target.isdigit():
                self.notify(f"Not a request number: {text}", severity="error", markup=False)
                return
            into = int(target)

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._merge(into)

            question = (
                f"Merge #{number} into #{into}? Its messages move to #{into}; "
                f"#{number} closes as a duplicate."
            )
            self.app.push_screen(ConfirmModal(question, "merge"), confirmed)

        first = str(others[0]) if others else ""
        self.app.push_screen(TextInputModal(f"Merge #{number} into{hint}: ", first), chosen)

    def _merge(self, into: int) -> None:
        desk, number, agent = self.app.desk, self.number, self.app.agent

        def merged(result: MergeResult) -> None:
            self.claimed = False  # closed: its claim ended with it
            other = result.other_customer
            also = f" (#{number} was from another customer, {other})" if other else ""
            self.notify(f"Merged #{number} into #{into}{also}", markup=False)
            self.app.switch_screen(RequestScreen(into))

        run_desk(
            self,
            f"Merging #{number} into #{into}",
            lambda: desk.merge(number, into, agent),
            merged,
            group="act",
        )

    @on(OptionList.OptionSelected, "#history")
    def _open_earlier(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.app.open_request(int(event.option.id))
