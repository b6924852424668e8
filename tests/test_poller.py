"""The one poller (desk/poller.py) the console and `fetch --watch` run: its rhythm, its backoff,
its lease and its one IMAP connection, against the in-process pymap server with a frozen
clock (rounds run when the clock says they are due; nothing sleeps)."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.desk.poller import Poller, RoundResult
from supportdesk.ui import make_app
from tests.fixtures import imap_mailbox, make_desk
from tests.mailfactory import make_mail
from tests.test_console import SIZE, settle

pytestmark = pytest.mark.imap


@pytest.fixture
def imap_desk(
    tmp_path: Path, clock: FrozenClock, pymap_server: Any
) -> Iterator[Callable[..., Desk]]:
    """make(**mailbox) -> a desk on the test's database polling pymap (another process's,
    when called again); every one is closed at the end."""
    made: list[Desk] = []

    def make(**mailbox: Any) -> Desk:
        made.append(make_desk(tmp_path, clock, {"mailbox": imap_mailbox(pymap_server, **mailbox)}))
        return made[-1]

    yield make
    for desk in made:
        desk.close_database()


def _run_for(
    poller: Poller, clock: FrozenClock, seconds: int, results: list[RoundResult]
) -> list[RoundResult]:
    """Move the clock a second at a time for `seconds`, running a round whenever the last of
    `results` said the next is due (added to `results`); the rounds run meanwhile."""
    new: list[RoundResult] = []
    end = clock.now() + timedelta(seconds=seconds)
    while clock.now() < end:
        if not results or clock.now() >= results[-1].next_at:
            new.append(poller.round())
            results.append(new[-1])
        clock.advance(timedelta(seconds=1))
    return new


def _offsets(results: list[RoundResult], start: Any) -> list[int]:
    return [int((r.at - start).total_seconds()) for r in results]


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch, pymap_server: Any) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", pymap_server.password)


def test_rounds_follow_the_interval_and_the_tick_runs_once_a_minute(
    clock: FrozenClock, pymap_server: Any, imap_desk: Callable[..., Desk]
) -> None:
    desk = imap_desk(poll_interval="20s")
    poller = Poller(desk, "console-a")
    start = clock.now()
    results: list[RoundResult] = []
    try:
        _run_for(poller, clock, 60, results)
        pymap_server.deliver([make_mail(message_id="later@x")])
        _run_for(poller, clock, 120, results)
    finally:
        poller.close()
    assert _offsets(results, start) == [0, 20, 40, 60, 80, 100, 120, 140, 160]
    assert all(r.ours and r.error is None for r in results)
    ticked = [int((r.at - start).total_seconds()) for r in results if r.tick is not None]
    assert ticked == [0, 60, 120]  # the tick every minute, not every round
    assert [r.fetched for r in results] == [0, 0, 0, 1, 0, 0, 0, 0, 0]
    assert [r.number for r in desk.stack()] == [1]


def test_a_short_lease_makes_the_rounds_come_every_half_lease(
    clock: FrozenClock, imap_desk: Callable[..., Desk]
) -> None:
    poller = Poller(imap_desk(poll_interval="10m", lease="30s"), "console-a")
    start = clock.now()
    try:
        results = _run_for(poller, clock, 60, [])
    finally:
        poller.close()
    assert _offsets(results, start) == [0, 15, 30, 45]  # the lease never lapses while it lives


def test_after_a_mail_server_error_the_rounds_back_off_then_reconnect(
    clock: FrozenClock, pymap_server: Any, imap_desk: Callable[..., Desk]
) -> None:
    pymap_server.deliver([make_mail(message_id="first@x")])
    desk = imap_desk()  # a 60 s interval and a 90 s lease: a round every 45 s
    poller = Poller(desk, "console-a")
    start = clock.now()
    try:
        first = poller.round()
        assert (first.fetched, first.delivered and first.delivered.sent) == (1, 1)  # the ack
        results = [first]
        desk.reply(1, "We are on it.", "anna")
        pymap_server.stop()
        down = _run_for(poller, clock, 195, results)
        pymap_server.start()
        pymap_server.deliver([make_mail(sender="dan@example.net", message_id="second@x")])
        back = _run_for(poller, clock, 90, results)
    finally:
        poller.close()
    assert _offsets(down, start) == [45, 47, 52, 67, 97, 142, 187]
    assert [r.next_in for r in down] == [2, 5, 15, 30, 45, 45, 45]
    assert all(r.error_source == "mail server" for r in down)
    assert down[0].error and "connection lost" in down[0].error  # the kept connection
    assert all(r.error and "connection refused" in r.error for r in down[1:])
    assert down[0].delivered and down[0].delivered.sent == 1  # the mailbox down holds no reply
    assert _offsets(back, start) == [232, 277]
    assert [(r.error, r.fetched, r.next_in) for r in back] == [(None, 1, 45), (None, 0, 45)]
    assert pymap_server.logins == 2  # one login, one reconnect after the outage
    assert desk.mailbox_status().error is None


def test_a_second_poller_sees_who_holds_the_lease_and_takes_over_when_it_lapses(
    clock: FrozenClock, pymap_server: Any, imap_desk: Callable[..., Desk]
) -> None:
    a, b = imap_desk(lease="60s"), imap_desk(lease="60s")  # two processes, one database
    first, second = Poller(a, "anna@host-a:1"), Poller(b, "fetch@host-b:2")
    try:
        assert first.round().ours
        waiting = second.round()
        assert (waiting.ours, waiting.held_by, waiting.fetch) == (False, "anna@host-a:1", None)
        assert waiting.next_in == 30
        clock.advance(timedelta(seconds=30))
        assert first.round().ours  # renewed: the second keeps waiting
        assert second.round().held_by == "anna@host-a:1"
        # The first stops renewing (its process died): its lease lapses after 60 s.
        clock.advance(timedelta(seconds=59))
        assert second.round().held_by == "anna@host-a:1"
        clock.advance(timedelta(seconds=1))
        pymap_server.deliver([make_mail(message_id="for-the-second@x")])
        took = second.round()
        assert (took.ours, took.took_over_from, took.fetched) == (True, "anna@host-a:1", 1)
        back = first.round()  # the first one comes back to life: it waits now
        assert back.held_by == "fetch@host-b:2"
        second.close()  # gives the lease back: the first takes over at once
        assert first.round().took_over_from == "fetch@host-b:2"
    finally:
        first.close()
        second.close()
    assert a.lease_holder("poller") is None


@pytest.mark.slow
async def test_a_console_polling_for_ten_minutes_logs_in_once(
    tmp_path: Path, clock: FrozenClock, pymap_server: Any, imap_desk: Callable[..., Desk]
) -> None:
    """The issue's acceptance test: one IMAP login (and one run of password_cmd) for ten
    minutes of rounds, and the mail that came meanwhile on the stack."""
    runs = tmp_path / "password-runs"
    script = f"import sys; open({str(runs)!r}, 'a').write('run\\n'); print({'secret'!r})"
    password_cmd = shlex.join([sys.executable, "-c", script])
    desk = imap_desk(password_cmd=password_cmd)
    app = make_app(desk, "anna", background=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)  # the first round, as the console starts
        for minute in range(10):
            clock.advance(timedelta(minutes=1))
            if minute in (3, 7):
                pymap_server.deliver([make_mail(message_id=f"minute-{minute}@x")])
            app.poll_mail()  # the round its timer would start
            await settle(pilot)
            assert "mail: checked" in app.sub_title
        assert len(desk.stack()) == 2
    assert pymap_server.logins == 1
    assert runs.read_text().splitlines() == ["run"]
    assert desk.lease_holder("poller") is None  # the console gave the lease back


def test_a_password_changed_after_a_failed_login_is_read_again(
    tmp_path: Path, clock: FrozenClock, pymap_server: Any, imap_desk: Callable[..., Desk]
) -> None:
    """The password is read once, but a login the server refuses reads it again next round
    (an admin fixed the secret store): the poller never retries a wrong password forever."""
    secret = tmp_path / "secret"
    secret.write_text("wrong\n")
    script = f"print(open({str(secret)!r}).read().strip())"
    poller = Poller(imap_desk(password_cmd=shlex.join([sys.executable, "-c", script])), "a")
    try:
        refused = poller.round()
        assert refused.error and "login failed" in refused.error
        assert refused.error_source == "mail server" and refused.next_in == 2
        secret.write_text(f"{pymap_server.password}\n")
        clock.advance(timedelta(seconds=2))
        assert poller.round().error is None
    finally:
        poller.close()
    assert pymap_server.logins == 1
