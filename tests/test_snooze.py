"""Snooze: when an agent means (`3d`, `mon 9:00` ...), snoozing a waiting request, the tick
bringing it back on top unless the customer wrote first, and the CLI."""

from __future__ import annotations

import json
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.durations import parse_when
from supportdesk.errors import NotFoundError, SupportDeskError
from tests.fixtures import drop_into_maildir, make_desk, run_cli
from tests.mailfactory import make_mail

BERLIN = ZoneInfo("Europe/Berlin")
# Thursday 3 December 2026, 18:14 in Berlin (17:14 UTC).
NOW = datetime(2026, 12, 3, 17, 14, tzinfo=UTC)


def _berlin(text: str) -> datetime:
    return parse_when(text, NOW, BERLIN).astimezone(BERLIN)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3d", datetime(2026, 12, 6, 18, 14, tzinfo=BERLIN)),
        ("4h", datetime(2026, 12, 3, 22, 14, tzinfo=BERLIN)),
        ("1h30m", datetime(2026, 12, 3, 19, 44, tzinfo=BERLIN)),
        ("mon 9:00", datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)),
        ("Monday 9:00", datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)),
        ("thu 9:00", datetime(2026, 12, 10, 9, 0, tzinfo=BERLIN)),  # today's has passed
        ("thu 20:00", datetime(2026, 12, 3, 20, 0, tzinfo=BERLIN)),  # today's is still ahead
        ("tomorrow 9:00", datetime(2026, 12, 4, 9, 0, tzinfo=BERLIN)),
        ("tomorrow", datetime(2026, 12, 4, 9, 0, tzinfo=BERLIN)),
        ("9:00", datetime(2026, 12, 4, 9, 0, tzinfo=BERLIN)),  # passed today: tomorrow
        ("21:30", datetime(2026, 12, 3, 21, 30, tzinfo=BERLIN)),  # later today
        ("2026-12-10", datetime(2026, 12, 10, 9, 0, tzinfo=BERLIN)),
        ("2026-12-10 14:00", datetime(2026, 12, 10, 14, 0, tzinfo=BERLIN)),
        ("  TOMORROW   9:00 ", datetime(2026, 12, 4, 9, 0, tzinfo=BERLIN)),
    ],
)
def test_when_an_agent_means(text: str, expected: datetime) -> None:
    assert _berlin(text) == expected
    assert parse_when(text, NOW, BERLIN).tzinfo is UTC


def test_times_are_in_the_desks_zone() -> None:
    assert parse_when("tomorrow 9:00", NOW, UTC) == datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    assert parse_when("tomorrow 9:00", NOW, BERLIN) == datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2026-12-01", "is in the past: give a later time"),
        ("2026-12-03 10:00", "is in the past"),
        ("0h", "is in the past"),
        ("400d", "more than a year ahead"),
        ("2028-01-01", "more than a year ahead"),
        ("soon", "cannot read 'soon' as a time: write e.g. 3d, 4h, mon 9:00"),
        ("", "cannot read"),
        ("25:00", "cannot read"),
        ("2026-02-30", "cannot read"),
        ("mon 9", "cannot read"),
        ("next week at noon", "cannot read"),
    ],
)
def test_refused_in_one_line(text: str, says: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_when(text, NOW, BERLIN)
    assert says in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_year_ahead_is_the_limit() -> None:
    assert parse_when("365d", NOW, BERLIN) == NOW + timedelta(days=365)


# -- the desk: snooze, the tick, the customer writing first ----------------------------------

ANSWER = "Please update to version 2.3: the export works there."


def _waiting(folder: Path, clock: FrozenClock, extra: dict[str, Any] | None = None) -> Desk:
    """Carol asked (#1) and Anna answered: it waits for Carol."""
    desk = make_desk(folder, clock, extra)
    drop_into_maildir(folder, make_mail(subject="Export fails", message_id="carol.1@example.org"))
    desk.fetch()
    desk.reply(1, ANSWER, "anna")
    return desk


def _carol_writes(desk: Desk, folder: Path) -> None:
    drop_into_maildir(
        folder,
        make_mail(
            subject="Re: Export fails [#1]",
            body="Any news?\n",
            message_id="carol.2@example.org",
            in_reply_to="carol.1@example.org",
        ),
    )
    desk.fetch()


def _kinds(desk: Desk) -> list[tuple[str, str | None]]:
    return [(e["kind"], e["reason"]) for e in desk.request(1).events]


def test_a_snoozed_request_comes_back_on_top_then(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _waiting(tmp_path, clock)
    until = desk.sending.snooze(1, "3d", "anna")
    assert until == clock.now() + timedelta(days=3)
    assert desk.request(1).request.snoozed_until == until
    assert ("snooze", None) in _kinds(desk)
    assert desk.stack() == []

    clock.advance(timedelta(days=3) - timedelta(minutes=1))
    assert desk.tick().snoozed == []  # follow-ups (after 2 days) wait while it is snoozed
    assert desk.stack() == []
    clock.advance(timedelta(minutes=1))
    report = desk.tick()
    assert report.snoozed == [1] and report.follow_ups == []
    assert "1 back on top after a snooze: #1" in report.lines()
    top = desk.stack()[0]
    assert (top.number, top.status, top.reason, top.snoozed_until) == (1, "open", "snoozed", None)
    assert top.pushed_at == clock.now()
    assert _kinds(desk)[-1] == ("snooze_ended", "snoozed")
    assert desk.tick().snoozed == []  # once


def test_the_customer_writing_first_ends_the_snooze(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _waiting(tmp_path, clock)
    desk.sending.snooze(1, "tomorrow 9:00", "anna")
    clock.advance(timedelta(hours=2))
    _carol_writes(desk, tmp_path)
    request = desk.request(1).request
    assert (request.status, request.reason, request.snoozed_until) == (
        "open",
        "customer_reply",
        None,
    )
    desk.reply(1, "Not yet, sorry.", "anna")
    clock.advance(timedelta(days=1))
    assert desk.tick().snoozed == []
    assert "snooze_ended" not in [k for k, _ in _kinds(desk)]


def test_only_a_waiting_request_is_snoozed(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(message_id="carol.1@example.org"))
    desk.fetch()
    with pytest.raises(SupportDeskError, match="#1 is new, not waiting for the customer"):
        desk.sending.snooze(1, "3d", "anna")
    with pytest.raises(SupportDeskError, match="is in the past"):
        desk.sending.snooze(1, "2020-01-01", "anna")
    with pytest.raises(NotFoundError):
        desk.sending.snooze(9, "3d", "anna")


def test_unsnooze_lets_the_follow_ups_run_again(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _waiting(tmp_path, clock)
    desk.sending.snooze(1, "7d", "anna")
    clock.advance(timedelta(days=2))
    assert desk.tick().follow_ups == []
    assert desk.sending.unsnooze(1, "anna") is True
    assert desk.sending.unsnooze(1, "anna") is False
    assert desk.tick().follow_ups == [1]
    assert _kinds(desk)[-2:] == [("unsnooze", None), ("push", "follow_up")]


def test_send_and_snooze_is_one_step(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(message_id="carol.1@example.org"))
    desk.fetch()
    until = desk.sending.parse_when("mon 9:00")
    desk.reply(1, ANSWER, "anna", snooze_until=until)
    request = desk.request(1).request
    assert (request.status, request.snoozed_until) == ("waiting", until)
    assert [k for k, _ in _kinds(desk)][-2:] == ["reply", "snooze"]
    with pytest.raises(SupportDeskError, match="in the past"):
        desk.reply(1, "More.", "anna", snooze_until=clock.now())
    assert len([m for m in desk.request(1).messages if m.kind == "reply"]) == 1


def test_send_and_close_is_one_step(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(message_id="carol.1@example.org"))
    desk.fetch()
    with pytest.raises(SupportDeskError, match="unknown close reason 'done'"):
        desk.reply(1, ANSWER, "anna", close="done")
    assert [m.kind for m in desk.request(1).messages if m.direction == "out"] == ["ack"]
    desk.reply(1, ANSWER, "anna", close="resolved")
    request = desk.request(1).request
    assert (request.status, request.close_reason) == ("closed", "resolved")
    assert request.first_response_at == clock.now()
    assert _kinds(desk)[-2:] == [("reply", None), ("close", "resolved")]


def test_two_ticks_at_once_wake_a_snoozed_request_once(tmp_path: Path, clock: FrozenClock) -> None:
    first = _waiting(tmp_path, clock)
    second = make_desk(tmp_path, clock)  # another process on the same database
    for n in range(2, 6):
        drop_into_maildir(tmp_path, make_mail(subject=f"Question {n}", message_id=f"q{n}@x"))
    first.fetch()
    for n in range(2, 6):
        first.reply(n, ANSWER, "anna")
    for n in range(1, 6):
        first.sending.snooze(n, "4h", "anna")
    clock.advance(timedelta(hours=4))
    barrier = threading.Barrier(2)
    woken: list[list[int]] = []

    def tick(desk: Desk) -> None:
        barrier.wait()
        woken.append(desk.tick().snoozed)

    threads = [threading.Thread(target=tick, args=(d,)) for d in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(n for got in woken for n in got) == [1, 2, 3, 4, 5]
    for n in range(1, 6):
        kinds = [e["kind"] for e in first.request(n).events]
        assert kinds.count("snooze_ended") == 1
    second.close_database()


# -- the CLI -----------------------------------------------------------------------------


def _cli(folder: Path, clock: FrozenClock, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=folder, env={"SUPPORTDESK_NOW": clock.now().isoformat()})


def test_requests_snooze_from_the_command_line(tmp_path: Path, clock: FrozenClock) -> None:
    # Monday 5 January 2026, 09:00 UTC
    desk = _waiting(tmp_path, clock)
    done = _cli(tmp_path, clock, "requests", "snooze", "1", "tomorrow 9:00")
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "#1 snoozed until Tue 09:00."
    shown = _cli(tmp_path, clock, "requests", "show", "1")
    assert "snoozed until Tue 09:00" in shown.stdout
    listed = _cli(tmp_path, clock, "requests", "list")
    assert "snoozed Tue 09:00" in listed.stdout.splitlines()[1]
    as_json = json.loads(_cli(tmp_path, clock, "requests", "show", "1", "--json").stdout)
    assert as_json["snoozed_until"] == "2026-01-06T09:00:00+00:00"

    bad = _cli(tmp_path, clock, "requests", "snooze", "1", "someday")
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "supportdesk: cannot read 'someday' as a time: write e.g. 3d, 4h, mon 9:00, tomorrow 9:00, "
        "9:00, 2026-12-10 14:00"
    ]
    cleared = _cli(tmp_path, clock, "requests", "snooze", "1", "--clear", "--json")
    assert json.loads(cleared.stdout) == {"number": 1, "snoozed_until": None, "changed": True}
    assert desk.request(1).request.snoozed_until is None
    assert _cli(tmp_path, clock, "requests", "snooze", "1").returncode == 2


def test_reply_with_close_or_snooze(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock)
    for n in (1, 2):
        drop_into_maildir(tmp_path, make_mail(subject=f"Q{n}", message_id=f"q{n}@x"))
    desk.fetch()
    closed = _cli(
        tmp_path, clock, "requests", "reply", "1", "--body", ANSWER, "--close", "resolved"
    )
    assert closed.returncode == 0, closed.stderr
    assert "; #1 closed (resolved)." in " ".join(closed.stderr.split())
    assert desk.request(1).request.status == "closed"

    refused = _cli(
        tmp_path, clock, "requests", "reply", "2", "--body", ANSWER, "--snooze", "2d ago"
    )
    assert refused.returncode == 1 and "cannot read '2d ago'" in refused.stderr
    assert "reply" not in [m.kind for m in desk.request(2).messages]  # nothing was sent

    snoozed = _cli(
        tmp_path, clock, "requests", "reply", "2", "--body", ANSWER, "--snooze", "3d", "--json"
    )
    assert snoozed.returncode == 0, snoozed.stderr
    assert json.loads(snoozed.stdout)["snoozed_until"] == "2026-01-08T09:00:00+00:00"
    request = desk.request(2).request
    assert (request.status, request.snoozed_until) == ("waiting", clock.now() + timedelta(days=3))
