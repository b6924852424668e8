"""The collision warning's desk side: an agent's heartbeat at a request shows for the others
(not for themselves), goes stale after 45 s without one, and leaving removes it; two desks on
one database (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.domain.enums import Activity
from supportdesk.errors import NotFoundError
from tests.fixtures import drop_into_maildir, make_desk
from tests.mailfactory import make_mail


def _two_desks(tmp_path: Path, clock: FrozenClock, count: int = 1) -> tuple[Desk, Desk]:
    anna = make_desk(tmp_path, clock)
    bob = make_desk(tmp_path, clock)
    bob.ensure_agent("bob")
    drop_into_maildir(
        tmp_path,
        *(make_mail(sender=f"c{i}@example.org", subject=f"Question {i}") for i in range(count)),
    )
    anna.fetch()
    return anna, bob


def _seen(desk: Desk, number: int, agent: str) -> list[tuple[str, str]]:
    return [(p.agent, p.activity) for p in desk.presence.others(number, agent)]


def test_a_heartbeat_shows_for_others_not_for_oneself(tmp_path: Path, clock: FrozenClock) -> None:
    anna, bob = _two_desks(tmp_path, clock)
    try:
        assert _seen(anna, 1, "anna") == []
        bob.presence.here(1, "bob", Activity.VIEWING)
        assert _seen(anna, 1, "anna") == [("bob", "viewing")]
        assert _seen(bob, 1, "bob") == []  # nobody warns bob about himself

        opened = clock.now()
        clock.advance(timedelta(seconds=15))
        bob.presence.here(1, "bob", Activity.VIEWING)  # a heartbeat keeps `since`
        (seen,) = anna.presence.others(1, "anna")
        assert (seen.since, seen.seen_at) == (opened, clock.now())

        clock.advance(timedelta(seconds=15))
        bob.presence.here(1, "bob", Activity.REPLYING)  # started typing: `since` starts again
        anna.presence.here(1, "anna", Activity.VIEWING)
        (seen,) = anna.presence.others(1, "anna")
        assert (seen.agent, seen.activity, seen.since) == ("bob", "replying", clock.now())
        assert _seen(bob, 1, "bob") == [("anna", "viewing")]
    finally:
        anna.close_database()
        bob.close_database()


def test_replying_comes_before_viewing(tmp_path: Path, clock: FrozenClock) -> None:
    anna, bob = _two_desks(tmp_path, clock)
    try:
        anna.ensure_agent("cleo")
        bob.presence.here(1, "bob", Activity.VIEWING)
        clock.advance(timedelta(seconds=1))
        anna.presence.here(1, "cleo", Activity.REPLYING)
        assert _seen(anna, 1, "anna") == [("cleo", "replying"), ("bob", "viewing")]
        assert bob.presence.replying([1, 2], "anna") == {1: ["cleo"]}
        assert bob.presence.replying([1], "cleo") == {}
    finally:
        anna.close_database()
        bob.close_database()


def test_stale_after_45_seconds_without_a_heartbeat(tmp_path: Path, clock: FrozenClock) -> None:
    anna, bob = _two_desks(tmp_path, clock)
    try:
        bob.presence.here(1, "bob", Activity.REPLYING)
        clock.advance(timedelta(seconds=44))
        assert _seen(anna, 1, "anna") == [("bob", "replying")]
        clock.advance(timedelta(seconds=1))  # bob's console crashed: no goodbye, no warning
        assert _seen(anna, 1, "anna") == []
        assert anna.presence.replying([1], "anna") == {}
        bob.presence.here(1, "bob", Activity.REPLYING)  # back: since starts again
        (seen,) = anna.presence.others(1, "anna")
        assert seen.since == clock.now()
    finally:
        anna.close_database()
        bob.close_database()


def test_leaving_removes_the_warning(tmp_path: Path, clock: FrozenClock) -> None:
    anna, bob = _two_desks(tmp_path, clock, count=2)
    try:
        bob.presence.here(1, "bob", Activity.VIEWING)
        bob.presence.here(2, "bob", Activity.REPLYING)
        bob.presence.leave(1, "bob")
        assert _seen(anna, 1, "anna") == []
        assert _seen(anna, 2, "anna") == [("bob", "replying")]  # only the one he left
        bob.presence.leave(1, "bob")  # twice: nothing happens
        with pytest.raises(NotFoundError):
            bob.presence.here(99, "bob", Activity.VIEWING)
        with pytest.raises(ValueError):
            bob.presence.here(1, "bob", "typing")
    finally:
        anna.close_database()
        bob.close_database()


def test_heartbeats_at_once_keep_one_row_each(tmp_path: Path, clock: FrozenClock) -> None:
    """Two consoles of the same agent (and another agent) beating at once: the upsert keeps
    one row per agent, on PostgreSQL too."""
    anna, bob = _two_desks(tmp_path, clock)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def beat(desk: Desk, agent: str, activity: Activity) -> None:
        start.wait(timeout=30)
        try:
            for _ in range(5):
                desk.presence.here(1, agent, activity)
        except BaseException as exc:  # any error fails the test
            errors.append(exc)

    calls = [
        (anna, "bob", Activity.REPLYING),
        (bob, "bob", Activity.REPLYING),
        (anna, "anna", Activity.VIEWING),
        (bob, "anna", Activity.VIEWING),
    ]
    threads = [threading.Thread(target=beat, args=call) for call in calls]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert _seen(anna, 1, "cleo") == [("bob", "replying"), ("anna", "viewing")]
    finally:
        anna.close_database()
        bob.close_database()
