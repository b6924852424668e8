"""Issue 19 in a real terminal (tmux): trainee tom answers in the console, his letter is held;
mentor mia approves it from f6; the outbox is delivered to a real SMTP server (aiosmtpd) and
the customer receives exactly one letter with tom's text."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from tests.fixtures import drop_into_maildir, make_desk, run_cli, smtp_outgoing
from tests.mailfactory import make_mail
from tests.servers.smtp import SmtpServer
from tests.test_console_tmux import Terminal, tmux_env

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.slow,  # two real console processes in a real terminal: ~10 s
]

REPLY = "Unplug the printer and keep the door shut"
CUSTOMER = "ann@example.org"


def test_a_trainee_replies_a_mentor_approves_the_customer_gets_one_letter(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    """A real terminal on a shared 2-core machine can drop a key under load: one more try
    with a fresh desk before calling it a failure (the screen is printed either way)."""
    try:
        _review_flow(tmp_path / "first", smtp_server)
    except AssertionError as first:
        print(f"first attempt failed, trying again: {first}")
        _review_flow(tmp_path / "second", smtp_server)


def _to_customer(server: SmtpServer) -> list[str]:
    """The bodies of the letters the SMTP server received for the customer."""
    return [
        m.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        for m in server.messages
        if CUSTOMER in m.recipients
    ]


def _console(socket: Path, folder: Path, agent: str, size: tuple[int, int]) -> Terminal:
    command = f"{sys.executable} -m supportdesk --config {folder / 'config.toml'} --agent {agent}"
    subprocess.run(
        ["tmux", "-S", str(socket), "new-session", "-d", "-s", agent]
        + ["-x", str(size[0]), "-y", str(size[1]), command],
        check=True,
        env=tmux_env(),
    )
    return Terminal(socket, agent)


def _review_flow(base: Path, server: SmtpServer) -> None:
    base.mkdir()
    folder = base / "desk"
    folder.mkdir()
    desk = make_desk(folder, FrozenClock(datetime.now(UTC)), smtp_outgoing(server))
    desk.ensure_agent("mia", name="Mia Mentor")
    desk.ensure_agent("tom", name="Tom Trainee")
    desk.set_training("tom", True, "mia")
    drop_into_maildir(
        folder,
        make_mail(
            sender=f"Ann Smith <{CUSTOMER}>",
            subject="Printer on fire",
            body="My printer is on fire. What now?",
            message_id=f"fire.{base.name}@example.org",
        ),
    )
    desk.fetch()
    desk.deliver()  # the acknowledgement, if the desk sends one: before anything else
    desk.close_database()
    before = _to_customer(server)
    assert not any(REPLY in body for body in before)
    socket = base / "tmux.sock"
    try:
        tom = _console(socket, folder, "tom", (80, 24))
        tom.wait_for(lambda s: "Printer on fire" in s and "Take next" in s, "tom's stack", 60)
        tom.keys("Enter")
        tom.wait_for(lambda s: "claimed by you" in s, "the request")
        tom.keys("r")
        tom.wait_for(lambda s: "Reply to #1" in s, "the reply editor")
        tom.keys("C-a", "C-k")  # whatever a template put there, only the reply
        tom.keys("-l", REPLY)
        tom.wait_for(lambda s: REPLY in s, "the reply typed")
        tom.keys("C-s")
        tom.wait_for(lambda s: "Held for review by mia" in s, "the held toast")
        tom.wait_for(lambda s: "Printer on fire" not in s, "the request off tom's stack")
        tom.keys("C-q")
        tom.wait_for(lambda s: "Take next" not in s, "tom's console closed")

        mia = _console(socket, folder, "mia", (160, 48))
        mia.wait_for(lambda s: "f6 review 1" in s, "mia's header count", 60)
        mia.keys("F6")
        mia.wait_for(lambda s: "Letters to review" in s and REPLY in s, "the review screen")
        mia.keys("a")
        mia.wait_for(lambda s: "Approved: queued to" in s, "the approved toast")
        mia.keys("C-q")
        mia.wait_for(lambda s: "Letters to review" not in s, "mia's console closed")
    finally:
        subprocess.run(["tmux", "-S", str(socket), "kill-server"], check=False)

    sent = run_cli("--config", str(folder / "config.toml"), "send", cwd=folder)
    assert sent.returncode == 0, sent.stderr
    after = _to_customer(server)[len(before) :]
    assert len(after) == 1, after  # exactly one letter after the acknowledgement
    assert REPLY in after[0]
