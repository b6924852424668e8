"""Root of the CLI: global options, the lazily opened desk, and error handling."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from supportdesk.errors import SupportDeskError

if TYPE_CHECKING:
    from supportdesk.config import Settings
    from supportdesk.desk import Desk

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="SupportDesk: answer customer email from a terminal console.",
)


@dataclass
class State:
    config: Path | None = None
    agent: str | None = None
    debug: bool = False
    bootstrap: bool = False
    """`init` and `demo`: they make the config and the first agent, so nothing is required."""
    _settings: Settings | None = field(default=None, repr=False)
    _desk: Desk | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            from supportdesk.config import load_settings

            self._settings = load_settings(self.config, required=True)
        return self._settings

    def desk(self) -> Desk:
        if self._desk is None:
            from supportdesk.desk import open_desk

            self._desk = open_desk(self.settings())
            if self.agent is not None and not self.bootstrap:
                self._desk.acting_agent(self.agent)  # a global --agent is never a ghost
        return self._desk

    def agent_login(self) -> str:
        """The login this terminal acts as: --agent, else desk.agent, else $USER."""
        return self.settings().agent_login(self.agent)

    def acting(self, override: str | None = None, *, admin: str | None = None) -> str:
        """The login a command acts as (a command's own --agent, else `agent_login`), checked
        by the desk: an existing, enabled agent, and an admin when `admin` names what needs
        one. Every command that does something as someone calls this."""
        login = override or self.agent_login()
        self.desk().acting_agent(login, admin=admin)
        return login

    def close(self) -> None:
        """The invocation is over: close the desk it opened, if any."""
        if self._desk is not None:
            self._desk.close_database()


_invocation: ContextVar[State] = ContextVar("supportdesk_cli_state")


def current_state() -> State:
    """The State of the invocation running now: the root callback makes a fresh one for each
    invocation, so a second run in the same process (a test, a script) never sees the first
    one's options or desk."""
    try:
        return _invocation.get()
    except LookupError:
        fresh = State()
        _invocation.set(fresh)
        return fresh


class _CurrentState:
    """`state` for the command modules: every attribute is the running invocation's."""

    def __getattr__(self, name: str) -> Any:
        return getattr(current_state(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(current_state(), name, value)


state = cast(State, _CurrentState())


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(  # noqa: UP007 - typer needs Optional
            "--config", "-c", envvar="SUPPORTDESK_CONFIG", help="Path to config.toml."
        ),
    ] = None,
    agent: Annotated[
        str | None,
        typer.Option(  # noqa: UP007
            "--agent", help="Act as this agent (default: desk.agent, then $USER)."
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    invocation = State(config=config, agent=agent, debug=debug)
    _invocation.set(invocation)
    ctx.call_on_close(invocation.close)
    if ctx.invoked_subcommand is None:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            typer.echo(ctx.get_help())
            typer.echo(
                "\nThe console needs a terminal; the commands above work anywhere.", err=True
            )
            return
        run_console()


def run_console() -> None:
    """Open the Textual console for the configured agent on the configured desk."""
    from supportdesk.ui import make_app

    desk = state.desk()
    login = state.agent_login()
    desk.console_agent(login)  # unknown or disabled: a clear message, no console
    make_app(desk, login).run()


def _database_error(exc: Exception) -> SupportDeskError | None:
    """A database failure as one line without SQL or parameters (see store.database)."""
    if "supportdesk.store.database" not in sys.modules:  # no database was opened
        return None
    from supportdesk.desk.health import database_error

    url = state._settings.database_url if state._settings is not None else None
    return database_error(exc, url)


def handled_interrupt() -> None:
    """Ctrl-C was handled: the process exits with our own status, not killed by SIGINT.
    CPython (3.11) remembers a KeyboardInterrupt that interrupted an exec() of source text
    (dataclasses and SQLAlchemy build functions that way, e.g. while a first poll imports
    them) as unhandled, even once caught, and then kills itself with SIGINT at exit; a
    successful exec() of source text clears that."""
    exec("pass")  # noqa: S102 - see above: resets CPython's unhandled-interrupt flag


def main(args: Sequence[str] | None = None, prog_name: str | None = None) -> None:
    """Entry point: one clear line on stderr and exit 1 for failures, 2 for usage errors.
    `args` instead of sys.argv (and the program's name for usage lines) runs the CLI in a
    process that is not `supportdesk` (tests: tests.fixtures.run_cli)."""
    from supportdesk.cli import (  # noqa: F401 - registers the commands
        admin,
        democmd,
        itemcmds,
        mailcmds,
        qualitycmds,
        requestcmds,
        reviewcmds,
        statscmd,
        templatecmds,
    )

    started = _invocation.set(State())
    try:
        app(args=args, prog_name=prog_name)  # standalone: usage errors exit 2 with click's message
    except SupportDeskError as exc:
        if state.debug:
            raise
        sys.stderr.write(f"supportdesk: {exc}\n")
        sys.exit(1)
    except KeyboardInterrupt:
        handled_interrupt()
        sys.stderr.write("supportdesk: interrupted\n")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback, unless --debug
        if state.debug:
            raise
        database = _database_error(exc)
        if database is not None:
            sys.stderr.write(f"supportdesk: {database}\n")
            sys.exit(1)
        sys.stderr.write(
            f"supportdesk: unexpected error: {type(exc).__name__}: {exc} "
            "(run with --debug for the traceback)\n"
        )
        sys.exit(1)
    finally:
        state.close()
        _invocation.reset(started)
