"""An agent answers a request: the reply is stored (queued) before it is delivered."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from supportdesk.config import Settings
from supportdesk.desk import csat, sending, templates
from supportdesk.desk.attachments import check_limit, read_attachment
from supportdesk.desk.context import DeskContext
from supportdesk.desk.outgoing import OutgoingMail, attachment_rows, build_outgoing
from supportdesk.desk.templates import Rendered
from supportdesk.desk.wording import reply_subject
from supportdesk.domain import lifecycle
from supportdesk.domain.records import ReplyAttachment
from supportdesk.errors import NotFoundError, SupportDeskError
from supportdesk.mail.compose import writable
from supportdesk.store import intake as q
from supportdesk.store import items, outbox, ratings
from supportdesk.store import messages as msgs
from supportdesk.store import requests as reqs
from supportdesk.store import templates as store_templates
from supportdesk.store.agents import AgentRecord, get_agent
from supportdesk.store.database import Connection, Database
from supportdesk.store.drafts import drop_draft
from supportdesk.store.events import add_event
from supportdesk.store.records import RequestRecord
from supportdesk.store.templates import TemplateRecord
from supportdesk.textsearch import keywords

CLOSE_REASONS = lifecycle.CLOSE_REASONS
KEY_MAX = 200
CC_MAX = 20


class _Repeated(Exception):
    """The idempotency key was taken meanwhile: the reply is already queued."""

    def __init__(self, message_id: str) -> None:
        super().__init__(message_id)
        self.message_id = message_id


def check_key(key: str | None) -> str | None:
    """An idempotency key as stored: stripped, not empty, at most KEY_MAX characters."""
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > KEY_MAX or not key.isprintable():
        raise SupportDeskError(f"the idempotency key must be 1 to {KEY_MAX} printable characters")
    return key


def keyed_reply(conn: Connection, number: int, key: str | None) -> str | None:
    """The Message-ID of the reply already queued for request `number` with `key`."""
    key = check_key(key)
    return outbox.by_idempotency_key(conn, number, key) if key else None


def reply(
    db: Database,
    settings: Settings,
    now: datetime,
    number: int,
    body: str,
    agent_login: str,
    *,
    subject: str | None = None,
    template: str | None = None,
    template_language: str | None = None,
    cc: list[str] | None = None,
    idempotency_key: str | None = None,
    attachments: list[ReplyAttachment] | None = None,
    close: str | None = None,
    snooze_until: datetime | None = None,
) -> str:
    """Queue an answer to request `number`; it leaves the stack (waiting). Returns Message-ID.
    A trainee's answer is held for review instead (status `review`): the return value is
    then a `HeldLetter` ("review:<id>").

    `template` names the template the answer started from (perhaps edited since): its use is
    recorded with the customer message's keywords in the same transaction, so suggestions
    learn from what was really sent. A template deleted meanwhile does not stop the answer.

    `cc`: whom to copy; None copies the Cc of the customer's latest message (reply_cc).
    `idempotency_key`: a reply already queued for this request with the same key is not
    queued again; its Message-ID is returned and nothing changes.
    `attachments`: files sent with it (together at most `[outgoing] attachment_limit`).
    `close` (a close reason) closes the request with the answer, `snooze_until` snoozes it:
    in the same transaction, so a crash never leaves the one without the other. The answer
    waits `[outgoing] undo_seconds` in the outbox (desk.sending.unsend takes it back)."""
    key = check_key(idempotency_key)
    if not body.strip():
        raise SupportDeskError("the reply is empty")
    check_limit(settings, attachments or [])
    if close is not None and close not in CLOSE_REASONS:
        raise SupportDeskError(
            f"unknown close reason {close!r}: use one of " + ", ".join(CLOSE_REASONS)
        )
    if close is not None and snooze_until is not None:
        raise SupportDeskError("close or snooze the request with the answer, not both")
    if snooze_until is not None and snooze_until <= now:
        raise SupportDeskError("the snooze time is in the past: give a later time")
    with db.write() as conn:
        request = reqs.get_request(conn, number)
        if request is None:
            raise NotFoundError(f"request #{number} does not exist")
        if key is not None and (done := outbox.by_idempotency_key(conn, number, key)):
            return done
        agent = get_agent(conn, agent_login)
        if agent is not None and agent.trainee:  # held for the mentor, not queued
            from supportdesk.desk.reviews import hold

            if close is not None or snooze_until is not None:
                raise SupportDeskError(
                    "a trainee's answer waits for the mentor: send it without closing or "
                    "snoozing the request"
                )

            return hold(
                conn,
                now,
                request,
                agent,
                body,
                subject=_with_tag(subject, number) if subject else None,
                cc=cc,
                template=template,
                template_language=template_language,
                idempotency_key=key,
                attachments=attachments,
            )
        reminder = lifecycle.answer_is_reminder(request.status, request.reason)
        undoable = settings.outgoing.undo_seconds > 0
        kept = sending.undo_detail(conn, number, agent_login, body, template) if undoable else None
        try:
            message_id = queue_mail(
                conn,
                settings,
                now,
                request,
                body,
                kind="reply",
                agent_login=agent_login,
                subject=_with_tag(subject, number) if subject else None,
                cc=cc,
                idempotency_key=key,
                ask=not reminder,
                answer_event=True,
                attachments=attachments,
                undo=undoable,
            )
        except _Repeated as repeated:  # a concurrent run with the same key won: no change
            return repeated.message_id
        item_open = request.item is not None and items.is_open(conn, request.item)
        change = lifecycle.answered(
            request.status, request.reason, request.reminder_count, now, item_open=item_open
        )
        reqs.update_request(conn, number, **change)
        detail: dict[str, Any] = {"message_id": message_id}
        if attachments:
            detail["attachments"] = [a.filename for a in attachments]
        if template is not None:
            used = record_template_use(conn, now, request, agent_login, template, template_language)
            if used is not None:
                detail["template"] = used
        if reminder:
            detail["reminder"] = change["reminder_count"]
        if kept is not None:
            kept["after"] = lifecycle.CLOSED if close is not None else change["status"]
            detail["undo"] = kept
        add_event(
            conn, number, now, "reminder" if reminder else "reply", actor=agent_login, detail=detail
        )
        drop_draft(conn, number, agent_login)  # sent: the draft is done with
        if close is not None:
            reqs.update_request(conn, number, **lifecycle.closed(close, now))
            add_event(conn, number, now, "close", actor=agent_login, reason=close)
        elif snooze_until is not None:
            sending.snooze(conn, now, number, snooze_until, agent_login)
        return message_id


def record_template_use(
    conn: Connection,
    now: datetime,
    request: RequestRecord,
    agent_login: str,
    template: str,
    template_language: str | None,
) -> str | None:
    """Record that `agent_login`'s answer to `request` started from `template`, with the
    customer message's keywords (suggestions learn from what was sent); returns the
    template's name, None when it was deleted meanwhile."""
    language = template_language or request.language
    try:
        record = templates.resolve(conn, template, agent_login, language)
    except NotFoundError:
        return None
    last = msgs.last_inbound(conn, request.number)
    words = keywords(templates.customer_text(last, request.subject))
    store_templates.record_use(conn, record, agent_login, request.number, now, words)
    return record.name


def queue_mail(
    conn: Connection,
    settings: Settings,
    now: datetime,
    request: RequestRecord,
    body: str,
    *,
    kind: str,
    agent_login: str | None,
    subject: str | None = None,
    automatic: bool = False,
    cc: list[str] | None = None,
    idempotency_key: str | None = None,
    ask: bool = False,
    answer_event: bool = False,
    attachments: list[ReplyAttachment] | None = None,
    undo: bool = False,
) -> str:
    """Put a message to the customer in the outbox (inside the caller's transaction), as an
    answer to their latest message; returns its Message-ID. It goes to the request's customer
    (their Reply-To), whoever wrote last, with the Cc of the customer's latest message copied
    (`cc` None) or the `cc` given. `kind` "reply" counts as the
    first answer; an automatic message (a reminder the tick sends, a closing notice) does not.
    `ask`: an answer or a closing message, which ends with the rating question when
    `[csat] ask` (added here, so it is never in the agent's draft and never doubled).
    `answer_event`: the caller records it as the agent's answer (a reply or reminder event):
    if it is the first answer, the agent is kept as the one who gave it (the figures by
    agent). `undo`: an agent's answer, which waits `[outgoing] undo_seconds` (its
    `undo_until`) before any worker takes it."""
    number = request.number
    agent = get_agent(conn, agent_login) if agent_login else None
    question = csat_question(conn, settings, request, agent) if ask else None
    if question is not None:
        body = csat.with_question(body, question[0], question[1])
    last = msgs.last_inbound(conn, number)
    address = msgs.reply_address(conn, number, request.customer_email)
    references = msgs.references_after(conn, last.pk) if last else []
    copied = _cc_list(settings, request, address, msgs.last_cc(conn, number) if cc is None else cc)
    mail = OutgoingMail(
        request_id=number,
        to=[address],
        cc=copied,
        subject=subject or reply_subject(request.subject, number),
        text=body.rstrip() + "\n",
        kind=kind,
        automatic=automatic,
        agent_login=agent_login,
        agent_name=agent.name if agent else None,
        in_reply_to=last.message_id if last else None,
        references=references,
        attachments=list(attachments or []),
    )
    pk = q.allocate_ids(conn, "message", 1)
    try:
        row, raw = build_outgoing(settings, now, pk, mail)
    except ValueError as exc:
        raise SupportDeskError(f"cannot write to {mail.to[0]}: {exc}") from None
    if undo and settings.outgoing.undo_seconds > 0:
        row["undo_until"] = row["next_attempt_at"] = now + timedelta(
            seconds=settings.outgoing.undo_seconds
        )
    if idempotency_key is not None:
        row["idempotency_key"] = idempotency_key
        taken = outbox.insert_keyed(conn, row)
        if taken is not None:
            raise _Repeated(taken)
    else:
        q.insert_rows(conn, "message", [row])
    q.insert_rows(conn, "message_raw", [raw])
    if mail.attachments:  # listed on the request screen and saved like inbound ones
        q.insert_rows(conn, "attachment", attachment_rows(pk, raw["raw"]))
    reqs.count_outgoing(
        conn,
        number,
        now,
        first_response=kind == "reply" and not automatic,
        answered_by=agent_login if answer_event and agent_login != "system" else None,
    )
    if answer_event and agent is not None and not agent.trainee and not automatic:
        from supportdesk.desk import quality

        quality.sample(
            conn, settings, now, number, pk, str(row["message_id"]), agent.login
        )  # a reviewed trainee's letter is not sampled again
    if question is not None:
        detail = {"message_id": row["message_id"]}
        add_event(conn, number, now, ratings.ASKED, actor=agent_login or "system", detail=detail)
    return str(row["message_id"])


def csat_question(
    conn: Connection, settings: Settings, request: RequestRecord, agent: AgentRecord | None
) -> tuple[str, str] | None:
    """The rating question for `request` in its language, on one line, and the signature it
    goes before: None when `[csat] ask` is off or no variant of csat_question renders."""
    if not settings.csat.ask:
        return None
    variants = templates.workflow_variants(conn, csat.QUESTION_TEMPLATE)
    if not any(v.scope == "system" for v in variants):  # a desk set up before it shipped
        variants += templates.shipped_variants(csat.QUESTION_TEMPLATE)
    signature = ""

    def values(record: TemplateRecord) -> dict[str, Any]:
        nonlocal signature
        found = templates.request_context(conn, settings, request, agent, record.language)
        signature = str(found["agent"]["signature"])
        return found

    rendered, _errors = templates.render_workflow(variants, request.language or "en", values)
    if rendered is None:
        return None
    line = " ".join(rendered.text.split())
    return (line, signature) if line else None


def reply_cc(conn: Connection, settings: Settings, request: RequestRecord) -> list[str]:
    """Whom an answer to `request` is copied to by default: the Cc of the customer's latest
    message, less our own address and the customer's."""
    address = msgs.reply_address(conn, request.number, request.customer_email)
    return _cc_list(settings, request, address, msgs.last_cc(conn, request.number))


def _cc_list(
    settings: Settings, request: RequestRecord, to: str, addresses: list[str]
) -> list[str]:
    """`addresses` without ours, the customer's, the one the answer goes to, repeats and
    any a header cannot hold."""
    seen = {_bare(settings.desk.address), _bare(request.customer_email), _bare(to)}
    found: list[str] = []
    for address in addresses:
        key = _bare(address)
        if key in seen or not writable(address):
            continue
        seen.add(key)
        found.append(address.strip())
    return found[:CC_MAX]


def _bare(address: str) -> str:
    return address.strip().strip("<>").strip().lower()


def reply_with_template(
    db: Database,
    settings: Settings,
    now: datetime,
    number: int,
    name: str,
    agent_login: str,
    *,
    extra: str = "",
    language: str | None = None,
    cc: list[str] | None = None,
    idempotency_key: str | None = None,
    attachments: list[ReplyAttachment] | None = None,
    close: str | None = None,
    snooze_until: datetime | None = None,
) -> tuple[str, Rendered]:
    """Render template `name` for the request and queue it (plus `extra` text after it).
    A template that fails to render raises TemplateError and nothing is queued; one that
    needs an item (bug_ack, idea_thanks, fixed_notice) goes out only in its flow."""
    with db.read() as conn:
        request = reqs.get_request(conn, number)
        if request is None:
            raise NotFoundError(f"request #{number} does not exist")
        language = language or request.language or "en"
        key = check_key(idempotency_key)
        done = outbox.keyed_text(conn, number, key) if key else None
        if done is not None:  # a retry: what went out the first time, nothing new
            record = templates.resolve(conn, name, agent_login, language)
            return done[0], Rendered(record, done[2], done[1])
        _check_flow(conn, request, name)
        record = templates.resolve(conn, name, agent_login, language)
        agent = get_agent(conn, agent_login)
        rendered = templates.render(
            record, templates.request_context(conn, settings, request, agent, record.language)
        )
    text = rendered.text
    if extra.strip():
        text = f"{text.rstrip()}\n\n{extra.strip()}\n"
    message_id = reply(
        db,
        settings,
        now,
        number,
        text,
        agent_login,
        subject=rendered.subject,
        template=record.name,
        template_language=record.language,
        cc=cc,
        idempotency_key=idempotency_key,
        attachments=attachments,
        close=close,
        snooze_until=snooze_until,
    )
    return message_id, rendered


def _check_flow(conn: Connection, request: RequestRecord, name: str) -> None:
    """Refuse a template that needs an item outside its flow: on a request linked to no item
    (ItemRequired), or to an item it does not speak of (idea_thanks for a bug, fixed_notice
    before the fix)."""
    if name not in templates.ITEM_TEMPLATES:
        return
    item = items.get_item(conn, request.item) if request.item is not None else None
    if item is None:
        raise templates.ItemRequired(name)
    if not templates.offered(name, item):
        raise SupportDeskError(
            f"{name} does not fit #{request.number}: it is linked to {item.label} ({item.status})"
        )


def _with_tag(subject: str, number: int) -> str:
    tag = f"[#{number}]"
    return subject if tag in subject else f"{subject} {tag}"


class ReplyService:
    """Answers to customers: queued in the outbox, delivered by the poller."""

    def __init__(self, ctx: DeskContext) -> None:
        self.ctx = ctx

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
        """Queue an answer (and close or snooze the request with it). With `template` (the
        name it started from, perhaps edited since)
        the use is recorded, so suggestions learn from it. `cc` None copies the Cc of the
        customer's latest message (`reply_cc`), [] copies nobody. The same
        `idempotency_key` again queues nothing and returns the first Message-ID."""
        ctx = self.ctx
        return reply(
            ctx.db,
            ctx.settings,
            ctx.now(),
            number,
            body,
            agent,
            template=template,
            cc=cc,
            idempotency_key=idempotency_key,
            attachments=attachments,
            close=close,
            snooze_until=snooze_until,
        )

    def reply_cc(self, number: int) -> list[str]:
        """Whom an answer to request `number` is copied to unless the agent drops them: the
        Cc of the customer's latest message, less our address and the customer's."""
        with self.ctx.db.read() as conn:
            request = reqs.get_request(conn, number)
            if request is None:
                raise NotFoundError(f"request #{number} does not exist")
            return reply_cc(conn, self.ctx.settings, request)

    def keyed_reply(self, number: int, key: str) -> str | None:
        """The Message-ID of the reply queued for request `number` with idempotency `key`."""
        with self.ctx.db.read() as conn:
            return keyed_reply(conn, number, key)

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
    ) -> tuple[str, Rendered]:
        ctx = self.ctx
        return reply_with_template(
            ctx.db,
            ctx.settings,
            ctx.now(),
            number,
            name,
            agent,
            extra=extra,
            language=language,
            cc=cc,
            idempotency_key=idempotency_key,
            attachments=attachments,
            close=close,
            snooze_until=snooze_until,
        )

    def read_attachment(self, path: str) -> ReplyAttachment:
        """The file at `path` as an attachment (one clear line when it cannot be read)."""
        return read_attachment(path)

    def check_attachments(self, attachments: list[ReplyAttachment]) -> None:
        """Refuse (one line) attachments over `[outgoing] attachment_limit` together."""
        check_limit(self.ctx.settings, attachments)
