"""Agents' names and signatures: per language in templates, the From name of replies."""

from __future__ import annotations

import json
from email import message_from_bytes
from email.header import decode_header, make_header
from email.utils import parseaddr
from pathlib import Path

from supportdesk.clock import FrozenClock
from supportdesk.store.messages import raw_of
from tests.fixtures import add_agents, drop_into_maildir, make_desk, run_cli
from tests.mailfactory import make_mail


def test_signature_follows_the_requests_language(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(
        tmp_path,
        make_mail(subject="Не могу войти", body="Здравствуйте, я не могу войти в кабинет.\n"),
        make_mail(sender="dan@example.net", subject="Cannot log in", body="I cannot log in.\n"),
    )
    desk.fetch()
    desk.set_language(1, "ru", "anna")
    desk.set_language(2, "en", "anna")
    desk.add_template("signed", "Thanks!\n\n{{ agent.signature }}\n", owner="anna", language="en")
    desk.add_template("signed", "Спасибо!\n\n{{ agent.signature }}\n", owner="anna", language="ru")
    desk.set_agent_details("anna", signature="Анна\nСлужба поддержки", language="ru")
    desk.set_agent_details("anna", signature="Anna\nAcme Support team")

    assert desk.render_template("signed", "anna", 1).text.endswith("Анна\nСлужба поддержки\n")
    assert desk.render_template("signed", "anna", 2).text.endswith("Anna\nAcme Support team\n")
    assert desk.signatures("anna") == {
        "": "Anna\nAcme Support team",
        "ru": "Анна\nСлужба поддержки",
    }
    desk.close_database()


def test_agents_set_name_changes_the_from_of_the_next_reply(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail())
    desk.fetch()
    desk.close_database()
    add_agents(tmp_path, "boss", role="admin")
    env = {"SUPPORTDESK_AGENT": "anna"}
    (tmp_path / "sig.txt").write_text("Anna P.\nAcme\n")
    done = run_cli(
        "agents", "set", "anna", "--name", "Anna Petrova", "--email", "anna@example.com",
        "--signature-file", "sig.txt", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    ru = run_cli(
        "agents", "set", "anna", "--signature-file", "-", "--language", "ru",
        cwd=tmp_path, env=env, input="Анна\n",
    )  # fmt: skip
    assert ru.returncode == 0, ru.stderr
    shown = run_cli("agents", "show", "anna", "--json", cwd=tmp_path, env=env)
    found = json.loads(shown.stdout)
    assert found["name"] == "Anna Petrova" and found["email"] == "anna@example.com"
    assert found["signatures"] == {"": "Anna P.\nAcme", "ru": "Анна"}
    text = run_cli("agents", "show", "anna", cwd=tmp_path, env=env).stdout
    assert "Anna Petrova" in text and "Signature (ru):" in text and "Анна" in text
    line = run_cli("agents", "set", "anna", "--line", "2", cwd=tmp_path, env=env)
    assert line.returncode == 1 and "needs an admin" in line.stderr  # own name, not own line
    line = run_cli("--agent", "boss", "agents", "set", "anna", "--line", "2", cwd=tmp_path)
    assert line.returncode == 0 and "works line 2" in line.stderr, line.stderr
    missing = run_cli("agents", "show", "nobody", cwd=tmp_path, env=env)
    assert missing.returncode == 1 and "no agent 'nobody'" in missing.stderr

    reply = run_cli("requests", "reply", "1", "--body", "Fixed.", cwd=tmp_path, env=env)
    assert reply.returncode == 0, reply.stderr
    desk = make_desk(tmp_path, clock)
    answer = desk.request(1).messages[-1]
    with desk.db.read() as conn:
        raw = raw_of(conn, answer.pk)
    assert raw is not None
    sender = parseaddr(str(make_header(decode_header(message_from_bytes(raw)["From"]))))
    assert sender == ("Anna Petrova (Acme Support)", "support@example.com")
    desk.close_database()


def test_init_takes_the_first_admins_name_and_email(tmp_path: Path) -> None:
    done = run_cli(
        "--agent", "root", "init", "--name", "Root Admin", "--email", "root@example.com",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = run_cli("--agent", "root", "agents", "show", "root", "--json", cwd=tmp_path)
    found = json.loads(shown.stdout)
    assert (found["name"], found["email"], found["role"]) == (
        "Root Admin",
        "root@example.com",
        "admin",
    )
