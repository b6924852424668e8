"""Intake: parsed messages become requests or join them, in one transaction per batch.

The batch, its acknowledgements and the mailbox checkpoint commit together: a crash at any
point loses nothing and duplicates nothing.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from supportdesk.config import Settings
from supportdesk.desk.batch import Batch, event_row, message_row, write_batch
from supportdesk.desk.csat import Rating, read_rating
from supportdesk.desk.language import guess_language
from supportdesk.desk.outgoing import OutgoingMail, build_outgoing
from supportdesk.desk.rules import apply_rules
from supportdesk.desk.templates import (
    WORKFLOW_SECONDS,
    context,
    render_workflow,
    workflow_variants,
)
from supportdesk.desk.wording import reply_subject
from supportdesk.domain import lifecycle
from supportdesk.domain.enums import CloseReason
from supportdesk.mail.automatic import automatic_reason, is_bounce
from supportdesk.mail.parse import ParsedMessage
from supportdesk.store import intake as q
from supportdesk.store import ratings
from supportdesk.store.checkpoints import Checkpoint, save_checkpoint
from supportdesk.store.database import Database
from supportdesk.store.templates import TemplateRecord

_TAG = re.compile(r"\[#(\d{1,9})\]")
_SPACE = re.compile(r"\s+")
UNKNOWN_SENDER = "unknown-sender@invalid"
DAY = timedelta(days=1)
MERGE_HOPS = 5
"""How many merges in a row a reply to a merged request follows to find where it joins."""

JOINED_BY = {
    "new": "opened a new request",
    "bounce": "a delivery report about a message we sent",
    "ours": "answers a message we sent (In-Reply-To/References)",
    "tag": "the [#N] in its subject, from someone in that conversation",
    "headers": "In-Reply-To/References to a message of that conversation",
    "same_body": "the same text from the same sender a moment earlier",
    "stranger": "names another request, but its sender is not in that conversation",
}
"""How an incoming message found its request (message.joined_by), as the timeline says it."""


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

    @property
    def live(self) -> bool:
        """Mail arriving now, not an import: what loops and repeats are judged on."""
        return not (self.history or self.date_as_pushed)


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


class _Known:
    """What a batch looked up before it starts, kept up to date as it goes."""

    def __init__(
        self,
        conn: Any,
        settings: Settings,
        now: datetime,
        parsed: list[ParsedMessage],
        live: bool,
    ) -> None:
        referenced: set[str] = set()
        tagged: set[int] = set()
        for p in parsed:
            referenced.add(p.message_id)
            referenced.update(p.in_reply_to, p.references, p.embedded_message_ids)
            tagged.update(tag_numbers(p.subject))
        self.messages = q.known_messages(conn, referenced)
        self.in_batch: dict[str, q.KnownMessage] = {}
        self.agents = q.agent_emails(conn)
        self.customers = q.known_customers(conn, {customer_email(p) for p in parsed})
        self.copies = q.known_raw_copies(
            conn,
            [(self.messages[p.message_id].pk, p.sha256) for p in parsed if p.message_id in self],
        )
        self.acks = q.acks_since(conn, {ack_address(p) for p in parsed}, now - DAY)
        self.conn, self.since = conn, now - DAY
        customer_ids = {c.id for c in self.customers.values()} if live else set()
        self.opened = q.opened_since(conn, customer_ids, self.since)
        """Requests each customer opened today, as a count (stored) or numbers (this batch)."""
        self.opened_now: dict[int, list[int]] = {}
        self.text_keys = {p.message_id: _text_key(p.text) for p in parsed} if live else {}
        wanted = {(p.from_addr, k) for p in parsed if (k := self.text_keys.get(p.message_id))}
        window = settings.workflow.repeat_window
        self.texts = q.seen_texts(conn, wanted, now - window) if window else {}
        self.new_texts: list[dict[str, Any]] = []
        threads = {k.request_id for k in self.messages.values()} | set(self.texts.values())
        self.threads = q.thread_facts(conn, tagged | threads)
        for _ in range(MERGE_HOPS):  # merged requests: what joins them joins their survivor
            onward = {f.merged_into for f in self.threads.values() if f.merged_into is not None}
            if not (onward := onward - self.threads.keys()):
                break
            self.threads.update(q.thread_facts(conn, onward))
        self.asked_for: dict[int, bool] = {}

    def __contains__(self, message_id: str) -> bool:
        return message_id in self.messages

    def message(self, message_id: str) -> q.KnownMessage | None:
        return self.messages.get(message_id) or self.in_batch.get(message_id)

    def survivor(self, rid: int) -> int:
        """The request a message for `rid` joins: `rid`, or the one it was merged into
        (following a chain of merges for at most MERGE_HOPS)."""
        for _ in range(MERGE_HOPS):
            facts = self.threads.get(rid)
            if facts is None or facts.merged_into is None or facts.merged_into not in self.threads:
                break
            rid = facts.merged_into
        return rid

    def may_write(self, sender: str, rid: int) -> bool:
        """Whether `sender` may add to request `rid`: its customer, someone the conversation
        was sent or copied to, or an agent. A display name or a [#N] proves nothing."""
        facts = self.threads.get(rid)
        if facts is None or not sender:
            return False
        return sender in facts.participants or sender in self.agents

    def remember_text(self, p: ParsedMessage, rid: int, now: datetime) -> None:
        key = self.text_keys.get(p.message_id)
        if p.from_addr and key:
            self.texts[(p.from_addr, key)] = rid
            self.new_texts.append(
                {"sender": p.from_addr, "text_key": key, "request_id": rid, "at": now}
            )

    def same_text(self, p: ParsedMessage) -> int | None:
        key = self.text_keys.get(p.message_id)
        return self.texts.get((p.from_addr, key)) if p.from_addr and key else None

    def asked(self, rid: int) -> bool:
        """Whether request `rid` was asked for a rating (one look-up per request a batch)."""
        if rid not in self.asked_for:
            self.asked_for[rid] = bool(ratings.asked(self.conn, [rid]))
        return self.asked_for[rid]

    def opened_today(self, customer_id: int, rid: int) -> list[int]:
        """Count `rid` as opened by the customer; the day's requests when that makes too many
        (those stored before are looked up only then)."""
        mine = self.opened_now.setdefault(customer_id, [])
        mine.append(rid)
        return mine

    def stored_today(self, customer_id: int) -> list[int]:
        return q.requests_opened_since(self.conn, customer_id, self.since)


def _text_key(body: str) -> str:
    """A fingerprint of a message's text, blind to spacing; empty for (nearly) empty text."""
    text = _SPACE.sub(" ", body).strip()
    if len(text) < 20:
        return ""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def ack_address(p: ParsedMessage) -> str:
    """Where an acknowledgement of `p` goes (and what its rate limit counts)."""
    return (p.reply_to or p.from_addr or "").lower()


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
    known = _Known(conn, settings, now, parsed, options.live)
    upper = len(parsed)
    batch = Batch(
        {
            "customer": q.allocate_ids(conn, "customer", upper),
            "request": q.allocate_ids(conn, "request", upper),
            "message": q.allocate_ids(conn, "message", upper * 2),
        }
    )
    acks = AckTemplates(workflow_variants(conn, "auto_ack") if options.acknowledge else [])

    for p in parsed:
        mid = p.message_id
        previous = known.message(mid)
        if previous is not None:
            _duplicate(batch, report, p, previous, known.copies, now)
            continue
        when = _pushed_time(p, now, options)
        auto = automatic_reason(p, own)
        bounce = is_bounce(p)
        rid, reason, joined_by, mentions = _thread(p, bounce, known, batch, report)
        pk = batch.take_id("message")
        if rid is None:
            rid = _new_request(batch, settings, now, when, p, auto, bounce, known, options)
            report.new_requests.append(rid)
            if mentions is not None:
                _note_stranger(batch, now, p, rid, mentions)
            loop = options.live and _opens_too_many(batch, settings, now, p, rid, known)
            wants_ack = options.acknowledge and auto is None and not options.history and not loop
            if wants_ack and _acknowledge(batch, settings, now, rid, p, known, acks):
                report.acknowledgements += 1
        else:
            report.joined += 1
            facts = known.threads[rid]
            if auto is None:
                facts.participants.update(a for a in (p.from_addr, p.reply_to) if a)
            facts.participants.update(p.to, p.cc)
            rating = None
            if not options.history and auto is None and reason is None and known.asked(rid):
                rating = read_rating(p.text)
            if rating is not None:
                _rate(batch, known, rid, pk, p, rating, now)
            if rating is not None and rating.only:
                # Only a rating: nothing for an agent to do. A good one on an answered request
                # ends it (no reminder to a customer who said "5, thanks"); otherwise the
                # request stays as it is.
                if rating.good and known.threads[rid].status == lifecycle.WAITING:
                    _close_rated(batch, known, rid, now)
            elif not options.history and (reason == "delivery_failed" or auto is None):
                _push(batch, known, rid, reason or "customer_reply", when, now, p, auto)
            elif auto is not None:
                batch.events.append(
                    event_row(rid, now, "message", "automatic", {"message_id": mid})
                )
        row = message_row(pk, rid, p, now, auto)
        row["joined_by"] = joined_by
        batch.messages.append(row)
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
        known.in_batch[mid] = q.KnownMessage(pk, rid, "in", "received")
        known.copies.add((pk, p.sha256))  # the same bytes again later in this batch add nothing
        if auto is None and options.live:
            known.remember_text(p, rid, now)
        report.stored += 1
        if p.warnings:
            report.with_warnings += 1
    batch.texts = known.new_texts
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
    p: ParsedMessage, bounce: bool, known: _Known, batch: Batch, report: IngestReport
) -> tuple[int | None, str | None, str, int | None]:
    """Which request a message joins: (request or None for a new one, push reason, how it
    joined, the request a stranger's message named).

    A bounce joins the request of the message of ours it reports on. Otherwise, in order: a
    message of ours it answers (In-Reply-To/References), the [#N] in its subject, a message
    of the conversation it answers. Each joins only when the sender may write there; a
    message that names a request its sender is not part of opens a new one instead."""
    replied = [known.message(mid) for mid in [*p.in_reply_to, *reversed(p.references)]]
    if bounce:
        for mid in p.embedded_message_ids:
            replied.insert(0, known.message(mid))
        for original in replied:
            if original is not None and original.direction == "out":
                report.bounces += 1
                batch.failed.append(
                    {"pk": original.pk, "status": "failed", "error": f"bounced: {p.subject[:200]}"}
                )
                return original.request_id, "delivery_failed", "bounce", None
    candidates: list[tuple[int, str]] = []
    candidates += [(k.request_id, "ours") for k in replied if k and k.direction == "out"]
    candidates += [(n, "tag") for n in tag_numbers(p.subject) if n in known.threads]
    candidates += [(k.request_id, "headers") for k in replied if k]
    candidates = [(known.survivor(rid), how) for rid, how in candidates]
    for rid, how in candidates:
        if known.may_write(p.from_addr, rid):
            return rid, None, how, None
    if candidates:
        return None, None, "stranger", candidates[0][0]
    repeated = known.same_text(p)
    if repeated is not None:
        return known.survivor(repeated), None, "same_body", None
    return None, None, "new", None


def _note_stranger(batch: Batch, now: datetime, p: ParsedMessage, rid: int, mentioned: int) -> None:
    """A stranger named request `mentioned`: their message opened `rid`; both timelines say so."""
    batch.requests[rid]["mentions"] = mentioned
    sender = p.from_addr or UNKNOWN_SENDER
    batch.events.append(
        event_row(
            rid,
            now,
            "stranger",
            None,
            {"mentions": mentioned, "from": sender, "message_id": p.message_id},
        )
    )
    batch.events.append(
        event_row(
            mentioned,
            now,
            "mentioned",
            None,
            {"by_request": rid, "from": sender, "message_id": p.message_id},
        )
    )


def _opens_too_many(
    batch: Batch, settings: Settings, now: datetime, p: ParsedMessage, rid: int, known: _Known
) -> bool:
    """A sender opening more than `loop_threshold` requests in a day is probably a robot in a
    loop with us: that day's requests are tagged possible-loop and get no acknowledgement."""
    cid = batch.requests[rid]["customer_id"]
    this_batch = known.opened_today(cid, rid)
    count = known.opened.get(cid, 0) + len(this_batch)
    threshold = settings.workflow.loop_threshold
    if count <= threshold:
        return False
    if count == threshold + 1:  # the day's earlier requests are tagged too, once
        batch.loop_tags.update(known.stored_today(cid))
        batch.events.append(
            event_row(rid, now, "possible_loop", None, {"from": p.from_addr, "opened_today": count})
        )
    batch.loop_tags.update(this_batch)
    return True


def _new_request(
    batch: Batch,
    settings: Settings,
    now: datetime,
    when: datetime,
    p: ParsedMessage,
    auto: str | None,
    bounce: bool,
    known: _Known,
    options: IngestOptions,
) -> int:
    cid = _customer_id(batch, known.customers, p, now)
    rules = apply_rules(settings.rules, p.subject, p.from_addr, p.text)
    rid = batch.take_id("request")
    history = options.history
    batch.requests[rid] = {
        "id": rid,
        "customer_id": cid,
        "subject": p.subject or "(no subject)",
        **lifecycle.created(when, now, history=history),
        "priority": rules.priority or "normal",
        "language": rules.language or guess_language(p.subject, p.text),
        "assignee": rules.assignee,
        "line": rules.line or 1,
        "claimed_by": None,
        "claimed_until": None,
        "created_at": when,
        "first_response_at": None,
        "last_inbound_at": when,
        "last_outbound_at": None,
        "message_count": 0,
        "inbound_count": 0,
        # Automatic mail and history promise no answer; a customer's question does.
        "sla_due_at": None if history or auto is not None else settings.sla.due(when),
        "mentions": None,
    }
    email = customer_email(p)
    people = {email, *p.to, *p.cc}
    if auto is None and p.reply_to:
        people.add(p.reply_to)
    known.threads[rid] = q.ThreadFacts(batch.requests[rid]["status"], email, people)
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


def _rate(
    batch: Batch,
    known: _Known,
    rid: int,
    pk: int,
    p: ParsedMessage,
    rating: Rating,
    now: datetime,
) -> None:
    """Record the rating message `pk` carries, written with it; the agent rated is the one of
    our message it answers, else of the request's last answer."""
    answered = [*p.in_reply_to, *reversed(p.references)]
    agent = ratings.answering_agent(known.conn, rid, answered)
    batch.ratings.append(
        {
            "request_id": rid,
            "message_pk": pk,
            "agent_login": agent,
            "score": rating.score,
            "good": rating.good,
            "politeness": rating.politeness,
            "proficiency": rating.proficiency,
            "comment": rating.comment,
            "at": now,
        }
    )
    detail: dict[str, Any] = {"score": rating.score, "message_id": p.message_id}
    if rating.politeness is not None:
        detail.update(politeness=rating.politeness, proficiency=rating.proficiency)
    batch.events.append(event_row(rid, now, "rated", "good" if rating.good else "bad", detail))


def _push(
    batch: Batch,
    known: _Known,
    rid: int,
    reason: str,
    when: datetime,
    now: datetime,
    p: ParsedMessage,
    auto: str | None,
) -> None:
    facts = known.threads[rid]
    change = batch.requests.get(rid)
    values = lifecycle.message_arrived(facts.status, reason, when, now)
    reason = values["reason"]
    if reason != lifecycle.DELIVERY_FAILED:
        values["last_inbound_at"] = when
    if change is not None:  # created in this same batch
        change.update(values)
    else:
        batch.request_changes.setdefault(rid, {}).update(values)
    facts.status = values["status"]
    batch.events.append(event_row(rid, now, "push", reason, {"message_id": p.message_id}))


def _close_rated(batch: Batch, known: _Known, rid: int, now: datetime) -> None:
    """A waiting request the customer rated good (and said nothing more): closed, resolved."""
    values = lifecycle.closed(CloseReason.RESOLVED, now)
    change = batch.requests.get(rid)
    if change is not None:
        change.update(values)
    else:
        batch.request_changes.setdefault(rid, {}).update(values)
    known.threads[rid].status = values["status"]
    batch.events.append(event_row(rid, now, "close", CloseReason.RESOLVED, {"by": "rating"}))


ACK_BATCH_SECONDS = 0.5
"""CPU time a team's auto_ack may take over one batch (it renders while the batch holds the
write lock); past it, or once it failed, the rest of the batch gets the shipped text."""


@dataclass(slots=True)
class AckTemplates:
    """The auto_ack variants for one batch, and what the team's override may still spend."""

    variants: list[TemplateRecord]
    seconds_left: float = ACK_BATCH_SECONDS
    dropped: str = ""
    """Why the team's override is no longer tried in this batch."""


def _acknowledge(
    batch: Batch,
    settings: Settings,
    now: datetime,
    rid: int,
    p: ParsedMessage,
    known: _Known,
    templates: AckTemplates,
) -> bool:
    """Queue the acknowledgement (template `auto_ack` in the request's language) unless the
    address it goes to got one within `ack_interval`, or `acks_per_day` of them today (forged
    senders must not make us mail a third party). It renders inside the batch's transaction,
    so within a small fixed CPU budget (WORKFLOW_SECONDS each, ACK_BATCH_SECONDS for the
    team's override over the batch): a team override that fails in any way, or is too slow,
    falls back to the shipped text for the rest of the batch; the failure is an event."""
    address = ack_address(p)
    sent = known.acks.setdefault(address, [])
    workflow = settings.workflow
    recent = [at for at in sent if now - at < DAY]
    if (recent and now - max(recent) < workflow.ack_interval) or len(
        recent
    ) >= workflow.acks_per_day:
        batch.events.append(event_row(rid, now, "ack_skipped", "rate_limited", {"to": address}))
        return False
    customer = known.customers[customer_email(p)]
    request = batch.requests[rid]
    language = request["language"] or "en"
    team = any(t.scope == "team" for t in templates.variants)
    started = time.thread_time()
    rendered, errors = render_workflow(
        templates.variants,
        language,
        lambda t: ack_context(settings, p, customer.name, rid, request["subject"], now, t),
        team_seconds=max(min(WORKFLOW_SECONDS, templates.seconds_left), 0.001),
    )
    if team:
        templates.seconds_left -= time.thread_time() - started
        if errors or templates.seconds_left <= 0:
            templates.dropped = (errors[0] if errors else "") or (
                f"the team's auto_ack took more than {ACK_BATCH_SECONDS:g} s of work in one batch"
            )
            templates.variants = [t for t in templates.variants if t.scope != "team"]
    elif templates.dropped:
        errors = [f"{templates.dropped[:400]} (earlier in this batch; shipped text used)"]
    for error in errors:
        batch.events.append(event_row(rid, now, "template_error", None, {"error": error[:500]}))
    if rendered is None:
        batch.events.append(event_row(rid, now, "ack_skipped", None, {"error": "no auto_ack"}))
        return False
    mail = OutgoingMail(
        request_id=rid,
        to=[address],
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
    sent.append(now)
    batch.ack_log.append({"address": address, "at": now})
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
