"""init, db upgrade|backup|check, agents add|set|list|disable|enable."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from supportdesk.cli.app import app, state
from supportdesk.cli.output import cell, emit_json, mail_text, print_table, say, stdout
from supportdesk.domain import Role
from supportdesk.errors import NotFoundError, SupportDeskError

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
agents_app = typer.Typer(help="Agents who answer.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(agents_app, name="agents")

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def sample_config() -> str:
    """The commented sample config shipped with the package."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "sample_config.toml", here.parent / "config.toml"):
        if candidate.exists():
            return candidate.read_text("utf-8")
    raise SupportDeskError("the sample configuration is missing from this installation")


@app.command()
def init(
    path: Annotated[Path, typer.Option(help="Where to write config.toml.")] = Path("config.toml"),
    name: Annotated[
        str | None,
        typer.Option(help="The first admin's display name (the From name of their replies)."),  # noqa: UP007
    ] = None,
    email: Annotated[
        str | None,
        typer.Option(help="The first admin's own address."),  # noqa: UP007
    ] = None,
) -> None:
    """Create config.toml (if missing), the database, and the templates; on a desk with no
    agents yet, you (--agent, desk.agent or $USER) become its first agent, an admin
    (--name, --email: theirs)."""
    from supportdesk.config import load_settings

    state.bootstrap = True
    target = state.config or path
    if target.exists():
        say(f"{target} exists; keeping it.")
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(sample_config(), encoding="utf-8")
        say(f"Wrote {target}: edit [desk] and [mailbox] for your team.")
    state.config = target
    state._settings = load_settings(target)
    desk = state.desk()
    say(f"Database ready: {desk.settings.database_url}")
    login = state.agent_login()
    if desk.first_admin(login, name=name or os.environ.get("SUPPORTDESK_AGENT_NAME", login)):
        say(f"Agent {login!r} created: the first agent of this desk, an admin.")
        if email:
            desk.set_agent_details(login, email=email)
    from supportdesk.desk.templates import desk_dir

    folder = desk_dir(desk.settings)
    try:  # on a desk that has agents, the team's templates are an admin's to change
        desk.template_manager(login, None, "importing")
    except SupportDeskError as exc:
        say(f"Templates from {folder} not imported: {exc}.")
        return
    report = desk.import_templates(folder)
    say(f"Templates from {folder}: {report.summary()}.")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to this version."""
    from supportdesk.desk.transfer import upgrade_schema

    # Not an admin's alone: opening the desk for any command brings the schema up to date.
    done = upgrade_schema(state.settings().database_url)
    say("Database upgraded." if done else "Database already up to date.")


@db_app.command("backup")
def db_backup(target: Path) -> None:
    """Copy the SQLite database to TARGET while the desk keeps running."""
    from supportdesk.desk.health import backup

    backup(state.settings().database_url, target)
    say(f"Backed up to {target}.")


@db_app.command("check")
def db_check(
    full: Annotated[
        bool, typer.Option("--full", help="SQLite's full integrity_check (slow on big desks).")
    ] = False,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Rebuild a search index that is out of step; copy what can be read of a "
            "damaged SQLite file into a new file (the damaged one is left as it is).",
        ),
    ] = False,
    json: JsonFlag = False,
) -> None:
    """Check the database: integrity, the full-text index, stuck outbox, the poller; and that
    a local Maildir or mbox is where mailbox.path says.
    Exit 1 when a check fails (warnings do not), and after recovering a damaged file (the
    desk still points at the damaged one)."""
    from supportdesk.desk.health import damaged_file, is_file
    from supportdesk.desk.sources import mailbox_check

    url = state.settings().database_url
    damage = damaged_file(url, full)  # read-only, before anything opens the desk
    if damage is not None:
        path, check = damage
        if repair:
            _recover(path, json)
        else:
            if json:
                emit_json([check.as_dict()])
            else:
                stdout.print(
                    cell(f"{check.status:<5} {check.name:<16} {check.detail}"), soft_wrap=True
                )
        raise typer.Exit(1)
    if repair:
        state.acting(admin="db check --repair")
    checks = state.desk().check(full=full, repair=repair, pages_checked=is_file(url))
    mailbox = mailbox_check(state.settings())  # not SQL: the configured Maildir or mbox
    if mailbox is not None:
        checks.append(mailbox)
    if json:
        emit_json([c.as_dict() for c in checks])
    else:
        for c in checks:
            stdout.print(cell(f"{c.status:<5} {c.name:<16} {c.detail}"), soft_wrap=True)
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(1)


def _recover(path: Path, json: bool) -> None:
    """Copy what can be read of the damaged SQLite file at `path` into a new file; report."""
    from supportdesk.desk.health import recover

    say(f"{path.name} is damaged: copying what can be read into a new file...")
    report = recover(path)
    if json:
        emit_json(report.as_dict())
        return
    stdout.print(cell(f"Recovered {path.name} into {report.target}:"))
    for table, rows in report.rows.items():
        note = (
            " (nothing could be read)"
            if table in report.unreadable
            else " (some pages could not be read)"
            if table in report.incomplete
            else ""
        )
        stdout.print(cell(f"  {table:<16} {rows:>9,} rows{note}"))
    if report.orphans:
        stdout.print(cell(f"  {report.orphans:,} rows point at rows that could not be read"))
    stdout.print(cell(f"{path.name} was not changed. Next: {report.next_step}."), soft_wrap=True)


@app.command()
def migrate(
    source: Annotated[
        str, typer.Option("--from", help="The desk's database now, e.g. sqlite:///desk.db.")
    ],
    target: Annotated[
        str,
        typer.Option(
            "--to", help="An empty database, e.g. postgresql+psycopg://desk@db.example/desk."
        ),
    ],
    json: JsonFlag = False,
) -> None:
    """Move a desk to another database (SQLite to PostgreSQL, or back): the schema is built
    in the target, then every row is copied with its id, in one transaction. Point
    `desk.database` at the target afterwards; stop consoles and watchers first."""
    from supportdesk.cli.output import progress_bar
    from supportdesk.desk.transfer import move_desk, safe_url

    with progress_bar("Copying", not json) as progress:  # an admin of the desk moves it
        report = move_desk(state.settings(), source, target, state.agent_login(), progress)
    if json:
        emit_json(report.as_dict())
    else:
        say(
            f"Copied {sum(report.rows.values()):,} rows in {len(report.rows)} tables to "
            f"{safe_url(target)}; set desk.database to it in config.toml."
        )


LineOption = Annotated[
    int, typer.Option(min=1, max=9, help="The line the agent works: 1 (first line), 2, 3 …")
]


TraineeOption = Annotated[
    bool | None,
    typer.Option(
        "--trainee/--no-trainee",
        help="A trainee's answers wait for review before they go out; --no-trainee graduates.",
    ),
]
MentorOption = Annotated[
    str | None,
    typer.Option(help="Who reviews the trainee's answers (without: any admin)."),
]


@agents_app.command("add")
def agents_add(
    login: str,
    name: Annotated[str, typer.Option(help="Display name used in replies.")] = "",
    email: Annotated[str, typer.Option(help="The agent's own address.")] = "",
    role: Annotated[str, typer.Option(help="agent or admin")] = "agent",
    languages: Annotated[
        str, typer.Option(help="Languages the agent answers in, e.g. en,ru.")
    ] = "",
    line: LineOption = 1,
    trainee: TraineeOption = None,
    mentor: MentorOption = None,
    signature_file: SignatureOption = None,
    json: JsonFlag = False,
) -> None:
    """Add an agent (the console opens only for agents who exist and are enabled); with
    --trainee their answers wait for their --mentor (or any admin) before they go out."""
    if role not in tuple(Role):
        raise typer.BadParameter(f"expected {' or '.join(Role)}", param_hint="--role")
    _check_training(trainee, mentor)
    signature = _read_signature(signature_file)
    state.acting(admin="agents add")
    desk = state.desk()
    if trainee and mentor is not None:
        _mentor_ok(desk, login, mentor)  # before the agent exists: nothing half done
    agent = desk.add_agent(login, name, email, role, languages.split(","), line)
    if trainee:
        agent = desk.set_training(login, True, mentor)
    if signature is not None:
        desk.set_agent_details(login, signature=signature)
    if json:
        emit_json(agent.as_dict())
    else:
        say(f"Agent {login!r} added ({agent.role}, line {agent.line}{_training(agent)}).")


def _check_training(trainee: bool | None, mentor: str | None) -> None:
    if mentor is not None and not trainee:
        raise typer.BadParameter("a mentor is for a trainee: give --trainee with --mentor")


def _mentor_ok(desk: Any, login: str, mentor: str) -> None:
    """Refuse (one line) a mentor who is not an enabled agent other than `login` and not
    a trainee themself."""
    from supportdesk.errors import NotFoundError

    found = {a.login: a for a in desk.agents()}.get(mentor)
    if found is None:
        raise NotFoundError(f"no agent {mentor!r}: add the mentor first (`agents add`)")
    if mentor == login or found.trainee or not found.active:
        raise SupportDeskError(
            f"{mentor!r} cannot mentor {login!r}: a mentor is another enabled agent who is "
            "not a trainee"
        )


def _training(agent: Any) -> str:
    if not agent.trainee:
        return ""
    return f", trainee of {agent.mentor}" if agent.mentor else ", trainee of any admin"


SignatureOption = Annotated[
    Path | None,
    typer.Option(  # noqa: UP007
        "--signature-file",
        metavar="FILE",
        help="The signature ({{ agent.signature }}) from this file ('-' for stdin).",
    ),
]


def _read_signature(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return sys.stdin.read() if str(path) == "-" else path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise SupportDeskError(f"cannot read the signature from {path}: {reason}") from None


@agents_app.command("set")
def agents_set(
    login: str,
    line: Annotated[
        int | None,
        typer.Option(min=1, max=9, help="The line the agent works: 1 (first line), 2, 3 …"),
    ] = None,
    trainee: TraineeOption = None,
    mentor: MentorOption = None,
    name: Annotated[
        str | None,
        typer.Option(help="Display name: the From name of replies, {{ agent.name }}."),  # noqa: UP007
    ] = None,
    email: Annotated[str | None, typer.Option(help="The agent's own address.")] = None,  # noqa: UP007
    signature_file: SignatureOption = None,
    language: Annotated[
        str,
        typer.Option(help="The language the signature is for (default: any language)."),
    ] = "",
    json: JsonFlag = False,
) -> None:
    """Change an agent: the line they work (their stack in the console, what `n` takes);
    make them a trainee of --mentor (--trainee) or graduate them (--no-trainee: their
    letters already waiting stay in the review queue, their next answers go out directly);
    their name, address, signature (per language with --language). An admin changes
    anyone; an agent their own name, address and signature."""
    details = name is not None or email is not None or signature_file is not None
    if line is None and trainee is None and not details:
        raise typer.BadParameter(
            "nothing to set: give --line, --trainee/--no-trainee, --name, --email or "
            "--signature-file"
        )
    if language and signature_file is None:
        raise typer.BadParameter("--language goes with --signature-file")
    _check_training(trainee, mentor)
    signature = _read_signature(signature_file)
    if line is not None or trainee is not None or state.agent_login() != login:
        state.acting(admin="agents set")
    else:  # one's own name, address and signature: no admin needed
        state.acting()
    desk = state.desk()
    if trainee and mentor is not None:
        _mentor_ok(desk, login, mentor)
    changed: list[str] = []
    if details:
        agent = desk.set_agent_details(
            login, name=name, email=email, signature=signature, language=language
        )
        if name is not None:
            changed.append(f"name {agent.name!r}")
        if email is not None:
            changed.append(f"email {agent.email or 'none'}")
        if signature is not None:
            changed.append(f"signature ({language or 'any language'})")
    if line is not None:
        agent = desk.set_agent_line(login, line)
        changed.append(f"works line {agent.line}")
    if trainee is not None:
        agent = desk.set_training(login, trainee, mentor)
        changed.append(_training(agent).lstrip(", ") if trainee else "is no trainee any more")
    if json:
        emit_json(agent.as_dict())
    else:
        say(f"Agent {login!r}: {', '.join(changed)}.")


@agents_app.command("show")
def agents_show(login: str, json: JsonFlag = False) -> None:
    """An agent with their signatures."""
    desk = state.desk()
    found = next((a for a in desk.agents() if a.login == login), None)
    if found is None:
        raise NotFoundError(f"no agent {login!r}: `supportdesk agents list` shows them")
    signatures = desk.signatures(login)
    if json:
        emit_json({**found.as_dict(), "signatures": signatures})
        return
    stdout.print(
        cell(
            f"{found.login}  {found.name}  {found.email or '-'}  {found.role}, line {found.line}"
            + ("" if found.active else "  (disabled)")
        )
    )
    if not signatures:
        stdout.print(cell("No signature: replies are signed with the name."))
    for language, text in signatures.items():
        stdout.print(cell(f"Signature ({language or 'any language'}):"))
        stdout.print(mail_text(text))


@agents_app.command("list")
def agents_list(json: JsonFlag = False) -> None:
    """The agents."""
    agents = state.desk().agents()
    if json:
        emit_json([a.as_dict() for a in agents])
    else:
        print_table(
            ["login", "name", "email", "role", "line", "languages", "active", "trainee of"],
            [
                [
                    a.login,
                    a.name,
                    a.email,
                    a.role,
                    a.line,
                    ",".join(a.languages),
                    a.active,
                    (a.mentor or "any admin") if a.trainee else "",
                ]
                for a in agents
            ],
        )


@agents_app.command("disable")
def agents_disable(login: str) -> None:
    """Stop an agent from opening the console; their claims are dropped for others and the
    requests assigned to them go back to the line."""
    state.acting(admin="agents disable")
    dropped = state.desk().set_agent_active(login, False)
    say(f"Agent {login!r} disabled" + (f"; {dropped} claims released." if dropped else "."))


@agents_app.command("enable")
def agents_enable(login: str) -> None:
    """Let a disabled agent work again."""
    state.acting(admin="agents enable")
    state.desk().set_agent_active(login, True)
    say(f"Agent {login!r} enabled.")
