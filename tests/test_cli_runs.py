"""How the CLI runs. Most tests run it in this process (`tests.fixtures.run_cli`: `main()`
under Typer's CliRunner, a subprocess costs ~1.4 s); these few start the real process
(`run_cli_process`) for what only a process shows: the entry point, exit codes, a pipe on
stdin, Ctrl-C. And a process that runs the CLI more than once (a test, a script) gets each
invocation on a state of its own."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from tests.fixtures import drop_into_maildir, make_desk, run_cli, run_cli_process
from tests.mailfactory import make_mail


def _desk_with_a_request(
    folder: Path, clock: FrozenClock, subject: str = "Printer on fire"
) -> None:
    desk = make_desk(folder, clock)
    drop_into_maildir(folder, make_mail(subject=subject, body="It is on fire."))
    desk.fetch()
    desk.close_database()


@pytest.mark.slow  # three CLI processes: over 2 s
def test_in_process_runs_answer_as_the_real_process_does(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """The same exit code, stdout and stderr from `python -m supportdesk` and from `run_cli`:
    the help when there is no terminal for the console, a usage error (2), a failure as one
    line (1)."""
    _desk_with_a_request(tmp_path, clock)
    for args, code in (
        ([], 0),  # no terminal for the console: the help, and a line on stderr
        (["requests", "show", "abc"], 2),
        (["requests", "close", "9"], 1),
    ):
        real = run_cli_process(*args, cwd=tmp_path, env={"COLUMNS": "80"})
        assert real.returncode == code, (args, real.stderr)
        here = run_cli(*args, cwd=tmp_path, env={"COLUMNS": "80"})
        assert (here.returncode, here.stdout, here.stderr) == (
            real.returncode,
            real.stdout,
            real.stderr,
        ), args
        if code == 1:
            assert real.stderr.count("\n") == 1 and real.stderr.startswith("supportdesk: ")


def test_a_reply_body_piped_into_the_real_process(tmp_path: Path, clock: FrozenClock) -> None:
    _desk_with_a_request(tmp_path, clock)
    body = "Unplug it, then call us.\nЖдём ответа.\n"
    replied = run_cli_process(
        "requests", "reply", "1", "--body-file", "-", cwd=tmp_path, input=body
    )
    assert replied.returncode == 0, replied.stderr
    shown = json.loads(run_cli("requests", "show", "1", "--json", cwd=tmp_path).stdout)
    [ack, answer] = [m for m in shown["messages"] if m["direction"] == "out"]
    assert answer["text"].startswith(body), answer["text"]  # every line, the Cyrillic too


def _reading_stdin(pid: int) -> bool:
    """The process waits in read(0, ...) (Linux: /proc/PID/syscall, else its wait channel)."""
    try:
        call = Path(f"/proc/{pid}/syscall").read_text().split()
        if call[:2] == ["0", "0x0"] and sys.platform == "linux":  # x86-64: read(fd 0)
            return True
        return "pipe_read" in Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return False


def test_ctrl_c_while_a_script_is_piping_a_body_exits_130_with_one_line(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """An interrupted `requests reply --body-file -` sends nothing, and says at most one line."""
    if not Path("/proc/self/syscall").exists():
        pytest.skip("needs Linux's /proc to see the process wait for its stdin")
    _desk_with_a_request(tmp_path, clock)
    proc = subprocess.Popen(
        [sys.executable, "-m", "supportdesk", "requests", "reply", "1", "--body-file", "-"],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As from a terminal: a runner that started the suite in the background (SIGINT
        # ignored, which children inherit) must not make Ctrl-C mean nothing here.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stdin is not None
        proc.stdin.write("Half a repl")
        proc.stdin.flush()
        deadline = time.monotonic() + 60
        while not _reading_stdin(proc.pid):
            assert proc.poll() is None and time.monotonic() < deadline, "never read its stdin"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert (proc.returncode, stdout) == (130, "")  # the shell's status for Ctrl-C
    assert "Traceback" not in stderr and len(stderr.splitlines()) <= 1, stderr
    shown = json.loads(run_cli("requests", "show", "1", "--json", cwd=tmp_path).stdout)
    assert len([m for m in shown["messages"] if m["direction"] == "out"]) == 1  # the ack


def test_each_invocation_in_one_process_starts_from_a_state_of_its_own(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """Typer's CliRunner, three times in a row, nothing reset in between: each invocation
    reads its own --config and --agent, never the previous one's desk."""
    from typer.testing import CliRunner

    from supportdesk.cli import requestcmds  # noqa: F401 - registers the commands
    from supportdesk.cli.app import app

    first, second = tmp_path / "first", tmp_path / "second"
    for folder, subject in ((first, "Printer on fire"), (second, "Refund please")):
        folder.mkdir()
        _desk_with_a_request(folder, clock, subject)
    runner = CliRunner()

    def stack(folder: Path, *options: str) -> list[str]:
        args = ["--config", str(folder / "config.toml"), *options, "stack", "--json"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (result.output, result.exception)
        return [r["subject"] for r in json.loads(result.stdout)]

    assert stack(first) == ["Printer on fire"]
    assert stack(second) == ["Refund please"]
    ghost = runner.invoke(app, ["--config", str(first / "config.toml"), "--agent", "ghost",
                                "requests", "take"])  # fmt: skip
    assert ghost.exit_code == 1 and "unknown agent 'ghost'" in str(ghost.exception)
    assert stack(first) == ["Printer on fire"]
    taken = runner.invoke(app, ["--config", str(first / "config.toml"), "requests", "take"])
    assert taken.exit_code == 0, (taken.output, taken.exception)  # as desk.agent, not ghost
