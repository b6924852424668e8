"""`supportdesk templates ...` and `requests reply --template`, as agents and scripts use them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fixtures import drop_into_maildir, run_cli, write_config
from tests.mailfactory import make_mail


def _desk(tmp_path: Path) -> Path:
    """A desk after `init` (which imports the templates) with one request from Carol."""
    write_config(tmp_path)
    result = run_cli("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Templates from" in result.stderr
    drop_into_maildir(
        tmp_path,
        make_mail(
            subject="Forgot my password",
            body="I cannot sign in, I forgot my password and the reset mail never comes.\n",
            message_id="carol.1@example.org",
        ),
    )
    assert run_cli("fetch", cwd=tmp_path).returncode == 0
    return tmp_path


def _json(result):  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_list_show_search_suggest_render(tmp_path: Path) -> None:
    folder = _desk(tmp_path)
    listed = _json(run_cli("templates", "list", "--json", cwd=folder))
    names = {t["name"] for t in listed}
    assert {"auto_ack", "password-reset", "refund"} <= names
    assert {t["language"] for t in listed if t["name"] == "refund"} == {"en", "ru"}

    human = run_cli("templates", "list", cwd=folder)
    assert "password-reset" in human.stdout and "en,ru" in human.stdout

    shown = run_cli("templates", "show", "refund", "--language", "ru", cwd=folder)
    assert shown.stdout.startswith('+++\nname = "refund"\nlanguage = "ru"')

    hits = _json(run_cli("templates", "search", "pasword", "--json", cwd=folder))
    assert "password-protect" in [h["name"] for h in hits[:3]]

    suggested = _json(run_cli("templates", "suggest", "1", "--json", cwd=folder))
    assert suggested[0]["name"] == "password-reset"

    rendered = run_cli("templates", "render", "password-reset", "--request", "1", cwd=folder)
    assert rendered.returncode == 0 and rendered.stdout.startswith("Hello Carol,")

    sample = run_cli("templates", "render", "bug_ack", "--language", "ru", cwd=folder)
    assert "Здравствуйте, Мария!" in sample.stdout


def test_add_render_error_and_reply_with_template(tmp_path: Path) -> None:
    folder = _desk(tmp_path)
    (folder / "typo.md").write_text("Hi {{ customer.first_name }},\n\n{{ reqest.number }}\n")
    added = run_cli("templates", "add", "typo", "--file", "typo.md", cwd=folder)
    assert added.returncode == 0 and "personal (anna)" in added.stderr

    failed = run_cli("templates", "render", "typo", "--request", "1", cwd=folder)
    assert failed.returncode == 1 and failed.stdout == ""
    assert (
        "template 'typo' (personal of anna, en), line 3: 'reqest' is not defined" in failed.stderr
    )

    refused = run_cli("requests", "reply", "1", "--template", "typo", cwd=folder)
    assert refused.returncode == 1 and "line 3" in refused.stderr
    detail = _json(run_cli("requests", "show", "1", "--json", cwd=folder))
    assert [m["kind"] for m in detail["messages"]] == ["mail", "ack"]

    sent = _json(
        run_cli(
            "requests", "reply", "1", "--template", "password-reset",
            "--body", "I also resent the link myself.", "--json", cwd=folder,
        )
    )  # fmt: skip
    assert sent["template"] == "password-reset" and sent["language"] == "en"
    detail = _json(run_cli("requests", "show", "1", "--json", cwd=folder))
    reply = detail["messages"][-1]
    assert reply["kind"] == "reply" and reply["in_reply_to"] == "carol.1@example.org"
    assert reply["text"].startswith("Hello Carol,")
    assert "I also resent the link myself.\n\nHow did we do?" in reply["text"]
    assert detail["status"] == "waiting"

    listed = _json(run_cli("templates", "list", "--json", cwd=folder))
    [used] = [t for t in listed if t["name"] == "password-reset" and t["language"] == "en"]
    assert used["use_count"] == 1


def test_team_templates_import_export_and_personal_files(tmp_path: Path) -> None:
    folder = _desk(tmp_path)
    (folder / "mine").mkdir()
    (folder / "mine" / "thanks.en.md").write_text(
        '+++\ntags = ["thanks"]\ndescription = "Short thanks"\n+++\n'
        "Thanks, {{ customer.first_name }}!\n"
    )
    unknown = run_cli("templates", "import", "mine", "--agent", "bob", cwd=folder)
    assert unknown.returncode == 1 and "unknown agent 'bob'" in unknown.stderr
    assert run_cli("agents", "add", "bob", cwd=folder).returncode == 0
    imported = _json(run_cli("templates", "import", "mine", "--agent", "bob", "--json", cwd=folder))
    assert imported == {"added": 1, "updated": 0, "unchanged": 0}
    bob = _json(run_cli("--agent", "bob", "templates", "list", "--json", cwd=folder))
    assert [t["owner"] for t in bob if t["name"] == "thanks"] == ["bob"]
    anna = _json(run_cli("templates", "list", "--json", cwd=folder))
    assert "thanks" not in {t["name"] for t in anna}

    exported = _json(run_cli("templates", "export", "out", "--agent", "bob", "--json", cwd=folder))
    assert [Path(p).name for p in exported] == ["thanks.en.md"]
    team = _json(run_cli("templates", "export", "team-copy", "--json", cwd=folder))
    assert any(p.endswith("team-copy/team/refund.ru.md") for p in team)
    unchanged = _json(run_cli("templates", "import", "team-copy", "--json", cwd=folder))
    assert unchanged["added"] == unchanged["updated"] == 0

    missing = run_cli("templates", "render", "refnd", cwd=folder)
    assert missing.returncode == 1 and "no template named 'refnd'" in missing.stderr
    assert "did you mean refund" in missing.stderr


# -- escape sequences are shown, never sent to the terminal ----------------------------------

OSC_52 = "\x1b]52;c;cm0gLXJmIH4K\x07"  # writes "rm -rf ~" to the clipboard
OSC_0 = "\x1b]0;root@prod\x07"  # sets the window title


def _invoke(config: Path, *args: str):  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from supportdesk.cli import app as cli
    from supportdesk.cli import mailcmds, templatecmds  # noqa: F401 - registers the commands

    return CliRunner().invoke(cli.app, ["--config", str(config), *args])


def test_templates_show_and_render_print_escape_sequences_as_visible_text(
    tmp_path: Path, clock
) -> None:  # type: ignore[no-untyped-def]
    from tests.fixtures import make_desk

    desk = make_desk(tmp_path, clock)
    desk.add_template(
        "sneaky", f"Hello {{{{ customer.first_name }}}}{OSC_52}\nBye{OSC_0}\n", owner=None
    )
    desk.close_database()
    config = tmp_path / "config.toml"
    shown = _invoke(config, "templates", "show", "sneaky")
    rendered = _invoke(config, "templates", "render", "sneaky")
    for result in (shown, rendered):
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout
        assert "␛]52;c;cm0gLXJmIH4K␇" in result.stdout  # the agent sees what is there
        assert "␛]0;root@prod␇" in result.stdout
    assert "Hello Maria␛]52;c;cm0gLXJmIH4K␇\nBye␛]0;root@prod␇\n" in rendered.stdout


def test_send_shows_the_mail_servers_error_text_without_its_escapes(
    tmp_path: Path, clock, smtp_server
) -> None:  # type: ignore[no-untyped-def]
    from supportdesk.desk.templates import shipped_dir
    from tests.fixtures import make_desk, smtp_outgoing

    desk = make_desk(tmp_path, clock, smtp_outgoing(smtp_server))
    desk.import_templates(shipped_dir())
    drop_into_maildir(tmp_path, make_mail())
    desk.fetch()  # its acknowledgement waits in the outbox
    desk.close_database()
    smtp_server.fail_next(550, f"no such user{OSC_52}{OSC_0}", count=5)
    sent = _invoke(tmp_path / "config.toml", "send")
    assert sent.exit_code == 0, sent.output
    assert "1 failed" in sent.stderr
    assert "user␛]52;c;cm0gLXJmIH4K␇␛]0;root@prod␇" in sent.stderr  # shown, not obeyed
    assert "\x1b" not in sent.stdout + sent.stderr and "\x07" not in sent.stdout + sent.stderr
