"""The layers of ARCHITECTURE.md, enforced: who may import whom, and no Textual when headless."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

HEADLESS = [
    "supportdesk.desk",
    "supportdesk.store.database",
    "supportdesk.mail.parse",
    "supportdesk.mail.imap",
    "supportdesk.mail.transport",
    "supportdesk.cli",
]


# One bare interpreter for the whole session forks a child per question: each child imports
# the module into what `python -c "import json, sys"` has loaded, as a new process would, and
# answers with sys.modules (a new interpreter per module took ~1 s each).
_IMPORTER = """
import json, os, sys
for line in sys.stdin:
    r, w = os.pipe()
    if os.fork() == 0:
        os.close(r)
        try:
            __import__(line.strip())
            answer = json.dumps(sorted(sys.modules))
        except BaseException as exc:
            answer = json.dumps({"error": f"{type(exc).__name__}: {exc}"})
        with os.fdopen(w, "w") as out:
            out.write(answer)
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as answer:
        print(answer.read(), flush=True)
    os.wait()
"""
_importer: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True, scope="module")
def _stop_the_importer() -> Iterator[None]:
    yield
    while _importer:
        proc = _importer.pop()
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=60)


def _modules_after_import(module: str) -> set[str]:
    if not hasattr(os, "fork"):
        code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        return set(json.loads(out))
    if not _importer:
        _importer.append(
            subprocess.Popen(
                [sys.executable, "-c", _IMPORTER],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    proc = _importer[0]
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(module + "\n")
    proc.stdin.flush()
    answer = json.loads(proc.stdout.readline())
    assert not isinstance(answer, dict), f"import {module}: {answer['error']}"
    return set(answer)


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_modules_do_not_load_textual(module: str) -> None:
    loaded = _modules_after_import(module)
    assert "textual" not in loaded
    assert not any(m.startswith("supportdesk.ui") for m in loaded)


def test_desk_loads_neither_typer_nor_ui() -> None:
    loaded = _modules_after_import("supportdesk.desk")
    assert "typer" not in loaded and "click" not in loaded


@pytest.mark.parametrize(
    "module",
    [
        "supportdesk.mail.parse",
        "supportdesk.mail.imap",
        "supportdesk.mail.transport",
        "supportdesk.mail.compose",
        "supportdesk.mail.automatic",
        "supportdesk.templating.render",
        "supportdesk.templating.search",
        "supportdesk.textsearch",
        "supportdesk.templating.files",
    ],
)
def test_mail_and_templating_know_nothing_of_requests_or_the_store(module: str) -> None:
    loaded = _modules_after_import(module)
    assert not any(m.startswith(("supportdesk.store", "supportdesk.desk")) for m in loaded)
    assert "sqlalchemy" not in loaded


def test_the_generic_text_search_knows_nothing_of_templates() -> None:
    """Backlog items are searched with it: they are not templates."""
    loaded = _modules_after_import("supportdesk.textsearch")
    assert not any(m.startswith("supportdesk.templating") for m in loaded)
    assert "jinja2" not in loaded


@pytest.mark.parametrize(
    "module",
    ["supportdesk.store.database", "supportdesk.store.intake", "supportdesk.store.requests"],
)
def test_store_knows_nothing_of_mail(module: str) -> None:
    loaded = _modules_after_import(module)
    assert not any(m.startswith(("supportdesk.mail", "supportdesk.desk")) for m in loaded)


def test_sql_lives_in_the_store_only() -> None:
    """Outside store/, no module builds SQL (sqlalchemy) itself."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "supportdesk"
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "store" not in p.parts and "sqlalchemy" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_the_console_and_the_cli_import_domain_and_desk_not_store_mail_or_templating() -> None:
    """ui/ and cli/ name records, statuses and errors from `supportdesk.domain` and
    `supportdesk.errors`, and act through `supportdesk.desk` (import-linter checks the same
    in `make lint`, with indirect imports allowed)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "supportdesk"
    forbidden = ("supportdesk.store", "supportdesk.mail", "supportdesk.templating")
    offenders = []
    for folder in ("ui", "cli"):
        for path in sorted((root / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = (
                    [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else []
                )
                offenders += [
                    f"{path.relative_to(root)}:{node.lineno} {name}"  # type: ignore[attr-defined]
                    for name in names
                    if name.startswith(forbidden)
                ]
    assert offenders == []


def test_help_loads_neither_the_database_nor_the_console_nor_rich() -> None:
    """`supportdesk --help` (scripts pay its start on every call) imports Typer and our
    command modules, not SQLAlchemy/SQLModel, the desk, Textual, Rich, pydantic or Jinja2."""
    code = (
        "import json, sys\n"
        "sys.argv = ['supportdesk', '--help']\n"
        "from supportdesk.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "Usage: supportdesk" in done.stdout and "stack" in done.stdout
    loaded = set(json.loads(done.stderr.splitlines()[-1]))
    heavy = ["sqlalchemy", "sqlmodel", "textual", "rich", "pydantic", "jinja2", "alembic"]
    assert [m for m in heavy if m in loaded] == []
    ours = ("supportdesk.desk", "supportdesk.store", "supportdesk.mail", "supportdesk.templating")
    assert not any(m.startswith(ours) for m in loaded)


def test_stack_json_loads_no_orm_no_migrations_no_mail_clients_no_console(tmp_path: Path) -> None:
    """A script's `supportdesk stack --json` on a desk whose schema is current reads the
    database through SQLAlchemy Core: no ORM or SQLModel classes to build, no Alembic, no
    IMAP/SMTP client, no Textual."""
    from supportdesk.clock import FrozenClock
    from tests.fixtures import make_desk

    desk = make_desk(tmp_path, FrozenClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC)))
    desk.close_database()
    code = (
        "import json, sys\n"
        f"sys.argv = ['supportdesk', '--config', {str(tmp_path / 'config.toml')!r}, 'stack',"
        " '--json']\n"
        "from supportdesk.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert json.loads(done.stdout) == []  # an empty stack
    loaded = set(json.loads(done.stderr.splitlines()[-1]))
    heavy = ["sqlmodel", "sqlalchemy.orm", "alembic", "imapclient", "aiosmtplib", "textual"]
    assert [m for m in heavy if m in loaded] == []
