"""`supportdesk reviews quality|score`: the quality review of a sample of sent answers."""

from __future__ import annotations

from typing import Annotated

import typer

from supportdesk.cli.app import state
from supportdesk.cli.output import age, emit_json, local_time, print_table, say
from supportdesk.cli.reviewcmds import reviews_app
from supportdesk.domain.enums import QualityState
from supportdesk.errors import SupportDeskError

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@reviews_app.command("quality")
def quality(
    all_: Annotated[
        bool, typer.Option("--all", help="Every check, pending and scored, of every agent.")
    ] = False,
    agent: Annotated[
        str | None,
        typer.Option(
            "--agent",
            metavar="LOGIN",
            help="This agent's sampled answers ('me': yours), scored ones unless --all.",
        ),
    ] = None,
    scored: Annotated[bool, typer.Option("--scored", help="Scored checks only.")] = False,
    json: JsonFlag = False,
) -> None:
    """The quality queue: sampled answers you may score (an admin or a mentor; never your
    own), oldest first. --agent me shows your scored answers with score, rule and comment."""
    login = state.acting()
    desk = state.desk()
    whose = login if agent == "me" else agent
    reviewer = desk.quality.is_reviewer(login)
    if whose is not None and whose != login and not reviewer:
        raise SupportDeskError("only an admin or a mentor sees another agent's scores")
    if not reviewer and whose is None and (all_ or scored):
        whose = login  # an agent who does not score sees their own
    if whose is None and not all_ and not scored:
        records = desk.quality.queue(login)
    else:
        states: tuple[str, ...] | None = None
        if scored or (whose is not None and not all_):
            states = (QualityState.SCORED.value,)
        records = desk.quality.checks(agent=whose, states=states)
    if json:
        emit_json([r.as_dict() for r in records])
        return
    if not records:
        if whose or all_ or scored:
            say("No quality checks to show.")
        else:
            say("Nothing to score; `reviews quality --agent me` shows your scored answers.")
        return
    print_table(
        ["id", "request", "agent", "sampled", "state", "score", "rule", "reviewer", "comment"],
        [
            [
                r.id,
                f"#{r.number}",
                r.agent,
                f"{age(r.created_at)} ago",
                r.state,
                r.score or "",
                r.rule or "",
                r.reviewer or "",
                r.comment or "",
            ]
            for r in records
        ],
    )


@reviews_app.command("score")
def score(
    check_id: Annotated[int, typer.Argument(metavar="ID", help="The check (reviews quality).")],
    value: Annotated[int, typer.Argument(metavar="SCORE", min=1, max=5, help="1 (bad) to 5.")],
    rule: Annotated[
        str | None,
        typer.Option("--rule", help="The rule the answer broke ([review] checklist names some)."),
    ] = None,
    comment: Annotated[
        str, typer.Option("--comment", help="What was wrong and the better answer.")
    ] = "",
    json: JsonFlag = False,
) -> None:
    """Score a sampled answer 1-5 (once); the comment is required below 5. The agent sees
    it (`reviews quality --agent me`)."""
    if value < 5 and not comment.strip():
        raise typer.BadParameter("a score below 5 needs --comment (what to do better)")
    login = state.acting()
    record = state.desk().quality.score(check_id, login, value, rule, comment)
    if json:
        emit_json(record.as_dict())
    else:
        when = local_time(record.scored_at)
        say(f"Check {record.id} (#{record.number}, {record.agent}) scored {value} at {when}.")
