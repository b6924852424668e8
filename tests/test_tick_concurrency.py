"""Two `supportdesk tick` processes at once on 1,000 due requests: each request is pushed
(or reminded) exactly once between them.

The desk is built in-process through the real pipeline (import, then an agent's answer) on
a clock three days behind the real one; the tick processes run on the real clock, so every
answer is past `workflow.follow_up_after` (2d)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from tests.fixtures import make_desk
from tests.mailfactory import make_mail

DUE = 1000
TIMEOUT = 120


def _due_desk(folder: Path, extra: dict[str, Any] | None = None) -> list[int]:
    """A desk with DUE waiting requests, each answered three days ago; their numbers."""
    clock = FrozenClock(datetime.now(UTC) - timedelta(days=3))
    desk = make_desk(folder, clock, extra)
    try:
        mails = folder / "import"
        mails.mkdir()
        for i in range(DUE):
            raw = make_mail(
                sender=f"Customer {i} <customer{i}@example.org>",
                subject=f"Question number {i}",
                message_id=f"due.{i}@client.example.org",
                date=clock.now() - timedelta(hours=1),
            )
            (mails / f"{i:04d}.eml").write_bytes(raw)
        report = desk.import_mail(mails)
        numbers = sorted(report.new_requests)
        assert len(numbers) == DUE
        assert len(desk.list_requests(limit=2 * DUE)) == DUE
        for number in numbers:
            desk.reply(number, "Thanks, could you tell us a little more?", "anna")
        waiting = desk.list_requests(status="waiting", limit=2 * DUE)
        assert len(waiting) == DUE
        return numbers
    finally:
        desk.close_database()


def _two_ticks_at_once(folder: Path) -> list[dict[str, Any]]:
    env = dict(os.environ)
    env.pop("SUPPORTDESK_CONFIG", None)
    env.pop("SUPPORTDESK_NOW", None)
    command = [sys.executable, "-m", "supportdesk", "tick", "--json"]
    processes = [
        subprocess.Popen(
            command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    reports = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=TIMEOUT)
            assert process.returncode == 0, (out, err)
            reports.append(json.loads(out))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return reports


def _reopen(folder: Path, extra: dict[str, Any] | None = None) -> Desk:
    return make_desk(folder, FrozenClock(datetime.now(UTC)), extra)


@pytest.mark.slow
def test_two_ticks_at_once_push_each_request_once(tmp_path: Path) -> None:
    numbers = _due_desk(tmp_path)
    first, second = _two_ticks_at_once(tmp_path)
    a, b = set(first["follow_ups"]), set(second["follow_ups"])
    assert len(first["follow_ups"]) == len(a) and len(second["follow_ups"]) == len(b)
    assert a | b == set(numbers)
    assert a & b == set()
    for report in (first, second):
        assert report["closed"] == [] and report["reminders"] == [] and report["notices"] == []

    desk = _reopen(tmp_path)
    try:
        pushes = {}
        for number in numbers:
            detail = desk.request(number)
            assert (detail.request.status, detail.request.reason) == ("open", "follow_up")
            pushes[number] = [
                e
                for e in detail.events
                if (e["kind"], e["reason"], e["actor"]) == ("push", "follow_up", "system")
            ]
        assert sum(len(p) for p in pushes.values()) == DUE
        assert all(len(p) == 1 for p in pushes.values())
        assert len(desk.stack(limit=2 * DUE)) == DUE
    finally:
        desk.close_database()


@pytest.mark.slow
def test_two_ticks_at_once_send_each_reminder_once(tmp_path: Path) -> None:
    auto = {"workflow": {"auto_remind": True}}
    numbers = _due_desk(tmp_path, auto)
    first, second = _two_ticks_at_once(tmp_path)
    a, b = set(first["reminders"]), set(second["reminders"])
    assert len(first["reminders"]) == len(a) and len(second["reminders"]) == len(b)
    assert a | b == set(numbers)
    assert a & b == set()
    for report in (first, second):
        assert report["follow_ups"] == [] and report["closed"] == []

    desk = _reopen(tmp_path, auto)
    try:
        total = 0
        for number in numbers:
            detail = desk.request(number)
            reminders = [m for m in detail.messages if (m.direction, m.kind) == ("out", "reminder")]
            assert len(reminders) == 1, (number, [(m.direction, m.kind) for m in detail.messages])
            total += len(reminders)
            assert (detail.request.status, detail.request.reminder_count) == ("waiting", 1)
            reminded = [e for e in detail.events if e["kind"] == "reminder"]
            assert [(e["actor"], e["detail"]) for e in reminded] == [
                ("system", {"reminder": 1, "auto": True})
            ]
        assert total == DUE
        assert desk.stack(limit=2 * DUE) == []
    finally:
        desk.close_database()
