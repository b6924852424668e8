"""Merging duplicates (issue 18, point 6): `requests merge N into M` moves N's conversation into
M, closes N as `duplicate` pointing at M, and later replies to N join M."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.errors import NotFoundError, SupportDeskError
from tests.fixtures import add_agents, drop_into_maildir, make_desk, run_cli
from tests.mailfactory import make_mail, message_id_of
from tests.test_console import SIZE, settle
from tests.test_console import utc as utc  # noqa: F401 - times on screen in UTC

CAROL = "Carol Customer <carol@example.org>"
RULES = {
    "rules": [
        {"subject_any": ["invoice"], "tags": ["billing"]},
        {"subject_any": ["urgent"], "tags": ["hurry"]},
    ]
}


def _numbers(desk: Desk) -> list[int]:
    return sorted(r.number for r in desk.list_requests(limit=1000))


def _two_duplicates(desk: Desk, folder: Path) -> tuple[bytes, bytes]:
    """#1: Carol's invoice question, answered by anna (waiting); #2: Carol again, urgent,
    with a screenshot (new, on the stack)."""
    first = make_mail(CAROL, "Wrong invoice")
    drop_into_maildir(folder, first)
    desk.fetch()
    desk.reply(1, "We are looking into it.", "anna")
    second = make_mail(CAROL, "URGENT still no answer", attachment=("shot.png", b"\x89PNG data"))
    drop_into_maildir(folder, second)
    desk.fetch()
    assert _numbers(desk) == [1, 2]
    return first, second


def test_merge_moves_the_conversation_and_closes_the_duplicate(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock, RULES)
    _, second = _two_duplicates(desk, tmp_path)
    desk.add_note(2, "Customer called too.", "anna")
    desk.save_draft(2, "anna", "Dear Carol, half written")
    assert desk.request(1).request.status == "waiting"
    before = {m.message_id: m.received_at for m in desk.request(2).messages}

    result = desk.merge(2, 1, "bob")

    assert result.messages == 2 and result.moved == {"in": 1, "note": 1}
    assert result.other_customer is None
    n, m = desk.request(2), desk.request(1)
    assert n.messages == []
    assert (n.request.status, n.request.close_reason, n.request.merged_into) == (
        "closed",
        "duplicate",
        1,
    )
    # Every message of both, in and out and the notes, with their own times; the merge note.
    moved = {x.message_id: x.received_at for x in m.messages if x.message_id in before}
    assert moved == before
    directions = [x.direction for x in m.messages]
    assert directions.count("in") == 2
    assert directions.count("out") == 2  # #1's acknowledgement and anna's answer
    assert [x.text for x in m.messages if x.direction == "note"] == [
        "Customer called too.\n",
        "Merged #2 into this request (2 messages).\n",
    ]
    assert m.request.message_count == len(m.messages) == 6
    assert m.request.inbound_count == 2
    # The screenshot came along and still opens.
    attached = next(x for x in m.messages if x.message_id == message_id_of(second)).attachments
    saved = desk.save_attachment(attached[0].id, tmp_path / "saved")
    assert saved.read_bytes() == b"\x89PNG data"
    # The duplicate waited on the stack, the survivor did not: it is on top now.
    assert (m.request.status, m.request.reason) == ("open", "customer_reply")
    assert [r.number for r in desk.stack()] == [1]
    assert m.request.tags == ["billing", "hurry"]
    assert desk.draft(2, "anna") is None
    assert {hit.request_id for hit in desk.search("URGENT")} == {1}  # found where it is now
    merged = [e for e in n.events if e["kind"] == "merged"] + [
        e for e in m.events if e["kind"] == "merged"
    ]
    assert [(e["actor"], e["detail"]["from"], e["detail"]["into"]) for e in merged] == [
        ("bob", 2, 1),
        ("bob", 2, 1),
    ]
    assert all(e["detail"]["messages"] == 2 for e in merged)


def test_merge_keeps_the_survivors_status_when_the_duplicate_was_off_the_stack(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(CAROL, "One"), make_mail(CAROL, "Two"))
    desk.fetch()
    desk.close(2, "resolved", "anna")
    desk.merge(2, 1, "anna")
    assert (desk.request(1).request.status, desk.request(1).request.reason) == ("new", "new")


def test_merge_refuses_with_one_clear_line(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, *(make_mail(CAROL, f"Question {i}") for i in range(4)))
    desk.fetch()
    with pytest.raises(SupportDeskError, match="cannot merge #1 into itself"):
        desk.merge(1, 1, "anna")
    with pytest.raises(NotFoundError, match="request #9 does not exist"):
        desk.merge(9, 1, "anna")
    with pytest.raises(NotFoundError, match="request #9 does not exist"):
        desk.merge(1, 9, "anna")
    desk.merge(2, 1, "anna")
    with pytest.raises(SupportDeskError, match="#2 is already merged into #1"):
        desk.merge(2, 3, "anna")
    with pytest.raises(SupportDeskError, match="#2 is itself merged into #1: merge #3 into #1"):
        desk.merge(3, 2, "anna")
    assert desk.request(3).request.status == "new"  # refused merges change nothing


def test_cli_merge_into(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock, RULES)
    _two_duplicates(desk, tmp_path)
    drop_into_maildir(tmp_path, make_mail("Dave <dave@example.org>", "Also the invoice"))
    drop_into_maildir(tmp_path, make_mail("Eve <eve@example.org>", "Hello"))
    desk.fetch()
    desk.close_database()
    add_agents(tmp_path, "bob")

    done = run_cli("requests", "merge", "2", "into", "1", "--agent", "bob", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert " ".join(done.stderr.split()) == (
        "Merged #2 into #1: 1 message moved; tags added: hurry; #2 closed (duplicate), #1 is open."
    )
    # Another customer's request: allowed, and said.
    done = run_cli("requests", "merge", "3", "1", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["merged_into"], data["moved"]) == (1, {"in": 1, "out": 1})  # and its ack
    assert data["other_customer"] == "dave@example.org"
    said = " ".join(run_cli("requests", "merge", "4", "into", "1", cwd=tmp_path).stderr.split())
    assert "Note: #4 was from eve@example.org, another customer than #1's." in said
    shown = json.loads(run_cli("requests", "show", "3", "--json", cwd=tmp_path).stdout)
    assert (shown["status"], shown["merged_into"]) == ("closed", 1)

    again = run_cli("requests", "merge", "2", "INTO", "1", cwd=tmp_path)
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == ["supportdesk: #2 is already merged into #1"]
    missing = run_cli("requests", "merge", "7", "into", "1", cwd=tmp_path)
    assert (missing.returncode, missing.stderr.count("\n")) == (1, 1)
    assert "request #7 does not exist" in missing.stderr
    usage = run_cli("requests", "merge", "2", "onto", "1", cwd=tmp_path)
    assert usage.returncode == 2 and "merge N into M" in usage.stderr
    helped = run_cli("requests", "merge", "--help", cwd=tmp_path)
    assert "merge 12 into 7" in helped.stdout


def test_later_replies_to_the_duplicate_join_the_survivor(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    _, second = _two_duplicates(desk, tmp_path)
    drop_into_maildir(tmp_path, make_mail("Eve <eve@example.org>", "Unrelated"))  # #3
    desk.fetch()
    desk.merge(2, 1, "anna")
    desk.reply(1, "Fixed, see the new invoice.", "anna")
    assert desk.request(1).request.status == "waiting"

    drop_into_maildir(
        tmp_path,
        # Carol answers her duplicate by its number ...
        make_mail(CAROL, "Re: [#2] URGENT still no answer", body="Thanks, got it.\n"),
        # ... and by replying to her own message of it.
        make_mail(CAROL, "Re: URGENT", body="One more thing.\n", in_reply_to=message_id_of(second)),
        # A stranger naming #2 is not let in: a new request that mentions the survivor.
        make_mail("Mallory <mallory@example.net>", "Re: [#2] hi", body="Let me in please.\n"),
    )
    desk.fetch()

    assert _numbers(desk) == [1, 2, 3, 4]
    m = desk.request(1)
    assert [x.text for x in m.messages[-2:]] == ["Thanks, got it.\n", "One more thing.\n"]
    assert [x.joined_by for x in m.messages[-2:]] == ["tag", "headers"]
    assert (m.request.status, m.request.reason) == ("open", "customer_reply")
    assert desk.request(2).messages == [] and desk.request(2).request.status == "closed"
    assert desk.request(4).request.mentions == 1

    # A chain: #1 merged on into #3; a reply to #2 follows both merges.
    desk.merge(1, 3, "anna")
    drop_into_maildir(tmp_path, make_mail(CAROL, "Re: [#2] again", body="Still here.\n"))
    desk.fetch()
    assert desk.request(3).messages[-1].text == "Still here.\n"
    assert _numbers(desk) == [1, 2, 3, 4]


def _race(*calls: tuple[Desk, int, int, str]) -> list[BaseException | None]:
    start = threading.Barrier(len(calls))
    outcome: list[BaseException | None] = [None] * len(calls)

    def run(i: int, desk: Desk, n: int, m: int, agent: str) -> None:
        start.wait(timeout=30)
        try:
            desk.merge(n, m, agent)
        except SupportDeskError as exc:
            outcome[i] = exc

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome


@pytest.mark.slow  # desks racing: over 2 s
def test_two_agents_merging_at_once_lose_nothing(tmp_path: Path, clock: FrozenClock) -> None:
    first = make_desk(tmp_path, clock)
    rounds = 8
    drop_into_maildir(tmp_path, *(make_mail(CAROL, f"Question {i}") for i in range(rounds * 3)))
    first.fetch()
    second = make_desk(tmp_path, clock)  # another console on the same database
    try:
        total = rounds * 3  # customer messages, one a request
        for r in range(rounds):
            n, m1, m2 = 3 * r + 1, 3 * r + 2, 3 * r + 3
            # The same duplicate into two requests at once: merged exactly once.
            sizes = {x: len(first.request(x).messages) for x in (n, m1, m2)}
            errors = _race((first, n, m1, "anna"), (second, n, m2, "bob"))
            assert sum(e is None for e in errors) == 1, errors
            assert "already merged" in str(next(e for e in errors if e is not None))
            into = first.request(n).request.merged_into
            assert into in (m1, m2)
            # Its own messages, N's, the merge note: each once.
            assert len(first.request(into).messages) == sizes[into] + sizes[n] + 1
            # Two requests merged into each other at once: one wins, the other is told.
            survivor = m2 if into == m1 else m1
            errors = _race((first, into, survivor, "anna"), (second, survivor, into, "bob"))
            assert sum(e is None for e in errors) == 1, errors
            assert "merged into" in str(next(e for e in errors if e is not None))
        records = [first.request(n) for n in _numbers(first)]
        # Every customer message exactly once, nothing lost, no request merged in a circle.
        incoming = [x.message_id for d in records for x in d.messages if x.direction == "in"]
        assert len(incoming) == len(set(incoming)) == total
        survivors = [d for d in records if d.request.merged_into is None]
        assert len(survivors) == rounds
        assert all(len([x for x in d.messages if x.direction == "in"]) == 3 for d in survivors)
        assert all(d.request.message_count == len(d.messages) for d in records)
    finally:
        second.close_database()
        first.close_database()


@pytest.mark.slow  # a console session: over 2 s
async def test_shift_m_merges_the_open_request_and_shows_the_survivor(
    tmp_path: Path, clock: FrozenClock
) -> None:
    from textual.widgets import Input

    from supportdesk.ui import make_app
    from supportdesk.ui.modals.confirm import ConfirmModal
    from supportdesk.ui.screens.request import RequestScreen, ThreadView

    desk = make_desk(tmp_path, clock)
    _two_duplicates(desk, tmp_path)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # #2, the duplicate, on top of the stack
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen) and app.screen.number == 2
        # Merging into itself: refused, one line, nothing changes.
        await pilot.press("M")
        await settle(pilot)
        field = app.screen.query_one(Input)
        assert field.value == "1"  # the customer's other open request, suggested
        field.value = "2"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert len(errors) == 1 and "cannot merge #2 into itself" in errors[0]
        assert "\n" not in errors[0]
        assert isinstance(app.screen, RequestScreen) and app.screen.number == 2

        await pilot.press("M")
        await settle(pilot)
        await pilot.press("enter")  # #1, as suggested
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert "Merged #2 into #1" in [n.message for n in app._notifications]
        assert isinstance(app.screen, RequestScreen) and app.screen.number == 1
        thread = "\n".join(str(v.render()) for v in app.screen.query_one(ThreadView).children)
        assert "shot.png" in thread and "Merged #2 into this request (1 message)." in thread
    n = desk.request(2).request
    assert (n.status, n.close_reason, n.merged_into, n.claimed_by) == (
        "closed",
        "duplicate",
        1,
        None,
    )
