"""`requests convert` and `items …` as scripts and admins use them: the real CLI
(`main()`, run in-process) on a real desk, the customers' mail taken in through the Maildir."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import add_agents, drop_into_maildir, run_cli, write_config
from tests.mailfactory import make_mail

SENDERS = ["carol@example.org", "dmitri@example.net", "erin@example.com"]


def cli_json(*args: str, cwd: Path) -> Any:
    result = run_cli(*args, "--json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def desk_with_three_reports(folder: Path) -> None:
    write_config(folder)
    add_agents(folder, "anna")
    for n, sender in enumerate(SENDERS, 1):
        drop_into_maildir(
            folder,
            make_mail(
                sender=sender,
                subject=f"Export fails ({n})",
                body="The export to Excel stops with error 500.\n",
                message_id=f"r{n}@client.example",
            ),
        )
    assert run_cli("fetch", cwd=folder).returncode == 0


def replies_of(folder: Path, number: int) -> list[dict[str, Any]]:
    detail = cli_json("requests", "show", str(number), cwd=folder)
    return [m for m in detail["messages"] if m["direction"] == "out" and m["kind"] == "reply"]


@pytest.mark.slow
def test_convert_attach_fix_and_export(tmp_path: Path) -> None:
    desk_with_three_reports(tmp_path)
    made = cli_json(
        "requests", "convert", "1", "--to", "bug", "--title", "Excel export fails", cwd=tmp_path
    )
    assert (made["item"]["number"], made["template"], made["status"]) == (1, "bug_ack", "linked")
    for n in (2, 3):
        attached = cli_json("requests", "convert", str(n), "--attach", "1", cwd=tmp_path)
        assert (attached["created"], attached["status"]) == (False, "linked")
    assert cli_json("stack", cwd=tmp_path) == []
    for n in (1, 2, 3):
        [ack] = replies_of(tmp_path, n)
        assert 'bug #1 "Excel export fails"' in ack["text"]

    [item] = cli_json("items", "list", "--kind", "bug", "--status", "open", cwd=tmp_path)
    assert (item["requests"], item["customers"], item["waiting"]) == ([1, 2, 3], 3, 3)
    shown = cli_json("items", "show", "1", cwd=tmp_path)
    assert [r["customer"]["email"] for r in shown["linked"]] == SENDERS
    request = run_cli("requests", "show", "2", cwd=tmp_path).stdout
    assert "linked to bug #1 (open): Excel export fails" in request

    # scripts must say --yes before mail goes to every customer
    refused = run_cli("items", "fix", "1", "--notify", cwd=tmp_path)
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert cli_json("items", "show", "1", cwd=tmp_path)["status"] == "open"

    fixed = cli_json("items", "fix", "1", "--notify", "--yes", cwd=tmp_path)
    assert (fixed["pushed"], fixed["notified"], fixed["failed"]) == ([1, 2, 3], [1, 2, 3], {})
    for n in (1, 2, 3):
        notice = replies_of(tmp_path, n)[-1]
        assert notice["text"].startswith("Hello") and f"request #{n}" in notice["text"]
        assert notice["in_reply_to"] == f"r{n}@client.example"
    statuses = [r["status"] for r in cli_json("requests", "list", cwd=tmp_path)]
    assert statuses == ["waiting"] * 3

    target = tmp_path / "backlog.csv"
    exported = run_cli("items", "export", "--format", "csv", "-o", str(target), cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")  # spreadsheets then read UTF-8
    with target.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["requests"] == "#1 #2 #3" and rows[0]["customers"] == "3"
    assert rows[0]["status"] == "fixed" and rows[0]["tags"] == "sup"
    as_json = json.loads(run_cli("items", "export", "--format", "json", cwd=tmp_path).stdout)
    assert as_json[0]["title"] == "Excel export fails"


def test_fix_without_notify_puts_requests_back_on_the_stack(tmp_path: Path) -> None:
    desk_with_three_reports(tmp_path)
    cli_json("requests", "convert", "2", "--to", "story", cwd=tmp_path)
    changed = cli_json("items", "set", "1", "--ref", "PROJ-7", "--status", "done", cwd=tmp_path)
    assert changed["pushed"] == [2] and changed["item"]["ref"] == "PROJ-7"
    top = cli_json("stack", cwd=tmp_path)[0]
    assert (top["number"], top["reason"]) == (2, "fixed")


def test_idea_closes_the_request(tmp_path: Path) -> None:
    desk_with_three_reports(tmp_path)
    made = cli_json("requests", "convert", "3", "--to", "idea", cwd=tmp_path)
    assert (made["template"], made["status"]) == ("idea_thanks", "closed")
    assert made["item"]["title"] == "Export fails (3)"
    closed = cli_json("requests", "list", "--status", "closed", cwd=tmp_path)
    assert [(r["number"], r["close_reason"], r["item"]) for r in closed] == [(3, "idea", 1)]


def test_usage_errors_are_clear(tmp_path: Path) -> None:
    desk_with_three_reports(tmp_path)
    both = run_cli("requests", "convert", "1", "--to", "bug", "--attach", "2", cwd=tmp_path)
    assert both.returncode == 2 and "--to bug|idea|story or --attach" in both.stderr
    kind = run_cli("requests", "convert", "1", "--to", "feature", cwd=tmp_path)
    assert kind.returncode == 2 and "bug, idea, story" in kind.stderr
    missing = run_cli("items", "show", "5", cwd=tmp_path)
    assert missing.returncode == 1 and "item #5 does not exist" in missing.stderr
