"""Merging duplicates: request N's conversation moves into request M and N closes as a
`duplicate` pointing at M; later replies to N thread into M (desk.intake follows
`merged_into`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from supportdesk.desk.context import DeskContext
from supportdesk.domain import lifecycle
from supportdesk.errors import NotFoundError, SupportDeskError
from supportdesk.store import agents, merging, notes, requests
from supportdesk.store.events import add_event


@dataclass(slots=True)
class MergeResult:
    """What a merge did."""

    source: int
    target: int
    moved: dict[str, int]
    """Messages moved, by direction (in, out, note)."""
    tags_added: list[str] = field(default_factory=list)
    other_customer: str | None = None
    """The duplicate's customer, when not the target's (the same person, often)."""
    target_status: str = ""
    drafts_dropped: int = 0

    @property
    def messages(self) -> int:
        return sum(self.moved.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.source,
            "merged_into": self.target,
            "messages_moved": self.messages,
            "moved": self.moved,
            "tags_added": self.tags_added,
            "other_customer": self.other_customer,
            "target_status": self.target_status,
            "drafts_dropped": self.drafts_dropped,
        }


class MergeService:
    def __init__(self, ctx: DeskContext) -> None:
        self.ctx = ctx

    def merge(self, source: int, target: int, agent: str) -> MergeResult:
        """Merge request `source` into request `target` in one write transaction (see the
        module's docstring); refuses with one clear line what cannot be merged."""
        refusal = lifecycle.merge_refusal(source, target, None, None)
        if refusal:
            raise SupportDeskError(refusal)
        now = self.ctx.now()
        from supportdesk.mail.compose import make_message_id

        with self.ctx.db.write() as conn:
            merging.lock_pair(conn, [source, target])
            n = requests.get_request(conn, source)
            m = requests.get_request(conn, target)
            for number, record in ((source, n), (target, m)):
                if record is None:
                    raise NotFoundError(f"request #{number} does not exist")
            assert n is not None and m is not None
            refusal = lifecycle.merge_refusal(source, target, n.merged_into, m.merged_into)
            if refusal:
                raise SupportDeskError(refusal)
            if not merging.close_merged(conn, source, n.status, lifecycle.merged(target, now)):
                raise SupportDeskError(
                    f"#{source} was changed by someone else meanwhile: look again and retry"
                )
            last_in, last_out = merging.last_times(conn, source)
            moved = merging.move_conversation(conn, source, target)
            merging.add_counts(conn, target, moved, last_in, last_out, now)
            tags = merging.copy_tags(conn, source, target)
            dropped = merging.drop_drafts(conn, source)
            change = lifecycle.merge_target(n.status, m.status, now)
            if change:
                requests.update_request(conn, target, **change)
                add_event(conn, target, now, "push", actor=agent, reason=change["reason"])
            other = n.customer_email if n.customer_email != m.customer_email else None
            detail: dict[str, Any] = {
                "from": source,
                "into": target,
                "messages": sum(moved.values()),
            }
            if other:
                detail["other_customer"] = other
            add_event(conn, source, now, "merged", actor=agent, reason="into", detail=detail)
            add_event(conn, target, now, "merged", actor=agent, reason="from", detail=detail)
            count = sum(moved.values())
            text = (
                f"Merged #{source} into this request ({count} message{'' if count == 1 else 's'})."
            )
            if other:
                text += f" Its customer was {other}, not {m.customer_email}."
            person = agents.get_agent(conn, agent)
            domain = self.ctx.settings.desk.address.rpartition("@")[2]
            notes.add_note(
                conn,
                target,
                "note." + make_message_id(domain),
                text + "\n",
                m.subject,
                agent,
                person.name if person else agent,
                now,
            )
            status = str(change.get("status", m.status))
        return MergeResult(source, target, moved, tags, other, status, dropped)
