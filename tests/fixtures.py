"""Fixtures for a real desk: a SQLite file in a temp folder (or a PostgreSQL database of its
own, see tests/databases.py), a frozen clock, file outbox."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.config import parse_settings
from supportdesk.desk import Desk, open_desk
from tests import databases

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("SUPPORTDESK_CORPUS", REPO.parent / "shared" / "corpus"))


def corpus_or_skip() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared mail corpus is not at {CORPUS} (set SUPPORTDESK_CORPUS)")
    return CORPUS


@pytest.fixture(autouse=True)
def _test_databases() -> Iterator[None]:
    """The PostgreSQL databases a test made are dropped when it ends (SQLite files go with
    the test's folder)."""
    yield
    databases.drop_test_databases()


@pytest.fixture(autouse=True, scope="session")
def _template_database() -> Iterator[None]:
    yield
    databases.drop_template()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))


def write_config(folder: Path, extra: dict[str, Any] | None = None) -> Path:
    """A config.toml for a desk in `folder` (maildir intake, file outbox by default)."""
    import tomlkit

    data: dict[str, Any] = {
        "desk": {
            "name": "Acme Support",
            "address": "support@example.com",
            "database": databases.database_url(folder),
            "agent": "anna",
        },
        "mailbox": {"kind": "maildir", "path": "mail"},
        # Replies go out at the next delivery; tests of undo send set undo_seconds.
        "outgoing": {"kind": "file", "path": "outbox", "undo_seconds": 0},
    }
    for section, values in (extra or {}).items():
        if isinstance(values, dict):
            data.setdefault(section, {}).update(values)
        else:
            data[section] = values
    for sub in ("cur", "new", "tmp"):
        (folder / "mail" / sub).mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(tomlkit.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def desk_folder(tmp_path: Path) -> Path:
    write_config(tmp_path)
    return tmp_path


def make_desk(folder: Path, clock: FrozenClock, extra: dict[str, Any] | None = None) -> Desk:
    import tomllib

    path = write_config(folder, extra)
    settings = parse_settings(tomllib.loads(path.read_text()), path)
    desk = open_desk(settings, clock)
    desk.ensure_agent("anna", name="Anna Agent")
    return desk


def add_agents(folder: Path, *logins: str, role: str = "agent") -> None:
    """Agents on the desk of `folder`'s config.toml: the CLI acts only as an existing, enabled
    agent (and as an admin for agents, team templates and repairs)."""
    import tomllib

    path = folder / "config.toml"
    desk = open_desk(parse_settings(tomllib.loads(path.read_text()), path))
    try:
        for login in logins:
            desk.ensure_agent(login, role=role)
    finally:
        desk.close_database()


@pytest.fixture
def desk(tmp_path: Path, clock: FrozenClock) -> Iterator[Desk]:
    d = make_desk(tmp_path, clock)
    yield d
    d.close_database()


def run_cli(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run the real `supportdesk` command (`main()`, with its exit codes and one-line errors)
    in this process, as the process would: in `cwd`, with `env` over this environment but
    without $SUPPORTDESK_CONFIG, `input` on stdin (empty otherwise, never a terminal), and its
    exit status, stdout and stderr returned the way subprocess.run returns them. A subprocess
    costs ~1.4 s of start-up; `run_cli_process` starts one, for what only a real process
    shows (the entry point, signals, pipes, crashes, another clock). `timeout` is the
    subprocess's and is not enforced here."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _run_main(list(args), cwd, env, input)
    # In an async test: the command may run its own event loop (asyncio.run), so a thread.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_run_main, list(args), cwd, env, input).result()


def _run_main(
    args: list[str], cwd: Path, env: dict[str, str] | None, input: str | None
) -> subprocess.CompletedProcess[str]:
    import logging
    import signal
    import threading

    from typer._click import formatting
    from typer.testing import CliRunner

    from supportdesk.cli import main

    handlers = (
        {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        if threading.current_thread() is threading.main_thread()
        else {}
    )
    before = Path.cwd()
    code: int | str | None = 0
    # A process on pipes measures 80 columns unless $COLUMNS says otherwise (help's width).
    columns = {} if "COLUMNS" in os.environ else {"COLUMNS": "80"}
    isolated = {**columns, **(env or {}), "SUPPORTDESK_CONFIG": None}
    with CliRunner().isolation(input=input, env=isolated) as (out, err, _):
        formatting.FORCED_WIDTH = None  # CliRunner's 80 (restored when it ends)
        # A process without logging set up prints warnings as bare lines on stderr (Python's
        # last-resort handler); pytest's log capture would swallow them here.
        last_resort = logging.StreamHandler(sys.stderr)
        last_resort.setLevel(logging.WARNING)
        logging.getLogger().addHandler(last_resort)
        os.chdir(cwd)
        try:
            main(args, prog_name="python -m supportdesk")
        except SystemExit as exc:
            code = exc.code
        except Exception:  # noqa: BLE001 - re-raised by --debug: a process prints it, exits 1
            import traceback

            traceback.print_exc()
            code = 1
        finally:
            os.chdir(before)
            logging.getLogger().removeHandler(last_resort)
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            sys.stdout.flush()
            sys.stderr.flush()
        if isinstance(code, str):  # sys.exit("message"): the message on stderr, status 1
            sys.stderr.write(code + "\n")
            sys.stderr.flush()
            code = 1
        stdout = out.getvalue().decode("utf-8", "replace")
        stderr = err.getvalue().decode("utf-8", "backslashreplace")
    return subprocess.CompletedProcess(
        ["supportdesk", *args], code or 0, _text_mode(stdout), _text_mode(stderr)
    )


def _text_mode(text: str) -> str:
    """What subprocess.run(text=True) reads: universal newlines."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def run_cli_process(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run the real `supportdesk` command in a subprocess (`python -m supportdesk`): for what
    only a whole process shows; everything else uses `run_cli` (same arguments, same result)."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("SUPPORTDESK_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "supportdesk", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        input=input,
        timeout=timeout,
    )


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def invoke_cli(*args: str, env: dict[str, str | None] | None = None) -> CliResult:
    """The real CLI in this process through Typer's CliRunner (a subprocess takes ~1.4 s), with
    `main()`'s manners: a SupportDeskError is one line on stderr and exit code 1. Each
    invocation starts from a state of its own and closes the desk it opened. The working
    directory is the test's (monkeypatch.chdir); $SUPPORTDESK_CONFIG is unset unless `env`
    sets it."""
    from typer.testing import CliRunner

    from supportdesk.cli import (  # noqa: F401 - registers the commands
        admin,
        democmd,
        itemcmds,
        mailcmds,
        requestcmds,
        templatecmds,
    )
    from supportdesk.cli.app import app
    from supportdesk.errors import SupportDeskError

    result = CliRunner().invoke(app, list(args), env={"SUPPORTDESK_CONFIG": None, **(env or {})})
    stderr = result.stderr
    if isinstance(result.exception, SupportDeskError):
        stderr += f"supportdesk: {result.exception}\n"
    elif result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.stdout, stderr)


_DELIVERIES = itertools.count()


def drop_into_maildir(folder: Path, *raws: bytes) -> None:
    """Deliver messages into the desk's Maildir the way an MDA does (tmp, then new)."""
    import time

    for raw in raws:
        name = f"{time.time_ns()}.{next(_DELIVERIES):06d}.test"  # sorts in delivery order
        tmp = folder / "mail" / "tmp" / name
        tmp.write_bytes(raw)
        tmp.rename(folder / "mail" / "new" / name)


def smtp_outgoing(server: Any) -> dict[str, Any]:
    """Config for delivering to a test SMTP server on loopback."""
    return {
        "outgoing": {"kind": "smtp", "host": server.host, "port": server.port, "security": "none"}
    }


def imap_mailbox(server: Any, **extra: Any) -> dict[str, Any]:
    """The [mailbox] section for a test IMAP server (password in $TEST_IMAP_PASSWORD)."""
    return {
        "kind": "imap",
        "host": server.host,
        "port": server.port,
        "security": "none",
        "username": server.username,
        "password_env": "TEST_IMAP_PASSWORD",
        **extra,
    }


def imap_env(server: Any) -> dict[str, str]:
    """The environment for a `supportdesk` subprocess that logs in to a test IMAP server."""
    env = {**os.environ, "TEST_IMAP_PASSWORD": server.password}
    env.pop("SUPPORTDESK_CONFIG", None)
    return env
