"""The tick: the time-based rules, run every minute by the process holding the poller lease
and on demand by `supportdesk tick`.

- A waiting request silent for `workflow.follow_up_after` goes back on the stack as a
  follow-up (or, with `workflow.auto_remind`, gets its reminder without an agent).
- After `workflow.max_reminders` reminders and another `follow_up_after` of silence it is
  closed `no_reply`, and `closed_no_reply` is sent when `workflow.notify_on_auto_close`.
- A waiting request whose snooze time came goes back on top (`snoozed`); follow-ups wait
  while a request is snoozed.
- Claims past their time are dropped.
- Requests without a first answer are marked when it is due soon and when it is overdue.

Every rule is idempotent (see store/followups.py): two ticks at once never remind or close
a request twice. Each rule runs in its own transaction, so one rule's failure does not undo
another's work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from supportdesk.config import Settings
from supportdesk.desk import templates
from supportdesk.desk.replies import queue_mail
from supportdesk.domain import lifecycle
from supportdesk.errors import SupportDeskError
from supportdesk.store import followups
from supportdesk.store import messages as msgs
from supportdesk.store import requests as reqs
from supportdesk.store.agents import get_agent
from supportdesk.store.database import Connection, Database
from supportdesk.store.events import add_event
from supportdesk.store.records import RequestRecord

POLLER_LEASE = "poller"
"""The lease whose holder polls the mailbox, delivers the outbox and runs the tick."""
TICK_EVERY = timedelta(minutes=1)


@dataclass(slots=True)
class TickReport:
    at: datetime
    follow_ups: list[int] = field(default_factory=list)
    """Pushed back on the stack for an agent to send a reminder."""
    reminders: list[int] = field(default_factory=list)
    """Reminded without an agent (auto_remind)."""
    closed: list[int] = field(default_factory=list)
    """Closed no_reply."""
    notices: list[int] = field(default_factory=list)
    """closed_no_reply sent."""
    claims_expired: list[int] = field(default_factory=list)
    sla_warned: list[int] = field(default_factory=list)
    sla_overdue: list[int] = field(default_factory=list)
    snoozed: list[int] = field(default_factory=list)
    """Back on top: their snooze ended and the customer had not written."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "follow_ups": self.follow_ups,
            "reminders": self.reminders,
            "closed": self.closed,
            "notices": self.notices,
            "claims_expired": self.claims_expired,
            "sla_warned": self.sla_warned,
            "sla_overdue": self.sla_overdue,
            "snoozed": self.snoozed,
        }

    def lines(self) -> list[str]:
        """What happened, for a person; nothing when nothing did."""
        parts = [
            ("back on top after a snooze", self.snoozed),
            ("back on the stack as follow-ups", self.follow_ups),
            ("reminded automatically", self.reminders),
            ("closed after the reminders went unanswered", self.closed),
            ("first answer due soon", self.sla_warned),
            ("first answer overdue", self.sla_overdue),
            ("claims expired", self.claims_expired),
        ]
        return [f"{len(numbers)} {what}: {_numbers(numbers)}" for what, numbers in parts if numbers]

    @property
    def changed(self) -> bool:
        return bool(self.lines())


def _numbers(numbers: list[int], shown: int = 10) -> str:
    text = ", ".join(f"#{n}" for n in sorted(numbers)[:shown])
    return text + (f" and {len(numbers) - shown} more" if len(numbers) > shown else "")


def tick(db: Database, settings: Settings, now: datetime) -> TickReport:
    report = TickReport(now)
    workflow = settings.workflow
    silent_since = now - workflow.follow_up_after
    with db.write() as conn:
        report.snoozed = followups.wake_snoozed(conn, now)
        followups.add_events(conn, now, "snooze_ended", report.snoozed, reason="snoozed")
    with db.write() as conn:
        _close_or_push_silent(conn, settings, now, silent_since, report)
    with db.write() as conn:
        if workflow.auto_remind:
            _remind(conn, settings, now, silent_since, report)
        else:
            pushed = followups.push_follow_ups(
                conn, now, silent_since, below=workflow.max_reminders
            )
            _pushed(conn, now, pushed, report)
    with db.write() as conn:
        expired = followups.expire_claims(conn, now)
        report.claims_expired = [n for n, _ in expired]
        followups.add_events(
            conn,
            now,
            "claim_expired",
            report.claims_expired,
            detail={n: {"agent": by} for n, by in expired},
        )
    with db.write() as conn:
        warned, overdue = followups.mark_sla(conn, now, now + settings.sla.warn_before)
        report.sla_warned, report.sla_overdue = warned, overdue
        followups.add_events(conn, now, "sla_warning", warned)
        followups.add_events(conn, now, "sla_overdue", overdue)
    return report


def _pushed(
    conn: Connection, now: datetime, pushed: list[tuple[int, int]], report: TickReport
) -> None:
    report.follow_ups += [n for n, _ in pushed]
    followups.add_events(
        conn,
        now,
        "push",
        [n for n, _ in pushed],
        reason="follow_up",
        detail={n: {"reminders": count} for n, count in pushed},
    )


def _close_or_push_silent(
    conn: Connection, settings: Settings, now: datetime, silent_since: datetime, report: TickReport
) -> None:
    workflow = settings.workflow
    if not workflow.auto_close:
        pushed = followups.push_follow_ups(conn, now, silent_since, at_least=workflow.max_reminders)
        _pushed(conn, now, pushed, report)
        return
    closed = followups.close_silent(conn, now, silent_since, workflow.max_reminders)
    report.closed = closed
    followups.add_events(conn, now, "close", closed, reason="no_reply")
    if not workflow.notify_on_auto_close:
        return
    for request in reqs.get_requests(conn, closed):
        if _send_system(conn, settings, now, request, "closed_no_reply", "notice"):
            report.notices.append(request.number)


def _remind(
    conn: Connection, settings: Settings, now: datetime, silent_since: datetime, report: TickReport
) -> None:
    """auto_remind: the reminder goes out without an agent; one that cannot be written (its
    template fails, the address is unusable) puts the request on the stack instead."""
    taken = followups.take_due_reminders(conn, now, silent_since, settings.workflow.max_reminders)
    counts = dict(taken)
    for request in reqs.get_requests(conn, list(counts)):
        number, count = request.number, counts[request.number]
        name = lifecycle.reminder_template(count)
        if _send_system(conn, settings, now, request, name, "reminder"):
            report.reminders.append(number)
            add_event(conn, number, now, "reminder", detail={"reminder": count, "auto": True})
        else:
            reqs.update_request(conn, number, **lifecycle.follow_up(now, reminder_count=count - 1))
            report.follow_ups.append(number)
            detail = {"reminders": count - 1}
            add_event(conn, number, now, "push", reason="follow_up", detail=detail)


def _send_system(
    conn: Connection,
    settings: Settings,
    now: datetime,
    request: RequestRecord,
    name: str,
    kind: str,
) -> bool:
    """Render workflow template `name` for the request (a team override first, the shipped
    text if the override fails) and queue it, signed by the agent who answered last. False,
    with the reason as an event, when nothing could be sent."""
    last = msgs.last_outbound(conn, request.number)
    agent_login = last.agent_login if last else None
    agent = get_agent(conn, agent_login) if agent_login else None
    rendered, errors = templates.render_workflow(
        templates.workflow_variants(conn, name),
        request.language or "en",
        lambda r: templates.request_context(conn, settings, request, agent, r.language),
    )
    for error in errors:
        add_event(conn, request.number, now, "template_error", detail={"error": error[:500]})
    if rendered is None:
        return False
    try:
        queue_mail(
            conn,
            settings,
            now,
            request,
            rendered.text,
            kind=kind,
            agent_login=agent_login,
            subject=rendered.subject,
            automatic=True,
            ask=name == "closed_no_reply",
        )
    except SupportDeskError as exc:
        add_event(conn, request.number, now, f"{kind}_skipped", detail={"error": str(exc)[:300]})
        return False
    return True
