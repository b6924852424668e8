"""The workflow core: plain synchronous Python, no Textual and no Typer.

`Desk` is the one object the console and the CLI talk to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supportdesk.clock import Clock, default_clock
from supportdesk.config import Settings
from supportdesk.desk import replies
from supportdesk.errors import NotFoundError, SupportDeskError
from supportdesk.mail.parse import Attachment, attachment_bytes
from supportdesk.mail.sanitize import safe_filename
from supportdesk.store import agents, messages, outbox, requests
from supportdesk.store.database import Database, open_database
from supportdesk.store.events import events_of
from supportdesk.store.records import MessageRecord, RequestRecord

if TYPE_CHECKING:  # mail transports, IMAP and worker processes load only when used
    from supportdesk.desk.delivery import DeliveryReport
    from supportdesk.desk.fetching import FetchReport, ImapPoller, Progress
    from supportdesk.desk.intake import IngestReport

__all__ = ["Desk", "RequestDetail", "open_desk"]


@dataclass(slots=True)
class RequestDetail:
    request: RequestRecord
    messages: list[MessageRecord]
    events: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.request.as_dict(),
            "messages": [m.as_dict() for m in self.messages],
            "events": self.events,
        }


class Desk:
    """Every operation of SupportDesk, for one configuration and one database."""

    def __init__(self, settings: Settings, db: Database, clock: Clock | None = None) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock or default_clock()

    # -- reading ------------------------------------------------------------------------

    def stack(self, limit: int = 500) -> list[RequestRecord]:
        with self.db.read() as conn:
            return requests.stack(conn, limit)

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
            agents.add_agent(conn, login, name or login, email, role, self.clock.now())
            return True

    def agents(self) -> list[agents.AgentRecord]:
        with self.db.read() as conn:
            return agents.list_agents(conn)

    # -- working requests -----------------------------------------------------------------

    def reply(self, number: int, body: str, agent: str) -> str:
        return replies.reply(self.db, self.settings, self.clock.now(), number, body, agent)

    def close(self, number: int, reason: str, agent: str) -> None:
        replies.close(self.db, self.clock.now(), number, reason, agent)

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
    ) -> IngestReport:
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

    def close_database(self) -> None:
        self.db.close()


def open_desk(settings: Settings, clock: Clock | None = None, *, upgrade: bool = True) -> Desk:
    """Open the configured database (upgrading its schema) and return the Desk."""
    return Desk(settings, open_database(settings.database_url, upgrade=upgrade), clock)
