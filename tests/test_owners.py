"""Owners (issue 18, point 3): a request assigned to an agent is theirs: `requests assign` /
`unassign`, the "mine" view, take next skipping what others own, and a disabled agent's
requests going back to the line. Two agents assigning at once never lose a change."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.errors import NotFoundError, SupportDeskError
from tests.fixtures import add_agents, drop_into_maildir, make_desk, run_cli, write_config
from tests.mailfactory import make_mail


def _requests(desk: Desk, folder: Path, count: int) -> None:
    drop_into_maildir(
        folder,
        *(make_mail(sender=f"c{i}@example.org", subject=f"Question {i}") for i in range(count)),
    )
    desk.fetch()


def _owner_events(desk: Desk, number: int) -> list[tuple[str, str, str | None, str | None]]:
    return [
        (e["kind"], e["actor"], e["detail"]["from"], e["detail"]["to"])
        for e in desk.request(number).events
        if e["kind"] in ("assign", "unassign")
    ]


def test_assign_and_unassign_change_the_owner_with_an_event(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    for login in ("bob", "carol"):
        desk.ensure_agent(login)
    _requests(desk, tmp_path, 1)

    assert desk.assign(1, "bob", "anna")
    assert desk.request(1).request.assignee == "bob"
    assert not desk.assign(1, "bob", "carol")  # already bob's: no change, no event
    assert desk.assign(1, "carol", "bob")
    assert desk.assign(1, None, "carol")
    assert not desk.assign(1, None, "carol")
    assert desk.request(1).request.assignee is None
    assert _owner_events(desk, 1) == [
        ("assign", "anna", None, "bob"),
        ("assign", "bob", "bob", "carol"),
        ("unassign", "carol", "carol", None),
    ]

    with pytest.raises(NotFoundError, match="unknown agent 'zed'"):
        desk.assign(1, "zed", "anna")
    desk.set_agent_active("carol", False)
    with pytest.raises(SupportDeskError, match="agent 'carol' is disabled"):
        desk.assign(1, "carol", "anna")
    with pytest.raises(NotFoundError, match="#99"):
        desk.assign(99, "bob", "anna")
    assert desk.request(1).request.assignee is None


def test_take_next_skips_requests_assigned_to_others(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock)
    desk.ensure_agent("bob")
    _requests(desk, tmp_path, 3)  # one batch: #3 on top, then #2, #1
    desk.assign(3, "bob", "anna")
    desk.assign(1, "anna", "anna")

    taken = desk.claim_next("anna")
    assert taken is not None and taken.number == 2  # #3 is bob's
    desk.close(2, "resolved", "anna")
    taken = desk.claim_next("anna")
    assert taken is not None and taken.number == 1  # her own counts as free
    desk.close(1, "resolved", "anna")
    assert desk.claim_next("anna") is None  # only bob's is left
    taken = desk.claim_next("bob")
    assert taken is not None and taken.number == 3
    assert desk.claim(3, "bob")  # opening one explicitly still works


def test_mine_lists_my_requests_whatever_their_status_but_closed(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    desk.ensure_agent("bob")
    _requests(desk, tmp_path, 4)
    for number in (1, 2, 3):
        desk.assign(number, "anna", "anna")
    desk.assign(4, "bob", "anna")
    desk.reply(2, "Try turning it off and on again.", "anna")  # waiting: off the stack
    desk.close(3, "resolved", "anna")

    mine = desk.mine("anna")
    assert [(r.number, r.status) for r in mine] == [(2, "waiting"), (1, "new")]
    assert 2 not in [r.number for r in desk.stack()]
    assert [r.number for r in desk.mine("bob")] == [4]


def test_a_disabled_agent_gives_their_requests_back_to_the_line(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    desk.ensure_agent("bob")
    _requests(desk, tmp_path, 3)
    for number in (1, 2, 3):
        desk.assign(number, "bob", "anna")
    desk.close(3, "resolved", "bob")  # closed: stays bob's in the history

    desk.set_agent_active("bob", False)
    assert [desk.request(n).request.assignee for n in (1, 2, 3)] == [None, None, "bob"]
    event = [e for e in desk.request(1).events if e["kind"] == "unassign"]
    assert [(e["actor"], e["reason"], e["detail"]) for e in event] == [
        ("bob", "disabled", {"from": "bob", "to": None})
    ]
    assert desk.mine("bob") == []
    taken = desk.claim_next("anna")  # back on the line: anyone takes them
    assert taken is not None and taken.number == 2


def _assign_in_rounds(
    desk: Desk,
    agent: str,
    owner: str | None,
    numbers: list[int],
    start: threading.Barrier,
    changed: list[int],
) -> None:
    try:
        for number in numbers:
            start.wait(timeout=30)
            if desk.assign(number, owner, agent):
                changed.append(number)
    except BaseException:
        start.abort()
        raise


@pytest.mark.slow  # desks racing: over 2 s
def test_two_desks_assigning_at_once_never_lose_a_change(
    tmp_path: Path, clock: FrozenClock
) -> None:
    first = make_desk(tmp_path, clock)
    for login in ("bob", "carol"):
        first.ensure_agent(login)
    _requests(first, tmp_path, 40)
    second = make_desk(tmp_path, clock)  # another console on the same database
    try:
        numbers = list(range(1, 41))
        for number in numbers[::2]:
            first.assign(number, "carol", "bob")  # half start with an owner
        racers = {"anna": (first, "bob"), "dan": (second, "carol"), "eve": (second, None)}
        changed: dict[str, list[int]] = {agent: [] for agent in racers}
        start = threading.Barrier(len(racers))
        threads = [
            threading.Thread(
                target=_assign_in_rounds,
                args=(desk, agent, owner, numbers, start, changed[agent]),
            )
            for agent, (desk, owner) in racers.items()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for number in numbers:
            events = _owner_events(second, number)
            raced = [e for e in events if e[1] in racers]
            # one event for each change a racer was told it made, and no other
            assert sorted(e[1] for e in raced) == sorted(
                agent for agent, done in changed.items() if number in done
            )
            # each change starts from the owner the one before left: nothing lost
            owner: str | None = None
            for _, _, before, after in events:
                assert before == owner
                owner = after
            assert first.request(number).request.assignee == owner
    finally:
        second.close_database()
        first.close_database()


def _cli(*args: str, cwd: Path) -> Any:
    result = run_cli(*args, "--json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_cli_assign_unassign_list_and_show(tmp_path: Path) -> None:
    write_config(tmp_path)
    add_agents(tmp_path, "anna", "bob", "carol")
    add_agents(tmp_path, "root", role="admin")
    drop_into_maildir(tmp_path, *(make_mail(message_id=f"o{n}@x") for n in (1, 2)))
    assert run_cli("fetch", cwd=tmp_path).returncode == 0

    done = run_cli("requests", "assign", "2", "bob", cwd=tmp_path)
    assert done.returncode == 0 and "#2 assigned to bob." in done.stdout + done.stderr
    assert _cli("requests", "assign", "1", "anna", cwd=tmp_path)["changed"]
    assert [r["number"] for r in _cli("requests", "list", "--assignee", "bob", cwd=tmp_path)] == [2]
    mine = _cli("requests", "list", "--mine", "--agent", "bob", cwd=tmp_path)
    assert [r["number"] for r in mine] == [2]
    assert [r["number"] for r in _cli("stack", "--mine", cwd=tmp_path)] == [1]  # anna's

    shown = run_cli("requests", "show", "2", cwd=tmp_path)
    assert "owner: bob" in shown.stdout
    assert "assign: nobody → bob" in shown.stdout  # the timeline says who and what
    stack = run_cli("stack", cwd=tmp_path)
    assert "→bob" in stack.stdout

    unknown = run_cli("requests", "assign", "2", "zed", cwd=tmp_path)
    assert unknown.returncode == 1
    assert unknown.stderr.strip().count("\n") == 0 and "unknown agent 'zed'" in unknown.stderr
    assert run_cli("--agent", "root", "agents", "disable", "carol", cwd=tmp_path).returncode == 0
    disabled = run_cli("requests", "assign", "2", "carol", cwd=tmp_path)
    assert disabled.returncode == 1 and "agent 'carol' is disabled" in disabled.stderr

    gone = _cli("requests", "unassign", "2", "--agent", "bob", cwd=tmp_path)
    assert gone == {"number": 2, "assignee": None, "changed": True}
    shown = run_cli("requests", "show", "2", cwd=tmp_path)
    assert "owner: nobody" in shown.stdout and "unassign: bob → nobody" in shown.stdout
