"""templates list|show|search|add|remove|import|export|render|suggest."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from supportdesk.cli.app import app, state
from supportdesk.cli.output import emit_json, print_table, say, visible
from supportdesk.errors import SupportDeskError

templates_app = typer.Typer(
    help="Answer templates: personal, the team's, and the workflow's own.", no_args_is_help=True
)
app.add_typer(templates_app, name="templates")

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
AgentOption = Annotated[
    str | None, typer.Option("--agent", help="As this agent (overrides the global --agent).")
]
LanguageOption = Annotated[
    str | None, typer.Option("--language", help="Language variant, e.g. en or ru.")
]


def _agent(agent: str | None) -> str:
    """The agent whose templates are shown (an existing, enabled one)."""
    return state.acting(agent)


def _manager(owner: str | None, action: str) -> None:
    """Anyone manages their own personal templates; the team's, or another agent's, need the
    acting agent (the global --agent, desk.agent or $USER) to be an admin."""
    state.desk().template_manager(state.agent_login(), owner, action)


def _rows(records: list, scores: list[float] | None = None) -> list[list[object]]:  # type: ignore[type-arg]
    """One row per template name (its languages together), best or first variant shown."""
    languages: dict[tuple[str, str, str], list[str]] = {}
    for r in records:
        languages.setdefault((r.name, r.scope, r.owner), []).append(r.language)
    rows = []
    seen: set[tuple[str, str, str]] = set()
    for i, r in enumerate(records):
        key = (r.name, r.scope, r.owner)
        if key in seen:
            continue
        seen.add(key)
        row: list[object] = [
            r.name,
            ",".join(languages[key]),
            r.owner if r.scope == "personal" else r.scope,
            ", ".join(r.tags[:4]),
            r.use_count,
            r.description,
        ]
        if scores is not None:
            row.insert(0, f"{scores[i]:.2f}")
        rows.append(row)
    return rows


_COLUMNS = ["name", "lang", "scope", "tags", "uses", "description"]


@templates_app.command("list")
def list_templates(
    agent: AgentOption = None,
    shadowed: Annotated[
        bool, typer.Option("--all", help="Also team templates your own ones shadow.")
    ] = False,
    json: JsonFlag = False,
) -> None:
    """The templates an agent can use: personal, team and system."""
    records = state.desk().templates(_agent(agent), shadowed=shadowed)
    if json:
        emit_json([r.as_dict(body=False) for r in records])
    elif not records:
        say("No templates. `supportdesk templates import DIR` adds some.")
    else:
        print_table(_COLUMNS, _rows(records))


@templates_app.command("show")
def show(
    name: str, language: LanguageOption = None, agent: AgentOption = None, json: JsonFlag = False
) -> None:
    """One template as its file: front matter and body."""
    from supportdesk.desk.templates import file_text

    record = state.desk().template(name, _agent(agent), language)
    if json:
        emit_json(record.as_dict())
    else:
        sys.stdout.write(visible(file_text(record)))


@templates_app.command("search")
def search(
    query: str,
    language: LanguageOption = None,
    agent: AgentOption = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 20,
    json: JsonFlag = False,
) -> None:
    """Fuzzy search over names, tags and text (typos forgiven)."""
    hits = state.desk().search_templates(query, _agent(agent), language, limit)
    if json:
        emit_json([{**r.as_dict(body=False), "score": round(s, 4)} for r, s in hits])
    elif not hits:
        say("Nothing found.")
    else:
        print_table(["score", *_COLUMNS], _rows([r for r, _ in hits], [s for _, s in hits]))


@templates_app.command("add")
def add(
    name: str,
    file: Annotated[
        Path,
        typer.Option("--file", help="The template: Markdown, front matter optional; '-' stdin."),
    ],
    agent: AgentOption = None,
    team: Annotated[bool, typer.Option("--team", help="A team template, shared by all.")] = False,
    language: LanguageOption = None,
    json: JsonFlag = False,
) -> None:
    """Add or update a template: personal (yours, or --agent's) unless --team."""
    if team and agent:
        raise typer.BadParameter("give --agent or --team, not both")
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SupportDeskError(f"cannot read {file}: {exc}") from None
    owner = None if team else agent or state.agent_login()
    _manager(owner, "adding")
    outcome = state.desk().add_template(
        name, text, owner=owner, language=language, source=str(file)
    )
    whose = "team" if team else f"personal ({owner})"
    if json:
        emit_json({"name": name, "scope": "team" if team else "personal", "result": outcome})
    else:
        say(f"Template {name!r} {outcome}: {whose}.")


@templates_app.command("remove")
def remove(
    name: str,
    agent: AgentOption = None,
    team: Annotated[bool, typer.Option("--team", help="Remove the team's template.")] = False,
    language: LanguageOption = None,
) -> None:
    """Remove a personal (or, with --team, a team) template."""
    owner = None if team else agent or state.agent_login()
    _manager(owner, "removing")
    count = state.desk().remove_template(name, owner=owner, language=language)
    say(f"Removed {count} variant{'s' if count != 1 else ''} of {name!r}.")


@templates_app.command("import")
def import_(
    folder: Path,
    agent: Annotated[
        str | None, typer.Option("--agent", help="Import as this agent's personal templates.")
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Import template files: FOLDER/system and FOLDER/team (or *.md in FOLDER) for the team,
    or everything in FOLDER as one agent's personal templates with --agent. Re-importing
    updates what changed."""
    _manager(agent, "importing")
    report = state.desk().import_templates(folder, owner=agent)
    if json:
        emit_json(report.as_dict())
    else:
        say(f"Templates: {report.summary()}.")


@templates_app.command("export")
def export(
    folder: Path,
    agent: Annotated[
        str | None, typer.Option("--agent", help="Export this agent's personal templates.")
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Write templates as files: the team's and system ones, or one agent's with --agent."""
    written = state.desk().export_templates(folder, owner=agent)
    if json:
        emit_json([str(p) for p in written])
    else:
        say(f"Wrote {len(written)} template file{'s' if len(written) != 1 else ''} to {folder}.")


@templates_app.command("render")
def render(
    name: str,
    request: Annotated[
        int | None, typer.Option("--request", help="Render for this request (else a sample).")
    ] = None,
    language: LanguageOption = None,
    agent: AgentOption = None,
    json: JsonFlag = False,
) -> None:
    """Render a template for a request and print it, or print why it cannot be rendered."""
    rendered = state.desk().render_template(name, _agent(agent), request, language)
    if json:
        emit_json(
            {
                "template": rendered.template.as_dict(body=False),
                "subject": rendered.subject,
                "text": rendered.text,
            }
        )
    else:
        if rendered.subject:
            sys.stdout.write(f"Subject: {visible(rendered.subject)}\n\n")
        sys.stdout.write(visible(rendered.text))


@templates_app.command("suggest")
def suggest(
    number: int,
    agent: AgentOption = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 5,
    json: JsonFlag = False,
) -> None:
    """The templates that fit request NUMBER best, for this agent: each one's fit (0..1), the
    customer's words it matched, and the one `r` opens the editor with (if any)."""
    found = state.desk().suggestions(number, _agent(agent), limit)
    if json:
        emit_json([s.as_dict() for s in found])
    elif not found:
        say(f"No template fits #{number}.")
    else:
        rows = _rows([s.template for s in found], [s.score for s in found])
        for row, s in zip(rows, found, strict=False):
            row.insert(1, ", ".join(s.matched[:5]))
        print_table(["score", "matched", *_COLUMNS], rows)
        chosen = next((s for s in found if s.preselected), None)
        if chosen is not None:
            say(f"r opens the editor with {chosen.template.name}.")
        else:
            say("None fits well enough to open the editor with: r opens it empty.")
