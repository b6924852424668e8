"""One poller: two `fetch --watch` processes share a mailbox; the lease holder is killed with
SIGKILL in the middle of a big intake and the other takes over within two lease periods,
leaving the mailbox fully taken in, each message once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from supportdesk.samples import SampleMailbox
from tests.databases import query, rows
from tests.fixtures import imap_env, imap_mailbox, write_config

TOTAL = 1500
LEASE = 3.0  # seconds: short, so the test waits for two of them at most


def _stored(folder: Path) -> int:
    return int(query(folder, "SELECT count(*) FROM message WHERE direction = 'in'", 0))


def _holder(folder: Path) -> str | None:
    found = query(folder, "SELECT holder FROM lease WHERE name = 'poller'")
    return str(found) if found else None


def _wait_until(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)  # watching subprocesses, not waiting for a time rule
    return False


def _watcher(folder: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-m", "supportdesk", "fetch", "--watch"],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )


@pytest.mark.slow
@pytest.mark.imap
def test_sigkill_the_poller_mid_ingest_and_the_other_takes_over(
    tmp_path: Path, imap_server
) -> None:
    imap_server.deliver(list(SampleMailbox(seed=11, customers=60).messages(TOTAL)))
    write_config(
        tmp_path,
        {
            "mailbox": imap_mailbox(
                imap_server, batch_bytes=60_000, poll_interval="1s", lease=f"{LEASE:g}s"
            ),
            "outgoing": {"kind": "none"},
        },
    )
    env = imap_env(imap_server)
    first = _watcher(tmp_path, env, tmp_path / "first.log")
    second: subprocess.Popen[bytes] | None = None
    try:
        assert _wait_until(lambda: _holder(tmp_path) is not None, 60), (
            tmp_path / "first.log"
        ).read_text()
        first_holder = _holder(tmp_path)
        assert first_holder and first_holder.endswith(f":{first.pid}")
        second = _watcher(tmp_path, env, tmp_path / "second.log")
        assert _wait_until(lambda: _stored(tmp_path) >= 200, 60)
        first.send_signal(signal.SIGKILL)  # mid-ingest: no goodbye, the lease stays behind
        first.wait()
        killed_at = time.monotonic()
        at_kill = _stored(tmp_path)
        assert at_kill < TOTAL, "the kill came after the intake had finished"

        def second_holds() -> bool:
            return (_holder(tmp_path) or "").endswith(f":{second.pid}")  # type: ignore[union-attr]

        assert _wait_until(second_holds, 2 * LEASE + 5), (tmp_path / "second.log").read_text()
        took = time.monotonic() - killed_at
        assert took <= 2 * LEASE + 1, f"took over after {took:.1f}s"
        assert _wait_until(lambda: _stored(tmp_path) == TOTAL, 120), (
            f"{_stored(tmp_path)} of {TOTAL}: {(tmp_path / 'second.log').read_text()}"
        )
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=30)
    [(distinct, raws)] = rows(
        tmp_path,
        "SELECT count(DISTINCT m.message_id), count(r.id) FROM message m "
        "JOIN message_raw r ON r.message_pk = m.id WHERE m.direction = 'in'",
    )
    assert (distinct, raws) == (TOTAL, TOTAL)  # each message once, with its bytes once
    log = (tmp_path / "second.log").read_text()
    assert "waiting to take over" in log and "Taking over from fetch@" in log
    assert "Traceback" not in log
