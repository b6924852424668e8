"""Only the right mail goes out (issue 14, bullet 4): templates that speak of an item only in
their flow, a linked request moved only when asked (one message), people in Cc kept on the
answer and shown, ctrl+g saving a template's source rather than Olga's greeting, and a retried
`requests reply` sending once. The desk, the CLI (Typer's CliRunner, in-process), the console
(Textual's pilot) and an SMTP server (aiosmtpd) are all real."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.desk.templates import shipped_dir
from supportdesk.errors import SupportDeskError
from supportdesk.store.records import MessageRecord
from tests.fixtures import drop_into_maildir, make_desk, smtp_outgoing
from tests.mailfactory import make_mail

CAROL = "Carol Customer <carol@example.org>"
ITEM_TEMPLATES = {"bug_ack", "idea_thanks", "fixed_notice"}


def answers(desk: Desk, number: int) -> list[MessageRecord]:
    """What we queued for request `number`, acknowledgements left out."""
    return [m for m in desk.request(number).messages if m.direction == "out" and m.kind != "ack"]


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Any]:
    """`supportdesk --config … ARGS` in-process; returns click's Result (exit code, stdout,
    stderr, and the SupportDeskError the entry point prints as its one line)."""
    from supportdesk.cli import app as cli_app
    from supportdesk.cli import itemcmds, mailcmds, requestcmds  # noqa: F401 - registers them

    def run(*args: str) -> Any:  # each invocation has a state of its own, closes its desk
        return CliRunner().invoke(cli_app.app, ["--config", str(tmp_path / "config.toml"), *args])

    yield run


def refused(result: Any) -> str:
    """The one line a refused command prints (`supportdesk: …`, exit 1)."""
    assert result.exit_code == 1, (result.output, result.exception)
    assert isinstance(result.exception, SupportDeskError), result.exception
    line = str(result.exception)
    assert "\n" not in line
    return line


def carol_asks_for_dark_mode(folder: Path, desk: Desk, **mail: Any) -> None:
    drop_into_maildir(
        folder,
        make_mail(
            sender=CAROL,
            subject="Idea: dark mode",
            body="Hello,\n\na suggestion: could you add a dark mode? Thanks for the idea box!\n",
            message_id="dark.1@example.org",
            **mail,
        ),
    )
    desk.fetch()


# -- templates that need an item -------------------------------------------------------------


def test_item_templates_are_refused_and_hidden_outside_their_flow(
    tmp_path: Path, clock: FrozenClock, cli: Any
) -> None:
    desk = make_desk(tmp_path, clock)
    desk.import_templates(shipped_dir())
    desk.add_template(  # the team's own wording, tagged as teams tag their answers
        "idea_thanks",
        '+++\ntags = ["idea", "suggestion", "dark mode"]\n+++\n'
        'Thanks! Idea #{{ item.number }} "{{ item.title }}" is with our product team.\n',
        owner=None,
    )
    carol_asks_for_dark_mode(tmp_path, desk)
    try:
        for name in ("idea_thanks", "fixed_notice", "bug_ack"):
            line = refused(cli("requests", "reply", "1", "--template", name))
            assert line == f"{name} needs a linked item: use requests convert"
            with pytest.raises(SupportDeskError, match=f"^{name} needs a linked item"):
                desk.render_template(name, "anna", 1)
        assert answers(desk, 1) == []  # nothing went out, not even 'idea #0 ""'

        # not offered: not suggested, not found by the picker's search, not in its list
        offered = {r.name for r, _ in desk.suggest_templates(1, "anna", limit=20)}
        assert not offered & ITEM_TEMPLATES
        for query in ("idea", "thanks for the idea", "fixed", "bug"):
            found = {r.name for r, _ in desk.search_templates(query, "anna", number=1)}
            assert not found & ITEM_TEMPLATES, (query, found)
        listed = {r.name for r in desk.templates("anna", for_request=1)}
        assert "refund" in listed and not listed & ITEM_TEMPLATES
        # a preview without a request still shows a sample item
        assert "bug #7" in desk.render_template("bug_ack", "anna").text

        # in its flow: converted to a bug, then the bug is fixed
        desk.convert(1, "bug", "anna", title="Dark mode")
        desk.set_item(1, "anna", status="fixed")
        [(top, _), *rest] = desk.suggest_templates(1, "anna", limit=20)
        assert top.name == "fixed_notice"
        assert not {r.name for r, _ in rest} & {"bug_ack", "idea_thanks"}
        line = refused(cli("requests", "reply", "1", "--template", "idea_thanks"))
        assert line == "idea_thanks does not fit #1: it is linked to bug #1 (fixed)"
        sent = cli("requests", "reply", "1", "--template", "fixed_notice", "--json")
        assert sent.exit_code == 0, sent.output
        assert json.loads(sent.stdout)["template"] == "fixed_notice"
        assert [m.text.count('"Dark mode", is now fixed') for m in answers(desk, 1)] == [0, 1]
    finally:
        desk.close_database()


# -- moving a link ---------------------------------------------------------------------------


def test_a_linked_request_moves_only_with_move_and_the_customer_gets_one_message(
    tmp_path: Path, clock: FrozenClock, cli: Any
) -> None:
    desk = make_desk(tmp_path, clock)
    carol_asks_for_dark_mode(tmp_path, desk)
    drop_into_maildir(tmp_path, make_mail(subject="Export breaks", message_id="e@x"))
    desk.fetch()
    desk.convert(1, "bug", "anna", title="Dark mode broken")
    desk.convert(2, "bug", "anna", title="Export breaks")
    try:
        line = refused(cli("requests", "convert", "1", "--to", "idea"))
        assert line == (
            "#1 is already linked to bug #1: pass --move to move it to a new idea "
            "(its customer leaves bug #1)"
        )
        line = refused(cli("requests", "convert", "1", "--attach", "2"))
        assert line.startswith("#1 is already linked to bug #1: pass --move to move it to bug #2")
        assert len(desk.items()) == 2 and desk.request(1).request.item == 1
        assert [m.kind for m in answers(desk, 1)] == ["reply"]  # bug_ack only

        moved = cli("requests", "convert", "1", "--to", "idea", "--move", "--json")
        assert moved.exit_code == 0, moved.output
        made = json.loads(moved.stdout)
        assert (made["item"]["number"], made["template"], made["status"]) == (
            3,
            "idea_thanks",
            "closed",
        )
        assert desk.request(1).request.item == 3
        assert (desk.item(1).item.customers, desk.item(1).requests) == (0, [])
        first, second = answers(desk, 1)  # bug_ack, then exactly one message for the move
        assert 'bug #1 "Dark mode broken"' in first.text
        assert 'idea #3 "Idea: dark mode"' in second.text

        moved = cli("requests", "convert", "1", "--attach", "2", "--move")
        assert moved.exit_code == 0, moved.output
        assert desk.request(1).request.item == 2 and desk.item(3).item.customers == 0
        assert len(answers(desk, 1)) == 3
        assert [r.number for r in desk.item(2).requests] == [1, 2]
        events = [(e["kind"], e["detail"]) for e in desk.request(1).events]
        assert ("attach", {"item": 2, "template": "bug_ack", "moved_from": 3}) in [
            (k, {key: d[key] for key in ("item", "template", "moved_from") if key in d})
            for k, d in events
            if isinstance(d, dict)
        ]
    finally:
        desk.close_database()


# -- Cc --------------------------------------------------------------------------------------


def test_people_in_cc_get_the_answer_and_are_shown_and_can_be_left_out(
    tmp_path: Path, clock: FrozenClock, cli: Any, smtp_server: Any
) -> None:
    desk = make_desk(tmp_path, clock, smtp_outgoing(smtp_server))
    cc = "Bob Boss <bob@example.org>, Acme Support <SUPPORT@example.com>, carol@example.org"
    carol_asks_for_dark_mode(tmp_path, desk, headers={"Cc": cc})
    desk.deliver()
    smtp_server.clear()  # the acknowledgement
    try:
        assert desk.reply_cc(1) == ["bob@example.org"]
        desk.reply(1, "Dark mode is on our list.", "anna")
        desk.deliver()
        [got] = smtp_server.messages
        assert sorted(got.recipients) == ["bob@example.org", "carol@example.org"]
        assert got.message["To"] == "carol@example.org"
        assert got.message["Cc"] == "bob@example.org"

        shown = cli("requests", "show", "1", "--json")
        assert shown.exit_code == 0, shown.output
        ins = [m for m in json.loads(shown.stdout)["messages"] if m["direction"] == "in"]
        outs = [m for m in json.loads(shown.stdout)["messages"] if m["kind"] == "reply"]
        assert ins[0]["cc"] == ["bob@example.org", "support@example.com", "carol@example.org"]
        assert outs[0]["cc"] == ["bob@example.org"]
        text = cli("requests", "show", "1").stdout
        heads = [line for line in text.splitlines() if line.startswith(("in ·", "out ·"))]
        assert "Cc bob@example.org, support@example.com, carol@example.org" in heads[0], text
        assert "Cc" not in heads[1]  # the acknowledgement went before anyone was copied
        assert "Cc bob@example.org ─" in heads[2], text

        smtp_server.clear()
        sent = cli("requests", "reply", "1", "--body", "Just for you, Carol.", "--no-cc")
        assert sent.exit_code == 0, sent.output
        assert cli("send").exit_code == 0  # the CLI's clock is the real one
        [got] = smtp_server.messages
        assert got.recipients == ["carol@example.org"] and got.message["Cc"] is None
        assert answers(desk, 1)[-1].cc == []
    finally:
        desk.close_database()


# -- the same reply twice ----------------------------------------------------------------------


def test_the_same_idempotency_key_sends_once_and_prints_the_first_message_id(
    tmp_path: Path, clock: FrozenClock, cli: Any
) -> None:
    desk = make_desk(tmp_path, clock)
    carol_asks_for_dark_mode(tmp_path, desk)
    desk.close_database()
    args = ["requests", "reply", "1", "--body", "On our list.", "--idempotency-key", "job-42"]
    first = cli(*args, "--json")
    assert first.exit_code == 0, first.output
    message_id = json.loads(first.stdout)["message_id"]
    again = cli(*args)  # the script's retry
    assert again.exit_code == 0, again.output
    assert message_id in again.stderr and "nothing sent" in again.stderr
    again = cli(*args, "--json")
    assert json.loads(again.stdout)["message_id"] == message_id
    desk = make_desk(tmp_path, clock)
    try:
        assert [m.message_id for m in answers(desk, 1)] == [message_id]
        # a template reply with the same key is the same reply too
        assert desk.reply_with_template(1, "idea_thanks", "anna", idempotency_key="job-42")[0] == (
            message_id
        )
        assert len(answers(desk, 1)) == 1
        other = desk.reply(1, "Another answer.", "anna", idempotency_key="job-43")
        assert other != message_id and len(answers(desk, 1)) == 2
    finally:
        desk.close_database()


def test_two_runs_with_one_key_at_the_same_moment_send_once(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """Two processes retrying at once: the unique index decides, not a look-up (on
    PostgreSQL the second insert waits for the first to commit, then gives its id)."""
    desks = [make_desk(tmp_path, clock) for _ in range(2)]
    carol_asks_for_dark_mode(tmp_path, desks[0])
    start = threading.Barrier(2)
    got: list[str] = []
    errors: list[BaseException] = []

    def run(desk: Desk) -> None:
        try:
            start.wait()
            got.append(desk.reply(1, "On our list.", "anna", idempotency_key="k"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(d,)) for d in desks]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        assert len(got) == 2 and got[0] == got[1]
        assert [m.message_id for m in answers(desks[0], 1)] == [got[0]]
    finally:
        for d in desks:
            d.close_database()
