"""The follow-up cycle, auto-close and the SLA guard, with a moved clock (no sleeping)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from tests.fixtures import drop_into_maildir, make_desk
from tests.mailfactory import make_mail

ANSWER = "Please update to version 2.3: the export works there."
TWO_DAYS = timedelta(days=2)
MINUTE = timedelta(minutes=1)


def answered(folder: Path, clock: FrozenClock, extra: dict[str, Any] | None = None) -> Desk:
    """Carol asked; Anna answered at the clock's time: request #1 waits for Carol."""
    desk = make_desk(folder, clock, extra)
    drop_into_maildir(
        folder,
        make_mail(
            subject="Export fails",
            body="The export to Excel fails with an error.\n",
            message_id="carol.1@example.org",
        ),
    )
    desk.fetch()
    desk.reply(1, ANSWER, "anna")
    return desk


def carol_writes(desk: Desk, folder: Path, text: str, n: int) -> None:
    last_out = [m for m in desk.request(1).messages if m.direction == "out"][-1]
    drop_into_maildir(
        folder,
        make_mail(
            subject="Re: Export fails [#1]",
            body=text,
            message_id=f"carol.{n}@example.org",
            in_reply_to=last_out.message_id,
        ),
    )
    desk.fetch()


def sent(desk: Desk, kind: str) -> list[str]:
    return [m.text for m in desk.request(1).messages if m.direction == "out" and m.kind == kind]


def events(desk: Desk) -> list[tuple[str, str | None, str]]:
    return [(e["kind"], e["reason"], e["actor"]) for e in desk.request(1).events]


def test_the_whole_cycle_ends_closed_no_reply(tmp_path: Path, clock: FrozenClock) -> None:
    desk = answered(tmp_path, clock)
    assert desk.stack() == []
    clock.advance(TWO_DAYS - MINUTE)
    assert desk.tick().follow_ups == []
    clock.advance(MINUTE)
    assert desk.tick().follow_ups == [1]
    top = desk.stack()[0]
    assert (top.number, top.reason, top.reminder_count) == (1, "follow_up", 0)
    assert desk.tick().follow_ups == []  # a repeated tick changes nothing
    assert desk.suggest_templates(1, "anna")[0][0].name == "reminder_1"

    desk.reply_with_template(1, "reminder_1", "anna")
    assert f"> {ANSWER}" in sent(desk, "reply")[-1]  # reminder 1 repeats the answer
    assert desk.request(1).request.reminder_count == 1 and desk.stack() == []

    clock.advance(TWO_DAYS)
    assert desk.tick().follow_ups == [1]
    assert desk.stack()[0].reminder_count == 1
    assert desk.suggest_templates(1, "anna")[0][0].name == "reminder_2"
    desk.reply_with_template(1, "reminder_2", "anna")
    assert "is everything all right" in sent(desk, "reply")[-1]

    clock.advance(TWO_DAYS - MINUTE)
    assert desk.tick().closed == []
    clock.advance(MINUTE)
    report = desk.tick()
    assert (report.closed, report.notices, report.follow_ups) == ([1], [1], [])
    request = desk.request(1).request
    assert (request.status, request.close_reason) == ("closed", "no_reply")
    assert "we have closed request #1" in sent(desk, "notice")[0]
    assert desk.tick().closed == [] and len(sent(desk, "notice")) == 1
    assert [e for e in events(desk) if e[0] in ("push", "reminder", "close")] == [
        ("push", "new", "system"),
        ("push", "follow_up", "system"),
        ("reminder", None, "anna"),
        ("push", "follow_up", "system"),
        ("reminder", None, "anna"),
        ("close", "no_reply", "system"),
    ]


def test_a_customer_reply_resets_the_count(tmp_path: Path, clock: FrozenClock) -> None:
    desk = answered(tmp_path, clock)
    clock.advance(TWO_DAYS)
    desk.tick()
    desk.reply_with_template(1, "reminder_1", "anna")
    clock.advance(timedelta(hours=5))
    carol_writes(desk, tmp_path, "Sorry, I was away. It still fails on 2.3.\n", 2)
    top = desk.stack()[0]
    assert (top.number, top.reason, top.reminder_count) == (1, "customer_reply", 0)
    desk.reply(1, "Thanks: could you send the file that fails?", "anna")
    clock.advance(TWO_DAYS)
    assert desk.tick().follow_ups == [1]
    assert desk.suggest_templates(1, "anna")[0][0].name == "reminder_1"


def test_a_message_after_the_close_reopens_on_top(tmp_path: Path, clock: FrozenClock) -> None:
    # Dan's unanswered question is not due for a month: it does not pin itself above.
    settings = {"workflow": {"max_reminders": 0}, "sla": {"first_response": "4w"}}
    desk = answered(tmp_path, clock, settings)
    drop_into_maildir(tmp_path, make_mail(sender="dan@example.net", subject="Other question"))
    desk.fetch()
    clock.advance(TWO_DAYS)
    assert desk.tick().closed == [1]  # no reminders wanted: closed after one silence
    clock.advance(timedelta(days=5))
    carol_writes(desk, tmp_path, "It broke again.\n", 2)
    top = desk.stack()[0]
    assert (top.number, top.reason, top.status) == (1, "reopened", "open")
    assert desk.request(1).request.close_reason is None


def test_auto_remind_sends_the_reminders_without_an_agent(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = answered(tmp_path, clock, {"workflow": {"auto_remind": True}})
    clock.advance(TWO_DAYS)
    report = desk.tick()
    assert (report.reminders, report.follow_ups) == ([1], [])
    assert desk.stack() == []  # nobody has to do anything
    first = sent(desk, "reminder")
    assert len(first) == 1 and f"> {ANSWER}" in first[0]
    assert desk.tick().reminders == []  # the silence starts again from the reminder
    clock.advance(TWO_DAYS)
    assert desk.tick().reminders == [1]
    assert "is everything all right" in sent(desk, "reminder")[1]
    clock.advance(TWO_DAYS)
    report = desk.tick()
    assert (report.reminders, report.closed) == ([], [1])
    assert len(sent(desk, "reminder")) == 2


def test_without_auto_close_the_silent_request_comes_back_to_an_agent(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = answered(tmp_path, clock, {"workflow": {"max_reminders": 0, "auto_close": False}})
    clock.advance(TWO_DAYS)
    report = desk.tick()
    assert (report.closed, report.follow_ups) == ([], [1])
    assert desk.stack()[0].reason == "follow_up"


def test_closing_quietly_when_notices_are_off(tmp_path: Path, clock: FrozenClock) -> None:
    desk = answered(
        tmp_path, clock, {"workflow": {"max_reminders": 0, "notify_on_auto_close": False}}
    )
    clock.advance(TWO_DAYS)
    report = desk.tick()
    assert (report.closed, report.notices) == ([1], [])
    assert sent(desk, "notice") == []


def test_claims_expire_in_the_tick(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail())
    desk.fetch()
    assert desk.claim(1, "anna")
    assert desk.tick().claims_expired == []
    clock.advance(timedelta(minutes=10, seconds=1))
    assert desk.tick().claims_expired == [1]
    assert desk.request(1).request.claimed_by is None
    assert ("claim_expired", None, "system") in events(desk)


def arrive(desk: Desk, folder: Path, who: str) -> int:
    drop_into_maildir(folder, make_mail(sender=f"{who}@example.org", subject=f"From {who}"))
    desk.fetch()
    return max(r.number for r in desk.stack())


def test_a_request_near_its_deadline_is_pinned_above_newer_ones(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock, {"sla": {"first_response": "12h", "warn_before": "2h"}})
    old = arrive(desk, tmp_path, "old")
    clock.advance(timedelta(hours=9))
    newer = arrive(desk, tmp_path, "newer")
    assert [r.number for r in desk.stack()] == [newer, old]  # 9 h old: plain LIFO
    clock.advance(timedelta(hours=1, minutes=30))
    newest = arrive(desk, tmp_path, "newest")
    assert [r.number for r in desk.stack()] == [old, newest, newer]  # 10.5 h: pinned
    assert desk.claim_next("anna").number == old  # take-next follows the same order
    desk.release(old, "anna")
    report = desk.tick()
    assert (report.sla_warned, report.sla_overdue) == ([old], [])
    clock.advance(timedelta(hours=2))  # old is 12.5 h old, newer 3.5 h
    report = desk.tick()
    assert (report.sla_warned, report.sla_overdue) == ([], [old])
    assert desk.tick().sla_overdue == []  # marked once
    clock.advance(timedelta(hours=6))  # newer is due in 2.5 h: not yet
    assert desk.tick().sla_warned == []
    clock.advance(timedelta(minutes=30))
    assert desk.tick().sla_warned == [newer]
    desk.reply(old, "Sorry for the wait: here is the answer.", "anna")
    assert desk.stack()[0].number == newer  # answered: no longer pinned, off the stack


def test_business_hours_stop_the_sla_clock_over_the_weekend(
    tmp_path: Path, clock: FrozenClock
) -> None:
    sla = {
        "first_response": "12h",
        "warn_before": "2h",
        "hours": "mon-fri 09:00-18:00",
        "timezone": "Europe/Berlin",
    }
    friday_1730 = datetime(2026, 1, 9, 16, 30, tzinfo=UTC)  # 17:30 in Berlin (UTC+1)
    clock.set(friday_1730)
    desk = make_desk(tmp_path, clock, {"sla": sla})
    number = arrive(desk, tmp_path, "friday")
    # 30 minutes on Friday, 9 hours on Monday, 2.5 on Tuesday: due Tuesday 11:30 in Berlin.
    assert desk.stack()[0].sla_due_at == datetime(2026, 1, 13, 10, 30, tzinfo=UTC)
    clock.set(datetime(2026, 1, 10, 12, 0, tzinfo=UTC))  # Saturday
    report = desk.tick()
    assert (report.sla_warned, report.sla_overdue) == ([], [])
    clock.set(datetime(2026, 1, 13, 9, 0, tzinfo=UTC))  # Tuesday 10:00 in Berlin
    assert desk.tick().sla_warned == [number]
