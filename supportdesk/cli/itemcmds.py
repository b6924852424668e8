"""requests convert, items list|show|set|fix|export: bugs, ideas and stories."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from supportdesk.cli.app import app, state
from supportdesk.cli.output import (
    age,
    emit_json,
    local_time,
    print_table,
    progress_bar,
    say,
    stdout,
)
from supportdesk.cli.requestcmds import AgentOption, JsonFlag, requests_app
from supportdesk.domain import SHIPPED, ItemKind, ItemStatus
from supportdesk.errors import SupportDeskError

KINDS = tuple(ItemKind)
ITEM_STATUSES = tuple(ItemStatus)

items_app = typer.Typer(
    help="Bugs, ideas and stories made from requests: the product team's backlog.",
    no_args_is_help=True,
)
app.add_typer(items_app, name="items")

KindOption = Annotated[str | None, typer.Option("--kind", help="bug, idea or story.")]
StatusOption = Annotated[str | None, typer.Option("--status", help=", ".join(ITEM_STATUSES))]


def _check(value: str | None, allowed: tuple[str, ...], hint: str) -> None:
    if value is not None and value not in allowed:
        raise typer.BadParameter(f"expected one of {', '.join(allowed)}", param_hint=hint)


@requests_app.command("convert")
def convert(
    number: int,
    to: Annotated[
        str | None, typer.Option("--to", help="Turn it into a new bug, idea or story.")
    ] = None,
    attach: Annotated[
        int | None, typer.Option("--attach", help="Link it to this existing item instead.")
    ] = None,
    title: Annotated[
        str | None, typer.Option(help="The new item's title (default: the request's subject).")
    ] = None,
    description: Annotated[
        str | None,
        typer.Option(help="The new item's description (default: the customer's message)."),
    ] = None,
    ref: Annotated[str | None, typer.Option(help="A tracker key or URL for the new item.")] = None,
    move: Annotated[
        bool,
        typer.Option(
            "--move",
            help="The request is linked to another item: move it (that item loses this "
            "customer; one message goes out, for the new item).",
        ),
    ] = False,
    agent: AgentOption = None,
    json: JsonFlag = False,
) -> None:
    """Turn a request into a bug, idea or story (or attach it to one) and thank the customer:
    bug_ack for a bug or story (the request waits, linked), idea_thanks for an idea (closed).
    A request already linked to another item needs --move."""
    if (to is None) == (attach is None):
        raise typer.BadParameter("give --to bug|idea|story or --attach ITEM")
    _check(to, KINDS, "--to")
    if attach is not None and (title or description or ref):
        raise typer.BadParameter("--title, --description and --ref are for a new item (--to)")
    login = state.acting(agent)
    desk = state.desk()
    if to is not None:
        linked = desk.convert(
            number, to, login, title=title, description=description, ref=ref, move=move
        )
    else:
        assert attach is not None
        linked = desk.attach(number, attach, login, move=move)
    if json:
        emit_json(linked.as_dict())
        return
    how = "is now" if linked.created else "is attached to"
    say(
        f"#{number} {how} {linked.item.label} ({linked.item.title}); {linked.template} queued, "
        f"request {linked.status}."
    )


@items_app.command("list")
def list_items(
    kind: KindOption = None,
    status: StatusOption = None,
    json: JsonFlag = False,
) -> None:
    """The backlog, the most customers waiting first."""
    _check(kind, KINDS, "--kind")
    _check(status, ITEM_STATUSES, "--status")
    records = state.desk().items(kind=kind, statuses=[status] if status else None)
    if json:
        emit_json([i.as_dict() for i in records])
    elif not records:
        say("No items.")
    else:
        now = state.desk().clock.now()
        print_table(
            ["number", "kind", "status", "waiting", "customers", "age", "ref", "title"],
            [
                [
                    f"#{i.number}",
                    i.kind,
                    i.status,
                    i.waiting,
                    i.customers,
                    age(i.created_at, now),
                    i.ref or "",
                    i.title,
                ]
                for i in records
            ],
        )


@items_app.command("show")
def show(number: int, json: JsonFlag = False) -> None:
    """One item with the requests linked to it."""
    from rich.text import Text

    from supportdesk.domain.text import display_safe

    detail = state.desk().item(number)
    if json:
        emit_json(detail.as_dict())
        return
    i = detail.item
    lines = [
        f"{i.label} {i.title}",
        f"status {i.status}" + (f" · ref {i.ref}" if i.ref else "") + f" · tags {','.join(i.tags)}",
        f"created by {i.created_by} {local_time(i.created_at)}"
        + (f" · fixed {i.fixed_at.astimezone():%Y-%m-%d %H:%M}" if i.fixed_at else ""),
        f"{i.customers} customers, {i.waiting} waiting",
    ]
    for line in lines:
        stdout.print(Text(display_safe(line)))
    if i.description:
        stdout.print()
        stdout.print(Text(display_safe(i.description)))
    if detail.requests:
        stdout.print()
        print_table(
            ["number", "status", "reason", "customer", "subject"],
            [
                [f"#{r.number}", r.status, r.reason, r.customer_email, r.subject]
                for r in detail.requests
            ],
        )


@items_app.command("set")
def set_(
    number: int,
    status: StatusOption = None,
    ref: Annotated[str | None, typer.Option(help="Tracker key or URL ('' clears it).")] = None,
    title: Annotated[str | None, typer.Option(help="A new title.")] = None,
    description: Annotated[str | None, typer.Option(help="A new description.")] = None,
    agent: AgentOption = None,
    json: JsonFlag = False,
) -> None:
    """Change an item. Setting fixed or done puts its customers' requests back on the stack
    with fixed_notice pre-selected (use `items fix --notify` to tell them all at once)."""
    _check(status, ITEM_STATUSES, "--status")
    if status is None and ref is None and title is None and description is None:
        raise typer.BadParameter("nothing to set: give --status, --ref, --title or --description")
    change = state.desk().set_item(
        number,
        state.acting(agent),
        status=status,
        ref=ref,
        title=title,
        description=description,
    )
    if json:
        emit_json(change.as_dict())
        return
    say(f"{change.item.label}: {change.item.status}" + _pushed(change.pushed))


@items_app.command("fix")
def fix(
    number: int,
    done: Annotated[
        bool, typer.Option("--done", help="Mark it done (a story or idea) rather than fixed.")
    ] = False,
    notify: Annotated[
        bool,
        typer.Option("--notify", help="Send fixed_notice to every waiting customer now."),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before notifying.")] = False,
    agent: AgentOption = None,
    json: JsonFlag = False,
) -> None:
    """Mark an item fixed: its customers' requests come back on the stack with fixed_notice
    pre-selected, or with --notify each customer gets it at once (threaded in their request)."""
    desk = state.desk()
    login = state.acting(agent)
    if notify and not yes:
        waiting = desk.item(number).item.waiting
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            raise SupportDeskError(
                f"--notify writes to {waiting} customers: confirm with --yes when not at a terminal"
            )
        if not typer.confirm(f"Send fixed_notice to {waiting} customers?", err=True):
            raise typer.Exit(1)
    with progress_bar("Telling customers", notify and not json) as progress:
        change = desk.fix_item(
            number, login, status="done" if done else SHIPPED[0], notify=notify, progress=progress
        )
    if json:
        emit_json(change.as_dict())
        return
    message = f"{change.item.label}: {change.item.status}"
    if notify:
        message += f"; fixed_notice queued for {len(change.notified)} requests"
    else:
        message += _pushed(change.pushed)
    say(message)
    for n, error in change.failed.items():
        say(f"#{n} not told (left on the stack): {error}")
    if change.failed:
        raise typer.Exit(1)


@items_app.command("export")
def export(
    format: Annotated[str, typer.Option("--format", help="json or csv.")] = "csv",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")
    ] = None,
    kind: KindOption = None,
    status: StatusOption = None,
) -> None:
    """The backlog for the product owner's tracker: one item per row, with the linked
    request numbers and how many customers wait. A CSV file gets a byte-order mark so that
    spreadsheets read its UTF-8."""
    from supportdesk.desk.backlog import export as render

    _check(format, ("json", "csv"), "--format")
    _check(kind, KINDS, "--kind")
    _check(status, ITEM_STATUSES, "--status")
    text = render(state.desk().items(kind=kind, statuses=[status] if status else None), format)
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8-sig" if format == "csv" else "utf-8", newline="")
    except OSError as exc:
        raise SupportDeskError(f"cannot write {output}: {exc}") from None
    say(f"Wrote {output}.")


def _pushed(numbers: list[int]) -> str:
    if not numbers:
        return "."
    return f"; back on the stack: {', '.join(f'#{n}' for n in numbers)}."
