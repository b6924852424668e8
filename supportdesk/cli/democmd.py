"""`supportdesk demo`: a throwaway desk full of realistic mail, no mail account needed."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from supportdesk.cli.app import app, state
from supportdesk.cli.output import say

if TYPE_CHECKING:
    from supportdesk.desk import Desk

DEMO_CONFIG = """\
# A demo desk: mail comes from the Maildir in mail/, replies are written to outbox/.
[desk]
name = "Acme Support (demo)"
address = "support@example.com"
database = "sqlite:///desk.db"
agent = "demo"

[mailbox]
kind = "maildir"
path = "mail"

[outgoing]
kind = "file"
path = "outbox"

[[rules]]
subject_any = ["invoice", "refund", "счёт", "оплата"]
tags = ["billing"]
priority = "high"
"""


@app.command()
def demo(
    path: Annotated[
        Path | None,
        typer.Option(  # noqa: UP007 - typer needs Optional
            help="Build the demo desk here (default: a new temporary folder)."
        ),
    ] = None,
    messages: Annotated[int, typer.Option(help="How many sample emails.")] = 40,
    console: Annotated[
        bool, typer.Option("--console/--no-console", help="Open the console on it.")
    ] = True,
) -> None:
    """Build a throwaway desk with sample mail, take the mail in, and open the console on it
    (without a terminal, or with --no-console, print the stack instead)."""
    from supportdesk.cli.requestcmds import stack
    from supportdesk.config import load_settings
    from supportdesk.samples import SampleMailbox, write_maildir

    folder = path or Path(tempfile.mkdtemp(prefix="supportdesk-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.toml"
    if not config.exists():
        config.write_text(DEMO_CONFIG, encoding="utf-8")
        sample = SampleMailbox(seed=2026, customers=15, attachment_bytes=40_000)
        write_maildir(folder / "mail", list(sample.messages(messages)))
    state.bootstrap = True
    state.config = config
    state._settings = load_settings(config)
    desk = state.desk()
    desk.ensure_agent("demo", name="Demo Agent", role="admin")  # to try every command
    from supportdesk.desk.templates import shipped_dir

    desk.import_templates(shipped_dir())
    report = desk.fetch()
    desk.deliver()
    _trainee_letter(desk)
    say(
        f"Demo desk in {folder}: {report.intake.stored} emails became "
        f"{len(report.intake.new_requests)} requests; acknowledgements are in "
        f"{folder / 'outbox'}."
    )
    say(f"Again later: supportdesk --config {config}")
    if console and sys.stdin.isatty() and sys.stdout.isatty():
        from supportdesk.cli.app import run_console

        run_console()
    else:
        stack(json=False, limit=20)


def _trainee_letter(desk: Desk) -> None:
    """Tom, a trainee the demo agent mentors, has answered the oldest request with the
    template suggested for it: his letter waits in the review queue (f6). Once per desk."""
    desk.ensure_agent("tom", name="Tom Trainee")
    if desk.reviews.letters(agent="tom"):
        return
    desk.set_training("tom", True, "demo")
    stack = desk.stack()
    if not stack:
        return
    number = stack[-1].number
    found = desk.suggestions(number, "tom", limit=1)
    if found:
        desk.reply_with_template(number, found[0].template.name, "tom")
    else:
        desk.reply(number, "Hello,\n\nThank you for writing: we are looking into it.\n\nTom", "tom")
