"""`supportdesk tick` driven from outside: the real CLI in subprocesses, the clock moved by
`faketime` (libfaketime shifts the system clock the process sees; SystemClock honours it).

Relative offsets (`faketime -f '+49h'`) are taken from the real now when each process
starts, so '+49h', '+98h', '+147h' are 49, 98 and 147 hours after the first reply (give or
take the seconds the test itself takes). Python under faketime needs no special options
here: neither FAKETIME_DONT_RESET nor a frozen ('@...') time was necessary, and the clock
keeps running from the shifted start, so SQLite's busy timeout and sleeps behave normally.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import add_agents, drop_into_maildir, write_config
from tests.mailfactory import make_mail

FAKETIME = shutil.which("faketime")
if FAKETIME is None:
    if os.environ.get("SUPPORTDESK_REQUIRE_FAKETIME"):  # set by .ci/run
        pytest.fail(
            "faketime is not installed, but CI must run the tick tests (apt-get install faketime)",
            pytrace=False,
        )
    pytest.skip(
        "faketime is not installed (Debian/Ubuntu: apt-get install faketime)",
        allow_module_level=True,
    )

TIMEOUT = 60
RULES = (
    "follow_ups",
    "reminders",
    "closed",
    "notices",
    "claims_expired",
    "sla_warned",
    "snoozed",
)


def cli(*args: str, cwd: Path, at: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `supportdesk` command, under `faketime -f AT` when `at` is given."""
    env = dict(os.environ)
    env.pop("SUPPORTDESK_CONFIG", None)
    env.pop("SUPPORTDESK_NOW", None)  # a fixed time would hide faketime's clock
    command = [sys.executable, "-m", "supportdesk", *args]
    if at is not None:
        assert FAKETIME is not None
        command = [FAKETIME, "-f", at, *command]
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert result.returncode == 0, (command, result.stdout, result.stderr)
    return result


def cli_json(*args: str, cwd: Path, at: str | None = None) -> Any:
    return json.loads(cli(*args, "--json", cwd=cwd, at=at).stdout)


def tick(cwd: Path, at: str | None = None, hours: float = 0) -> dict[str, Any]:
    """`supportdesk tick --json`, checking that it ran at the shifted time."""
    report = cli_json("tick", cwd=cwd, at=at)
    assert set(report) == {"at", *RULES, "sla_overdue"}
    ran_at = datetime.fromisoformat(report["at"])
    expected = datetime.now(UTC) + timedelta(hours=hours)
    assert abs(ran_at - expected) < timedelta(minutes=5), (report["at"], expected)
    return report


def nothing_happened(report: dict[str, Any]) -> bool:
    return all(report[rule] == [] for rule in (*RULES, "sla_overdue"))


def reply(cwd: Path, text: str, at: str | None = None) -> None:
    replied = cli_json("requests", "reply", "1", "--body", text, cwd=cwd, at=at)
    assert replied["status"] == "queued"


def show(cwd: Path, at: str | None = None) -> dict[str, Any]:
    return cli_json("requests", "show", "1", cwd=cwd, at=at)


@pytest.mark.slow  # about twenty CLI processes: 15-20 s
def test_follow_up_reminders_and_auto_close_with_faketime(tmp_path: Path) -> None:
    write_config(tmp_path)
    add_agents(tmp_path, "anna")
    drop_into_maildir(tmp_path, make_mail(message_id="slow.customer@client.example.org"))
    fetched = cli_json("fetch", cwd=tmp_path)
    assert fetched["fetch"]["new_requests"] == 1
    stack = cli_json("stack", cwd=tmp_path)
    assert [r["number"] for r in stack] == [1]

    reply(tmp_path, "Could you send us the invoice number, please?")
    assert show(tmp_path)["status"] == "waiting"
    assert cli_json("stack", cwd=tmp_path) == []
    assert nothing_happened(tick(tmp_path))

    # Two days and an hour of silence: back on the stack as a follow-up, once.
    first = tick(tmp_path, "+49h", 49)
    assert first["follow_ups"] == [1]
    assert all(first[rule] == [] for rule in RULES if rule != "follow_ups")
    stack = cli_json("stack", cwd=tmp_path, at="+49h")
    assert [(r["number"], r["status"], r["reason"]) for r in stack] == [(1, "open", "follow_up")]
    assert nothing_happened(tick(tmp_path, "+49h", 49))

    reply(tmp_path, "Just checking in: do you still need help?", at="+49h")
    after_first = show(tmp_path, at="+49h")
    assert (after_first["status"], after_first["reminder_count"]) == ("waiting", 1)
    assert cli_json("stack", cwd=tmp_path, at="+49h") == []

    second = tick(tmp_path, "+98h", 98)
    assert second["follow_ups"] == [1]
    assert second["closed"] == [] and second["notices"] == []
    reply(tmp_path, "A last reminder: we close this in two days.", at="+98h")
    after_second = show(tmp_path, at="+98h")
    assert (after_second["status"], after_second["reminder_count"]) == ("waiting", 2)

    # Two reminders unanswered: closed no_reply and the customer is told.
    third = tick(tmp_path, "+147h", 147)
    assert third["closed"] == [1]
    assert third["notices"] == [1]
    assert third["follow_ups"] == [] and third["reminders"] == []
    assert nothing_happened(tick(tmp_path, "+147h", 147))
    assert cli_json("stack", cwd=tmp_path, at="+147h") == []

    final = show(tmp_path, at="+147h")
    assert final["status"] == "closed"
    assert final["close_reason"] == "no_reply"
    assert final["reminder_count"] == 2
    events = [(e["kind"], e["reason"], e["actor"]) for e in final["events"]]
    assert events.count(("push", "follow_up", "system")) == 2, events
    assert events.count(("close", "no_reply", "system")) == 1, events
    assert [e for e in events if e[0] == "reminder"] == [("reminder", None, "anna")] * 2
    # The order of the story: in, answered, follow-up, reminder, follow-up, reminder, closed.
    story = [e[:2] for e in events if e[0] in ("reply", "push", "reminder", "close")]
    assert story == [
        ("push", "new"),
        ("reply", None),
        ("push", "follow_up"),
        ("reminder", None),
        ("push", "follow_up"),
        ("reminder", None),
        ("close", "no_reply"),
    ], events
    out = [(m["kind"], m["agent"]) for m in final["messages"] if m["direction"] == "out"]
    assert [kind for kind, _ in out].count("notice") == 1, out
    assert out[-1] == ("notice", "anna")  # signed by the agent who answered last
