"""Attaching files on the reply screen: ctrl+f with path completion, ctrl+b, $EDITOR."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList, TextArea

from supportdesk.clock import FrozenClock
from supportdesk.ui import make_app
from supportdesk.ui.modals.attach import AttachModal, DropAttachmentModal
from tests.test_console import SIZE, console_desk, settle, utc  # noqa: F401 (utc: autouse)
from tests.test_console_reply import label_text, open_reply


@pytest.mark.slow
async def test_ctrl_f_completes_the_path_lists_the_files_and_sends_them(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    files = tmp_path / "files"
    files.mkdir()
    (files / "report.pdf").write_bytes(b"%PDF" + b"x" * 119_996)
    (files / "log.txt").write_text("a" * 3000)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reply(pilot, 2)
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert isinstance(app.screen, AttachModal)
        field = app.screen.query_one(Input)
        field.value = f"{files}/rep"
        field.cursor_position = len(field.value)
        await settle(pilot)
        await pilot.press("right")  # takes the completion
        assert field.value == f"{files}/report.pdf"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot)
        app.screen.query_one(Input).value = str(files / "log.txt")
        await pilot.press("enter")
        await settle(pilot)
        assert label_text(screen, "#reply-attached").startswith(
            "Attached: report.pdf 120 KB · log.txt 3 KB"
        )
        assert desk.draft(2, "anna").attachments == [  # kept across sessions
            f"{files}/report.pdf",
            str(files / "log.txt"),
        ]

        await pilot.press("ctrl+b")  # two attached: which one?
        await settle(pilot)
        assert isinstance(app.screen, DropAttachmentModal)
        choices = app.screen.query_one(OptionList)
        choices.highlighted = 1
        await pilot.press("enter")
        await settle(pilot)
        assert label_text(screen, "#reply-attached").startswith("Attached: report.pdf 120 KB")
        assert "log.txt" not in label_text(screen, "#reply-attached")

        await pilot.press("ctrl+f")
        await settle(pilot)
        app.screen.query_one(Input).value = str(tmp_path / "missing.pdf")
        await pilot.press("enter")
        await settle(pilot)
        assert "missing.pdf" not in label_text(screen, "#reply-attached")

        await pilot.press("ctrl+s")
        await settle(pilot)
    answer = desk.request(2).messages[-1]
    assert answer.direction == "out"
    assert [a.filename for a in answer.attachments] == ["report.pdf"]
    assert desk.draft(2, "anna") is None
    desk.close_database()


async def test_attach_lines_at_the_top_of_the_editor_text_attach_the_files(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = console_desk(tmp_path, clock)
    notes = tmp_path / "notes.txt"
    notes.write_text("step 1\n")
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys\n"
        "path = sys.argv[1]\n"
        "text = open(path, encoding='utf-8').read()\n"
        f"open(path, 'w', encoding='utf-8').write('Attach: {notes}\\n\\nSee the notes.\\n')\n"
    )
    monkeypatch.setenv("VISUAL", f"{sys.executable} {editor}")
    app = make_app(desk, "anna", background=False)
    monkeypatch.setattr(app, "suspend", contextlib.nullcontext)  # no terminal under the pilot
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reply(pilot, 2)
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert screen.query_one(TextArea).text == "See the notes.\n"
        assert label_text(screen, "#reply-attached").startswith("Attached: notes.txt 7 B")
    assert desk.draft(2, "anna").attachments == [str(notes)]
    desk.close_database()
