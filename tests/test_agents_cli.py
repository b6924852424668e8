"""`agents add|list|disable|enable`, and the console refusing who may not work the desk."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures import add_agents, drop_into_maildir, run_cli, write_config
from tests.mailfactory import make_mail


def console(folder: Path, agent: str) -> subprocess.CompletedProcess[str]:
    """Open the real console on a pseudo-terminal (`script`), as an agent would."""
    if shutil.which("script") is None:
        pytest.skip("util-linux `script` is not installed")
    env = {k: v for k, v in os.environ.items() if k != "SUPPORTDESK_CONFIG"}
    command = f"{sys.executable} -m supportdesk --agent {agent}"
    return subprocess.run(
        ["script", "-qec", command, "/dev/null"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_agents_with_roles_and_languages(tmp_path: Path) -> None:
    write_config(tmp_path)
    add_agents(tmp_path, "anna", role="admin")  # desk.agent: who adds the others
    added = run_cli(
        "agents", "add", "olga", "--name", "Olga K", "--email", "olga@example.com",
        "--role", "admin", "--languages", "ru,en", "--json", cwd=tmp_path,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["languages"] == ["ru", "en"]
    listed = json.loads(run_cli("agents", "list", "--json", cwd=tmp_path).stdout)
    assert [(a["login"], a["role"], a["languages"], a["active"]) for a in listed] == [
        ("anna", "admin", [], True),
        ("olga", "admin", ["ru", "en"], True),
    ]
    twice = run_cli("agents", "add", "olga", cwd=tmp_path)
    assert twice.returncode == 1 and "agent 'olga' exists" in twice.stderr
    role = run_cli("agents", "add", "pia", "--role", "boss", cwd=tmp_path)
    assert role.returncode == 2 and "agent or admin" in role.stderr
    language = run_cli("agents", "add", "pia", "--languages", "english", cwd=tmp_path)
    assert language.returncode == 1 and "english" in language.stderr
    login = run_cli("agents", "add", "pia; rm -rf", cwd=tmp_path)
    assert login.returncode == 1 and "invalid login" in login.stderr


@pytest.mark.slow  # consoles on a pseudo-terminal: over 2 s
def test_the_console_refuses_unknown_and_disabled_agents(tmp_path: Path) -> None:
    write_config(tmp_path)
    add_agents(tmp_path, "anna", role="admin")
    drop_into_maildir(tmp_path, make_mail(message_id="c@x"))
    assert run_cli("fetch", cwd=tmp_path).returncode == 0
    unknown = console(tmp_path, "ghost")
    assert unknown.returncode == 1
    assert "unknown agent 'ghost'" in unknown.stdout  # the pty merges the streams
    assert "supportdesk agents add ghost" in unknown.stdout

    assert run_cli("agents", "add", "olga", cwd=tmp_path).returncode == 0
    taken = json.loads(
        run_cli("requests", "take", "--agent", "olga", "--json", cwd=tmp_path).stdout
    )
    assert taken["number"] == 1
    disabled = run_cli("agents", "disable", "olga", cwd=tmp_path)
    assert disabled.returncode == 0 and "1 claims released" in disabled.stderr
    assert json.loads(run_cli("stack", "--json", cwd=tmp_path).stdout)[0]["claimed_by"] is None
    refused = console(tmp_path, "olga")
    assert refused.returncode == 1 and "agent 'olga' is disabled" in refused.stdout
    assert run_cli("agents", "enable", "olga", cwd=tmp_path).returncode == 0
    listed = json.loads(run_cli("agents", "list", "--json", cwd=tmp_path).stdout)
    assert [a["active"] for a in listed if a["login"] == "olga"] == [True]
