"""The workflow core: plain synchronous Python, no Textual and no Typer.

`Desk` is the one object the console and the CLI talk to.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supportdesk.clock import Clock, default_clock
from supportdesk.config import Settings
from supportdesk.desk import items as backlog
from supportdesk.desk import replies
from supportdesk.desk import templates as tpl
from supportdesk.desk.senders import message_json, request_json
from supportdesk.errors import NotFoundError, SupportDeskError
from supportdesk.mail.compose import make_message_id
from supportdesk.mail.parse import Attachment, attachment_bytes
from supportdesk.mail.sanitize import safe_filename
from supportdesk.store import (
    agents,
    claims,
    drafts,
    items,
    leases,
    messages,
    notes,
    outbox,
    requests,
    stats,
)
from supportdesk.store import templates as store_templates
from supportdesk.store.database import Database, open_database
from supportdesk.store.drafts import DraftRecord
from supportdesk.store.events import add_event, events_of
from supportdesk.store.items import ItemRecord
from supportdesk.store.records import MessageRecord, RequestRecord
from supportdesk.store.stats import MailboxStatus, TodayStats
from supportdesk.store.templates import TemplateRecord
from supportdesk.templating.files import check_language, check_name, parse_template_text

if TYPE_CHECKING:  # mail transports, IMAP and worker processes load only when used
    from supportdesk.desk.delivery import DeliveryReport
    from supportdesk.desk.fetching import FetchReport, ImapPoller, Progress
    from supportdesk.desk.importing import ImportReport
    from supportdesk.desk.tick import TickReport

AGENT_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

__all__ = ["Desk", "ItemDetail", "RequestDetail", "open_desk"]


@dataclass(slots=True)
class RequestDetail:
    request: RequestRecord
    messages: list[MessageRecord]
    events: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            **request_json(self.request),
            "messages": [message_json(m) for m in self.messages],
            "events": self.events,
        }


@dataclass(slots=True)
class ItemDetail:
    item: ItemRecord
    requests: list[RequestRecord]

    def as_dict(self) -> dict[str, Any]:
        return {**self.item.as_dict(), "linked": [r.as_dict() for r in self.requests]}


class Desk:
    """Every operation of SupportDesk, for one configuration and one database."""

    def __init__(self, settings: Settings, db: Database, clock: Clock | None = None) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock or default_clock()
        self._indexes: dict[str | None, tuple[Any, Any, dict[int, TemplateRecord]]] = {}
        self._last_tick: datetime | None = None
        self._items_index: tuple[Any, Any, dict[int, ItemRecord]] | None = None

    # -- reading ------------------------------------------------------------------------

    def stack(self, limit: int = 500) -> list[RequestRecord]:
        """The stack as agents work it: pinned requests (first answer due soon) first, then
        last in, first out."""
        pin_before = self.clock.now() + self.settings.sla.warn_before
        with self.db.read() as conn:
            return requests.stack(conn, limit, pin_before)

    def list_requests(self, **filters: Any) -> list[RequestRecord]:
        with self.db.read() as conn:
            return requests.list_requests(conn, **filters)

    def request(self, number: int) -> RequestDetail:
        with self.db.read() as conn:
            record = requests.get_request(conn, number)
            if record is None:
                raise NotFoundError(f"request #{number} does not exist")
            return RequestDetail(
                record, messages.messages_of(conn, number), events_of(conn, number)
            )

    def search(self, query: str, limit: int = 50) -> list[messages.SearchHit]:
        with self.db.read() as conn:
            return messages.search(conn, query, limit)

    def outbox_counts(self) -> dict[str, int]:
        with self.db.read() as conn:
            return outbox.counts(conn)

    def outbox_pending(self) -> dict[str, int]:
        """Queued and failed outgoing mail (what the console's header shows)."""
        with self.db.read() as conn:
            return outbox.pending_counts(conn)

    def save_attachment(self, attachment_id: int, folder: Path) -> Path:
        """Decode an attachment and save it under `folder` with a sanitised, unused name."""
        with self.db.read() as conn:
            stored = messages.attachment(conn, attachment_id)
        if stored is None:
            raise NotFoundError(f"attachment {attachment_id} does not exist")
        data = attachment_bytes(
            stored.raw,
            Attachment(
                stored.filename,
                None,
                stored.content_type,
                stored.encoding,
                stored.start,
                stored.end,
            ),
        )
        folder = folder.resolve()
        folder.mkdir(parents=True, exist_ok=True)
        name = safe_filename(stored.filename)
        target = folder / name
        stem, dot, ext = name.rpartition(".")
        n = 1
        while target.exists():
            target = folder / (f"{stem} ({n}).{ext}" if dot else f"{name} ({n})")
            n += 1
        if target.resolve().parent != folder:
            raise SupportDeskError(f"refusing to write outside {folder}")
        target.write_bytes(data)
        return target

    # -- agents ---------------------------------------------------------------------------

    def ensure_agent(
        self, login: str, name: str = "", email: str = "", role: str = "agent"
    ) -> bool:
        """Create the agent if missing; True when created."""
        with self.db.write() as conn:
            if agents.get_agent(conn, login) is not None:
                return False
            return agents.add_agent(conn, login, name or login, email, role, self.clock.now())

    def first_admin(self, login: str, name: str = "") -> bool:
        """`supportdesk init`'s bootstrap: on a desk with no agents yet, `login` becomes the
        first agent, an admin. True when created; False when the desk has agents (then only
        an admin adds more)."""
        with self.db.write() as conn:
            if agents.list_agents(conn):
                return False
            return agents.add_agent(conn, login, name or login, "", "admin", self.clock.now())

    def add_agent(
        self,
        login: str,
        name: str = "",
        email: str = "",
        role: str = "agent",
        languages: list[str] | None = None,
    ) -> agents.AgentRecord:
        """A new agent; refused when the login exists or a value is not valid."""
        login = login.strip()
        if not AGENT_LOGIN.fullmatch(login):
            raise SupportDeskError(
                f"invalid login {login!r}: letters, digits, '.', '_' or '-', up to 64"
            )
        if role not in agents.ROLES:
            raise SupportDeskError(f"unknown role {role!r}: use one of {', '.join(agents.ROLES)}")
        checked = [check_language(x.strip()) for x in languages or [] if x.strip()]
        if email and not EMAIL.fullmatch(email):
            raise SupportDeskError(f"invalid email address {email!r}")
        with self.db.write() as conn:
            now = self.clock.now()
            if not agents.add_agent(conn, login, name or login, email, role, now, checked):
                raise SupportDeskError(f"agent {login!r} exists")
            found = agents.get_agent(conn, login)
            assert found is not None
            return found

    def set_agent_active(self, login: str, active: bool) -> int:
        """Enable or disable an agent; disabling drops their claims so others can take the
        requests. Returns how many claims were dropped."""
        now = self.clock.now()
        with self.db.write() as conn:
            if not agents.set_active(conn, login, active):
                raise NotFoundError(f"no agent {login!r}")
            dropped = 0
            if not active:
                for number in sorted(claims.held_by(conn, login, now)):
                    dropped += claims.release(conn, number, login)
                    add_event(conn, number, now, "release", actor=login, reason="disabled")
            return dropped

    def acting_agent(self, login: str, *, admin: str | None = None) -> agents.AgentRecord:
        """The agent a command acts as: one that exists and is enabled, else a one-line error
        saying what to do. With `admin` (what is being done, e.g. "agents add"), it must also
        be an admin. The identity itself is the operating system's user (`desk.agent`,
        `--agent` or $USER): this guards against mistakes and ghosts, not against a user who
        can edit config.toml or the database (see the README on PostgreSQL roles)."""
        with self.db.read() as conn:
            found = agents.get_agent(conn, login)
        if found is None:
            raise NotFoundError(unknown_agent(login))
        if not found.active:
            raise SupportDeskError(
                f"agent {login!r} is disabled (an admin enables it again with "
                f"`supportdesk agents enable {login}`)"
            )
        if admin is not None and found.role != "admin":
            raise SupportDeskError(
                f"{admin} needs an admin, and {login!r} is not one "
                "(an admin runs it, e.g. with --agent ADMIN)"
            )
        return found

    def template_manager(self, login: str, owner: str | None, action: str) -> agents.AgentRecord:
        """The agent `login` adding, importing or removing templates: their own personal ones
        as any agent; the team's (`owner` None) or another agent's only as an admin."""
        if owner is None:
            return self.acting_agent(login, admin=f"{action} team templates")
        if owner != login:
            found = self.acting_agent(login, admin=f"{action} another agent's templates")
            with self.db.read() as conn:
                _known_agent(conn, owner)
            return found
        return self.acting_agent(login)

    def console_agent(self, login: str) -> agents.AgentRecord:
        """The agent a console opens for; a clear error when unknown or disabled."""
        return self.acting_agent(login)

    def agents(self) -> list[agents.AgentRecord]:
        with self.db.read() as conn:
            return agents.list_agents(conn)

    # -- working requests -----------------------------------------------------------------

    def reply(
        self,
        number: int,
        body: str,
        agent: str,
        template: str | None = None,
        *,
        cc: list[str] | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        """Queue an answer. With `template` (the name it started from, perhaps edited since)
        the use is recorded, so suggestions learn from it. `cc` None copies the Cc of the
        customer's latest message (`reply_cc`), [] copies nobody. The same
        `idempotency_key` again queues nothing and returns the first Message-ID."""
        return replies.reply(
            self.db,
            self.settings,
            self.clock.now(),
            number,
            body,
            agent,
            template=template,
            cc=cc,
            idempotency_key=idempotency_key,
        )

    def reply_cc(self, number: int) -> list[str]:
        """Whom an answer to request `number` is copied to unless the agent drops them: the
        Cc of the customer's latest message, less our address and the customer's."""
        with self.db.read() as conn:
            request = requests.get_request(conn, number)
            if request is None:
                raise NotFoundError(f"request #{number} does not exist")
            return replies.reply_cc(conn, self.settings, request)

    def keyed_reply(self, number: int, key: str) -> str | None:
        """The Message-ID of the reply queued for request `number` with idempotency `key`."""
        with self.db.read() as conn:
            return replies.keyed_reply(conn, number, key)

    def close(self, number: int, reason: str, agent: str) -> None:
        replies.close(self.db, self.clock.now(), number, reason, agent)

    def set_language(self, number: int, language: str, agent: str) -> None:
        """The language templates use for this request (an agent may correct the guess)."""
        language = check_language(language)
        with self.db.write() as conn:
            if not requests.update_request(conn, number, language=language):
                raise NotFoundError(f"request #{number} does not exist")
            add_event(conn, number, self.clock.now(), "language", actor=agent, reason=language)

    # -- bugs, ideas and stories ----------------------------------------------------------

    def items(
        self,
        kind: str | None = None,
        statuses: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> list[ItemRecord]:
        """The backlog, the most customers waiting first."""
        with self.db.read() as conn:
            return items.list_items(conn, kind=kind, statuses=statuses, limit=limit)

    def item(self, number: int) -> ItemDetail:
        with self.db.read() as conn:
            record = items.get_item(conn, number)
            if record is None:
                raise NotFoundError(f"item #{number} does not exist")
            return ItemDetail(record, requests.get_requests(conn, record.requests))

    def item_draft(self, number: int) -> tuple[str, str]:
        """A title and description for a new item from request `number` (to edit)."""
        with self.db.read() as conn:
            request = requests.get_request(conn, number)
            if request is None:
                raise NotFoundError(f"request #{number} does not exist")
            last = messages.last_inbound(conn, number)
        return backlog.draft_from(request, last.text if last else "")

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
            with self.db.read() as conn:
                request = requests.get_request(conn, number)
                last = messages.last_inbound(conn, number)
            message = tpl.customer_text(last, request.subject if request else "")
        hits = index.suggest(message, language=None, limit=limit) if message else []
        found = [by_number[h.doc.key] for h in hits]
        rest = [i for i in by_number.values() if i not in found]  # the backlog's order
        return (found + rest)[:limit]

    def _item_index(self) -> tuple[Any, dict[int, ItemRecord]]:
        """The search index over open items (title, tags, description and the linked
        requests' subjects), rebuilt only when an item changes."""
        from supportdesk.textsearch import TextDoc, TextIndex

        with self.db.read() as conn:
            key = items.fingerprint(conn)
            if self._items_index is not None and self._items_index[0] == key:
                return self._items_index[1], self._items_index[2]
            open_items = items.list_items(conn, statuses=items.OPEN_STATUSES)
            subjects = items.linked_subjects(conn, [i.number for i in open_items])
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
        self._items_index = (key, index, by_number)
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
    ) -> backlog.Linked:
        """Turn request `number` into a new bug, idea or story and thank the customer. A
        request linked to another item is refused unless `move`."""
        return backlog.convert(
            self.db,
            self.settings,
            self.clock.now(),
            number,
            kind,
            agent,
            title=title,
            description=description,
            ref=ref,
            move=move,
        )

    def attach(self, number: int, item: int, agent: str, *, move: bool = False) -> backlog.Linked:
        """Link request `number` to item `item` and tell the customer. A request linked to
        another item is refused unless `move`."""
        return backlog.attach(
            self.db, self.settings, self.clock.now(), number, item, agent, move=move
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
    ) -> backlog.ItemChange:
        return backlog.set_item(
            self.db,
            self.clock.now(),
            number,
            agent,
            status=status,
            ref=ref,
            title=title,
            description=description,
        )

    def fix_item(
        self,
        number: int,
        agent: str,
        *,
        status: str = "fixed",
        notify: bool = False,
        progress: Progress | None = None,
    ) -> backlog.ItemChange:
        """Mark item `number` fixed (or done): its customers' requests come back on the
        stack with `fixed_notice` pre-selected; with `notify`, each is told at once."""
        return backlog.fix(
            self.db,
            self.settings,
            self.clock.now(),
            number,
            agent,
            status=status,
            notify=notify,
            progress=progress,
        )

    # -- templates --------------------------------------------------------------------------

    def templates(
        self, agent: str | None, *, shadowed: bool = False, for_request: int | None = None
    ) -> list[TemplateRecord]:
        """What `agent` can use (one scope per name); with `shadowed`, everything visible.
        `for_request`: only what is offered for that request (bug_ack, idea_thanks and
        fixed_notice only in their flow)."""
        with self.db.read() as conn:
            records = store_templates.visible_templates(conn, agent)
        found = records if shadowed else tpl.effective(records, agent)
        if for_request is None:
            return found
        hidden = self._not_offered(for_request)
        return [r for r in found if r.name not in hidden]

    def _not_offered(self, number: int) -> set[str]:
        """The names of the templates that need an item and do not fit request `number`."""
        with self.db.read() as conn:
            request = requests.get_request(conn, number)
            if request is None:
                raise NotFoundError(f"request #{number} does not exist")
            item = items.get_item(conn, request.item) if request.item is not None else None
        return {name for name in tpl.ITEM_TEMPLATES if not tpl.offered(name, item)}

    def save_template_from(self, record: TemplateRecord, name: str, owner: str) -> str:
        """Store `record`'s source (placeholders, subject and tags as they are) as `owner`'s
        personal template `name`. Returns 'added', 'updated' or 'unchanged'."""
        source = replace(tpl.as_file(record), name=check_name(name))
        tpl.RENDERER.check(f"{source.name!r} ({source.language})", source.body)
        with self.db.write() as conn:
            _known_agent(conn, owner)
            return tpl.save_file(conn, "personal", owner, source, self.clock.now())

    def template_scopes(self, name: str, agent: str) -> list[str]:
        """The scopes in which `agent` sees a template named `name` (personal, team, system)."""
        with self.db.read() as conn:
            found = store_templates.templates_named(conn, name, agent)
        return sorted(
            {r.scope for r in found if r.scope != "personal" or r.owner == agent},
            key=lambda s: tpl.PRECEDENCE.get(s, 3),
        )

    def free_template_name(self, name: str, agent: str) -> str:
        """`name-2`, `name-3` … the first that `agent` sees no template of."""
        base = re.sub(r"-\d+$", "", name) or name
        taken = {r.name for r in self.templates(agent, shadowed=True)}
        n = 2
        while f"{base}-{n}" in taken:
            n += 1
        return f"{base}-{n}"

    def template(self, name: str, agent: str | None, language: str | None = None) -> TemplateRecord:
        with self.db.read() as conn:
            return tpl.resolve(conn, name, agent, language)

    def add_template(
        self,
        name: str,
        text: str,
        *,
        owner: str | None,
        language: str | None = None,
        source: str = "the template",
    ) -> str:
        """Store a template from its text (front matter optional): personal for `owner`, the
        team's when `owner` is None. Checked before it is stored.

        Returns 'added', 'updated' or 'unchanged'."""
        parsed = parse_template_text(text, source=source, name=name, language=language)
        if language:
            parsed = replace(parsed, language=check_language(language))
        parsed = replace(parsed, name=check_name(name))
        tpl.RENDERER.check(f"{parsed.name!r} ({parsed.language})", parsed.body)
        with self.db.write() as conn:
            _known_agent(conn, owner)
            scope = "personal" if owner else "team"
            return tpl.save_file(conn, scope, owner or "", parsed, self.clock.now())

    def remove_template(self, name: str, *, owner: str | None, language: str | None = None) -> int:
        scope = "personal" if owner else "team"
        with self.db.write() as conn:
            ids = [
                r.id
                for r in store_templates.templates_in_scope(conn, scope, owner or "")
                if r.name == name and (language is None or r.language == language)
            ]
            if not ids:
                raise NotFoundError(f"no {scope} template named {name!r}")
            return store_templates.delete_templates(conn, ids)

    def import_templates(self, folder: Path, owner: str | None = None) -> tpl.ImportReport:
        with self.db.write() as conn:
            _known_agent(conn, owner)
            return tpl.import_folder(conn, folder, self.clock.now(), owner=owner)

    def export_templates(self, folder: Path, owner: str | None = None) -> list[Path]:
        with self.db.read() as conn:
            _known_agent(conn, owner)
            return tpl.export_folder(conn, folder, owner=owner)

    def render_template(
        self, name: str, agent: str, number: int | None = None, language: str | None = None
    ) -> tpl.Rendered:
        """Render for request `number` (or a made-up sample); TemplateError if it fails."""
        with self.db.read() as conn:
            person = agents.get_agent(conn, agent)
            if number is None:
                record = tpl.resolve(conn, name, agent, language)
                return tpl.render(
                    record, tpl.sample_context(self.settings, person, record.language)
                )
            request = requests.get_request(conn, number)
            if request is None:
                raise NotFoundError(f"request #{number} does not exist")
            record = tpl.resolve(conn, name, agent, language or request.language)
            values = tpl.request_context(conn, self.settings, request, person, record.language)
            return tpl.render(record, values)

    def search_templates(
        self,
        query: str,
        agent: str | None,
        language: str | None = None,
        limit: int = 20,
        *,
        number: int | None = None,
    ) -> list[tuple[TemplateRecord, float]]:
        """Fuzzy search; for request `number`, only what is offered for it."""
        index, by_id = self._template_index(agent)
        hidden = self._not_offered(number) if number is not None else set()
        hits = index.search(query, language=language, limit=limit + len(hidden) * 4)
        found = [(by_id[h.doc.key], h.score) for h in hits if h.doc.name not in hidden]
        return found[:limit]

    def suggest_templates(
        self, number: int, agent: str, limit: int = 5
    ) -> list[tuple[TemplateRecord, float]]:
        """Templates that fit request `number`, best first: the workflow's own answer when the
        request is a follow-up or a fixed bug, then by its latest customer message and by what
        this agent sent to similar messages."""
        from supportdesk.textsearch import Use

        with self.db.read() as conn:
            request = requests.get_request(conn, number)
            if request is None:
                raise NotFoundError(f"request #{number} does not exist")
            last = messages.last_inbound(conn, number)
            uses = store_templates.recent_uses(conn, agent)
            item = items.get_item(conn, request.item) if request.item is not None else None
        hidden = {name for name in tpl.ITEM_TEMPLATES if not tpl.offered(name, item)}
        index, by_id = self._template_index(agent)
        language = request.language or "en"
        found: list[tuple[TemplateRecord, float]] = []
        workflow = tpl.workflow_suggestion(request)
        if workflow and workflow not in hidden:
            variants = [r for r in by_id.values() if r.name == workflow]
            if variants:
                found.append((tpl.pick_language(variants, language), 1.0))
        message = tpl.customer_text(last, request.subject)
        history = [Use(name, tuple(words.split())) for name, words in uses]
        hits = index.suggest(message, language=language, history=history, limit=limit + len(hidden))
        for hit in hits:
            if hit.doc.name not in hidden and all(r.name != hit.doc.name for r, _ in found):
                found.append((by_id[hit.doc.key], hit.score))
        return found[:limit]

    def reply_with_template(
        self,
        number: int,
        name: str,
        agent: str,
        extra: str = "",
        language: str | None = None,
        *,
        cc: list[str] | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[str, tpl.Rendered]:
        return replies.reply_with_template(
            self.db,
            self.settings,
            self.clock.now(),
            number,
            name,
            agent,
            extra=extra,
            language=language,
            cc=cc,
            idempotency_key=idempotency_key,
        )

    def _template_index(self, agent: str | None) -> tuple[Any, dict[int, TemplateRecord]]:
        """The search index over what `agent` sees, rebuilt only when templates change."""
        from supportdesk.templating.search import TemplateIndex

        with self.db.read() as conn:
            key = (agent, store_templates.fingerprint(conn, agent))
            cached = self._indexes.get(agent)
            if cached is not None and cached[0] == key:
                return cached[1], cached[2]
            records = tpl.effective(store_templates.visible_templates(conn, agent), agent)
        by_id = {r.id: r for r in records}
        index = TemplateIndex(tpl.to_docs(records))
        self._indexes[agent] = (key, index, by_id)
        return index, by_id

    # -- mail -------------------------------------------------------------------------------

    def fetch(self, progress: Progress | None = None) -> FetchReport:
        """Poll the configured mailbox once."""
        kind = self.settings.mailbox.kind
        if kind == "none":
            raise SupportDeskError("no mailbox configured: set [mailbox] kind in config.toml")
        from supportdesk.desk.fetching import ImapPoller, poll_local

        if kind in ("maildir", "mbox"):
            return poll_local(self.db, self.settings, self.clock, progress)
        poller = ImapPoller(self.db, self.settings, self.clock)
        try:
            return poller.poll(progress)
        finally:
            poller.close()

    def imap_poller(self) -> ImapPoller:
        from supportdesk.desk.fetching import ImapPoller

        return ImapPoller(self.db, self.settings, self.clock)

    def import_mail(
        self,
        path: Path,
        *,
        acknowledge: bool = False,
        history: bool = False,
        progress: Progress | None = None,
    ) -> ImportReport:
        from supportdesk.desk.importing import import_mail

        return import_mail(
            self.db,
            self.settings,
            self.clock,
            path,
            acknowledge=acknowledge,
            history=history,
            progress=progress,
        )

    def deliver(self) -> DeliveryReport:
        """Deliver the due part of the outbox through the configured transport."""
        from supportdesk.desk import delivery

        transport = delivery.make_transport(self.settings)
        if transport is None:
            return delivery.DeliveryReport()
        return delivery.deliver_outbox(self.db, self.settings, self.clock, transport)

    def tick(self) -> TickReport:
        """Run the time-based rules once: follow-ups, auto-close, claim expiry, SLA marks."""
        from supportdesk.desk.tick import tick

        self._last_tick = self.clock.now()
        return tick(self.db, self.settings, self._last_tick)

    def tick_if_due(self) -> TickReport | None:
        """The tick, when this process has not run it for a minute (the poller's round)."""
        from supportdesk.desk.tick import TICK_EVERY

        if self._last_tick is not None and self.clock.now() - self._last_tick < TICK_EVERY:
            return None
        return self.tick()

    def close_database(self) -> None:
        self.db.close()

    # -- console support --------------------------------------------------------------------

    def claim(self, number: int, agent: str) -> bool:
        """Claim (or renew) request `number` for `agent` for `workflow.claim_ttl`; False when
        another agent holds an unexpired claim. A 'claim' event only when newly claimed."""
        now = self.clock.now()
        with self.db.write() as conn:
            exists, holder = claims.holder(conn, number, now)
            if not exists:
                raise NotFoundError(f"request #{number} does not exist")
            if not claims.claim(conn, number, agent, now, now + self.settings.workflow.claim_ttl):
                return False
            if holder != agent:
                add_event(conn, number, now, "claim", actor=agent)
            return True

    def release(self, number: int, agent: str) -> bool:
        """Drop `agent`'s claim on request `number`; False when the agent held none."""
        with self.db.write() as conn:
            if requests.get_request(conn, number) is None:
                raise NotFoundError(f"request #{number} does not exist")
            released = claims.release(conn, number, agent)
            if released:
                add_event(conn, number, self.clock.now(), "release", actor=agent)
            return released

    def claim_next(self, agent: str) -> RequestRecord | None:
        """Claim the top of the stack that nobody else holds ("take next"); None when there
        is nothing to take. The agent's own claims count as free."""
        now = self.clock.now()
        with self.db.write() as conn:
            held = claims.held_by(conn, agent, now)
            until = now + self.settings.workflow.claim_ttl
            pin_before = now + self.settings.sla.warn_before
            number = claims.claim_next(conn, agent, now, until, pin_before)
            if number is None:
                return None
            if number not in held:
                add_event(conn, number, now, "claim", actor=agent)
            return requests.get_request(conn, number)

    def add_note(self, number: int, text: str, agent: str) -> None:
        """An internal note in the thread; customers never see it."""
        if not text.strip():
            raise SupportDeskError("the note is empty")
        now = self.clock.now()
        with self.db.write() as conn:
            request = requests.get_request(conn, number)
            if request is None:
                raise NotFoundError(f"request #{number} does not exist")
            person = agents.get_agent(conn, agent)
            pk = notes.add_note(
                conn,
                number,
                "note." + make_message_id(self.settings.desk.address.rpartition("@")[2]),
                text.rstrip() + "\n",
                request.subject,
                agent,
                person.name if person else agent,
                now,
            )
            add_event(conn, number, now, "note", actor=agent, detail={"message": pk})

    def save_draft(self, number: int, agent: str, text: str, template: str | None = None) -> None:
        """Keep what `agent` is writing to request `number` (it survives closing the console)."""
        with self.db.write() as conn:
            if requests.get_request(conn, number) is None:
                raise NotFoundError(f"request #{number} does not exist")
            drafts.save_draft(conn, number, agent, text, template, self.clock.now())

    def draft(self, number: int, agent: str) -> DraftRecord | None:
        with self.db.read() as conn:
            return drafts.get_draft(conn, number, agent)

    def drop_draft(self, number: int, agent: str) -> None:
        with self.db.write() as conn:
            drafts.drop_draft(conn, number, agent)

    def today(self) -> TodayStats:
        """Today's numbers, since midnight in the machine's local time zone."""
        local = self.clock.now().astimezone()
        midnight = datetime.combine(local.date(), time()).astimezone()  # DST-aware offset
        with self.db.read() as conn:
            return stats.today(conn, midnight)

    def mailbox_status(self) -> MailboxStatus:
        with self.db.read() as conn:
            return stats.mailbox_status(conn, self.settings.mailbox.kind)

    def customer_requests(
        self, customer_id: int, exclude: int | None = None, limit: int = 50
    ) -> list[RequestRecord]:
        """The customer's requests, newest first."""
        with self.db.read() as conn:
            return requests.customer_requests(conn, customer_id, exclude, limit)

    def watch_changes(self, on_change: Callable[[], None]) -> Callable[[], None] | None:
        """Call `on_change` (from another thread) when another process commits a change:
        LISTEN/NOTIFY on PostgreSQL. Returns what stops it; None on SQLite, where the
        console polls `data_version()` instead."""
        return self.db.listen(on_change)

    def data_version(self) -> int:
        """Changes whenever another connection or process commits (the console polls it)."""
        return self.db.data_version()

    def check(
        self, *, full: bool = False, repair: bool = False, pages_checked: bool = False
    ) -> list[Any]:
        """The database's health: integrity, the search index, the outbox, the poller. With
        `repair`, a search index out of step is rebuilt (then checked again). With
        `pages_checked`, SQLite's page check was just run (store.recovery.diagnose)."""
        from supportdesk.desk.tick import POLLER_LEASE
        from supportdesk.store import maintenance as m

        now = self.clock.now()
        with self.db.read() as conn:
            found = [m.integrity(conn, full, pages_checked), m.full_text(conn)]
        if repair and found[1].status == "fail":
            with self.db.write() as conn:
                m.rebuild_full_text(conn)
            with self.db.read() as conn:
                found[1] = m.full_text(conn)
                found[1].detail += " (rebuilt)"
        with self.db.read() as conn:
            found += [m.outbox(conn, now), m.poller(conn, now, POLLER_LEASE)]
        return found

    def acquire_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        """Take or renew lease `name` when it is free, expired or already `holder`'s."""
        now = self.clock.now()
        with self.db.write() as conn:
            return leases.acquire(conn, name, holder, now, now + ttl)

    def release_lease(self, name: str, holder: str) -> None:
        with self.db.write() as conn:
            leases.release(conn, name, holder)

    def lease_holder(self, name: str) -> tuple[str, datetime] | None:
        """Who holds lease `name` (and until when); None when it is free or expired."""
        with self.db.read() as conn:
            return leases.current(conn, name, self.clock.now())


def unknown_agent(login: str) -> str:
    """The one line for a login that is not an agent of this desk, and what to do."""
    return (
        f"unknown agent {login!r}: an admin adds it with "
        f"`supportdesk agents add {login} --name NAME`, or choose another with --agent"
    )


def _known_agent(conn: Any, login: str | None) -> None:
    if login is not None and agents.get_agent(conn, login) is None:
        raise NotFoundError(unknown_agent(login))


def open_desk(settings: Settings, clock: Clock | None = None, *, upgrade: bool = True) -> Desk:
    """Open the configured database (upgrading its schema) and return the Desk.

    A desk without system templates gets the shipped ones: the workflow sends them."""
    desk = Desk(settings, open_database(settings.database_url, upgrade=upgrade), clock)
    if upgrade:
        with desk.db.read() as conn:
            missing = store_templates.count_in_scope(conn, "system") == 0
        if missing:
            with desk.db.write() as conn:
                tpl.ensure_system_templates(conn, desk.clock.now())
    return desk
