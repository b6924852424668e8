"""`supportdesk reviews`: trainees' letters held for their mentor (list, show, approve,
return); the quality review's commands are in qualitycmds."""

from __future__ import annotations

import sys
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
from supportdesk.domain.enums import ReviewState
from supportdesk.errors import SupportDeskError

reviews_app = typer.Typer(
    help="Trainees' letters waiting for review, and the quality review of sent answers.",
    no_args_is_help=True,
)
app.add_typer(reviews_app, name="reviews")

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _waiting(review: Any, now: Any) -> str:
    """How long the letter waits (or waited until decided); "late 42m" past max_wait."""
    until = review.decided_at or now
    waited = age(review.created_at, until)
    return f"late {waited}" if review.overdue else waited


@reviews_app.command("list")
def list_reviews(
    all_: Annotated[
        bool,
        typer.Option("--all", help="Everyone's letters, not only those you may decide."),
    ] = False,
    agent: Annotated[
        str | None, typer.Option("--agent", help="Only this trainee's letters.")
    ] = None,
    letter_state: Annotated[
        str | None,
        typer.Option("--state", help="pending (the default), returned or approved."),
    ] = None,
    json: JsonFlag = False,
) -> None:
    """The letters waiting for review that you may decide (your trainees'; an admin's: all):
    late ones (past [review] max_wait) first, then oldest first."""
    from supportdesk.desk.reviews import may_review

    if letter_state is not None and letter_state not in tuple(ReviewState):
        raise typer.BadParameter(f"expected one of {', '.join(ReviewState)}", param_hint="--state")
    login = state.acting()
    desk = state.desk()
    found = desk.reviews.letters(agent=agent, states=(letter_state or ReviewState.PENDING,))
    if not all_:
        me = desk.acting_agent(login)
        found = [r for r in found if may_review(me, r)]
    found.sort(key=lambda r: (not r.overdue, r.created_at, r.id))
    if json:
        emit_json([r.as_dict() for r in found])
        return
    if not found:
        say("No letters wait for your review." if letter_state is None else "No letters.")
        return
    now = desk.clock.now()
    print_table(
        ["id", "request", "trainee", "waiting", "subject"],
        [[r.id, f"#{r.number}", r.agent, _waiting(r, now), r.request_subject] for r in found],
    )


def _answered(desk: Any, review: Any) -> Any:
    """The customer's latest message the letter answers (before it was held)."""
    incoming = [m for m in desk.request(review.number).messages if m.direction == "in"]
    before = [
        m
        for m in incoming
        if (m.received_at or m.date) and (m.received_at or m.date) <= review.created_at
    ]
    chosen = before or incoming
    return chosen[-1] if chosen else None


@reviews_app.command("show")
def show(review_id: Annotated[int, typer.Argument(metavar="ID")], json: JsonFlag = False) -> None:
    """One letter: the customer's message it answers, the letter, its state, the mentor's
    comment, and what the reviewer changed in an edited approval."""
    from rich.rule import Rule

    from supportdesk.desk.reviews import letter_diff

    desk = state.desk()
    review = desk.reviews.get(review_id)
    customer = _answered(desk, review)
    diff = letter_diff(review)
    if json:
        data = review.as_dict()
        data["diff"] = diff
        data["customer_message"] = (
            {
                "from": customer.from_addr,
                "date": (customer.date or customer.received_at).isoformat()
                if (customer.date or customer.received_at)
                else None,
                "text": customer.text,
            }
            if customer
            else None
        )
        emit_json(data)
        return
    mentor = review.mentor or "any admin"
    late = " · late" if review.overdue else ""
    stdout.print(
        mail_text(f"review {review.id} · #{review.number} {review.request_subject}", "bold")
    )
    stdout.print(
        mail_text(
            f"{review.state}{late} · by {review.agent} for {mentor} · "
            f"written {local_time(review.created_at)}"
            + (
                f" · {review.state} by {review.decided_by} {local_time(review.decided_at)}"
                if review.decided_by
                else ""
            )
        )
    )
    if review.comment:
        stdout.print(mail_text(f"comment: {review.comment}", "yellow"))
    if customer is not None:
        stdout.print(Rule(mail_text(f"{customer.from_addr} wrote"), align="left"))
        print_body(customer.text)
    stdout.print(Rule(mail_text(f"{review.agent}'s letter"), align="left"))
    print_body(review.body)
    if diff:
        stdout.print(Rule(mail_text("sent with edits"), align="left"))
        print_body("\n".join(diff))


def _read(body_file: Path) -> str:
    try:
        return sys.stdin.read() if str(body_file) == "-" else body_file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SupportDeskError(f"cannot read {body_file}: {exc}") from None


@reviews_app.command("approve")
def approve(
    review_id: Annotated[int, typer.Argument(metavar="ID")],
    body_file: Annotated[
        Path | None,
        typer.Option(
            "--body-file",
            help="Send this text instead ('-' for stdin): edit, then approve; the trainee "
            "sees what changed.",
        ),
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Approve a trainee's letter: it is queued to the customer, signed by the trainee."""
    body = _read(body_file) if body_file is not None else None
    login = state.acting()
    desk = state.desk()
    message_id = desk.reviews.approve(review_id, login, body)
    review = desk.reviews.get(review_id)
    if json:
        emit_json(
            {
                "review": review.id,
                "request": review.number,
                "message_id": message_id,
                "edited": review.edited,
            }
        )
    else:
        edits = " with your edits" if review.edited else ""
        say(
            f"Review {review.id} approved{edits}: {review.agent}'s answer to #{review.number} "
            f"queued ({message_id})."
        )


@reviews_app.command("return")
def return_(
    review_id: Annotated[int, typer.Argument(metavar="ID")],
    comment: Annotated[str, typer.Option(help="What the trainee should change (required).")],
    json: JsonFlag = False,
) -> None:
    """Return a trainee's letter with a comment: the request goes back on top of their
    stack, their draft holds the letter again, the comment shown above it."""
    login = state.acting()
    review = state.desk().reviews.return_letter(review_id, login, comment)
    if json:
        emit_json(review.as_dict())
    else:
        say(f"Review {review.id} returned to {review.agent}: #{review.number} is on their stack.")
