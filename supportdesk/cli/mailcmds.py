"""fetch, send, tick, import: mail in and out, and the time-based rules."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from supportdesk.cli.app import app, handled_interrupt, state
from supportdesk.cli.output import emit_json, progress_bar, say, visible
from supportdesk.errors import MailServerError, RetryableError, SupportDeskError

if TYPE_CHECKING:
    from supportdesk.desk.poller import RoundResult

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _describe(report: dict[str, object]) -> str:
    return (
        f"{report['stored']} new messages ({report['new_requests']} new requests, "
        f"{report['joined']} joined), {report['duplicates']} already stored, "
        f"{report['acknowledgements']} acknowledgements queued"
    )


def _warn(report: dict[str, object]) -> None:
    """What a fetch had to skip (an unreadable file), one line each."""
    for warning in report.get("warnings") or []:  # type: ignore[attr-defined]
        say(f"warning: {warning}")


@app.command()
def fetch(
    watch: Annotated[
        bool, typer.Option("--watch", help="Keep watching (IDLE or polling).")
    ] = False,
    json: JsonFlag = False,
) -> None:
    """Poll the mailbox once (or keep watching), run the time-based rules, deliver the outbox."""
    desk = state.desk()
    if not watch:
        try:
            with progress_bar("Fetching", not json) as progress:
                report = desk.fetch(progress).as_dict()
        except MailServerError:
            desk.tick()
            desk.deliver()  # the mailbox being down is no reason to hold back replies
            raise
        ticked = desk.tick()
        delivered = desk.deliver().as_dict()
        if json:
            emit_json({"fetch": report, "tick": ticked.as_dict(), "send": delivered})
        else:
            say(_describe(report) + f"; {delivered['sent']} sent.")
            _warn(report)
            for line in ticked.lines():
                say(line)
        return
    _watch(json)


@app.command()
def tick(json: JsonFlag = False) -> None:
    """Run the time-based rules now: follow-ups, auto-close, claim expiry, SLA marks."""
    report = state.desk().tick()
    if json:
        emit_json(report.as_dict())
        return
    for line in report.lines() or ["Nothing was due."]:
        say(line)


def _watch(json: bool) -> None:
    """Rounds of the poller (desk/poller.py) while this process holds the poller lease; when
    another process (a console, another watcher) holds it, wait and take over once it lapses:
    a holder that died is replaced within two leases (`mailbox.lease`)."""
    from supportdesk.desk.poller import Poller

    desk = state.desk()
    settings = desk.settings
    if settings.mailbox.kind == "none":
        raise SupportDeskError("no mailbox configured: set [mailbox] kind in config.toml")
    interval = settings.mailbox.poll_interval.total_seconds()
    holder = f"fetch@{socket.gethostname()}:{os.getpid()}"
    poller = Poller(desk, holder, on_takeover=lambda held: say(f"Taking over from {held}."))
    _stop_on_signals()
    say(f"Watching {settings.mailbox.kind} mail every {interval:g}s (Ctrl-C stops).")
    waiting_for = None
    try:
        while True:
            result = poller.round()
            if result.held_by is not None:
                if result.held_by != waiting_for:
                    waiting_for = result.held_by
                    say(f"{waiting_for} polls the mailbox; waiting to take over.")
            else:
                waiting_for = None
                _said(result, json)
            poller.wait(result)
    except KeyboardInterrupt:
        handled_interrupt()
        say("Stopped.")
    finally:
        poller.close()


def _said(result: RoundResult, json: bool) -> None:
    """What a round of `fetch --watch` did, for a person or (--json) a script. A failure that
    is not the server's or the database's hiccup (a password_cmd that fails) stops it."""
    for line in result.tick.lines() if result.tick else []:
        say(line)
    for failure in (result.exception, result.tick_error):
        if failure is not None and not isinstance(failure, MailServerError | RetryableError):
            raise failure
    if result.fetch is not None:
        from supportdesk.desk.delivery import DeliveryReport

        report = result.fetch.as_dict()
        delivered = (result.delivered or DeliveryReport()).as_dict()
        if json:
            emit_json({"fetch": report, "send": delivered})
        elif report["stored"] or delivered["sent"] or delivered["failed"]:
            say(_describe(report) + f"; {delivered['sent']} sent.")
        if not json:
            _warn(report)
    # A dropped connection is retried within seconds, backing off to the interval; so is a
    # batch the database gave up (a deadlock): intake is idempotent.
    if result.error is not None:
        say(f"{result.error_source}: {result.error}; retrying in {result.next_in:g}s")
    if isinstance(result.tick_error, RetryableError):
        say(f"database: {result.tick_error}; retrying in {result.next_in:g}s")
    if result.report is not None:
        r = result.report
        if r.sent:
            say(f"Daily report of {r.day} sent.")
        else:
            again = "given up (see `supportdesk db check`)" if r.gave_up else "trying again later"
            say(f"Daily report of {r.day} not sent: {r.error}; {again}")
    if result.report_error is not None:
        say(f"Daily report failed: {result.report_error}; trying again next round")


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM (systemd, kill) stop the watcher cleanly, releasing the lease.
    SIGINT is set explicitly: a job started in the background by a script inherits it
    ignored, and then Ctrl-C (or a supervisor's SIGINT) would never stop it."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, stop)


@app.command()
def send(json: JsonFlag = False) -> None:
    """Deliver the outbox now."""
    report = state.desk().deliver().as_dict()
    if json:
        emit_json(report)
    else:
        unconfirmed = report["unconfirmed"]
        say(
            f"{report['sent']} sent, {report['retrying']} will be retried, "
            f"{report['failed']} failed"
            + (
                f", {unconfirmed} unconfirmed (the server may have them; not sent again)."
                if unconfirmed
                else "."
            )
        )
        for error in report["errors"]:  # type: ignore[attr-defined]
            say(f"  {visible(str(error))}")  # the mail server's words: shown, never obeyed


@app.command("import")
def import_mail(
    path: Annotated[
        Path, typer.Argument(help="An mbox file, a Maildir, or a folder of .eml files.")
    ],
    acknowledge: Annotated[
        bool,
        typer.Option(
            "--acknowledge", help="Send acknowledgements for new requests (off: old mail)."
        ),
    ] = False,
    history: Annotated[
        bool, typer.Option("--history", help="File new requests as closed: history, not work.")
    ] = False,
    json: JsonFlag = False,
) -> None:
    """Import mail through the same pipeline as fetch; importing twice adds nothing. A file
    that is not mail is refused; in a folder, such files are skipped and named."""
    if not path.exists():
        raise SupportDeskError(f"{path}: no such file or folder")
    desk = state.desk()
    with progress_bar("Importing", not json) as progress:
        report = desk.import_mail(
            path, acknowledge=acknowledge, history=history, progress=progress
        ).as_dict()
    if json:
        emit_json(report)
    else:
        say(
            _describe(report)
            + (
                f"; {report['copies_kept']} differing copies of known Message-IDs kept"
                if report["copies_kept"]
                else ""
            )
        )
        _skipped(report["not_mail_files"])  # type: ignore[arg-type]


def _skipped(files: list[str], shown: int = 20) -> None:
    """The files of a folder that were not imported because they are not mail."""
    if not files:
        return
    from rich.text import Text

    from supportdesk.cli.output import stderr
    from supportdesk.domain.text import display_safe

    one = len(files) == 1
    say(f"skipped {len(files)} file{'' if one else 's'} that {'is' if one else 'are'} not mail:")
    for name in files[:shown]:  # whole, not wrapped: a path to copy
        stderr.print(Text(f"  {display_safe(name)}"), soft_wrap=True)
    if len(files) > shown:
        say(f"  ... and {len(files) - shown} more (--json lists them all)")
