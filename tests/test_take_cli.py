"""`requests take` and `requests release`: scripts claim work as the console's `n` does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.fixtures import add_agents, drop_into_maildir, run_cli, write_config
from tests.mailfactory import make_mail


def cli_json(*args: str, cwd: Path) -> Any:
    result = run_cli(*args, "--json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_two_agents_take_different_requests_and_release(tmp_path: Path) -> None:
    write_config(tmp_path)
    add_agents(tmp_path, "anna", "boris", "carl", "dora")
    drop_into_maildir(tmp_path, *(make_mail(message_id=f"t{n}@x") for n in (1, 2)))
    assert run_cli("fetch", cwd=tmp_path).returncode == 0

    anna = cli_json("requests", "take", "--agent", "anna", cwd=tmp_path)
    boris = cli_json("requests", "take", "--agent", "boris", cwd=tmp_path)
    assert (anna["number"], anna["claimed_by"]) == (2, "anna")  # the top of the stack
    assert (boris["number"], boris["claimed_by"]) == (1, "boris")  # not anna's
    assert cli_json("requests", "take", "--agent", "carl", cwd=tmp_path) is None  # exit 0

    assert cli_json("requests", "release", "2", "--agent", "boris", cwd=tmp_path) == {
        "number": 2,
        "released": False,
    }
    assert cli_json("requests", "release", "2", "--agent", "anna", cwd=tmp_path)["released"]
    assert cli_json("requests", "take", "--agent", "carl", cwd=tmp_path)["number"] == 2
    events = cli_json("requests", "show", "2", cwd=tmp_path)["events"]
    assert [(e["kind"], e["actor"]) for e in events if e["kind"] in ("claim", "release")] == [
        ("claim", "anna"),
        ("release", "anna"),
        ("claim", "carl"),
    ]
    empty = run_cli("requests", "take", "--agent", "dora", cwd=tmp_path)
    assert empty.returncode == 0 and empty.stdout == "" and "Nothing to take" in empty.stderr
