"""All of the shared corpus through `supportdesk import`: each message stored exactly once, and
every request it makes listed, shown, searched and opened in the console without a failure."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import Static

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.mail.parse import parse_message
from supportdesk.ui.screens.request import load, message_text
from tests.databases import ON_POSTGRESQL, query, rows
from tests.fixtures import corpus_or_skip, make_desk, run_cli, write_config


@pytest.mark.slow
def test_whole_corpus_imports_exactly_once(tmp_path: Path) -> None:
    corpus = corpus_or_skip()
    write_config(tmp_path, {"outgoing": {"kind": "none"}})

    first = run_cli("import", str(corpus), "--json", cwd=tmp_path, timeout=900)
    assert first.returncode == 0, first.stderr[-2000:]
    report = json.loads(first.stdout)
    # Files that are not a message are skipped and named: SOURCES.md, the test suites' MIME
    # parts on their own (Content-Type only), a PNG, a README, text without headers.
    skipped = set(report["not_mail_files"])
    assert str(corpus / "SOURCES.md") in skipped and report["not_mail"] == len(skipped)
    files = [p for p in corpus.rglob("*") if p.is_file() and str(p) not in skipped]
    assert len(skipped) < len(files) // 50
    # The oracle: distinct Message-IDs (or, without one, distinct contents) in the files.
    expected = {parse_message(p.read_bytes()).message_id for p in files}
    assert report["seen"] == len(files) > 8000
    assert report["stored"] == len(expected)
    assert report["stored"] + report["duplicates"] + report["copies_kept"] == len(files)
    assert report["acknowledgements"] == 0  # an import never writes to old customers
    assert report["with_warnings"] > 100  # parsing had to guess, and said so

    stored = {r[0] for r in rows(tmp_path, "SELECT message_id FROM message") or []}
    raw_rows = query(tmp_path, "SELECT count(*) FROM message_raw")
    outgoing = query(tmp_path, "SELECT count(*) FROM message WHERE direction = 'out'")
    warned = query(tmp_path, "SELECT count(*) FROM message WHERE warnings IS NOT NULL")
    # Every message in the full-text index: FTS5's table, or PostgreSQL's tsvector column.
    indexed = "count(search) FROM message" if ON_POSTGRESQL else "count(*) FROM message_fts"
    fts = query(tmp_path, f"SELECT {indexed}")
    assert stored == expected
    assert raw_rows == report["stored"] + report["copies_kept"]  # every distinct copy kept
    assert outgoing == 0
    assert warned == report["with_warnings"]
    assert fts == len(stored)

    second = run_cli("import", str(corpus), "--json", cwd=tmp_path, timeout=900)
    assert second.returncode == 0, second.stderr[-2000:]
    again = json.loads(second.stdout)
    assert again["stored"] == 0 and again["copies_kept"] == 0
    assert again["duplicates"] == len(files)

    every_request_lists_shows_searches_and_opens(tmp_path, report["new_requests"])


# Every request goes through the desk calls `requests show` and the request screen make; a
# sample is shown by the CLI itself and searched for, and part of it opened in the console's
# pilot (about 0.4 s a screen here: all 6,000 would take most of an hour).
SAMPLE = 150
IN_THE_PILOT = 60


def every_request_lists_shows_searches_and_opens(folder: Path, requests: int) -> None:
    """No stored value makes a listing, a request, a search or the console fail: every request
    of the corpus is listed and read as `requests show` and the request screen read it; a
    sample (requests whose mail had an unreadable date or other warnings, then a spread) is
    shown by the CLI, searched for by its subject, and opened in the console."""
    listed = run_cli("requests", "list", "--json", "--limit", "1000000", cwd=folder)
    assert listed.returncode == 0, listed.stderr[-2000:]
    subjects = {r["number"]: r["subject"] for r in json.loads(listed.stdout)}
    assert len(subjects) == requests
    for args in (["requests", "list"], ["stack"], ["stack", "--json"], ["search", "the"]):
        shown = run_cli(*args, cwd=folder)
        assert shown.returncode == 0, (args, shown.stderr[-2000:])

    warned = (
        rows(
            folder,
            "SELECT DISTINCT request_id FROM message "
            "WHERE date IS NULL OR warnings IS NOT NULL ORDER BY request_id",
        )
        or []
    )
    sample = [n for (n,) in warned][: SAMPLE // 2]
    step = max(1, len(subjects) // (SAMPLE - len(sample)))
    sample += [n for n in sorted(subjects)[::step] if n not in sample]
    sample = sample[:SAMPLE]

    desk = make_desk(
        folder, FrozenClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC)), {"outgoing": {"kind": "none"}}
    )
    try:
        for number, subject in subjects.items():
            loaded = load(desk, number)  # what the request screen reads, and `requests show`
            assert loaded.detail.request.subject == subject
            json.dumps(loaded.detail.as_dict())  # what `requests show --json` prints
            for message in loaded.detail.messages:
                message_text(message, unfold=False)  # what the request screen draws
        for number in sample:
            hits = desk.search(subjects[number])
            words = any(c.isalnum() for c in subjects[number])  # "_" alone is no word to find
            assert not words or hits, subjects[number]
        show_in_the_cli(folder, sample, subjects)
        # Half from the warned, half from the spread.
        in_the_pilot = sample[: IN_THE_PILOT // 2] + sample[SAMPLE // 2 :][: IN_THE_PILOT // 2]
        asyncio.run(open_in_the_console(desk, in_the_pilot, subjects))
    finally:
        desk.close_database()


def show_in_the_cli(folder: Path, numbers: list[int], subjects: dict[int, str]) -> None:
    """`requests show` through the real CLI's command, in this process (as Typer's CliRunner
    does, without building the command again for each call; a process each takes seconds)."""
    import contextlib
    import io

    from typer.main import get_command

    from supportdesk.cli import requestcmds  # noqa: F401 - registers the commands
    from supportdesk.cli.app import app

    command, config = get_command(app), str(folder / "config.toml")

    def run(*args: str) -> str:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            command.main(["--config", config, *args], "supportdesk", standalone_mode=False)
        return out.getvalue()

    for number in numbers:  # each invocation has a state of its own and closes its desk
        assert run("requests", "show", str(number)).startswith(f"#{number} "), number
        as_json = json.loads(run("requests", "show", str(number), "--json"))
        assert as_json["subject"] == subjects[number]


async def open_in_the_console(desk: Desk, numbers: list[int], subjects: dict[int, str]) -> None:
    from supportdesk.ui import make_app
    from supportdesk.ui.screens.request import RequestScreen
    from tests.test_console import SIZE, settle

    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for number in numbers:
            app.open_request(number)
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, RequestScreen) and screen.number == number
            facts = str(screen.query_one("#facts", Static).render())
            assert f"#{number} " in facts
            assert (
                screen.loaded is not None
                and screen.loaded.detail.request.subject == subjects[number]
            )
            await pilot.press("escape")
            await settle(pilot)
