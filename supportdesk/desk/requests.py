"""Working requests: the stack, listings, one request with its thread, full-text search,
claims, closing, internal notes, drafts and the language a request is answered in."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supportdesk.config import Settings
from supportdesk.desk.context import DeskContext
from supportdesk.desk.senders import message_json, request_json
from supportdesk.domain import lifecycle
from supportdesk.domain.enums import Reason
from supportdesk.domain.stats import RatingComment
from supportdesk.domain.tags import check_priority, normalise_tag
from supportdesk.errors import NotFoundError, SupportDeskError
from supportdesk.store import agents, claims, drafts, events, messages, notes, ratings, requests
from supportdesk.store.drafts import DraftRecord
from supportdesk.store.events import add_event, events_of
from supportdesk.store.records import MessageRecord, RequestRecord


@dataclass(slots=True)
class RequestDetail:
    request: RequestRecord
    messages: list[MessageRecord]
    events: list[dict[str, Any]]
    ratings: list[RatingComment] = field(default_factory=list)
    """The customer's ratings (satisfaction by reply), oldest first."""

    def as_dict(self) -> dict[str, Any]:
        return {
            **request_json(self.request),
            "messages": [message_json(m) for m in self.messages],
            "events": self.events,
            "ratings": [r.as_dict() for r in self.ratings],
        }


@dataclass(slots=True)
class LineMove:
    """What an escalation or hand-back did."""

    number: int
    moved: bool
    """False: another agent moved the request first (the note was added all the same)."""
    from_line: int
    to_line: int
    """Where this move meant it to go."""
    line: int
    """The line the request is on now."""
    assignee: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "moved": self.moved,
            "from_line": self.from_line,
            "to_line": self.to_line,
            "line": self.line,
            "assignee": self.assignee,
        }


class RequestService:
    """What an agent does with requests, outside answering them (desk/replies.py)."""

    def __init__(self, ctx: DeskContext) -> None:
        self.ctx = ctx

    # -- reading --------------------------------------------------------------------------

    def stack(self, limit: int = 500, line: int | None = None) -> list[RequestRecord]:
        """The stack as agents work it: pinned requests (first answer due soon) first, then
        last in, first out. With `line`, only that line's requests; without, every line's."""
        pin_before = self.ctx.now() + self.ctx.settings.sla.warn_before
        with self.ctx.db.read() as conn:
            return requests.stack(conn, limit, pin_before, line)

    def list_requests(self, **filters: Any) -> list[RequestRecord]:
        with self.ctx.db.read() as conn:
            return requests.list_requests(conn, **filters)

    def request(self, number: int) -> RequestDetail:
        with self.ctx.db.read() as conn:
            record = requests.get_request(conn, number)
            if record is None:
                raise NotFoundError(f"request #{number} does not exist")
            return RequestDetail(
                record,
                messages.messages_of(conn, number),
                events_of(conn, number),
                ratings.of_request(conn, number),
            )

    def search(self, query: str, limit: int = 50) -> list[messages.SearchHit]:
        with self.ctx.db.read() as conn:
            return messages.search(conn, query, limit)

    def customer_requests(
        self, customer_id: int, exclude: int | None = None, limit: int = 50
    ) -> list[RequestRecord]:
        """The customer's requests, newest first."""
        with self.ctx.db.read() as conn:
            return requests.customer_requests(conn, customer_id, exclude, limit)

    def save_attachment(self, attachment_id: int, folder: Path) -> Path:
        """Decode an attachment and save it under `folder` with a sanitised, unused name."""
        from supportdesk.mail.parse import Attachment, attachment_bytes
        from supportdesk.mail.sanitize import safe_filename

        with self.ctx.db.read() as conn:
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

    # -- changing -------------------------------------------------------------------------

    def close(self, number: int, reason: str, agent: str) -> None:
        """Close a request (it leaves the stack); a later customer message reopens it."""
        if reason not in lifecycle.CLOSE_REASONS:
            raise SupportDeskError(
                f"unknown close reason {reason!r}: use one of " + ", ".join(lifecycle.CLOSE_REASONS)
            )
        now = self.ctx.now()
        with self.ctx.db.write() as conn:
            if requests.get_request(conn, number) is None:
                raise NotFoundError(f"request #{number} does not exist")
            requests.update_request(conn, number, **lifecycle.closed(reason, now))
            add_event(conn, number, now, "close", actor=agent, reason=reason)

    def set_language(self, number: int, language: str, agent: str) -> None:
        """The language templates use for this request (an agent may correct the guess)."""
        from supportdesk.templating.files import check_language

        language = check_language(language)
        with self.ctx.db.write() as conn:
            if not requests.update_request(conn, number, language=language):
                raise NotFoundError(f"request #{number} does not exist")
            add_event(conn, number, self.ctx.now(), "language", actor=agent, reason=language)

    def set_priority(self, number: int, priority: str, agent: str) -> str:
        """Set how soon request `number` needs an answer (urgent is pinned on the stack); the
        priority it had. A 'priority' event with from/to when it changes (the last writer
        wins: it is a field set, and the timeline keeps each change)."""
        priority = check_priority(priority)
        with self.ctx.db.write() as conn:
            request = requests.get_request(conn, number)
            if request is None:
                raise NotFoundError(f"request #{number} does not exist")
            if request.priority != priority:
                requests.update_request(conn, number, priority=priority)
                add_event(
                    conn,
                    number,
                    self.ctx.now(),
                    "priority",
                    actor=agent,
                    reason=priority,
                    detail={"from": request.priority, "to": priority},
                )
            return request.priority

    def change_tags(
        self, number: int, add: list[str], remove: list[str], agent: str
    ) -> tuple[list[str], list[str]]:
        """Tag and untag request `number` (tags normalised: lower-case, checked); the tags
        actually added and removed. Each tag is its own row, so two agents tagging at once
        keep both; one 'tags' event with what changed, none when nothing did."""
        add = [normalise_tag(tag) for tag in add]
        remove = [normalise_tag(tag) for tag in remove]
        with self.ctx.db.write() as conn:
            if requests.get_request(conn, number) is None:
                raise NotFoundError(f"request #{number} does not exist")
            added = [tag for tag in dict.fromkeys(add) if requests.add_tag(conn, number, tag)]
            removed = [
                tag for tag in dict.fromkeys(remove) if requests.remove_tag(conn, number, tag)
            ]
            if added or removed:
                add_event(
                    conn,
                    number,
                    self.ctx.now(),
                    "tags",
                    actor=agent,
                    detail={"added": added, "removed": removed},
                )
            return added, removed

    def known_tags(self) -> list[str]:
        """Every tag in use, in order (for completion)."""
        with self.ctx.db.read() as conn:
            return requests.known_tags(conn)

    def add_note(self, number: int, text: str, agent: str) -> None:
        """An internal note in the thread; customers never see it."""
        if not text.strip():
            raise SupportDeskError("the note is empty")
        now = self.ctx.now()
        with self.ctx.db.write() as conn:
            request = requests.get_request(conn, number)
            if request is None:
                raise NotFoundError(f"request #{number} does not exist")
            write_note(conn, self.ctx.settings, request, text, agent, now)

    # -- lines ----------------------------------------------------------------------------

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
        """Move a request up: to the next line, to line `to_line`, or to `to_agent`'s line
        and assigned to them; on top of that line's stack, with an internal note (the
        customer gets nothing). A compare-and-set on the line it was read at: of two agents
        escalating at once one moves it, and the other's note is kept (moved False).
        `seen_line`: the line the agent saw it on (the console's row); when it has moved
        since, it is not moved again (the note is kept)."""
        if to_line is not None and to_agent is not None:
            raise SupportDeskError("give a line or an agent to escalate to, not both")
        if to_line is not None and to_line < 1:
            raise SupportDeskError(f"no line {to_line}: lines are 1, 2, 3 …")
        return self._move(
            number, agent, note, "escalate", to_line=to_line, to_agent=to_agent, seen=seen_line
        )

    def handback(
        self, number: int, agent: str, note: str, *, seen_line: int | None = None
    ) -> LineMove:
        """Hand a request back down: to the line its last escalation came from (else the
        first), nobody assigned, on top of that line's stack, with an internal note."""
        return self._move(number, agent, note, "handback", seen=seen_line)

    def _move(
        self,
        number: int,
        agent: str,
        note: str,
        kind: str,
        *,
        to_line: int | None = None,
        to_agent: str | None = None,
        seen: int | None = None,
    ) -> LineMove:
        what = "escalating" if kind == "escalate" else "handing back"
        if not note.strip():
            raise SupportDeskError(
                f"{what} #{number} needs a note saying why (--note TEXT): "
                "it stays in the thread, the customer never sees it"
            )
        now = self.ctx.now()
        with self.ctx.db.write() as conn:
            request = requests.get_request(conn, number)
            if request is None:
                raise NotFoundError(f"request #{number} does not exist")
            if request.merged_into is not None:
                raise SupportDeskError(
                    f"cannot {kind} #{number}: it was merged into #{request.merged_into}; "
                    f"{kind} #{request.merged_into} instead"
                )
            current = request.line
            base = current if seen is None else seen  # the line the agent acts on
            try:
                if kind == "escalate":
                    target_line = None
                    if to_agent is not None:
                        person = agents.get_agent(conn, to_agent)
                        if person is None:
                            raise NotFoundError(
                                f"no agent {to_agent!r} to escalate to: "
                                "`supportdesk agents list` shows who there is"
                            )
                        target_line = person.line
                    target = lifecycle.escalation_target(base, to_line, target_line)
                    reason = Reason.ESCALATED
                else:
                    came = events.last_detail(conn, number, "escalate")
                    came_from = came.get("from_line") if came else None
                    if came and came.get("to_line") != base:
                        came_from = None  # moved since: that escalation is not how it got here
                    target = lifecycle.handback_target(
                        base, came_from if isinstance(came_from, int) else None
                    )
                    reason = Reason.HANDED_BACK
            except ValueError as exc:
                raise SupportDeskError(f"cannot {kind} #{number}: {exc}") from None
            change = lifecycle.line_moved(reason, target, now, assignee=to_agent)
            moved = base == current and requests.move_line(conn, number, current, **change)
            write_note(conn, self.ctx.settings, request, note, agent, now)
            if moved:
                detail: dict[str, Any] = {"from_line": base, "to_line": target, "note": note}
                if kind == "escalate":
                    detail["to_agent"] = to_agent
                add_event(conn, number, now, kind, actor=agent, reason=reason, detail=detail)
                line_now = target
            else:
                found = requests.get_request(conn, number)
                line_now = found.line if found else current
        return LineMove(number, moved, base, target, line_now, to_agent if moved else None)

    # -- claims ---------------------------------------------------------------------------

    def claim(self, number: int, agent: str) -> bool:
        """Claim (or renew) request `number` for `agent` for `workflow.claim_ttl`; False when
        another agent holds an unexpired claim. A 'claim' event only when newly claimed."""
        now = self.ctx.now()
        with self.ctx.db.write() as conn:
            exists, holder = claims.holder(conn, number, now)
            if not exists:
                raise NotFoundError(f"request #{number} does not exist")
            until = now + self.ctx.settings.workflow.claim_ttl
            if not claims.claim(conn, number, agent, now, until):
                return False
            if holder != agent:
                add_event(conn, number, now, "claim", actor=agent)
            return True

    def release(self, number: int, agent: str) -> bool:
        """Drop `agent`'s claim on request `number`; False when the agent held none."""
        with self.ctx.db.write() as conn:
            if requests.get_request(conn, number) is None:
                raise NotFoundError(f"request #{number} does not exist")
            released = claims.release(conn, number, agent)
            if released:
                add_event(conn, number, self.ctx.now(), "release", actor=agent)
            return released

    def claim_next(self, agent: str) -> RequestRecord | None:
        """Claim the top of the agent's line's stack that nobody else holds ("take next");
        None when there is nothing to take. The agent's own claims count as free; a login
        that is not in the agents table works the first line."""
        now = self.ctx.now()
        settings = self.ctx.settings
        with self.ctx.db.write() as conn:
            person = agents.get_agent(conn, agent)
            line = person.line if person else 1
            held = claims.held_by(conn, agent, now)
            until = now + settings.workflow.claim_ttl
            pin_before = now + settings.sla.warn_before
            number = claims.claim_next(conn, agent, now, until, pin_before, line)
            if number is None:
                return None
            if number not in held:
                add_event(conn, number, now, "claim", actor=agent)
            return requests.get_request(conn, number)

    # -- drafts ---------------------------------------------------------------------------

    def save_draft(
        self,
        number: int,
        agent: str,
        text: str,
        template: str | None = None,
        attachments: list[str] | None = None,
    ) -> None:
        """Keep what `agent` is writing to request `number` (it survives closing the console),
        with the paths of the files attached (None: those kept before)."""
        with self.ctx.db.write() as conn:
            if requests.get_request(conn, number) is None:
                raise NotFoundError(f"request #{number} does not exist")
            drafts.save_draft(conn, number, agent, text, template, self.ctx.now(), attachments)

    def draft(self, number: int, agent: str) -> DraftRecord | None:
        with self.ctx.db.read() as conn:
            return drafts.get_draft(conn, number, agent)

    def drop_draft(self, number: int, agent: str) -> None:
        with self.ctx.db.write() as conn:
            drafts.drop_draft(conn, number, agent)

    def unsent_drafts(self, agent: str) -> list[int]:
        """The requests `agent` has begun an answer to and not sent (a draft with text)."""
        with self.ctx.db.read() as conn:
            return drafts.draft_numbers(conn, agent)

    def raw_message(self, pk: int) -> bytes:
        """The message's source as received or sent (headers and body), as stored."""
        with self.ctx.db.read() as conn:
            raw = messages.raw_of(conn, pk)
        if raw is None:
            raise NotFoundError(f"message {pk} has no stored source")
        return raw

    # -- ratings ----------------------------------------------------------------------------

    def ratings(self, number: int) -> list[RatingComment]:
        """The customer's ratings of a request, oldest first."""
        with self.ctx.db.read() as conn:
            if requests.get_request(conn, number) is None:
                raise NotFoundError(f"request #{number} does not exist")
            return ratings.of_request(conn, number)


def write_note(
    conn: Any, settings: Settings, request: RequestRecord, text: str, agent: str, now: Any
) -> int:
    """Add internal note `text` by `agent` to the request's thread (inside the caller's
    write transaction), with its `note` event; returns the note's message pk."""
    from supportdesk.mail.compose import make_message_id

    person = agents.get_agent(conn, agent)
    pk = notes.add_note(
        conn,
        request.number,
        "note." + make_message_id(settings.desk.address.rpartition("@")[2]),
        text.rstrip() + "\n",
        request.subject,
        agent,
        person.name if person else agent,
        now,
    )
    add_event(conn, request.number, now, "note", actor=agent, detail={"message": pk})
    return pk
