"""The CLI as scripts use it: JSON on stdout, one line on stderr, exit codes 0/1/2."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from tests.fixtures import add_agents, drop_into_maildir, run_cli, write_config
from tests.mailfactory import make_mail


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config_with_closed_imap(folder: Path, port: int) -> None:
    """A desk whose IMAP server is a closed port on loopback."""
    mailbox = {
        "kind": "imap",
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "username": "u",
        "password_env": "TEST_IMAP_PASSWORD",
    }
    write_config(folder, {"mailbox": mailbox})


def _one_line_error(result, *needles: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_bad_configuration_is_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[mailbox]\nport = "nine"\n')
    _one_line_error(run_cli("stack", cwd=tmp_path), "config.toml", "mailbox.port", "integer")
    config.write_text("[desk]\nnmae = 'typo'\n")
    _one_line_error(run_cli("stack", cwd=tmp_path), "desk.nmae", "unknown key")
    config.write_text("[workflow]\nfollow_up_after = 'two days'\n")
    _one_line_error(run_cli("stack", cwd=tmp_path), "workflow.follow_up_after", "duration")
    config.write_text("[desk\nname=")
    _one_line_error(run_cli("stack", cwd=tmp_path), "not valid TOML")
    _one_line_error(
        run_cli("--config", str(tmp_path / "missing.toml"), "stack", cwd=tmp_path),
        "missing.toml",
        "no such configuration file",
    )
    config.write_text('[mailbox]\nkind = "imap"\nhost = "imap.example.com"\nsecurity = "none"\n')
    _one_line_error(run_cli("stack", cwd=tmp_path), "mailbox.security", "loopback")


def test_unreachable_mail_server_is_one_clear_line(tmp_path: Path) -> None:
    port = _closed_port()
    _config_with_closed_imap(tmp_path, port)
    result = run_cli("fetch", cwd=tmp_path, env={"TEST_IMAP_PASSWORD": "x"})
    _one_line_error(result, f"127.0.0.1:{port}")
    unset = run_cli("fetch", cwd=tmp_path)
    _one_line_error(unset, "TEST_IMAP_PASSWORD")


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    write_config(tmp_path)
    assert run_cli("requests", "show", "abc", cwd=tmp_path).returncode == 2
    assert run_cli("no-such-command", cwd=tmp_path).returncode == 2
    assert run_cli("requests", "list", "--status", "bogus", cwd=tmp_path).returncode == 2


def test_scripted_session_with_json(tmp_path: Path) -> None:
    write_config(
        tmp_path, {"rules": [{"subject_any": ["invoice"], "tags": ["billing"], "priority": "high"}]}
    )
    add_agents(tmp_path, "anna", "bob")
    drop_into_maildir(
        tmp_path,
        make_mail(message_id="m1@x"),
        make_mail(
            sender="Иван <ivan@example.ru>",
            subject="Вопрос",
            body="Здравствуйте, как сменить пароль?\n",
        ),
    )
    fetched = run_cli("fetch", "--json", cwd=tmp_path)
    assert fetched.returncode == 0, fetched.stderr
    report = json.loads(fetched.stdout)
    assert report["fetch"]["stored"] == 2 and report["send"]["sent"] == 2
    stack = json.loads(run_cli("stack", "--json", cwd=tmp_path).stdout)
    assert [r["number"] for r in stack] == [2, 1]
    first = stack[1]
    for key in (
        "number",
        "status",
        "reason",
        "subject",
        "customer",
        "message_count",
        "inbound_count",
        "created_at",
        "pushed_at",
        "tags",
    ):
        assert key in first
    assert first["tags"] == ["billing"] and first["priority"] == "high"
    assert first["customer"] == {"email": "carol@example.org", "name": "Carol Customer"}
    assert (first["message_count"], first["inbound_count"]) == (2, 1)
    assert stack[0]["language"] == "ru"

    shown = json.loads(run_cli("requests", "show", "1", "--json", cwd=tmp_path).stdout)
    incoming = shown["messages"][0]
    for key in (
        "message_id",
        "direction",
        "from",
        "to",
        "date",
        "subject",
        "text",
        "status",
        "warnings",
        "attachments",
    ):
        assert key in incoming
    assert incoming["message_id"] == "m1@x" and incoming["direction"] == "in"
    assert shown["messages"][1]["direction"] == "out" and shown["messages"][1]["status"] == "sent"

    replied = run_cli(
        "requests",
        "reply",
        "1",
        "--body-file",
        "-",
        "--agent",
        "bob",
        "--json",
        cwd=tmp_path,
        input="Fixed, sorry for the trouble.\n",
    )
    assert replied.returncode == 0, replied.stderr
    assert json.loads(replied.stdout)["status"] == "queued"
    after = json.loads(run_cli("requests", "show", "1", "--json", cwd=tmp_path).stdout)
    assert [m["agent"] for m in after["messages"] if m["direction"] == "out"] == [None, "bob"]
    assert [r["number"] for r in json.loads(run_cli("stack", "--json", cwd=tmp_path).stdout)] == [2]
    closed = run_cli("requests", "close", "2", "--reason", "duplicate", cwd=tmp_path)
    assert closed.returncode == 0 and closed.stdout == ""
    assert json.loads(run_cli("stack", "--json", cwd=tmp_path).stdout) == []
    waiting = json.loads(
        run_cli("requests", "list", "--status", "waiting", "--json", cwd=tmp_path).stdout
    )
    assert [r["number"] for r in waiting] == [1]
    hits = json.loads(run_cli("search", "пароль", "--json", cwd=tmp_path).stdout)
    assert [h["number"] for h in hits] == [2]
    sent = run_cli("send", "--json", cwd=tmp_path)
    assert json.loads(sent.stdout)["sent"] == 1
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 3


def test_replies_go_out_while_the_mailbox_is_down(tmp_path: Path) -> None:
    write_config(tmp_path)  # a Maildir first, to take one message in
    add_agents(tmp_path, "anna")
    drop_into_maildir(tmp_path, make_mail(message_id="q@x"))
    assert run_cli("fetch", cwd=tmp_path).returncode == 0
    assert run_cli("requests", "reply", "1", "--body", "Done.", cwd=tmp_path).returncode == 0
    port = _closed_port()
    _config_with_closed_imap(tmp_path, port)
    down = run_cli("fetch", cwd=tmp_path, env={"TEST_IMAP_PASSWORD": "x"})
    _one_line_error(down, f"127.0.0.1:{port}")
    outbox = json.loads(run_cli("requests", "show", "1", "--json", cwd=tmp_path).stdout)
    assert [m["status"] for m in outbox["messages"] if m["direction"] == "out"] == ["sent", "sent"]


def _read_only_url(folder: Path) -> str:
    """The desk's own database opened read-only, for real: SQLite's mode=ro (file modes do
    not stop root, who runs the tests here), PostgreSQL's default_transaction_read_only."""
    from tests.databases import ON_POSTGRESQL, database_url

    url = database_url(folder)
    if ON_POSTGRESQL:
        return url + "?options=-c%20default_transaction_read_only%3Don"
    return "sqlite:///file:desk.db?mode=ro&uri=true"


def test_a_database_error_is_one_line_without_sql_or_customer_data(tmp_path: Path) -> None:
    write_config(tmp_path)
    add_agents(tmp_path, "anna")
    drop_into_maildir(tmp_path, make_mail("Dora <dora.private@example.org>", message_id="d@x"))
    assert run_cli("fetch", cwd=tmp_path).returncode == 0
    write_config(tmp_path, {"desk": {"database": _read_only_url(tmp_path)}})
    drop_into_maildir(tmp_path, make_mail("Eve <eve.secret@example.net>", message_id="e@x"))
    assert "dora.private" in run_cli("requests", "show", "1", cwd=tmp_path).stdout  # reads work
    for command in (("requests", "close", "1"), ("fetch",)):
        result = run_cli(*command, cwd=tmp_path)
        _one_line_error(result, "database error: ", "read")
        line = result.stderr
        assert "read-only transaction" in line or "attempt to write a readonly database" in line
        assert "may write to" in line  # what to do
        leaks = ("INSERT INTO", "UPDATE request", "SELECT ", "WHERE", "[SQL", "parameters")
        for leak in (*leaks, "@example", "sqlalche", "\n "):
            assert leak not in line, line
    debug = run_cli("--debug", "requests", "close", "1", cwd=tmp_path)
    assert "Traceback" in debug.stderr
