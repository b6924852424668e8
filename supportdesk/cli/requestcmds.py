"""stack, requests list|show|reply|close|snooze, search."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from supportdesk.cli.app import app, state
from supportdesk.cli.output import (
    age,
    emit_json,
    local_time,
    mail_text,
    print_body,
    print_table,
    say,
    stdout,
)
from supportdesk.domain import RequestStatus
from supportdesk.domain.records import HeldLetter
from supportdesk.errors import SupportDeskError

requests_app = typer.Typer(help="List, show, answer and close requests.", no_args_is_help=True)
app.add_typer(requests_app, name="requests")

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
AgentOption = Annotated[
    str | None, typer.Option("--agent", help="Act as this agent (overrides the global --agent).")
]


def _request_rows(records: list) -> list[list[object]]:  # type: ignore[type-arg]
    from supportdesk.desk.senders import request_sender

    desk = state.desk()
    now = desk.clock.now()
    return [
        [
            f"#{r.number}",
            r.priority,
            # snoozed requests wait: "snoozed Mon 09:00" says both
            desk.sending.label(r.snoozed_until).replace(" until", "")
            if r.snoozed_until and r.status == "waiting"
            else r.status,
            r.reason,
            age(r.pushed_at, now),
            request_sender(r),  # the name, and the address when the name alone could deceive
            r.subject,
            ",".join(r.tags),
            r.claimed_by or (f"→{r.assignee}" if r.assignee else ""),
        ]
        for r in records
    ]


_COLUMNS = [
    "number",
    "priority",
    "status",
    "reason",
    "age",
    "customer",
    "subject",
    "tags",
    "claimed",
]


@app.command()
def stack(
    json: JsonFlag = False,
    limit: Annotated[int, typer.Option(help="Show at most this many.")] = 100,
    line: Annotated[
        int | None,
        typer.Option(min=1, help="Only this line's stack (without: every line's)."),  # noqa: UP007
    ] = None,
    mine: Annotated[
        bool,
        typer.Option("--mine", help="The requests assigned to me instead, whatever their status."),
    ] = False,
    agent: AgentOption = None,
) -> None:
    """The LIFO stack: the newest request on top."""
    from supportdesk.desk.senders import request_json

    desk = state.desk()
    records = desk.mine(state.acting(agent), limit) if mine else desk.stack(limit, line)
    if json:
        emit_json([request_json(r) for r in records])
    elif not records:
        if mine:
            say("Nothing is assigned to you.")
        else:
            say("The stack is empty." if line is None else f"Line {line}'s stack is empty.")
    else:
        print_table(_COLUMNS, _request_rows(records))


@requests_app.command("list")
def list_requests(
    status: Annotated[
        str | None, typer.Option(help="new, open, waiting, linked, review, closed")
    ] = None,  # noqa: UP007
    tag: Annotated[str | None, typer.Option(help="Only requests with this tag.")] = None,  # noqa: UP007
    customer: Annotated[
        str | None, typer.Option(help="Part of the customer's address or name.")
    ] = None,  # noqa: UP007
    assignee: Annotated[
        str | None, typer.Option(help="Only requests assigned to this agent.")
    ] = None,  # noqa: UP007
    mine: Annotated[
        bool, typer.Option("--mine", help="Only requests assigned to me (--agent).")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
    agent: AgentOption = None,
    json: JsonFlag = False,
) -> None:
    """All requests, newest first."""
    from supportdesk.desk.senders import request_json

    if status and status not in tuple(RequestStatus):
        raise typer.BadParameter(
            f"expected one of {', '.join(RequestStatus)}", param_hint="--status"
        )
    if mine and assignee is not None:
        raise typer.BadParameter("give --assignee or --mine, not both")
    if mine:
        assignee = state.acting(agent)
    records = state.desk().list_requests(
        status=status, tag=tag, customer=customer, assignee=assignee, limit=limit
    )
    if json:
        emit_json([request_json(r) for r in records])
    else:
        print_table(_COLUMNS, _request_rows(records))


@requests_app.command("show")
def show(number: int, json: JsonFlag = False) -> None:
    """One request with its whole conversation."""
    from rich.rule import Rule

    from supportdesk.desk.csat import rating_label
    from supportdesk.desk.senders import message_sender, request_sender
    from supportdesk.desk.wording import mention_note

    desk = state.desk()
    detail = desk.request(number)
    letters = desk.reviews.letters(number=number)
    if json:
        emit_json({**detail.as_dict(), "reviews": [v.as_dict() for v in letters]})
        return
    r = detail.request
    customer = request_sender(r)
    stdout.print(mail_text(f"#{r.number} {r.subject}", "bold"))
    stdout.print(
        mail_text(
            f"{r.status} ({r.reason}) · {customer.full} · "
            f"{len(detail.messages)} messages · tags: {', '.join(r.tags) or '-'}"
        )
    )
    if customer.warning:
        stdout.print(mail_text(f"⚠ {customer.warning}", "yellow"))
    if r.snoozed_until is not None:
        stdout.print(mail_text(state.desk().sending.label(r.snoozed_until)))
    stdout.print(mail_text(f"owner: {r.assignee or 'nobody'}"))
    if r.mentions is not None:
        stdout.print(mail_text(f"⚠ {mention_note(r.mentions)}", "yellow"))
    for v in letters:
        if v.state == "pending":
            late = ", late" if v.overdue else ""
            stdout.print(
                mail_text(
                    f"{v.agent}'s letter waits for review by {v.mentor or 'an admin'} "
                    f"(review {v.id}{late}): `supportdesk reviews show {v.id}`",
                    "yellow",
                )
            )
    if r.item is not None:
        item = state.desk().item(r.item).item
        stdout.print(mail_text(f"linked to {item.label} ({item.status}): {item.title}"))
    for m in detail.messages:
        when = local_time(m.date or m.received_at)
        sender = message_sender(m) if m.direction == "in" else None
        who = sender.full if sender else m.from_addr
        head = f"{m.direction} · {who} · {when} · {m.status}"
        if m.cc:
            head += f" · Cc {', '.join(m.cc)}"
        if m.joined_by not in (None, "new"):
            head += f" · joined by {m.joined_by}"
        stdout.print(Rule(mail_text(head), align="left"))
        if sender is not None and sender.warning:
            stdout.print(mail_text(f"⚠ {sender.warning}", "yellow"))
        for w in m.warnings:
            stdout.print(mail_text(f"warning: {w}", "yellow"))
        print_body(m.text)
        for a in m.attachments:
            stdout.print(
                mail_text(
                    f"[attachment {a.id}] {a.filename} ({a.content_type}, {a.encoded_size} bytes)"
                )
            )
    for rating in detail.ratings:
        when = local_time(rating.at)
        line = rating_label(rating.score, rating.good, rating.comment, rating.agent)
        stdout.print(mail_text(f"{when}  {line}"))
    if detail.events:
        stdout.print(Rule(mail_text("timeline"), align="left"))
        for e in detail.events:
            what = e["kind"] + (f" ({e['reason']})" if e["reason"] else "")
            if isinstance(e["detail"], dict) and e["detail"].get("note"):
                what += f": {e['detail']['note']}"
            if e["kind"] in ("assign", "unassign") and isinstance(e["detail"], dict):
                before, after = e["detail"].get("from"), e["detail"].get("to")
                what += f": {before or 'nobody'} → {after or 'nobody'}"
            when = local_time(datetime.fromisoformat(e["at"]) if e["at"] else None)
            stdout.print(mail_text(f"{when}  {e['actor']:<10} {what}"))


@requests_app.command("reply")
def reply(
    number: int,
    body: Annotated[str | None, typer.Option(help="The answer's text.")] = None,  # noqa: UP007
    body_file: Annotated[
        Path | None,
        typer.Option(  # noqa: UP007
            "--body-file", help="Read the answer from a file ('-' for stdin)."
        ),
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(  # noqa: UP007
            "--template", help="Answer with this template; --body/--body-file text is appended."
        ),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option(help="The template's language variant (default: the request's)."),  # noqa: UP007
    ] = None,
    no_cc: Annotated[
        bool,
        typer.Option(
            "--no-cc", help="Do not copy the people in Cc of the customer's latest message."
        ),
    ] = False,
    idempotency_key: Annotated[
        str | None,
        typer.Option(  # noqa: UP007
            "--idempotency-key",
            metavar="KEY",
            help="Run again with the same KEY (a script's retry), nothing new is sent and "
            "the first reply's Message-ID is printed.",
        ),
    ] = None,
    attach: Annotated[
        list[str] | None,
        typer.Option(  # noqa: UP007
            "--attach", metavar="FILE", help="Send this file with the answer (repeatable)."
        ),
    ] = None,
    close: Annotated[
        str | None,
        typer.Option(  # noqa: UP007
            "--close", metavar="REASON", help="Close the request with the answer (resolved ...)."
        ),
    ] = None,
    snooze: Annotated[
        str | None,
        typer.Option(  # noqa: UP007
            "--snooze",
            metavar="UNTIL",
            help="Snooze the request with the answer: back on top then (3d, mon 9:00 ...) "
            "unless the customer writes first.",
        ),
    ] = None,
    agent: AgentOption = None,
    json: JsonFlag = False,
) -> None:
    """Answer a request: the reply is queued in the outbox and the request leaves the stack
    (a trainee's waits for review by their mentor first).
    It is copied to the people in Cc of the customer's latest message (--no-cc: to nobody)."""
    if body is not None and body_file is not None:
        raise typer.BadParameter("give --body or --body-file, not both")
    if close is not None and snooze is not None:
        raise typer.BadParameter("give --close or --snooze, not both")
    if template is None and body is None and body_file is None:
        raise typer.BadParameter("give --template, --body or --body-file")
    if body_file is not None:
        try:
            text = sys.stdin.read() if str(body_file) == "-" else body_file.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SupportDeskError(f"cannot read {body_file}: {exc}") from None
    else:
        text = body or ""
    login = state.acting(agent)
    desk = state.desk()
    files = [desk.read_attachment(path) for path in attach or []]
    until = desk.sending.parse_when(snooze) if snooze is not None else None  # before sending
    cc: list[str] | None = [] if no_cc else None
    if idempotency_key is not None and (done := desk.keyed_reply(number, idempotency_key)):
        if json:
            emit_json({"number": number, "message_id": done, "status": "already_queued"})
        else:
            say(f"Reply to #{number} already queued with this key ({done}); nothing sent.")
        return
    copied = [] if no_cc else desk.reply_cc(number)
    used = None
    if template is not None:
        message_id, rendered = desk.reply_with_template(
            number,
            template,
            login,
            extra=text,
            language=language,
            cc=cc,
            idempotency_key=idempotency_key,
            attachments=files,
            close=close,
            snooze_until=until,
        )
        used = rendered.template
    else:
        message_id = desk.reply(
            number,
            text,
            login,
            cc=cc,
            idempotency_key=idempotency_key,
            attachments=files,
            close=close,
            snooze_until=until,
        )
    if isinstance(message_id, HeldLetter):  # a trainee's answer waits for the mentor
        if json:
            emit_json({"held_for_review": True, "review": message_id.review_id, "request": number})
        else:
            mentor = desk.reviews.get(message_id.review_id).mentor or "an admin"
            say(f"#{number}: held for review by {mentor} (review {message_id.review_id}).")
        return
    if json:
        emit_json(
            {
                "number": number,
                "message_id": message_id,
                "status": "queued",
                "template": used.name if used else None,
                "language": used.language if used else None,
                "cc": copied,
                "attachments": [f.filename for f in files],
                "closed": close,
                "snoozed_until": until.isoformat() if until else None,
            }
        )
    else:
        how = f" with {used.label}" if used else ""
        copy = f", Cc {', '.join(copied)}" if copied else ""
        attached = f", {len(files)} file{'s' if len(files) != 1 else ''} attached" if files else ""
        then = f"; #{number} closed ({close})" if close else ""
        then += f"; #{number} {desk.sending.label(until)}" if until else ""
        say(f"Reply to #{number} queued{how}{copy}{attached} ({message_id}){then}.")


@requests_app.command("unsend")
def unsend(
    message_id: Annotated[
        str, typer.Argument(help="The reply's Message-ID, as `requests reply` printed it.")
    ],
    agent: AgentOption = None,
    json: JsonFlag = False,
) -> None:
    """Take back your reply while it waits its `[outgoing] undo_seconds` in the outbox: it is
    never sent, the request is as it was, and your draft holds the text again."""
    undone = state.desk().sending.unsend(message_id, state.acting(agent))
    if json:
        emit_json(
            {
                "number": undone.number,
                "message_id": message_id,
                "unsent": True,
                "restored": undone.restored,
            }
        )
    else:
        state_note = "" if undone.restored else " (the request changed meanwhile: it stays so)"
        say(
            f"Reply to #{undone.number} taken back: it will not be sent; "
            f"the text is in your draft{state_note}."
        )


@requests_app.command("set")
def set_(
    number: int,
    language: Annotated[
        str | None,
        typer.Option(help="The language templates use for this request (en, ru ...)."),  # noqa: UP007
    ] = None,
    priority: Annotated[
        str | None,
        typer.Option(help="urgent, high, normal or low (urgent is pinned on the stack)."),  # noqa: UP007
    ] = None,
    agent: AgentOption = None,
    json: JsonFlag = False,
) -> None:
    """Change a request's settings: its language, its priority."""
    from supportdesk.domain.tags import check_priority

    if language is None and priority is None:
        raise typer.BadParameter("nothing to set: give --language or --priority")
    if priority is not None:
        try:
            priority = check_priority(priority)
        except SupportDeskError as exc:
            raise typer.BadParameter(str(exc), param_hint="--priority") from None
    login = state.acting(agent)
    desk = state.desk()
    done: dict[str, object] = {"number": number}
    if language is not None:
        desk.set_language(number, language, login)
        done["language"] = language
    if priority is not None:
        done["priority_before"] = desk.set_priority(number, priority, login)
        done["priority"] = priority
    if json:
        emit_json(done)
        return
    if language is not None:
        say(f"#{number}: language {language}.")
    if priority is not None:
        before = done["priority_before"]
        say(
            f"#{number}: priority {priority}" + (f" (was {before})." if before != priority else ".")
        )


@requests_app.command(
    "tag", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": True}
)
def tag(
    number: int,
    changes: Annotated[
        list[str],
        typer.Argument(
            help="+tag or tag adds it, -tag removes it (e.g. +billing -spam).",
            metavar="[+|-]TAG...",
        ),
    ],
    agent: AgentOption = None,
    json: JsonFlag = False,
) -> None:
    """Add and remove a request's tags (lower-case; letters, digits, '-', '_', '.')."""
    from supportdesk.domain.tags import tag_changes

    try:
        add, remove = tag_changes(changes)
    except SupportDeskError as exc:
        raise typer.BadParameter(str(exc), param_hint="TAG") from None
    desk = state.desk()
    added, removed = desk.change_tags(number, add, remove, state.acting(agent))
    tags = desk.request(number).request.tags
    if json:
        emit_json({"number": number, "added": added, "removed": removed, "tags": tags})
        return
    what = [f"+{t}" for t in added] + [f"-{t}" for t in removed]
    say(f"#{number}: {' '.join(what) if what else 'no change'}; tags: {', '.join(tags) or '-'}.")


@requests_app.command("take")
def take(agent: AgentOption = None, json: JsonFlag = False) -> None:
    """Claim the next request on the stack for this agent (what `n` does in the console) and
    print it; when there is nothing to take, print nothing (JSON null) and exit 0."""
    login = state.acting(agent)
    record = state.desk().claim_next(login)
    if json:
        from supportdesk.desk.senders import request_json

        emit_json(request_json(record) if record else None)
    elif record is None:
        say("Nothing to take: the stack is empty or every request on it is claimed.")
    else:
        print_table(_COLUMNS, _request_rows([record]))


@requests_app.command("release")
def release(number: int, agent: AgentOption = None, json: JsonFlag = False) -> None:
    """Drop this agent's claim on a request, so that others can take it."""
    login = state.acting(agent)
    released = state.desk().release(number, login)
    if json:
        emit_json({"number": number, "released": released})
    else:
        say(f"#{number} released." if released else f"#{number} was not claimed by {login}.")


@requests_app.command("assign")
def assign(
    number: int,
    assignee: Annotated[str, typer.Argument(metavar="AGENT", help="The new owner (a login).")],
    agent: AgentOption = None,
    json: JsonFlag = False,
) -> None:
    """Make an enabled agent the owner of a request (it shows in their "mine" view; others'
    take next skips it)."""
    changed = state.desk().assign(number, assignee, state.acting(agent))
    if json:
        emit_json({"number": number, "assignee": assignee, "changed": changed})
    else:
        say(f"#{number} assigned to {assignee}." if changed else f"#{number} is {assignee}'s.")


@requests_app.command("unassign")
def unassign(number: int, agent: AgentOption = None, json: JsonFlag = False) -> None:
    """Give a request back to the line: nobody owns it."""
    changed = state.desk().assign(number, None, state.acting(agent))
    if json:
        emit_json({"number": number, "assignee": None, "changed": changed})
    else:
        say(f"#{number} unassigned." if changed else f"#{number} had no owner.")


@requests_app.command("close")
def close(
    number: int,
    reason: Annotated[
        str, typer.Option(help="resolved, no_reply, idea, spam, duplicate, other")
    ] = "resolved",
    agent: AgentOption = None,
    json: JsonFlag = False,
) -> None:
    """Close a request; a later message from the customer reopens it."""
    state.desk().close(number, reason, state.acting(agent))
    if json:
        emit_json({"number": number, "status": "closed", "reason": reason})
    else:
        say(f"#{number} closed ({reason}).")


@requests_app.command("snooze")
def snooze(
    number: int,
    until: Annotated[
        str | None,
        typer.Argument(
            help="When it comes back on top: 3d, 4h, mon 9:00, tomorrow 9:00, "
            "9:00, 2026-12-10 14:00 (the desk's time zone)."
        ),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="End the snooze.")] = False,
    agent: AgentOption = None,
    json: JsonFlag = False,
) -> None:
    """Snooze a waiting request: it comes back on top at UNTIL, unless the customer writes
    first; follow-ups wait meanwhile."""
    if clear == (until is not None):
        raise typer.BadParameter("give UNTIL or --clear")
    desk = state.desk()
    login = state.acting(agent)
    if clear:
        changed = desk.sending.unsnooze(number, login)
        if json:
            emit_json({"number": number, "snoozed_until": None, "changed": changed})
        else:
            say(f"#{number} is not snoozed any more." if changed else f"#{number} was not snoozed.")
        return
    assert until is not None
    when = desk.sending.snooze(number, until, login)
    if json:
        emit_json({"number": number, "snoozed_until": when.isoformat()})
    else:
        say(f"#{number} {desk.sending.label(when)}.")


@requests_app.command("merge")
def merge(
    number: Annotated[int, typer.Argument(help="The duplicate request, N.")],
    words: Annotated[
        list[str],
        typer.Argument(
            help="The request to keep, M, optionally after the word INTO.", metavar="[INTO] M"
        ),
    ],
    agent: AgentOption = None,
    json: JsonFlag = False,
) -> None:
    """Merge duplicate request N into request M: `requests merge 12 into 7` (or `merge 12 7`).

    N's messages, notes and attachments move to M (keeping their times), N's tags are added
    to M, N's drafts are dropped, and N is closed as `duplicate` pointing at M. M stays as it
    is, unless N was on the stack and M is not: then M goes on top of the stack. Later replies
    to N (its [#N] or its messages) join M."""
    if len(words) == 2 and words[0].lower() == "into":
        words = words[1:]
    if len(words) != 1 or not words[0].lstrip("#").isdigit():
        raise typer.BadParameter("give the request to merge into: `merge N into M` or `merge N M`")
    into = int(words[0].lstrip("#"))
    result = state.desk().merge(number, into, state.acting(agent))
    if json:
        emit_json(result.as_dict())
        return
    also = f"; tags added: {', '.join(result.tags_added)}" if result.tags_added else ""
    say(
        f"Merged #{number} into #{into}: {result.messages} "
        f"message{'' if result.messages == 1 else 's'} moved{also}; "
        f"#{number} closed (duplicate), #{into} is {result.target_status}."
    )
    if result.other_customer:
        say(f"Note: #{number} was from {result.other_customer}, another customer than #{into}'s.")


NoteOption = Annotated[
    str,
    typer.Option(help="Why (required): an internal note in the thread, never sent."),
]


def _moved(move: Any, json: bool, verb: str) -> None:
    if json:
        emit_json(move.as_dict())
    elif move.moved:
        to = f" and assigned to {move.assignee}" if move.assignee else ""
        say(f"#{move.number} {verb} from line {move.from_line} to line {move.to_line}{to}.")
    else:
        say(
            f"#{move.number} was moved by another agent meanwhile (now on line {move.line}); "
            "not moved again, your note was added."
        )


@requests_app.command("escalate")
def escalate(
    number: int,
    note: NoteOption = "",
    to_line: Annotated[
        int | None,
        typer.Option("--to-line", min=1, help="The line to move it to (default: the next)."),  # noqa: UP007
    ] = None,
    to: Annotated[
        str | None,
        typer.Option("--to", help="Move it to this agent's line, assigned to them."),  # noqa: UP007
    ] = None,
    agent: AgentOption = None,
    json: JsonFlag = False,
) -> None:
    """Move a request up to the next line (or --to-line N, or --to AGENT), on top of that
    line's stack, with an internal note; the customer is told nothing."""
    if to_line is not None and to is not None:
        raise typer.BadParameter("give --to-line or --to, not both")
    if not note.strip():
        raise typer.BadParameter("say why with --note TEXT (an internal note)", param_hint="--note")
    login = state.acting(agent)
    move = state.desk().escalate(number, login, note, to_line=to_line, to_agent=to)
    _moved(move, json, "escalated")


@requests_app.command("handback")
def handback(
    number: int,
    note: NoteOption = "",
    agent: AgentOption = None,
    json: JsonFlag = False,
) -> None:
    """Hand a request back down to the line it was escalated from (else the first), nobody
    assigned, with an internal note; the customer is told nothing."""
    if not note.strip():
        raise typer.BadParameter("say why with --note TEXT (an internal note)", param_hint="--note")
    login = state.acting(agent)
    move = state.desk().handback(number, login, note)
    _moved(move, json, "handed back")


@app.command()
def search(
    query: str,
    json: JsonFlag = False,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
) -> None:
    """Full-text search over every message."""
    hits = state.desk().search(query, limit)
    if json:
        emit_json([h.as_dict() for h in hits])
    elif not hits:
        say("Nothing found.")
    else:
        print_table(
            ["number", "status", "from", "subject", "snippet"],
            [
                [f"#{h.request_id}", h.status, h.from_addr, h.subject, h.snippet.replace("\n", " ")]
                for h in hits
            ],
        )
