"""Claims: opening a request claims it; two agents never hold one request, "take next" skips
what another agent holds, and a claim ends by itself after `workflow.claim_ttl`."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.errors import NotFoundError
from tests.fixtures import drop_into_maildir, make_desk
from tests.mailfactory import make_mail


def _requests(desk: Desk, folder: Path, count: int) -> None:
    drop_into_maildir(
        folder,
        *(make_mail(sender=f"c{i}@example.org", subject=f"Question {i}") for i in range(count)),
    )
    desk.fetch()


def _claim_events(desk: Desk, number: int) -> list[str]:
    return [e["actor"] for e in desk.request(number).events if e["kind"] == "claim"]


def test_two_agents_never_hold_one_request(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock)
    _requests(desk, tmp_path, 1)

    assert desk.claim(1, "anna")
    assert not desk.claim(1, "bob")
    assert desk.request(1).request.claimed_by == "anna"
    clock.advance(timedelta(minutes=5))
    assert desk.claim(1, "anna")  # renewed while open: ten more minutes from now
    assert desk.request(1).request.claimed_until == clock.now() + timedelta(minutes=10)
    assert _claim_events(desk, 1) == ["anna"]  # a renewal is not a new claim

    clock.advance(timedelta(minutes=9))
    assert not desk.claim(1, "bob")  # the renewal counts, not the first claim
    clock.advance(timedelta(minutes=1))  # anna left it open too long: the claim expired
    assert desk.claim(1, "bob")
    assert not desk.claim(1, "anna")
    assert desk.request(1).request.claimed_by == "bob"
    assert _claim_events(desk, 1) == ["anna", "bob"]

    with pytest.raises(NotFoundError):
        desk.claim(99, "anna")


def test_release_frees_only_the_holders_claim(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock)
    _requests(desk, tmp_path, 1)
    assert desk.claim(1, "anna")
    desk.release(1, "bob")  # bob holds nothing: nothing happens
    assert not desk.claim(1, "bob")
    desk.release(1, "anna")
    assert desk.request(1).request.claimed_by is None
    assert desk.claim(1, "bob")


def test_claim_ttl_comes_from_the_settings(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock, {"workflow": {"claim_ttl": "2m"}})
    _requests(desk, tmp_path, 1)
    assert desk.claim(1, "anna")
    clock.advance(timedelta(minutes=1, seconds=59))
    assert not desk.claim(1, "bob")
    clock.advance(timedelta(seconds=1))
    assert desk.claim(1, "bob")


def test_take_next_follows_the_stack_and_skips_other_agents_claims(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    _requests(desk, tmp_path, 3)  # one batch: pushed at the same moment, ties by number
    clock.advance(timedelta(minutes=1))
    _requests(desk, tmp_path, 1)  # #4 is the freshest
    assert [r.number for r in desk.stack()] == [4, 3, 2, 1]

    assert desk.claim(4, "bob")  # bob has the top one open
    taken = desk.claim_next("anna")
    assert taken is not None
    assert (taken.number, taken.claimed_by) == (3, "anna")
    assert taken.claimed_until == clock.now() + desk.settings.workflow.claim_ttl
    assert _claim_events(desk, 3) == ["anna"]

    # anna's own claim counts as free: taking next again renews it instead of skipping it
    clock.advance(timedelta(minutes=3))
    again = desk.claim_next("anna")
    assert again is not None and again.number == 3
    assert _claim_events(desk, 3) == ["anna"]

    # carol gets what neither holds, in stack order
    got = [desk.claim_next("carol"), desk.claim_next("dan")]
    assert [r.number for r in got if r] == [2, 1]
    assert desk.claim_next("erin") is None  # everything is held

    # bob's claim runs out: #4 is free again, and it is the top of the stack
    clock.advance(timedelta(minutes=8))
    freed = desk.claim_next("erin")
    assert freed is not None and freed.number == 4


def test_take_next_takes_only_requests_on_the_stack(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock)
    _requests(desk, tmp_path, 2)
    desk.reply(2, "Done.", "anna")  # waiting: off the stack
    desk.close(1, "spam", "anna")
    assert desk.claim_next("anna") is None
    assert desk.stack() == []


def _take_in_rounds(
    desk: Desk, agent: str, rounds: int, start: threading.Barrier, got: list[int]
) -> None:
    """Each round every agent presses "take next" at the same moment, then deals with what it
    got (closes it: it leaves the stack). Without dealing with it, take next would hand the
    agent's own claim back."""
    try:
        for _ in range(rounds):
            start.wait(timeout=30)
            record = desk.claim_next(agent)
            assert record is not None and record.claimed_by == agent
            got.append(record.number)
            desk.close(record.number, "resolved", agent)
    except BaseException:
        start.abort()  # the others stop waiting; the test sees the short list
        raise


@pytest.mark.slow  # desks racing: over 2 s
def test_two_desks_racing_take_next_claim_each_request_once(
    tmp_path: Path, clock: FrozenClock
) -> None:
    first = make_desk(tmp_path, clock)
    _requests(first, tmp_path, 200)
    second = make_desk(tmp_path, clock)  # another console on the same database file
    try:
        agents = {"anna": first, "bob": second, "carol": first, "dan": second}
        got: dict[str, list[int]] = {agent: [] for agent in agents}
        start = threading.Barrier(len(agents))
        threads = [
            threading.Thread(target=_take_in_rounds, args=(desk, agent, 50, start, got[agent]))
            for agent, desk in agents.items()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        taken = [n for numbers in got.values() for n in numbers]
        assert sorted(taken) == list(range(1, 201))  # every request exactly once
        assert {agent: len(numbers) for agent, numbers in got.items()} == dict.fromkeys(agents, 50)
        assert first.stack() == []
        for agent, numbers in got.items():
            assert all(_claim_events(second, n) == [agent] for n in numbers)
    finally:
        second.close_database()
        first.close_database()
