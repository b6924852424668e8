"""`supportdesk migrate`: a desk moved to another database and back reads the same, with
its search, its backlog and its next ids intact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from supportdesk.samples import SampleMailbox, write_maildir
from tests.databases import empty_database_url
from tests.fixtures import add_agents, run_cli, write_config

MESSAGES = 600


def cli(*args: str, cwd: Path) -> str:
    result = run_cli(*args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


def with_database(folder: Path, url: str) -> Path:
    """A copy of the desk's config.toml that points at `url`."""
    config = folder / f"config-{len(list(folder.glob('config-*')))}.toml"
    text = (folder / "config.toml").read_text().replace('"sqlite:///desk.db"', json.dumps(url))
    config.write_text(text)
    return config


def snapshot(folder: Path, config: Path) -> dict[str, Any]:
    c = str(config)
    return {
        "requests": cli("-c", c, "requests", "list", "--json", "--limit", "100000", cwd=folder),
        "items": cli("-c", c, "items", "list", "--json", cwd=folder),
        # the same messages found (each engine ranks and cuts snippets its own way)
        "search": sorted(
            (h["number"], h["message"])
            for h in json.loads(
                cli("-c", c, "search", "invoice", "--json", "--limit", "1000", cwd=folder)
            )
        ),
        "request_1": cli("-c", c, "requests", "show", "1", "--json", cwd=folder),
    }


@pytest.mark.slow  # 600 messages through three databases: over 2 s
def test_there_and_back_again(tmp_path: Path) -> None:
    write_config(tmp_path, {"desk": {"database": "sqlite:///desk.db"}})
    add_agents(tmp_path, "anna", role="admin")  # an admin moves the desk
    write_maildir(tmp_path / "mail", list(SampleMailbox(seed=3, customers=80).messages(MESSAGES)))
    cli("fetch", cwd=tmp_path)
    cli("requests", "reply", "1", "--body", "Fixed for you.", cwd=tmp_path)
    cli("requests", "convert", "2", "--to", "bug", "--title", "Export fails", cwd=tmp_path)
    cli("requests", "convert", "3", "--attach", "1", cwd=tmp_path)
    before = snapshot(tmp_path, tmp_path / "config.toml")
    assert len(json.loads(before["requests"])) > 100 and before["search"]

    there = empty_database_url(tmp_path)  # PostgreSQL when the suite runs on it
    back = f"sqlite:///{tmp_path / 'back.db'}"
    moved = json.loads(
        cli("migrate", "--from", "sqlite:///desk.db", "--to", there, "--json", cwd=tmp_path)
    )
    assert moved["tables"]["message"] > MESSAGES  # customers' mail plus acknowledgements
    assert snapshot(tmp_path, with_database(tmp_path, there)) == before
    cli("migrate", "--from", there, "--to", back, cwd=tmp_path)
    returned = with_database(tmp_path, back)
    assert snapshot(tmp_path, returned) == before

    # the moved desk goes on: new ids continue after the copied ones, checks pass
    cli("-c", str(returned), "requests", "convert", "4", "--to", "idea", cwd=tmp_path)
    items = json.loads(cli("-c", str(returned), "items", "list", "--json", cwd=tmp_path))
    assert sorted(i["number"] for i in items) == [1, 2]
    checked = json.loads(cli("-c", str(returned), "db", "check", "--json", cwd=tmp_path))
    assert all(c["status"] != "fail" for c in checked)

    again = run_cli("migrate", "--from", "sqlite:///desk.db", "--to", back, cwd=tmp_path)
    assert again.returncode == 1 and "already holds a desk" in again.stderr
