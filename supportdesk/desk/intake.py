"""Intake: parsed messages become requests or join them, in one transaction per batch.

The batch, its acknowledgements and the mailbox checkpoint commit together: a crash at any
point loses nothing and duplicates nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from supportdesk.config import Settings
from supportdesk.desk.batch import Batch, event_row, message_row, write_batch
from supportdesk.desk.language import guess_language
from supportdesk.desk.outgoing import OutgoingMail, build_outgoing
from supportdesk.desk.rules import apply_rules
from supportdesk.desk.templates import context, render_workflow, workflow_variants
from supportdesk.desk.wording import reply_subject
from supportdesk.mail.automatic import automatic_reason, is_bounce
from supportdesk.mail.parse import ParsedMessage
from supportdesk.store import intake as q
from supportdesk.store.checkpoints import Checkpoint, save_checkpoint
from supportdesk.store.database import Database
from supportdesk.store.templates import TemplateRecord

_TAG = re.compile(r"\[#(\d{1,9})\]")
UNKNOWN_SENDER = "unknown-sender@invalid"


def customer_email(p: ParsedMessage) -> str:
    return p.from_addr or UNKNOWN_SENDER


@dataclass(slots=True)
class IngestOptions:
    acknowledge: bool = True
    """Queue acknowledgements for new requests (import turns this off by default)."""
    history: bool = False
    """Imported history: new requests are filed closed and nothing is pushed."""
    date_as_pushed: bool = False
    """Order the stack by the messages' own dates (imports) instead of arrival."""


@dataclass(slots=True)
class IngestReport:
    seen: int = 0
    stored: int = 0
    duplicates: int = 0
    copies_kept: int = 0
    new_requests: list[int] = field(default_factory=list)
    joined: int = 0
    acknowledgements: int = 0
    bounces: int = 0
    with_warnings: int = 0

    def add(self, other: IngestReport) -> None:
        for name in (
            "seen",
            "stored",
            "duplicates",
            "copies_kept",
            "joined",
            "acknowledgements",
            "bounces",
            "with_warnings",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.new_requests.extend(other.new_requests)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seen": self.seen,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "copies_kept": self.copies_kept,
            "new_requests": len(self.new_requests),
            "joined": self.joined,
            "acknowledgements": self.acknowledgements,
            "bounces": self.bounces,
            "with_warnings": self.with_warnings,
        }


def tag_numbers(subject: str) -> list[int]:
    return [int(n) for n in _TAG.findall(subject)]


def ingest_batch(
    db: Database,
    settings: Settings,
    now: datetime,
    parsed: list[ParsedMessage],
    options: IngestOptions | None = None,
    checkpoint: Checkpoint | None = None,
) -> IngestReport:
    """Store a batch of parsed messages (and advance the checkpoint) in one transaction."""
    options = options or IngestOptions()
    with db.write() as conn:
        report = _ingest(conn, settings, now, parsed, options)
        if checkpoint is not None:
            save_checkpoint(conn, checkpoint, now)
    return report


def _ingest(
    conn: Any,
    settings: Settings,
    now: datetime,
    parsed: list[ParsedMessage],
    options: IngestOptions,
) -> IngestReport:
    report = IngestReport(seen=len(parsed))
    q.lock_intake(conn)  # before the look-ups: another process's batch may be storing the same
    own = frozenset({settings.desk.address.lower()})
    referenced: set[str] = set()
    tagged: set[int] = set()
    for p in parsed:
        referenced.add(p.message_id)
        referenced.update(p.in_reply_to, p.references, p.embedded_message_ids)
        tagged.update(tag_numbers(p.subject))
    known = q.known_messages(conn, referenced)
    statuses = q.request_statuses(conn, tagged | {k.request_id for k in known.values()})
    customers = q.known_customers(conn, {customer_email(p) for p in parsed})
    copies = q.known_raw_copies(
        conn, [(known[p.message_id].pk, p.sha256) for p in parsed if p.message_id in known]
    )
    upper = len(parsed)
    batch = Batch(
        {
            "customer": q.allocate_ids(conn, "customer", upper),
            "request": q.allocate_ids(conn, "request", upper),
            "message": q.allocate_ids(conn, "message", upper * 2),
        }
    )
    in_batch: dict[str, q.KnownMessage] = {}
    acks = workflow_variants(conn, "auto_ack") if options.acknowledge else []

    for p in parsed:
        mid = p.message_id
        previous = known.get(mid) or in_batch.get(mid)
        if previous is not None:
            _duplicate(batch, report, p, previous, copies, now)
            continue
        when = _pushed_time(p, now, options)
        auto = automatic_reason(p, own)
        bounce = is_bounce(p)
        rid, reason = _thread(p, bounce, known, in_batch, statuses, batch, report)
        pk = batch.take_id("message")
        if rid is None:
            rid = _new_request(batch, settings, now, when, p, auto, bounce, customers, options)
            statuses[rid] = batch.requests[rid]["status"]
            report.new_requests.append(rid)
            wants_ack = options.acknowledge and auto is None and not options.history
            if wants_ack and _acknowledge(batch, settings, now, rid, p, customers, acks):
                report.acknowledgements += 1
        else:
            report.joined += 1
            if not options.history and (reason == "delivery_failed" or auto is None):
                _push(batch, statuses, rid, reason or "customer_reply", when, now, p, auto)
            elif auto is not None:
                batch.events.append(
                    event_row(rid, now, "message", "automatic", {"message_id": mid})
                )
        batch.messages.append(message_row(pk, rid, p, now, auto))
        batch.raws.append({"message_pk": pk, "sha256": p.sha256, "raw": p.raw})
        for a in p.attachments:
            batch.attachments.append(
                {
                    "message_pk": pk,
                    "filename": a.filename,
                    "original_filename": a.original_filename,
                    "content_type": a.content_type,
                    "encoding": a.encoding,
                    "start": a.start,
                    "end": a.end,
                    "inline": a.inline,
                }
            )
        batch.count(rid, 1)
        in_batch[mid] = q.KnownMessage(pk, rid, "in", "received")
        copies.add((pk, p.sha256))  # the same bytes again later in this batch add nothing
        report.stored += 1
        if p.warnings:
            report.with_warnings += 1
    write_batch(conn, batch, now)
    return report


def _pushed_time(p: ParsedMessage, now: datetime, options: IngestOptions) -> datetime:
    if options.date_as_pushed and p.date is not None and p.date < now:
        return p.date
    return now


def _duplicate(
    batch: Batch,
    report: IngestReport,
    p: ParsedMessage,
    previous: q.KnownMessage,
    copies: set[tuple[int, str]],
    now: datetime,
) -> None:
    """Same Message-ID again: identical bytes add nothing; different bytes are kept as a copy."""
    key = (previous.pk, p.sha256)
    if key in copies:
        report.duplicates += 1
        return
    copies.add(key)
    batch.raws.append({"message_pk": previous.pk, "sha256": p.sha256, "raw": p.raw})
    batch.events.append(
        event_row(
            previous.request_id,
            now,
            "copy_kept",
            None,
            {"message_id": p.message_id, "sha256": p.sha256},
        )
    )
    report.copies_kept += 1


def _thread(
    p: ParsedMessage,
    bounce: bool,
    known: dict[str, q.KnownMessage],
    in_batch: dict[str, q.KnownMessage],
    statuses: dict[int, str],
    batch: Batch,
    report: IngestReport,
) -> tuple[int | None, str | None]:
    """Which request a message belongs to: a bounce's original, the [#N] tag, then headers."""

    def lookup(mid: str) -> q.KnownMessage | None:
        return known.get(mid) or in_batch.get(mid)

    if bounce:
        for mid in [*p.embedded_message_ids, *p.in_reply_to, *reversed(p.references)]:
            original = lookup(mid)
            if original is not None and original.direction == "out":
                report.bounces += 1
                batch.failed.append(
                    {"pk": original.pk, "status": "failed", "error": f"bounced: {p.subject[:200]}"}
                )
                return original.request_id, "delivery_failed"
    for number in tag_numbers(p.subject):
        if number in statuses:
            return number, None
    for mid in [*p.in_reply_to, *reversed(p.references)]:
        parent = lookup(mid)
        if parent is not None:
            return parent.request_id, None
    return None, None


def _new_request(
    batch: Batch,
    settings: Settings,
    now: datetime,
    when: datetime,
    p: ParsedMessage,
    auto: str | None,
    bounce: bool,
    customers: dict[str, q.KnownCustomer],
    options: IngestOptions,
) -> int:
    cid = _customer_id(batch, customers, p, now)
    rules = apply_rules(settings.rules, p.subject, p.from_addr, p.text)
    rid = batch.take_id("request")
    history = options.history
    batch.requests[rid] = {
        "id": rid,
        "customer_id": cid,
        "subject": p.subject or "(no subject)",
        "status": "closed" if history else "new",
        "reason": "new",
        "reminder_count": 0,
        "priority": rules.priority or "normal",
        "language": rules.language or guess_language(p.subject, p.text),
        "assignee": rules.assignee,
        "claimed_by": None,
        "claimed_until": None,
        "created_at": when,
        "pushed_at": when,
        "updated_at": now,
        "first_response_at": None,
        "last_inbound_at": when,
        "last_outbound_at": None,
        "closed_at": now if history else None,
        "close_reason": "imported" if history else None,
        "message_count": 0,
        "inbound_count": 0,
        # Automatic mail and history promise no answer; a customer's question does.
        "sla_due_at": None if history or auto is not None else settings.sla.due(when),
    }
    tags = list(rules.tags)
    if bounce:
        tags.append("bounce")
    elif auto is not None:
        tags.append("automatic")
    batch.tags.extend({"request_id": rid, "tag": tag[:64]} for tag in dict.fromkeys(tags))
    batch.events.append(
        event_row(rid, now, "close" if history else "push", "imported" if history else "new", None)
    )
    return rid


def _customer_id(
    batch: Batch, customers: dict[str, q.KnownCustomer], p: ParsedMessage, now: datetime
) -> int:
    email = customer_email(p)
    found = customers.get(email)
    if found is None:
        cid = batch.take_id("customer")
        found = q.KnownCustomer(cid, p.from_name, None)
        customers[email] = found
        batch.customers.append(
            {"id": cid, "email": email, "name": p.from_name, "created_at": now, "last_ack_at": None}
        )
    return found.id


def _push(
    batch: Batch,
    statuses: dict[int, str],
    rid: int,
    reason: str,
    when: datetime,
    now: datetime,
    p: ParsedMessage,
    auto: str | None,
) -> None:
    status = statuses.get(rid, "open")
    if reason != "delivery_failed" and status == "closed":
        reason = "reopened"
    change = batch.requests.get(rid)
    values: dict[str, Any] = {
        "status": "open",
        "reason": reason,
        "pushed_at": when,
        "updated_at": now,
    }
    if reason != "delivery_failed":
        values.update(reminder_count=0, last_inbound_at=when)
    if reason == "reopened":
        values.update(closed_at=None, close_reason=None)
    if change is not None:  # created in this same batch
        change.update(values)
    else:
        batch.request_changes.setdefault(rid, {}).update(values)
    statuses[rid] = "open"
    batch.events.append(event_row(rid, now, "push", reason, {"message_id": p.message_id}))


def _acknowledge(
    batch: Batch,
    settings: Settings,
    now: datetime,
    rid: int,
    p: ParsedMessage,
    customers: dict[str, q.KnownCustomer],
    templates: list[TemplateRecord],
) -> bool:
    """Queue the acknowledgement (template `auto_ack` in the request's language) unless this
    sender got one within `ack_interval`. A template that fails to render is skipped for the
    next variant (a team override falls back to the shipped text); the failure is an event."""
    customer = customers[customer_email(p)]
    last = batch.customer_acks.get(customer.id, customer.last_ack_at)
    if last is not None and now - last < settings.workflow.ack_interval:
        return False
    batch.customer_acks[customer.id] = now
    request = batch.requests[rid]
    language = request["language"] or "en"
    rendered, errors = render_workflow(
        templates,
        language,
        lambda t: ack_context(settings, p, customer.name, rid, request["subject"], now, t),
    )
    for error in errors:
        batch.events.append(event_row(rid, now, "template_error", None, {"error": error[:500]}))
    if rendered is None:
        batch.events.append(event_row(rid, now, "ack_skipped", None, {"error": "no auto_ack"}))
        return False
    mail = OutgoingMail(
        request_id=rid,
        to=[p.reply_to or p.from_addr],
        subject=reply_subject(p.subject, rid),
        text=rendered.text,
        kind="ack",
        automatic=True,
        in_reply_to=p.message_id,
        references=p.references,
    )
    try:
        row, raw = build_outgoing(settings, now, batch.next_id["message"], mail)
    except ValueError as exc:  # an address we cannot write to (e.g. non-ASCII local part)
        batch.events.append(event_row(rid, now, "ack_skipped", None, {"error": str(exc)[:300]}))
        return False
    batch.take_id("message")
    batch.messages.append(row)
    batch.raws.append(raw)
    batch.count(rid, 0)
    batch.events.append(event_row(rid, now, "ack_queued", None, {"message_id": row["message_id"]}))
    return True


def ack_context(
    settings: Settings,
    p: ParsedMessage,
    known_name: str,
    rid: int,
    subject: str,
    now: datetime,
    template: TemplateRecord,
) -> dict[str, Any]:
    return context(
        settings,
        customer_name=p.from_name or known_name,
        customer_email=customer_email(p),
        number=rid,
        subject=subject,
        created_at=now,
        language=template.language,
        agent=None,
    )
