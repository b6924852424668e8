"""Who may join a request: a sender is who the address says, not a [#N] or a spoofed header.

A stranger's message that names another customer's request opens a request of its own, linked
to the one it named; our answers go to the request's customer, never to whoever wrote last
(a bounce, a robot, a stranger)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from tests.fixtures import drop_into_maildir, make_desk
from tests.mailfactory import make_bounce, make_mail

CAROL = "Carol Customer <carol@example.org>"
EVE = "Carol Customer <eve@evil.example>"  # Carol's display name, a stranger's address


def _outgoing(desk: Desk, number: int) -> list[tuple[str, str]]:
    """(kind, To) of every message we queued for request `number`."""
    return [(m.kind, m.to_addrs) for m in desk.request(number).messages if m.direction == "out"]


def _carol_asks(tmp_path: Path, desk: Desk) -> str:
    """Carol opens #1 and gets an answer; returns the Message-ID of our answer."""
    drop_into_maildir(tmp_path, make_mail(sender=CAROL, message_id="carol1@x"))
    desk.fetch()
    return desk.reply(1, "Here is your corrected invoice.", "anna")


def test_a_strangers_tag_opens_a_request_of_its_own_linked_to_the_one_it_names(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    _carol_asks(tmp_path, desk)
    drop_into_maildir(
        tmp_path,
        make_mail(
            sender=EVE,
            subject="Re: My invoice is wrong [#1]",
            body="Please send the invoice to this address instead.",
            message_id="eve1@x",
        ),
    )
    report = desk.fetch().intake
    assert report.new_requests == [2]
    first, second = desk.request(1), desk.request(2)
    assert [m.from_addr for m in first.messages if m.direction == "in"] == ["carol@example.org"]
    assert first.request.status == "waiting"  # Carol's request did not move
    assert second.request.customer_email == "eve@evil.example"
    data = second.as_dict()
    assert data["mentions"] == 1
    assert [m["joined_by"] for m in data["messages"] if m["direction"] == "in"] == ["stranger"]
    assert any(e["kind"] == "mentioned" for e in first.events)  # #1's timeline says so too
    # Carol's next answer and her reminder go to Carol, and quote nothing to Eve.
    desk.reply(1, "One more thing about your invoice.", "anna")
    clock.advance(timedelta(days=3))
    desk.tick()
    desk.reply(1, "Did that help?", "anna")
    assert {to for kind, to in _outgoing(desk, 1)} == {"carol@example.org"}


def test_our_own_in_reply_to_wins_over_a_foreign_tag(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock)
    answer = _carol_asks(tmp_path, desk)
    drop_into_maildir(
        tmp_path,
        make_mail(sender="dave@example.net", subject="Another problem", message_id="dave1@x"),
    )
    desk.fetch()  # Dave's request is #2
    drop_into_maildir(
        tmp_path,
        make_mail(
            sender=CAROL,
            subject="Re: [#2] thanks",  # a number Carol got from somewhere else
            body="Thanks, the invoice is right now.",
            message_id="carol2@x",
            in_reply_to=answer,
        ),
    )
    desk.fetch()
    assert [m.message_id for m in desk.request(1).messages if m.direction == "in"] == [
        "carol1@x",
        "carol2@x",
    ]
    assert [m.from_addr for m in desk.request(2).messages if m.direction == "in"] == [
        "dave@example.net"
    ]
    joined = desk.request(1).messages[-1]
    assert joined.joined_by == "ours"


def test_a_spoofed_in_reply_to_does_not_join_another_customers_thread(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    _carol_asks(tmp_path, desk)
    drop_into_maildir(
        tmp_path,
        make_mail(
            sender="eve@evil.example",
            subject="Re: My invoice is wrong",
            body="Use my bank account from now on.",
            message_id="eve2@x",
            in_reply_to="carol1@x",
        ),
    )
    desk.fetch()
    assert len(desk.request(1).messages) == 3  # Carol's, the ack, our answer: nothing of Eve's
    [eves] = [r for r in desk.list_requests() if r.number != 1]
    assert (eves.customer_email, eves.mentions) == ("eve@evil.example", 1)


def test_someone_copied_on_the_conversation_and_an_agent_may_join(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    desk.add_agent("bob", name="Bob", email="bob@example.com")
    drop_into_maildir(
        tmp_path,
        make_mail(
            sender=CAROL,
            to="support@example.com, Frank <frank@example.org>",
            message_id="carol1@x",
        ),
    )
    desk.fetch()
    drop_into_maildir(
        tmp_path,
        make_mail(
            sender="Frank <frank@example.org>",
            subject="Re: My invoice is wrong [#1]",
            body="I am Carol's accountant: the amount should be 120 EUR.",
        ),
        make_mail(
            sender="Bob <BOB@example.com>",
            subject="Re: My invoice is wrong [#1]",
            body="Forwarding the billing system's note.",
        ),
    )
    report = desk.fetch().intake
    assert (report.joined, report.new_requests) == (2, [])
    senders = [m.from_addr for m in desk.request(1).messages if m.direction == "in"]
    assert senders == ["carol@example.org", "frank@example.org", "bob@example.com"]
    # The answer still goes to Carol, whoever wrote last.
    desk.reply(1, "We corrected the amount.", "anna")
    assert _outgoing(desk, 1)[-1] == ("reply", "carol@example.org")


def test_after_a_bounce_the_answer_goes_to_the_customer_not_the_mailer_daemon(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    out_id = _carol_asks(tmp_path, desk)
    bounce = make_bounce(out_id, "4.2.2", "Mailbox full, try again later")
    drop_into_maildir(tmp_path, bounce)
    desk.fetch()
    assert desk.stack()[0].reason == "delivery_failed"
    desk.reply(1, "Sending the invoice once more.", "anna")
    kind, to = _outgoing(desk, 1)[-1]
    assert (kind, to) == ("reply", "carol@example.org")
    answer = desk.request(1).messages[-1]
    assert answer.in_reply_to == "carol1@x"  # threaded under Carol's message, not the bounce


def test_the_reply_to_of_the_first_message_is_kept_a_later_one_is_not_trusted(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(
        tmp_path,
        make_mail(
            sender="Web form <form@example.org>",
            headers={"Reply-To": "Gina <gina@example.org>"},
            message_id="form1@x",
        ),
    )
    desk.fetch()
    desk.reply(1, "Thanks, Gina.", "anna")
    drop_into_maildir(
        tmp_path,
        make_mail(
            sender="Web form <form@example.org>",
            subject="Re: My invoice is wrong [#1]",
            body="Another note from the form.",
            headers={"Reply-To": "mallory@evil.example"},
        ),
    )
    desk.fetch()
    desk.reply(1, "Noted.", "anna")
    assert [to for kind, to in _outgoing(desk, 1)] == [
        "gina@example.org",  # the acknowledgement
        "gina@example.org",
        "gina@example.org",
    ]


def test_requests_show_json_names_what_a_strangers_message_mentions(
    tmp_path: Path, clock: FrozenClock
) -> None:
    from typer.testing import CliRunner

    from supportdesk.cli import app as cli
    from supportdesk.cli import requestcmds  # noqa: F401 - registers the commands

    desk = make_desk(tmp_path, clock)
    _carol_asks(tmp_path, desk)
    drop_into_maildir(
        tmp_path, make_mail(sender=EVE, subject="[#1] hello", body="It is me, Carol, honestly.")
    )
    desk.fetch()
    desk.close_database()
    config = str(tmp_path / "config.toml")
    runner = CliRunner()  # each invocation has a state of its own and closes its desk
    shown = runner.invoke(cli.app, ["--config", config, "requests", "show", "2", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["mentions"] == 1
    text = runner.invoke(cli.app, ["--config", config, "requests", "show", "2"])
    assert "mentions #1, from someone not in that conversation" in text.stdout
