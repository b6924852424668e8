"""Who may act from the CLI: an existing, enabled agent, and an admin for what changes the team
(agents, team templates, another agent's templates); and no silent success for admins: no
configuration is an error, and `import` refuses what is not mail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from tests.fixtures import drop_into_maildir, invoke_cli, make_desk
from tests.mailfactory import make_mail

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
README = b"# SupportDesk\n\nAnswer customer email from a terminal console.\n\nSubject: none.\n"


def _desk_with_a_request(tmp_path: Path, clock: FrozenClock) -> tuple[Desk, str]:
    """A desk (anna, an agent) with request #1 from Carol on the stack; the config's path."""
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(message_id="carol1@x", subject="Refund please"))
    desk.fetch()
    return desk, str(tmp_path / "config.toml")


def _refused(result, *words: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.startswith("supportdesk: ")]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_a_ghost_agent_is_refused_and_claims_nothing(tmp_path: Path, clock: FrozenClock) -> None:
    desk, config = _desk_with_a_request(tmp_path, clock)
    taken = invoke_cli("--config", config, "requests", "take", "--agent", "nobody")
    _refused(taken, "unknown agent 'nobody'", "supportdesk agents add nobody")
    as_global = invoke_cli("--config", config, "--agent", "nobody", "requests", "take")
    _refused(as_global, "unknown agent 'nobody'")
    for args in (
        ["requests", "reply", "1", "--body", "Done.", "--agent", "nobody"],
        ["requests", "close", "1", "--agent", "nobody"],
        ["--agent", "nobody", "stack"],  # a global --agent is checked whatever the command
    ):
        _refused(invoke_cli("--config", config, *args), "unknown agent 'nobody'")
    [top] = desk.stack()
    assert (top.number, top.status, top.claimed_by) == (1, "new", None)  # n still takes it
    assert invoke_cli("--config", config, "requests", "take", "--json").exit_code == 0
    assert desk.stack()[0].claimed_by == "anna"  # the default agent: desk.agent
    desk.close_database()


def test_a_disabled_agent_can_take_reply_close_convert_or_add_templates_no_more(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk, config = _desk_with_a_request(tmp_path, clock)
    desk.add_agent("boris", "Boris B")
    desk.set_agent_active("boris", False)
    (tmp_path / "mine.md").write_text("Hello {{ customer.first_name }}!\n")
    for args in (
        ["requests", "take", "--agent", "boris"],
        ["requests", "reply", "1", "--body", "Refunded.", "--agent", "boris"],
        ["requests", "close", "1", "--agent", "boris"],
        ["requests", "convert", "1", "--to", "bug", "--agent", "boris"],
        ["--agent", "boris", "templates", "add", "mine", "--file", str(tmp_path / "mine.md")],
    ):
        _refused(
            invoke_cli("--config", config, *args),
            "agent 'boris' is disabled",
            "supportdesk agents enable boris",
        )
    detail = desk.request(1)
    assert detail.request.status == "new" and detail.request.claimed_by is None
    assert [m.kind for m in detail.messages] == ["mail", "ack"]  # no reply, no bug_ack
    assert desk.items() == []
    assert "mine" not in {t.name for t in desk.templates(None, shadowed=True)}
    desk.close_database()


@pytest.mark.slow
def test_only_an_admin_changes_agents_team_templates_and_others_templates(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk, config = _desk_with_a_request(tmp_path, clock)  # anna is an agent, not an admin
    desk.add_agent("boris", "Boris B")
    desk.add_agent("olga", "Olga K", role="admin")
    (tmp_path / "refund.md").write_text("Dear {{ customer.name }}, no refund for you.\n")
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "refund.en.md").write_text("Refunded, {{ customer.first_name }}.\n")
    refund = ["--file", str(tmp_path / "refund.md")]
    for args, what in (
        (["agents", "add", "mallory", "--role", "admin"], "agents add needs an admin"),
        (["agents", "disable", "boris"], "agents disable needs an admin"),
        (["agents", "enable", "boris"], "agents enable needs an admin"),
        (["templates", "add", "refund", "--team", *refund], "team templates needs an admin"),
        (["templates", "remove", "refund", "--team"], "team templates needs an admin"),
        (["templates", "import", str(tmp_path)], "team templates needs an admin"),
        (
            ["templates", "add", "refund", "--agent", "boris", *refund],
            "adding another agent's templates needs an admin",
        ),
        (
            ["templates", "import", str(tmp_path / "team"), "--agent", "boris"],
            "importing another agent's templates needs an admin",
        ),
        (["db", "check", "--repair"], "db check --repair needs an admin"),
    ):
        _refused(invoke_cli("--config", config, *args), what, "'anna' is not one")
    assert [(a.login, a.active) for a in desk.agents()] == [
        ("anna", True),
        ("boris", True),
        ("olga", True),
    ]
    planted = [t for t in desk.templates("boris", shadowed=True) if t.scope != "system"]
    assert planted == []  # nothing for the team, nothing planted for boris

    # Anna's own templates are hers to change.
    mine = invoke_cli("--config", config, "templates", "add", "refund", *refund)
    assert mine.exit_code == 0, mine.stderr
    assert desk.template("refund", "anna").owner == "anna"

    # An admin may do all of it.
    as_olga = ["--config", config, "--agent", "olga"]
    for args in (
        ["agents", "add", "pia", "--role", "admin"],
        ["agents", "disable", "boris"],
        ["agents", "enable", "boris"],
        ["templates", "add", "refund", "--agent", "boris", *refund],
        ["templates", "add", "welcome", "--team", *refund],
        ["templates", "import", str(tmp_path / "team")],
    ):
        done = invoke_cli(*as_olga, *args)
        assert done.exit_code == 0, (args, done.stderr)
    checked = invoke_cli(*as_olga, "db", "check", "--repair")  # exit 1 for a stuck outbox
    assert "full-text index" in checked.stdout and checked.stderr == ""
    assert [a.login for a in desk.agents()] == ["anna", "boris", "olga", "pia"]
    assert desk.template("refund", "boris").owner == "boris"
    assert desk.template("welcome", "anna").scope == "team"


def test_init_makes_the_first_agent_an_admin_and_no_one_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = invoke_cli("--agent", "boss", "init")
    assert first.exit_code == 0, first.stderr
    said = " ".join(first.stderr.split())  # as a person reads it, however the lines wrap
    assert "Agent 'boss' created: the first agent of this desk, an admin." in said
    listed = json.loads(invoke_cli("--agent", "boss", "agents", "list", "--json").stdout)
    assert [(a["login"], a["role"]) for a in listed] == [("boss", "admin")]

    again = invoke_cli("--agent", "mallory", "init")  # no self-service on a desk with agents
    assert again.exit_code == 0, again.stderr
    assert "not imported: unknown agent 'mallory'" in " ".join(again.stderr.split())
    listed = json.loads(invoke_cli("--agent", "boss", "agents", "list", "--json").stdout)
    assert [a["login"] for a in listed] == ["boss"]
    added = invoke_cli("--agent", "mallory", "agents", "add", "mallory", "--role", "admin")
    _refused(added, "unknown agent 'mallory'")


COMMANDS = [
    ["stack"],
    ["requests", "list"],
    ["requests", "take"],
    ["agents", "list"],
    ["agents", "add", "anna"],
    ["fetch"],
    ["tick"],
    ["send"],
    ["import", "."],
    ["templates", "list"],
    ["items", "list"],
    ["db", "check"],
    ["db", "upgrade"],
    [],  # the console
]


def test_no_configuration_is_an_error_for_every_command_but_init_and_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.chdir(work)
    env: dict[str, str | None] = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    for args in COMMANDS:
        result = invoke_cli(*args, env=env)
        if not args:  # without a terminal the console prints the help instead
            assert result.exit_code == 0 and "Usage" in result.stdout
            continue
        _refused(result, "no configuration found: run supportdesk init or pass --config")
        assert list(work.iterdir()) == [], args  # no desk.db appeared
    assert invoke_cli("--help", env=env).exit_code == 0
    made = invoke_cli("--agent", "anna", "init", env=env)
    assert made.exit_code == 0, made.stderr
    assert (work / "config.toml").exists()
    assert invoke_cli("--agent", "anna", "stack", env=env).exit_code == 0


@pytest.mark.parametrize(
    ("name", "content", "what"),
    [
        ("README.md", README, "is a file that is not mail"),
        ("notes.txt", b"Call Carol back on Monday.\nShe wants a refund.\n", "is a file"),
        ("logo.png", PNG, "is a file that is not mail"),
        ("part.eml", b"Content-Type: text/plain\n\nA MIME part alone\n", "is a file"),
        ("empty.mbox", b"", "is an empty file that is not mail"),
    ],
    ids=["readme", "txt", "png", "mime-part", "empty"],
)
def test_import_refuses_a_file_that_is_not_mail(
    tmp_path: Path, clock: FrozenClock, name: str, content: bytes, what: str
) -> None:
    desk, config = _desk_with_a_request(tmp_path, clock)
    (tmp_path / name).write_bytes(content)
    result = invoke_cli("--config", config, "import", str(tmp_path / name))
    _refused(result, f"{tmp_path / name} {what}", "expected an mbox, a Maildir or an email")
    assert [r.number for r in desk.list_requests()] == [1]  # no "(no subject)" request
    desk.close_database()


def test_import_of_a_folder_takes_the_mail_and_names_what_it_skipped(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk, config = _desk_with_a_request(tmp_path, clock)
    old = tmp_path / "old mail"
    (old / "2025").mkdir(parents=True)
    (old / "one.eml").write_bytes(make_mail(message_id="old1@x", subject="Old question"))
    (old / "2025" / "two.eml").write_bytes(
        b"From someone Mon Jan  5 08:00:00 2026\n"
        + make_mail(message_id="old2@x", subject="Older question")
    )
    (old / "README.md").write_bytes(README)
    (old / "2025" / "scan.png").write_bytes(PNG)
    as_json = invoke_cli("--config", config, "import", str(old), "--json")
    assert as_json.exit_code == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert (report["stored"], report["new_requests"]) == (2, 2)
    assert report["not_mail"] == 2
    assert report["not_mail_files"] == [str(old / "2025" / "scan.png"), str(old / "README.md")]
    subjects = {r.subject for r in desk.list_requests()}
    assert subjects == {"Refund please", "Old question", "Older question"}

    (old / "three.eml").write_bytes(make_mail(message_id="old3@x", subject="Third"))
    human = invoke_cli("--config", config, "import", str(old))
    assert human.exit_code == 0, human.stderr
    assert "1 new messages" in human.stderr
    assert "skipped 2 files that are not mail:" in human.stderr
    assert f"  {old / 'README.md'}" in human.stderr.splitlines()
    desk.close_database()
