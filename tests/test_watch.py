"""`supportdesk fetch --watch`: new mail is taken within moments through IMAP IDLE."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.databases import query
from tests.fixtures import imap_env, imap_mailbox, write_config
from tests.mailfactory import make_mail


def _stored(folder: Path) -> int:
    return int(query(folder, "SELECT count(*) FROM message WHERE direction='in'", 0))


def _wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)  # polling a subprocess's effect, not a time rule
    return False


def _stop(proc: subprocess.Popen[bytes], log: Path) -> None:
    """Ctrl-C the watcher; one that does not stop dumps every thread's stack into the log
    (faulthandler, on SIGABRT) and the test fails showing where it hung."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        proc.wait(timeout=30)
        pytest.fail(f"fetch --watch did not stop on Ctrl-C:\n{log.read_text()}")


@pytest.mark.imap
@pytest.mark.slow
def test_watch_takes_new_mail_through_idle(tmp_path: Path, dovecot_server) -> None:
    # Dovecot only: pymap's in-process IDLE notifications were seen to go missing late in a
    # full run (its loop is shared with every earlier test), while Dovecot never missed one.
    imap_server = dovecot_server
    imap_server.deliver([make_mail(message_id="first@x")])
    write_config(
        tmp_path,
        {
            "mailbox": imap_mailbox(imap_server, poll_interval="10m"),
            "outgoing": {"kind": "file", "path": "outbox"},
        },
    )
    env = imap_env(imap_server)
    log = tmp_path / "watch.log"
    proc = subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-m", "supportdesk", "fetch", "--watch"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    try:
        assert _wait_until(lambda: _stored(tmp_path) == 1, 30), (
            f"the first poll did not happen: {log.read_text()}"
        )
        assert _wait_until(lambda: len(list((tmp_path / "outbox").glob("*.eml"))) == 1, 10)
        imap_server.deliver([make_mail(sender="dan@example.net", message_id="second@x")])
        # The poll interval is ten minutes: only IDLE can bring this in within seconds.
        assert _wait_until(lambda: _stored(tmp_path) == 2, 15), (
            f"IDLE did not wake the watcher: {log.read_text()}"
        )
        assert _wait_until(lambda: len(list((tmp_path / "outbox").glob("*.eml"))) == 2, 10)
    finally:
        _stop(proc, log)
    assert proc.returncode == 0, log.read_text()
    assert "Traceback" not in log.read_text()


@pytest.mark.imap
@pytest.mark.slow
def test_watch_survives_the_server_going_away(tmp_path: Path, pymap_server) -> None:
    write_config(
        tmp_path,
        {
            "mailbox": imap_mailbox(pymap_server, poll_interval="10m"),
            "outgoing": {"kind": "none"},
        },
    )
    log = tmp_path / "watch.log"
    proc = subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-m", "supportdesk", "fetch", "--watch"],
        cwd=tmp_path,
        env=imap_env(pymap_server),
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    try:
        assert _wait_until(lambda: "Watching" in log.read_text(), 30), log.read_text()
        pymap_server.stop()
        assert _wait_until(lambda: "retrying" in log.read_text(), 15), log.read_text()
        pymap_server.start()
        pymap_server.deliver([make_mail(message_id="after-outage@x")])
        assert _wait_until(lambda: _stored(tmp_path) == 1, 30), log.read_text()

        def no_error_on_record() -> bool:
            errors = "SELECT count(*) FROM mailbox_state WHERE last_error IS NOT NULL"
            return query(tmp_path, errors) == 0

        # the outage is over, so the error leaves the record right after the poll
        assert _wait_until(no_error_on_record, 10), log.read_text()
    finally:
        _stop(proc, log)
    assert "Traceback" not in log.read_text()


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_watch_stops_on_a_signal_and_hands_the_lease_back(tmp_path: Path, signum: int) -> None:
    """Even when started from a script that runs it in the background (SIGINT ignored)."""
    write_config(tmp_path, {"mailbox": {"poll_interval": "10m"}})
    log = tmp_path / "watch.log"
    proc = subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-m", "supportdesk", "fetch", "--watch"],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "SUPPORTDESK_CONFIG"},
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )

    def lease_held() -> bool:
        return bool(query(tmp_path, "SELECT count(*) FROM lease", 0))

    try:
        assert _wait_until(lambda: "Watching" in log.read_text() and lease_held(), 30), (
            log.read_text()
        )
    finally:
        proc.send_signal(signum)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"fetch --watch ignored signal {signum}:\n{log.read_text()}")
    assert proc.returncode == 0 and "Stopped." in log.read_text(), log.read_text()
    assert not lease_held()  # another process may take over at once
