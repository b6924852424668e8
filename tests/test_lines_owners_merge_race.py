"""Issue 18's moves at once: two consoles escalating, assigning and merging the same requests
never lose a message, never reopen a merged duplicate, and leave each request one owner
that its events account for (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.errors import SupportDeskError
from tests.fixtures import drop_into_maildir, make_desk
from tests.mailfactory import make_mail

ROUNDS = 6


def _at_once(*calls: Callable[[], object]) -> list[BaseException | None]:
    """Run the calls on threads released together; what each raised (a SupportDeskError is
    a refusal the agent is told about; anything else fails the test)."""
    start = threading.Barrier(len(calls))
    outcome: list[BaseException | None] = [None] * len(calls)

    def run(i: int, call: Callable[[], object]) -> None:
        start.wait(timeout=30)
        try:
            call()
        except SupportDeskError as exc:
            outcome[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome


def _owner_after_events(desk: Desk, number: int) -> str | None:
    """The owner the request's events leave it with: assign/unassign set it; an escalation
    gives it to the named agent, or to nobody when it goes to a line."""
    owner: str | None = None
    for e in desk.request(number).events:
        detail = e["detail"] or {}
        if e["kind"] in ("assign", "unassign"):
            owner = detail.get("to")
        elif e["kind"] in ("escalate", "handback"):
            owner = detail.get("to_agent")
    return owner


@pytest.mark.slow  # desks racing: over 2 s
def test_escalating_assigning_and_merging_at_once_lose_nothing(
    tmp_path: Path, clock: FrozenClock
) -> None:
    first = make_desk(tmp_path, clock)
    first.ensure_agent("bob")
    first.set_agent_line("bob", 2)
    first.ensure_agent("carol")
    drop_into_maildir(
        tmp_path,
        *(
            make_mail(sender=f"c{i}@example.org", subject=f"Question {i}")
            for i in range(ROUNDS * 2)
        ),
    )
    first.fetch()
    second = make_desk(tmp_path, clock)  # another console on the same database
    try:
        for r in range(ROUNDS):
            n, m = 2 * r + 1, 2 * r + 2
            outcome = _at_once(
                lambda n=n: first.escalate(n, "anna", "needs a developer", to_agent="bob"),
                lambda n=n: second.assign(n, "carol", "dan"),
                lambda n=n, m=m: second.merge(n, m, "eve"),
            )
            for error in outcome:  # a refusal is one clear line
                assert error is None or "\n" not in str(error)
            duplicate = first.request(n).request
            if duplicate.merged_into is not None:
                # merged: closed for good, whatever else happened around it
                assert (duplicate.status, duplicate.close_reason) == ("closed", "duplicate")
        records = [first.request(x) for x in range(1, ROUNDS * 2 + 1)]
        incoming = [msg.message_id for d in records for msg in d.messages if msg.direction == "in"]
        assert len(incoming) == len(set(incoming)) == ROUNDS * 2  # each message once
        for d in records:
            assert d.request.message_count == len(d.messages)
            # one owner, and the events say how it got there
            assert d.request.assignee == _owner_after_events(first, d.request.number)
    finally:
        second.close_database()
        first.close_database()
