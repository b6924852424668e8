"""Requests become product work: bugs, ideas and stories, and telling customers when it ships.

Converting (or attaching) a request sends the matching template in the same transaction that
links it: `bug_ack` for a bug or a story (the request waits, `linked`), `idea_thanks` for an
idea (the request is closed with reason `idea`), `fixed_notice` when the item has already
shipped. Marking an item fixed or done puts every waiting customer's request back on the stack
with reason `fixed` (the reply screen pre-selects `fixed_notice`); `fix_item(notify=True)` sends
them all at once, one transaction per request, so a crash half-way leaves the rest on the
stack and running it again tells only those not told yet.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from supportdesk.config import Settings
from supportdesk.desk import templates
from supportdesk.desk.context import DeskContext
from supportdesk.desk.replies import queue_mail, reply_with_template
from supportdesk.desk.wording import strip_subject
from supportdesk.domain import lifecycle
from supportdesk.errors import NotFoundError, SupportDeskError
from supportdesk.mail.sanitize import display_safe
from supportdesk.store import items as store
from supportdesk.store import messages as msgs
from supportdesk.store import requests as reqs
from supportdesk.store.agents import get_agent
from supportdesk.store.database import Connection
from supportdesk.store.drafts import drop_draft
from supportdesk.store.events import add_event
from supportdesk.store.items import ITEM_STATUSES, KINDS, SHIPPED, ItemRecord
from supportdesk.store.records import RequestRecord
from supportdesk.templating.render import TemplateError

if TYPE_CHECKING:  # the index loads when an agent first searches the backlog
    from supportdesk.textsearch import TextDoc, TextIndex

ACK_TEMPLATE = templates.ACK_TEMPLATE
TITLE_MAX = 200
DESCRIPTION_MAX = 20_000


@dataclass(slots=True)
class Linked:
    """A request turned into (or attached to) an item, and the mail that told the customer."""

    item: ItemRecord
    created: bool
    number: int
    status: str
    template: str
    message_id: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "request": self.number,
            "status": self.status,
            "created": self.created,
            "template": self.template,
            "message_id": self.message_id,
            "item": self.item.as_dict(),
        }


@dataclass(slots=True)
class ItemChange:
    """What a status change did: requests pushed back, customers told, and failures."""

    item: ItemRecord
    pushed: list[int] = field(default_factory=list)
    notified: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "item": self.item.as_dict(),
            "pushed": self.pushed,
            "notified": self.notified,
            "failed": {str(n): e for n, e in self.failed.items()},
        }


def draft_from(request: RequestRecord, last_text: str) -> tuple[str, str]:
    """A title and a description for a new item, from the request (the agent edits them)."""
    title = strip_subject(request.subject) or f"Request #{request.number}"
    lines = [line.rstrip() for line in last_text.splitlines()]
    body: list[str] = []
    for line in lines:  # the customer's own words: stop at the quoted history or signature
        if line.startswith(">") or line in ("--", "-- ") or _is_quote_header(line):
            break
        body.append(line)
    text = "\n".join(body).strip()
    return clean_title(title), f"From request #{request.number}:\n\n{text}".strip()[:2000]


def _is_quote_header(line: str) -> bool:
    low = line.lower()
    return (low.startswith("on ") and low.endswith("wrote:")) or low.endswith("писал(а):")


def clean_title(title: str) -> str:
    """One line of inert text, short enough for a tracker."""
    return " ".join(display_safe(title).split())[:TITLE_MAX]


def _linked_elsewhere(
    conn: Connection, request: RequestRecord, target: int | None, move: bool, to: str
) -> ItemRecord | None:
    """The item the request is linked to now, when that is another one than `target`: it is
    left only when the agent said so (`move`); otherwise one line says how."""
    if request.item is None or request.item == target:
        return None
    current = store.get_item(conn, request.item)
    if current is None:
        return None
    if not move:
        raise SupportDeskError(
            f"#{request.number} is already linked to {current.label}: "
            f"pass --move to move it to {to} (its customer leaves {current.label})"
        )
    return current


def _link(
    conn: Connection,
    settings: Settings,
    now: datetime,
    request: RequestRecord,
    item: ItemRecord,
    agent: str,
    *,
    created: bool,
    moved_from: ItemRecord | None = None,
) -> Linked:
    """Link, send the template and move the request, inside the caller's transaction: a
    template that fails to render rolls all of it back. A request moved from another item
    gets this one message (the new item's), not one per item."""
    number = request.number
    change = lifecycle.linked(item.kind, item.status, now)
    if item.status in SHIPPED:  # attached after the fix: tell them it is already fixed
        name = "fixed_notice"
    elif item.kind == "idea":
        name = "idea_thanks"
    else:
        name = ACK_TEMPLATE[item.kind]
    status, close_reason = change["status"], change["close_reason"]
    store.link(conn, number, item.number, now)
    item = _item(conn, item.number)  # with this request counted
    person = get_agent(conn, agent)
    rendered, errors = templates.render_or_shipped(  # a broken override: the shipped text
        conn,
        name,
        agent,
        request.language or "en",
        lambda r: templates.request_context(
            conn, settings, request, person, r.language, item=item.context()
        ),
    )
    for error in errors:
        add_event(conn, number, now, "template_error", detail={"error": error[:500]})
    record = rendered.template
    message_id = queue_mail(
        conn,
        settings,
        now,
        request,
        rendered.text,
        kind="reply",
        agent_login=agent,
        subject=rendered.subject,
        ask=name != "bug_ack",  # the idea closes it, the fix finishes it: how did we do?
    )
    reqs.update_request(conn, number, **change)
    add_event(
        conn,
        number,
        now,
        "convert" if created else "attach",
        actor=agent,
        reason=item.kind,
        detail={
            "item": item.number,
            "template": record.name,
            "message_id": message_id,
            **({"moved_from": moved_from.number} if moved_from is not None else {}),
        },
    )
    if moved_from is not None:
        add_event(
            conn,
            None,
            now,
            "item_unlinked",
            actor=agent,
            detail={"item": moved_from.number, "request": number, "moved_to": item.number},
        )
    if status == "closed":
        add_event(conn, number, now, "close", actor=agent, reason=close_reason)
    drop_draft(conn, number, agent)
    return Linked(item, created, number, status, record.name, message_id)


def export(items: list[ItemRecord], fmt: str) -> str:
    """The backlog for the product owner's tracker: JSON, or CSV that opens in a spreadsheet
    (a header row, one item per row; cells that a spreadsheet would run as a formula are
    quoted with a leading apostrophe, as titles come from customers' subjects)."""
    if fmt == "json":
        return json.dumps([i.as_dict() for i in items], ensure_ascii=False, indent=2) + "\n"
    if fmt != "csv":
        raise SupportDeskError(f"unknown format {fmt!r}: use json or csv")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for i in items:
        writer.writerow(
            _cell(v)
            for v in (
                i.number,
                i.kind,
                i.status,
                i.title,
                i.description,
                i.ref or "",
                " ".join(i.tags),
                i.customers,
                i.waiting,
                " ".join(f"#{n}" for n in i.requests),
                i.created_by,
                i.created_at.isoformat(timespec="seconds") if i.created_at else "",
                i.updated_at.isoformat(timespec="seconds") if i.updated_at else "",
                i.fixed_at.isoformat(timespec="seconds") if i.fixed_at else "",
            )
        )
    return out.getvalue()


EXPORT_COLUMNS = (
    "number",
    "kind",
    "status",
    "title",
    "description",
    "ref",
    "tags",
    "customers",
    "waiting",
    "requests",
    "created_by",
    "created_at",
    "updated_at",
    "fixed_at",
)


def _cell(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _request(conn: Connection, number: int) -> RequestRecord:
    request = reqs.get_request(conn, number)
    if request is None:
        raise NotFoundError(f"request #{number} does not exist")
    return request


def _item(conn: Connection, number: int) -> ItemRecord:
    item = store.get_item(conn, number)
    if item is None:
        raise NotFoundError(f"item #{number} does not exist")
    return item


@dataclass(slots=True)
class ItemDetail:
    item: ItemRecord
    requests: list[RequestRecord]

    def as_dict(self) -> dict[str, Any]:
        return {**self.item.as_dict(), "linked": [r.as_dict() for r in self.requests]}


class BacklogService:
    """The backlog: listing, finding, converting, attaching and shipping items. Keeps the
    search index over open items until an item changes."""

    def __init__(self, ctx: DeskContext) -> None:
        self.ctx = ctx
        self._index: tuple[Any, TextIndex[TextDoc], dict[int, ItemRecord]] | None = None

    def items(
        self,
        kind: str | None = None,
        statuses: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> list[ItemRecord]:
        """The backlog, the most customers waiting first."""
        with self.ctx.db.read() as conn:
            return store.list_items(conn, kind=kind, statuses=statuses, limit=limit)

    def item(self, number: int) -> ItemDetail:
        with self.ctx.db.read() as conn:
            record = _item(conn, number)
            return ItemDetail(record, reqs.get_requests(conn, record.requests))

    def item_draft(self, number: int) -> tuple[str, str]:
        """A title and description for a new item from request `number` (to edit)."""
        with self.ctx.db.read() as conn:
            request = _request(conn, number)
            last = msgs.last_inbound(conn, number)
        return draft_from(request, last.text if last else "")

    def search_items(
        self, query: str, number: int | None = None, limit: int = 10
    ) -> list[ItemRecord]:
        """Open items matching `query` (fuzzy, as you type); with an empty query and a request
        `number`, the open items that fit its latest customer message, then the rest."""
        index, by_number = self._item_index()
        if query.strip():
            return [by_number[h.doc.key] for h in index.search(query, limit=limit)]
        message = ""
        if number is not None:
            with self.ctx.db.read() as conn:
                request = reqs.get_request(conn, number)
                last = msgs.last_inbound(conn, number)
            message = templates.customer_text(last, request.subject if request else "")
        hits = index.suggest(message, language=None, limit=limit) if message else []
        found = [by_number[h.doc.key] for h in hits]
        rest = [i for i in by_number.values() if i not in found]  # the backlog's order
        return (found + rest)[:limit]

    def _item_index(self) -> tuple[TextIndex[TextDoc], dict[int, ItemRecord]]:
        """The search index over open items (title, tags, description and the linked
        requests' subjects), rebuilt only when an item changes."""
        from supportdesk.textsearch import TextDoc, TextIndex

        with self.ctx.db.read() as conn:
            key = store.fingerprint(conn)
            if self._index is not None and self._index[0] == key:
                return self._index[1], self._index[2]
            open_items = store.list_items(conn, statuses=store.OPEN_STATUSES)
            subjects = store.linked_subjects(conn, [i.number for i in open_items])
        index = TextIndex(
            TextDoc(
                key=i.number,
                name=f"{i.kind} {i.number} {i.title}",
                language="en",
                tags=(i.kind, *i.tags, i.ref or ""),
                description=i.description,
                body="\n".join(subjects.get(i.number, ())),
            )
            for i in open_items
        )
        by_number = {i.number: i for i in open_items}
        self._index = (key, index, by_number)
        return index, by_number

    def convert(
        self,
        number: int,
        kind: str,
        agent: str,
        *,
        title: str | None = None,
        description: str | None = None,
        ref: str | None = None,
        move: bool = False,
    ) -> Linked:
        """Turn request `number` into a new bug, idea or story and tell the customer. A request
        already linked to an item is refused unless `move`: then it leaves that item."""
        db, settings, now = self.ctx.db, self.ctx.settings, self.ctx.now()
        if kind not in KINDS:
            raise SupportDeskError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
        with db.write() as conn:
            request = _request(conn, number)
            moved_from = _linked_elsewhere(conn, request, None, move, f"a new {kind}")
            last = msgs.last_inbound(conn, number)
            default_title, default_description = draft_from(request, last.text if last else "")
            title = clean_title(title) if title is not None else default_title
            if not title:
                raise SupportDeskError("the title is empty")
            text = description if description is not None else default_description
            item_number = store.add_item(
                conn, kind, title, text.strip()[:DESCRIPTION_MAX], agent, now, ref=ref or None
            )
            item = _item(conn, item_number)
            add_event(conn, None, now, "item_created", actor=agent, detail={"item": item_number})
            return _link(
                conn, settings, now, request, item, agent, created=True, moved_from=moved_from
            )

    def attach(self, number: int, item_number: int, agent: str, *, move: bool = False) -> Linked:
        """Link request `number` to an existing item and tell the customer. A request already
        linked to another item is refused unless `move`: then it leaves that item."""
        db, settings, now = self.ctx.db, self.ctx.settings, self.ctx.now()
        with db.write() as conn:
            request = _request(conn, number)
            item = _item(conn, item_number)
            if item.status == "wont_do":
                raise SupportDeskError(
                    f"{item.label} is wont_do: reopen it first (supportdesk items set "
                    f"{item.number} --status open)"
                )
            if request.item == item.number and request.status in ("linked", "waiting", "closed"):
                raise SupportDeskError(f"#{number} is already linked to {item.label}")
            moved_from = _linked_elsewhere(conn, request, item.number, move, item.label)
            return _link(
                conn, settings, now, request, item, agent, created=False, moved_from=moved_from
            )

    def set_item(
        self,
        number: int,
        agent: str,
        *,
        status: str | None = None,
        ref: str | None = None,
        title: str | None = None,
        description: str | None = None,
    ) -> ItemChange:
        """Change an item. Becoming fixed or done puts every waiting customer's request back on
        the stack (reason `fixed`); becoming wont_do puts the linked ones back (reason
        `wont_do`) so an agent tells them."""
        db, now = self.ctx.db, self.ctx.now()
        if status is not None and status not in ITEM_STATUSES:
            raise SupportDeskError(
                f"unknown status {status!r}: use one of {', '.join(ITEM_STATUSES)}"
            )
        with db.write() as conn:
            item = _item(conn, number)
            values: dict[str, Any] = {"updated_at": now}
            if ref is not None:
                values["ref"] = ref.strip() or None
            if title is not None:
                values["title"] = clean_title(title)
                if not values["title"]:
                    raise SupportDeskError("the title is empty")
            if description is not None:
                values["description"] = description.strip()[:DESCRIPTION_MAX]
            pushed: list[int] = []
            if status is not None and status != item.status:
                values["status"] = status
                if status in SHIPPED:
                    values["fixed_at"] = item.fixed_at or now
                elif status != "wont_do":
                    values["fixed_at"] = None
                push = lifecycle.item_push(item.status, status)
                if push is not None:
                    reason, linked_only = push
                    change = lifecycle.item_pushed(reason, now)
                    pushed = store.push_shipped(conn, number, change, linked_only=linked_only)
                add_event(
                    conn,
                    None,
                    now,
                    "item_status",
                    actor=agent,
                    reason=status,
                    detail={"item": number, "from": item.status, "pushed": len(pushed)},
                )
                if push is not None:
                    for n in pushed:
                        add_event(conn, n, now, "push", actor=agent, reason=push[0])
            store.update_item(conn, number, **values)
            return ItemChange(_item(conn, number), pushed)

    def fix_item(
        self,
        number: int,
        agent: str,
        *,
        status: str = "fixed",
        notify: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> ItemChange:
        """Mark an item fixed (or done). With `notify`, send `fixed_notice` to every customer
        waiting on it now, each rendered for their own request and threaded in it."""
        db, settings, now = self.ctx.db, self.ctx.settings, self.ctx.now()
        if status not in SHIPPED:
            raise SupportDeskError(f"fix marks an item {' or '.join(SHIPPED)}, not {status!r}")
        change = self.set_item(number, agent, status=status)
        if not notify:
            return change
        with db.read() as conn:  # also those pushed by an earlier run and not told yet
            due = [
                r.number
                for r in reqs.get_requests(conn, change.item.requests)
                if r.status in reqs.ON_STACK and r.reason == "fixed"
            ]
        for done, n in enumerate(due):
            try:
                reply_with_template(db, settings, now, n, "fixed_notice", agent)
                change.notified.append(n)
            except (TemplateError, SupportDeskError) as exc:  # it stays on the stack for an agent
                change.failed[n] = str(exc)
            if progress is not None:
                progress(done + 1, len(due))
        with db.read() as conn:
            change.item = _item(conn, number)
        return change
