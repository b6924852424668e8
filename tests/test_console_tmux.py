"""The real console in a real terminal (tmux): the demo answered, closed and searched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.slow,  # a real terminal and console process: 5-7 s each
]


def tmux_env(**extra: str) -> dict[str, str]:
    """This environment for a console in tmux, less COLUMNS and LINES: a pytest-xdist worker
    sets them (80x24), and the console would take them over the pane's real size."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return {**env, "TERM": "xterm-256color", **extra}


class Terminal:
    def __init__(self, socket: Path, name: str) -> None:
        self.base = ["tmux", "-S", str(socket)]
        self.name = name

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.base, "send-keys", "-t", self.name, *keys], check=True)

    def screen(self) -> str:
        out = subprocess.run(
            [*self.base, "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        )
        return out.stdout

    def wait_for(self, check: Callable[[str], bool], what: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.1)  # polling the screen, not waiting for a rule
        raise AssertionError(f"waited for {what}; the screen shows:\n{self.screen()}")


def _requests(folder: Path, *args: str) -> list[dict]:  # type: ignore[type-arg]
    out = subprocess.run(
        [sys.executable, "-m", "supportdesk", "--config", str(folder / "config.toml"), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_demo_in_tmux_open_answer_close_search(tmp_path: Path) -> None:
    """A real terminal on a shared 2-core machine can drop a key under load: one more try
    with a fresh demo before calling it a failure (the screen is printed either way)."""
    try:
        _demo_flow(tmp_path / "first")
    except AssertionError as first:
        print(f"first attempt failed, trying again: {first}")
        _demo_flow(tmp_path / "second")


def _demo_flow(base: Path) -> None:
    base.mkdir()
    folder = base / "demo"
    socket = base / "tmux.sock"
    command = f"{sys.executable} -m supportdesk demo --path {folder}"
    subprocess.run(
        [
            "tmux",
            "-S",
            str(socket),
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "120",
            "-y",
            "36",
            command,
        ],
        check=True,
        env=tmux_env(),
    )
    term = Terminal(socket, "t")
    try:
        screen = term.wait_for(lambda s: "#29" in s and "Take next" in s, "the stack", 60)
        assert "Feature idea: dark mode" in screen
        term.keys("Enter")
        term.wait_for(lambda s: "From Carla" in s and "claimed by you" in s, "request #29")
        term.keys("r")
        term.wait_for(lambda s: "Reply to #29" in s and "Hello Carla" in s, "the reply editor")
        term.keys("C-t")
        term.wait_for(lambda s: "Template for #29" in s, "the template picker")
        term.keys("export")
        term.wait_for(lambda s: "export-data (en, team)" in s, "export-data found")
        term.keys("Enter")
        term.wait_for(lambda s: "template: export-data" in s, "export-data in the editor")
        term.keys("C-s")
        term.wait_for(lambda s: "#28" in s and "#29" not in s.split("\n", 3)[2], "the stack again")
        term.keys("Enter")
        term.wait_for(lambda s: "#28 " in s and "claimed by you" in s, "request #28")
        term.keys("c")
        term.wait_for(lambda s: "Close #28 because" in s, "the close dialog")
        term.keys("Enter")
        term.wait_for(lambda s: "Take next" in s and "#27" in s, "the stack after closing")
        term.keys("/")
        term.wait_for(lambda s: "search all mail" in s, "the requests screen")
        term.keys("crash", "Enter")
        term.wait_for(
            lambda s: "App crashes on start" in s and "Feature idea" not in s, "search results"
        )
        term.keys("C-q")
        term.wait_for(lambda s: "Take next" not in s and "search all mail" not in s, "quit")
    finally:
        subprocess.run(["tmux", "-S", str(socket), "kill-server"], check=False)
    detail = _requests(folder, "requests", "show", "29", "--json")
    assert detail["status"] == "waiting"
    assert detail["messages"][-1]["kind"] == "reply"
    assert "export" in detail["messages"][-1]["text"].lower()
    closed = _requests(folder, "requests", "show", "28", "--json")
    assert (closed["status"], closed["close_reason"]) == ("closed", "resolved")


def test_a_2mb_body_and_an_attachment_named_like_markup_in_tmux(tmp_path: Path) -> None:
    """Issue 14: the real console opens a request with a 2 MB body (cut, then shown in full)
    and saves an attachment named `[a==x.pdf` into ~/Downloads, then quits."""
    try:
        _big_and_markup_flow(tmp_path / "first")
    except AssertionError as first:
        print(f"first attempt failed, trying again: {first}")
        _big_and_markup_flow(tmp_path / "second")


def _toast(screen: str, start: str) -> str:
    """The text of the toast that begins with `start`, its lines joined as one without spaces
    (a long path wraps inside the toast's box, which other text stands beside)."""
    lines = screen.splitlines()
    for i, line in enumerate(lines):
        at = line.find(start)
        if at >= 0:
            return "".join(row[at:].strip(" ▌▐▎▊█") for row in lines[i : i + 6]).replace(" ", "")
    return ""


def _big_and_markup_flow(base: Path) -> None:
    from datetime import UTC, datetime

    from supportdesk.clock import FrozenClock
    from tests.fixtures import drop_into_maildir, make_desk
    from tests.mailfactory import make_mail
    from tests.test_customer_text import big_body

    base.mkdir()
    folder = base / "desk"
    folder.mkdir()
    home = base / "home"
    (home / "Downloads").mkdir(parents=True)
    desk = make_desk(folder, FrozenClock(datetime.now(UTC)))
    drop_into_maildir(folder, make_mail(subject="Export log", body=big_body()))
    drop_into_maildir(
        folder,
        make_mail(subject="The file", body="Here it is.", attachment=("[a==x.pdf", b"%PDF-1.4\n")),
    )
    desk.fetch()
    desk.close_database()
    socket = base / "tmux.sock"
    command = f"{sys.executable} -m supportdesk --config {folder / 'config.toml'}"
    env = tmux_env(HOME=str(home))
    subprocess.run(
        ["tmux", "-S", str(socket), "new-session", "-d", "-s", "t", "-x", "120", "-y", "36"]
        + [command],
        check=True,
        env=env,
    )
    term = Terminal(socket, "t")
    try:
        term.wait_for(lambda s: "Export log" in s and "The file" in s, "the stack", 60)
        screen = term.screen()
        file_first = screen.index("The file") < screen.index("Export log")
        term.keys(*(["j"] if file_first else []), "Enter")  # the cursor onto the big one
        term.wait_for(
            lambda s: "hello: invoice" in s and "press m to show all" in s, "the 2 MB request"
        )
        term.keys("m")
        term.wait_for(lambda s: "in full" in s and "invoice 0 exported" in s, "the whole thread")
        term.keys("End")
        term.wait_for(lambda s: "THE LAST LINE zebrafinch" in s, "the end of the 2 MB body")
        term.keys("Escape")
        term.wait_for(lambda s: "press m to show all" in s, "the request again")
        term.keys("Escape")
        term.wait_for(lambda s: "Take next" in s, "the stack again")
        term.keys(*(["k", "k"] if file_first else ["j", "j"]), "Enter")  # the other one
        term.wait_for(lambda s: "[a==x.pdf" in s and "Here it is." in s, "the file's request")
        term.keys("s")
        term.wait_for(lambda s: "Save which attachment?" in s, "the save dialog")
        term.keys("Enter")
        saved = home / "Downloads" / "[a==x.pdf"
        term.wait_for(lambda s: f"Saved{saved}" in _toast(s, "Saved"), "the saved toast")
        assert saved.read_bytes() == b"%PDF-1.4\n"
        term.keys("C-q")
        term.wait_for(lambda s: "Take next" not in s and "Save attachment" not in s, "quit")
    finally:
        subprocess.run(["tmux", "-S", str(socket), "kill-server"], check=False)
