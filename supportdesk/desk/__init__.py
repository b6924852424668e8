"""The workflow core: plain synchronous Python, no Textual and no Typer.

`Desk` is the one object the console and the CLI talk to: a thin facade over one shared
context (`DeskContext`: settings, database, clock) and services named by what they serve,
each holding its own rules:

- `requests.RequestService`: the stack, listings, a request, search, claims, close, notes,
  drafts, the request's language, a customer's requests, attachments;
- `owners.OwnerService`: who owns a request (assign, unassign) and "mine";
- `replies.ReplyService`: answers (with or without a template, Cc, idempotency keys);
- `backlog.BacklogService`: bugs, ideas and stories (convert, attach, fix, search);
- `templates.TemplateService`: templates, their search and suggestions (the index caches);
- `agents.AgentService`: agents, roles and who a command acts as;
- `status.StatusService`: today's numbers, the mailbox, the outbox, the database's health;
- `stats.StatsService`: the team's figures over a period (stats, the daily speed score);
- `reviews.ReviewService` (`desk.reviews`): trainees' letters held for their mentor;
- `quality.QualityService` (`desk.quality`): sampled answers scored by a reviewer;
- `sending.SendService` (`desk.sending`): snooze, and undo send.
- `presence.PresenceService` (`desk.presence`): who else has a request open or is replying.

Mail in and out, the tick and the poller lease are the poller's (below, as they were).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supportdesk.clock import Clock, default_clock
from supportdesk.config import Settings
from supportdesk.desk.context import DeskContext
from supportdesk.errors import SupportDeskError
from supportdesk.store import leases
from supportdesk.store import templates as store_templates
from supportdesk.store.database import Database, open_database

if TYPE_CHECKING:
    # Each service loads when first used, so a command pays only for its own area (a
    # script's `stack --json` never loads Jinja2, mail parsing or the text index); mail
    # transports, IMAP and worker processes load only when used as well.
    from supportdesk.desk import templates as tpl
    from supportdesk.desk.agents import AgentService
    from supportdesk.desk.backlog import BacklogService, ItemChange, ItemDetail, Linked
    from supportdesk.desk.delivery import DeliveryReport
    from supportdesk.desk.fetching import FetchReport, ImapPoller, Progress
    from supportdesk.desk.importing import ImportReport
    from supportdesk.desk.merging import MergeResult, MergeService
    from supportdesk.desk.owners import OwnerService
    from supportdesk.desk.presence import PresenceService
    from supportdesk.desk.quality import QualityService
    from supportdesk.desk.replies import ReplyService
    from supportdesk.desk.report import DailyReporter, ReportResult
    from supportdesk.desk.requests import LineMove, RequestDetail, RequestService
    from supportdesk.desk.reviews import ReviewService
    from supportdesk.desk.sending import SendService
    from supportdesk.desk.stats import StatsService
    from supportdesk.desk.status import StatusService
    from supportdesk.desk.tick import TickReport
    from supportdesk.domain.records import (
        AgentRecord,
        DraftRecord,
        ItemRecord,
        ReplyAttachment,
        RequestRecord,
        Suggestion,
        TemplateRecord,
    )
    from supportdesk.domain.stats import RatingComment, ReviewSeries, StatsReport
    from supportdesk.store.messages import SearchHit
    from supportdesk.store.stats import MailboxStatus, TodayStats

__all__ = ["Desk", "DeskContext", "ItemDetail", "RequestDetail", "open_desk", "unknown_agent"]


class Desk:
    """Every operation of SupportDesk, for one configuration and one database: each method
    hands the work to the service of its area (see the module's docstring)."""

    def __init__(self, settings: Settings, db: Database, clock: Clock | None = None) -> None:
        self.ctx = DeskContext(settings, db, clock or default_clock())
        self.settings = settings
        self.db = db
        self.clock = self.ctx.clock
        self._last_tick: datetime | None = None

    @cached_property
    def _requests(self) -> RequestService:
        from supportdesk.desk.requests import RequestService

        return RequestService(self.ctx)

    @cached_property
    def _owners(self) -> OwnerService:
        from supportdesk.desk.owners import OwnerService

        return OwnerService(self.ctx)

    @cached_property
    def _replies(self) -> ReplyService:
        from supportdesk.desk.replies import ReplyService

        return ReplyService(self.ctx)

    @cached_property
    def _backlog(self) -> BacklogService:
        from supportdesk.desk.backlog import BacklogService

        return BacklogService(self.ctx)

    @cached_property
    def _templates(self) -> tpl.TemplateService:
        from supportdesk.desk.templates import TemplateService

        return TemplateService(self.ctx)

    @cached_property
    def _agents(self) -> AgentService:
        from supportdesk.desk.agents import AgentService

        return AgentService(self.ctx)

    @cached_property
    def _status(self) -> StatusService:
        from supportdesk.desk.status import StatusService

        return StatusService(self.ctx)

    @cached_property
    def _stats(self) -> StatsService:
        from supportdesk.desk.stats import StatsService

        return StatsService(self.ctx)

    @cached_property
    def reviews(self) -> ReviewService:
        """Trainees' letters held for their mentor: the queue, approve, return."""
        from supportdesk.desk.reviews import ReviewService

        return ReviewService(self.ctx)

    @cached_property
    def sending(self) -> SendService:
        """Snooze (until `3d`, `mon 9:00` ...) and undo send (`unsend`)."""
        from supportdesk.desk.sending import SendService

        return SendService(self.ctx)

    @cached_property
    def quality(self) -> QualityService:
        """Sampled answers scored by a reviewer (`[review] sample`)."""
        from supportdesk.desk.quality import QualityService

        return QualityService(self.ctx)

    @cached_property
    def presence(self) -> PresenceService:
        """Who else has a request open or is replying to it (the collision warning)."""
        from supportdesk.desk.presence import PresenceService

        return PresenceService(self.ctx)

    @cached_property
    def _reporter(self) -> DailyReporter:
        from supportdesk.desk.report import DailyReporter

        return DailyReporter(self.ctx, self.stats)

    # -- requests -------------------------------------------------------------------------

    def stack(self, limit: int = 500, line: int | None = None) -> list[RequestRecord]:
        return self._requests.stack(limit, line)

    def list_requests(self, **filters: Any) -> list[RequestRecord]:
        return self._requests.list_requests(**filters)

    def request(self, number: int) -> RequestDetail:
        return self._requests.request(number)

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        return self._requests.search(query, limit)

    def customer_requests(
        self, customer_id: int, exclude: int | None = None, limit: int = 50
    ) -> list[RequestRecord]:
        return self._requests.customer_requests(customer_id, exclude, limit)

    def save_attachment(self, attachment_id: int, folder: Path) -> Path:
        return self._requests.save_attachment(attachment_id, folder)

    def close(self, number: int, reason: str, agent: str) -> None:
        self._requests.close(number, reason, agent)

    @cached_property
    def _merging(self) -> MergeService:
        from supportdesk.desk.merging import MergeService

        return MergeService(self.ctx)

    def merge(self, number: int, into: int, agent: str) -> MergeResult:
        """Merge duplicate request `number` into request `into` (see desk.merging)."""
        return self._merging.merge(number, into, agent)

    def set_language(self, number: int, language: str, agent: str) -> None:
        self._requests.set_language(number, language, agent)

    def set_priority(self, number: int, priority: str, agent: str) -> str:
        return self._requests.set_priority(number, priority, agent)

    def change_tags(
        self, number: int, add: list[str], remove: list[str], agent: str
    ) -> tuple[list[str], list[str]]:
        return self._requests.change_tags(number, add, remove, agent)

    def known_tags(self) -> list[str]:
        return self._requests.known_tags()

    def add_note(self, number: int, text: str, agent: str) -> None:
        self._requests.add_note(number, text, agent)

    def escalate(
        self,
        number: int,
        agent: str,
        note: str,
        *,
        to_line: int | None = None,
        to_agent: str | None = None,
        seen_line: int | None = None,
    ) -> LineMove:
        return self._requests.escalate(
            number, agent, note, to_line=to_line, to_agent=to_agent, seen_line=seen_line
        )

    def handback(
        self, number: int, agent: str, note: str, *, seen_line: int | None = None
    ) -> LineMove:
        return self._requests.handback(number, agent, note, seen_line=seen_line)

    def claim(self, number: int, agent: str) -> bool:
        return self._requests.claim(number, agent)

    def release(self, number: int, agent: str) -> bool:
        return self._requests.release(number, agent)

    def claim_next(self, agent: str) -> RequestRecord | None:
        return self._requests.claim_next(agent)

    def assign(self, number: int, assignee: str | None, agent: str) -> bool:
        """`agent` makes `assignee` (None: nobody) the owner; True when the owner changed."""
        return self._owners.assign(number, assignee, agent)

    def mine(self, agent: str, limit: int = 500) -> list[RequestRecord]:
        """The requests assigned to `agent`, whatever their status but closed."""
        return self._owners.mine(agent, limit)

    def save_draft(
        self,
        number: int,
        agent: str,
        text: str,
        template: str | None = None,
        attachments: list[str] | None = None,
    ) -> None:
        self._requests.save_draft(number, agent, text, template, attachments)

    def draft(self, number: int, agent: str) -> DraftRecord | None:
        return self._requests.draft(number, agent)

    def drop_draft(self, number: int, agent: str) -> None:
        self._requests.drop_draft(number, agent)

    def unsent_drafts(self, agent: str) -> list[int]:
        return self._requests.unsent_drafts(agent)

    def raw_message(self, pk: int) -> bytes:
        return self._requests.raw_message(pk)

    # -- answers --------------------------------------------------------------------------

    def reply(
        self,
        number: int,
        body: str,
        agent: str,
        template: str | None = None,
        *,
        cc: list[str] | None = None,
        idempotency_key: str | None = None,
        attachments: list[ReplyAttachment] | None = None,
        close: str | None = None,
        snooze_until: datetime | None = None,
    ) -> str:
        return self._replies.reply(
            number,
            body,
            agent,
            template,
            cc=cc,
            idempotency_key=idempotency_key,
            attachments=attachments,
            close=close,
            snooze_until=snooze_until,
        )

    def read_attachment(self, path: str) -> ReplyAttachment:
        """The file at `path` (`~` expanded) ready to attach to an answer."""
        return self._replies.read_attachment(path)

    def check_attachments(self, attachments: list[ReplyAttachment]) -> None:
        """Refuse (one line) attachments over `[outgoing] attachment_limit` together."""
        self._replies.check_attachments(attachments)

    def reply_cc(self, number: int) -> list[str]:
        return self._replies.reply_cc(number)

    def unsend(self, message_id: str, agent: str) -> str:
        """Take back `agent`'s reply before delivery (see `sending.unsend`); returns its text,
        which is the agent's draft again."""
        return self.sending.unsend(message_id, agent).text

    def keyed_reply(self, number: int, key: str) -> str | None:
        return self._replies.keyed_reply(number, key)

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
        attachments: list[ReplyAttachment] | None = None,
        close: str | None = None,
        snooze_until: datetime | None = None,
    ) -> tuple[str, tpl.Rendered]:
        return self._replies.reply_with_template(
            number,
            name,
            agent,
            extra,
            language,
            cc=cc,
            idempotency_key=idempotency_key,
            attachments=attachments,
            close=close,
            snooze_until=snooze_until,
        )

    # -- agents ---------------------------------------------------------------------------

    def ensure_agent(
        self, login: str, name: str = "", email: str = "", role: str = "agent"
    ) -> bool:
        return self._agents.ensure_agent(login, name, email, role)

    def first_admin(self, login: str, name: str = "") -> bool:
        return self._agents.first_admin(login, name)

    def add_agent(
        self,
        login: str,
        name: str = "",
        email: str = "",
        role: str = "agent",
        languages: list[str] | None = None,
        line: int = 1,
    ) -> AgentRecord:
        return self._agents.add_agent(login, name, email, role, languages, line)

    def set_agent_active(self, login: str, active: bool) -> int:
        return self._agents.set_agent_active(login, active)

    def set_agent_line(self, login: str, line: int) -> AgentRecord:
        return self._agents.set_agent_line(login, line)

    def agent_line(self, login: str) -> int:
        return self._agents.agent_line(login)

    def set_training(self, login: str, trainee: bool, mentor: str | None = None) -> AgentRecord:
        return self._agents.set_training(login, trainee, mentor)

    def set_agent_details(
        self,
        login: str,
        *,
        name: str | None = None,
        email: str | None = None,
        signature: str | None = None,
        language: str = "",
    ) -> AgentRecord:
        return self._agents.set_details(
            login, name=name, email=email, signature=signature, language=language
        )

    def signatures(self, login: str) -> dict[str, str]:
        return self._agents.signatures(login)

    def acting_agent(self, login: str, *, admin: str | None = None) -> AgentRecord:
        return self._agents.acting_agent(login, admin=admin)

    def template_manager(self, login: str, owner: str | None, action: str) -> AgentRecord:
        return self._agents.template_manager(login, owner, action)

    def console_agent(self, login: str) -> AgentRecord:
        return self._agents.console_agent(login)

    def agents(self) -> list[AgentRecord]:
        return self._agents.agents()

    # -- bugs, ideas and stories ----------------------------------------------------------

    def items(
        self,
        kind: str | None = None,
        statuses: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> list[ItemRecord]:
        return self._backlog.items(kind, statuses, limit)

    def item(self, number: int) -> ItemDetail:
        return self._backlog.item(number)

    def item_draft(self, number: int) -> tuple[str, str]:
        return self._backlog.item_draft(number)

    def search_items(
        self, query: str, number: int | None = None, limit: int = 10
    ) -> list[ItemRecord]:
        return self._backlog.search_items(query, number, limit)

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
        return self._backlog.convert(
            number, kind, agent, title=title, description=description, ref=ref, move=move
        )

    def attach(self, number: int, item: int, agent: str, *, move: bool = False) -> Linked:
        return self._backlog.attach(number, item, agent, move=move)

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
        return self._backlog.set_item(
            number, agent, status=status, ref=ref, title=title, description=description
        )

    def fix_item(
        self,
        number: int,
        agent: str,
        *,
        status: str = "fixed",
        notify: bool = False,
        progress: Progress | None = None,
    ) -> ItemChange:
        return self._backlog.fix_item(
            number, agent, status=status, notify=notify, progress=progress
        )

    # -- templates --------------------------------------------------------------------------

    def templates(
        self, agent: str | None, *, shadowed: bool = False, for_request: int | None = None
    ) -> list[TemplateRecord]:
        return self._templates.templates(agent, shadowed=shadowed, for_request=for_request)

    def template(self, name: str, agent: str | None, language: str | None = None) -> TemplateRecord:
        return self._templates.template(name, agent, language)

    def template_scopes(self, name: str, agent: str) -> list[str]:
        return self._templates.template_scopes(name, agent)

    def free_template_name(self, name: str, agent: str) -> str:
        return self._templates.free_template_name(name, agent)

    def save_template_from(self, record: TemplateRecord, name: str, owner: str) -> str:
        return self._templates.save_template_from(record, name, owner)

    def add_template(
        self,
        name: str,
        text: str,
        *,
        owner: str | None,
        language: str | None = None,
        source: str = "the template",
    ) -> str:
        return self._templates.add_template(
            name, text, owner=owner, language=language, source=source
        )

    def remove_template(self, name: str, *, owner: str | None, language: str | None = None) -> int:
        return self._templates.remove_template(name, owner=owner, language=language)

    def import_templates(self, folder: Path, owner: str | None = None) -> tpl.ImportReport:
        return self._templates.import_templates(folder, owner)

    def export_templates(self, folder: Path, owner: str | None = None) -> list[Path]:
        return self._templates.export_templates(folder, owner)

    def render_template(
        self, name: str, agent: str, number: int | None = None, language: str | None = None
    ) -> tpl.Rendered:
        return self._templates.render_template(name, agent, number, language)

    def search_templates(
        self,
        query: str,
        agent: str | None,
        language: str | None = None,
        limit: int = 20,
        *,
        number: int | None = None,
    ) -> list[tuple[TemplateRecord, float]]:
        return self._templates.search_templates(query, agent, language, limit, number=number)

    def suggest_templates(
        self, number: int, agent: str, limit: int = 5
    ) -> list[tuple[TemplateRecord, float]]:
        return self._templates.suggest_templates(number, agent, limit)

    def suggestions(self, number: int, agent: str, limit: int = 5) -> list[Suggestion]:
        """`suggest_templates` with what the console and `templates suggest` show: each
        one's fit in 0..1, the words it matched, and the one `r` preselects (if any)."""
        return self._templates.suggestions(number, agent, limit)

    # -- how the desk is doing --------------------------------------------------------------

    def today(self) -> TodayStats:
        return self._status.today()

    def stats(self, since: datetime, until: datetime, by: str = "day") -> StatsReport:
        """The team's figures of [since, until) by day, week, agent, tag or language."""
        return self._stats.stats(since, until, by)

    def review_series(self, since: datetime, until: datetime, by: str, agent: str) -> ReviewSeries:
        """`agent`'s review figures (letters reviewed, returned, quality scores) per day or
        week of [since, until)."""
        return self._stats.review_series(since, until, by, agent)

    def ratings(self, number: int) -> list[RatingComment]:
        """The customer's ratings of a request, oldest first."""
        return self._requests.ratings(number)

    def mailbox_status(self) -> MailboxStatus:
        return self._status.mailbox_status()

    def outbox_counts(self) -> dict[str, int]:
        return self._status.outbox_counts()

    def outbox_pending(self) -> dict[str, int]:
        return self._status.outbox_pending()

    def check(
        self, *, full: bool = False, repair: bool = False, pages_checked: bool = False
    ) -> list[Any]:
        return self._status.check(full=full, repair=repair, pages_checked=pages_checked)

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

    def daily_report_if_due(self, holder: str) -> ReportResult | None:
        """Mail yesterday's figures to `[stats] report_to` when the report time has come and
        no process has sent them yet (the poller's round; desk/report.py)."""
        return self._reporter.run_if_due(holder)

    def close_database(self) -> None:
        self.db.close()

    def watch_changes(self, on_change: Callable[[], None]) -> Callable[[], None] | None:
        """Call `on_change` (from another thread) when another process commits a change:
        LISTEN/NOTIFY on PostgreSQL. Returns what stops it; None on SQLite, where the
        console polls `data_version()` instead."""
        return self.db.listen(on_change)

    def data_version(self) -> int:
        """Changes whenever another connection or process commits (the console polls it)."""
        return self.db.data_version()

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


def open_desk(settings: Settings, clock: Clock | None = None, *, upgrade: bool = True) -> Desk:
    """Open the configured database (upgrading its schema) and return the Desk.

    A desk without system templates gets the shipped ones: the workflow sends them."""
    desk = Desk(settings, open_database(settings.database_url, upgrade=upgrade), clock)
    if upgrade:
        with desk.db.read() as conn:
            missing = store_templates.count_in_scope(conn, "system") == 0
        if missing:
            from supportdesk.desk.templates import ensure_system_templates

            with desk.db.write() as conn:
                ensure_system_templates(conn, desk.clock.now())
    return desk


def __getattr__(name: str) -> Any:
    """`RequestDetail`, `ItemDetail` and `unknown_agent` load with their service."""
    if name == "RequestDetail":
        from supportdesk.desk.requests import RequestDetail

        return RequestDetail
    if name == "ItemDetail":
        from supportdesk.desk.backlog import ItemDetail

        return ItemDetail
    if name == "unknown_agent":
        from supportdesk.desk.agents import unknown_agent

        return unknown_agent
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
