"""Crash safety: `supportdesk fetch` killed with SIGKILL mid-intake loses and duplicates nothing."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from supportdesk.samples import SampleMailbox
from tests.databases import query
from tests.fixtures import imap_env, imap_mailbox, run_cli, write_config

TOTAL = 2000


def _stored(folder: Path) -> int:
    return int(query(folder, "SELECT count(*) FROM message WHERE direction = 'in'", 0))


def _fetch_until(folder: Path, env: dict[str, str], threshold: int) -> int:
    """Start `supportdesk fetch`, SIGKILL it once `threshold` messages are stored."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "supportdesk", "fetch"],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if _stored(folder) >= threshold:
                break
            time.sleep(0.005)  # watching a subprocess, not waiting for a time rule
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return _stored(folder)


@pytest.mark.slow
@pytest.mark.imap
def test_sigkill_at_three_moments_then_complete(tmp_path: Path, imap_server) -> None:
    mailbox = SampleMailbox(seed=7, customers=40)
    imap_server.deliver(list(mailbox.messages(TOTAL)))
    write_config(
        tmp_path,
        {
            "mailbox": imap_mailbox(imap_server, batch_bytes=150_000),
            "outgoing": {"kind": "none"},
        },
    )
    env = imap_env(imap_server)

    rng = random.Random()
    thresholds = sorted(rng.sample(range(50, TOTAL - 50), 3))
    seen = [_fetch_until(tmp_path, env, t) for t in thresholds]
    assert seen[-1] < TOTAL, "every kill came too late to interrupt the intake"

    done = run_cli("fetch", "--json", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert _stored(tmp_path) == TOTAL
    distinct = query(
        tmp_path, "SELECT count(DISTINCT message_id) FROM message WHERE direction = 'in'"
    )
    raws = query(
        tmp_path,
        "SELECT count(*) FROM message_raw r JOIN message m "
        "ON m.id = r.message_pk WHERE m.direction = 'in'",
    )
    assert distinct == TOTAL and raws == TOTAL

    again = json.loads(run_cli("fetch", "--json", cwd=tmp_path, env=env).stdout)
    assert again["fetch"]["stored"] == 0 and again["fetch"]["seen"] == 0

    imap_server.reset_uidvalidity()
    rescan = json.loads(run_cli("fetch", "--json", cwd=tmp_path, env=env).stdout)
    assert rescan["fetch"]["rescanned"] == ["INBOX"]
    assert rescan["fetch"]["stored"] == 0 and rescan["fetch"]["duplicates"] == TOTAL
    assert _stored(tmp_path) == TOTAL
