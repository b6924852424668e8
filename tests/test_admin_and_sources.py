"""init, db upgrade, config discovery and secrets, and every mail source: Maildir, mbox, IMAP."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.config import load_settings, read_secret
from supportdesk.errors import ConfigError
from tests.databases import ON_POSTGRESQL
from tests.fixtures import imap_mailbox, make_desk, run_cli, write_config
from tests.mailfactory import make_mail


def test_init_creates_config_database_and_agent(tmp_path: Path) -> None:
    """`init` from nothing writes the sample config.toml, whose database is SQLite (so this
    test runs on SQLite in the PostgreSQL run too; the next one runs on either)."""
    first = run_cli("--agent", "anna", "init", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "config.toml").exists() and (tmp_path / "desk.db").exists()
    agents = json.loads(run_cli("agents", "list", "--json", cwd=tmp_path).stdout)
    assert [a["login"] for a in agents] == ["anna"]
    (tmp_path / "config.toml").write_text((tmp_path / "config.toml").read_text() + "\n# mine\n")
    again = run_cli("--agent", "anna", "init", cwd=tmp_path)
    assert again.returncode == 0 and "keeping it" in again.stderr
    assert (tmp_path / "config.toml").read_text().endswith("# mine\n")
    assert "up to date" in run_cli("db", "upgrade", cwd=tmp_path).stderr
    backup = run_cli("db", "backup", str(tmp_path / "copy.db"), cwd=tmp_path)
    assert backup.returncode == 0 and (tmp_path / "copy.db").stat().st_size > 0


def test_init_and_db_commands_on_the_configured_database(tmp_path: Path) -> None:
    """The same on the database config.toml names (PostgreSQL when the suite runs there)."""
    write_config(tmp_path)
    first = run_cli("--agent", "anna", "init", cwd=tmp_path)
    assert first.returncode == 0 and "keeping it" in first.stderr, first.stderr
    agents = json.loads(run_cli("agents", "list", "--json", cwd=tmp_path).stdout)
    assert [a["login"] for a in agents] == ["anna"]
    assert "up to date" in run_cli("db", "upgrade", cwd=tmp_path).stderr
    backup = run_cli("db", "backup", str(tmp_path / "copy.db"), cwd=tmp_path)
    if ON_POSTGRESQL:
        assert backup.returncode == 1 and "pg_dump --format=custom" in backup.stderr
    else:
        assert backup.returncode == 0 and (tmp_path / "copy.db").stat().st_size > 0


def test_config_discovery_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere, here = tmp_path / "elsewhere", tmp_path / "here"
    elsewhere.mkdir()
    here.mkdir()
    write_config(elsewhere)
    write_config(here)
    monkeypatch.chdir(here)
    monkeypatch.delenv("SUPPORTDESK_CONFIG", raising=False)
    assert load_settings().path == Path("config.toml").resolve()
    monkeypatch.setenv("SUPPORTDESK_CONFIG", str(elsewhere / "config.toml"))
    assert load_settings().path == elsewhere / "config.toml"
    explicit = write_config(tmp_path)
    assert load_settings(explicit).path == explicit


def test_password_from_command_or_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def mailbox_with(**secret: str):  # type: ignore[no-untyped-def]
        section = {"kind": "imap", "host": "127.0.0.1", "security": "none", **secret}
        return load_settings(write_config(tmp_path, {"mailbox": section})).mailbox

    assert read_secret(mailbox_with(password_cmd="printf 's3cret\\n'"), "mailbox") == "s3cret"
    with pytest.raises(ConfigError, match="password_cmd"):
        read_secret(mailbox_with(password_cmd="false"), "mailbox")
    monkeypatch.setenv("TEST_SECRET", "from-env")
    assert read_secret(mailbox_with(password_env="TEST_SECRET"), "mailbox") == "from-env"
    monkeypatch.delenv("TEST_SECRET")
    with pytest.raises(ConfigError, match="TEST_SECRET"):
        read_secret(mailbox_with(password_env="TEST_SECRET"), "mailbox")


def test_mbox_source_takes_only_new_messages(tmp_path: Path, clock: FrozenClock) -> None:
    box_path = tmp_path / "support.mbox"
    box = mailbox.mbox(str(box_path))
    box.add(make_mail(message_id="a@x"))
    box.flush()
    desk = make_desk(tmp_path, clock, {"mailbox": {"kind": "mbox", "path": "support.mbox"}})
    assert desk.fetch().intake.stored == 1
    box.add(make_mail(message_id="b@x", subject="Second"))
    box.flush()
    report = desk.fetch()
    assert (report.intake.seen, report.intake.stored) == (1, 1)
    assert desk.fetch().intake.seen == 0


def test_import_of_an_mbox_and_of_eml_files(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock)
    box = mailbox.mbox(str(tmp_path / "old.mbox"))
    for i in range(3):
        box.add(make_mail(message_id=f"old{i}@x"))
    box.flush()
    report = desk.import_mail(tmp_path / "old.mbox", history=True)
    assert report.stored == 3 and report.acknowledgements == 0
    assert desk.stack() == []  # history is filed closed
    (tmp_path / "eml").mkdir()
    (tmp_path / "eml" / "one.eml").write_bytes(make_mail(message_id="new@x"))
    assert desk.import_mail(tmp_path / "eml").stored == 1
    assert [r.number for r in desk.stack()] == [4]


@pytest.mark.imap
@pytest.mark.parametrize("action", ["seen", "move:Processed"])
def test_after_fetch_marks_or_moves_on_the_server(
    tmp_path: Path, clock: FrozenClock, imap_server, action: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    imap_server.deliver([make_mail(message_id=f"s{i}@x") for i in range(3)])
    monkeypatch.setenv("TEST_IMAP_PASSWORD", imap_server.password)
    desk = make_desk(
        tmp_path,
        clock,
        {"mailbox": imap_mailbox(imap_server, after_fetch=action)},
    )
    assert desk.fetch().intake.stored == 3
    with imap_server.client() as client:
        if action == "seen":
            client.select_folder("INBOX")
            assert len(client.search(["SEEN"])) == 3
        else:
            assert imap_server.count("INBOX") == 0 and imap_server.count("Processed") == 3
    assert desk.fetch().intake.seen == 0
