"""The daily report (desk/report.py): each morning at `[stats] daily_report` the process that
holds the poller lease mails yesterday's figures to `report_to`, once, through the real SMTP
server (aiosmtpd), with a frozen clock moved past the report time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.desk.poller import Poller
from tests.fixtures import drop_into_maildir, make_desk, run_cli, smtp_outgoing, write_config
from tests.mailfactory import make_mail

TEAM = "team@example.com"
REPORT = {"timezone": "UTC", "daily_report": "08:00", "report_to": TEAM}


def _desk(tmp_path: Path, clock: FrozenClock, smtp_server: Any, **stats: Any) -> Desk:
    extra: dict[str, Any] = smtp_outgoing(smtp_server)
    if stats:
        extra["stats"] = stats
    return make_desk(tmp_path, clock, extra)


def _history(tmp_path: Path, desk: Desk, clock: FrozenClock) -> None:
    """Monday 5 Jan 2026: four requests arrive at 09:00; anna answers #1 after 10 minutes,
    #2 after 20, #3 after 13 hours (late: the target is 12 h); #4 is never answered."""
    drop_into_maildir(
        tmp_path, *(make_mail(subject=f"Question {n}", message_id=f"q{n}@x") for n in range(4))
    )
    desk.fetch()
    clock.advance(timedelta(minutes=10))
    desk.reply(1, "Answer one.", "anna")
    clock.advance(timedelta(minutes=10))
    desk.reply(2, "Answer two.", "anna")
    clock.set(datetime(2026, 1, 5, 22, 0, tzinfo=UTC))
    desk.reply(3, "Answer three.", "anna")


def _reports(smtp_server: Any) -> list[Any]:
    return [m for m in smtp_server.messages if TEAM in m.recipients]


def test_the_report_goes_out_at_the_report_time_once_with_yesterdays_figures(
    tmp_path: Path, clock: FrozenClock, smtp_server: Any
) -> None:
    desk = _desk(tmp_path, clock, smtp_server, **REPORT)
    other = _desk(tmp_path, clock, smtp_server, **REPORT)  # another process, same database
    _history(tmp_path, desk, clock)
    poller = Poller(desk, "console-a")
    try:
        clock.set(datetime(2026, 1, 6, 7, 59, tzinfo=UTC))
        assert poller.round().report is None
        assert _reports(smtp_server) == []

        clock.set(datetime(2026, 1, 6, 8, 0, tzinfo=UTC))
        result = poller.round()
        assert result.report is not None and result.report.sent
        assert other.daily_report_if_due("console-b") is None  # the day is taken
        clock.advance(timedelta(minutes=5))
        assert poller.round().report is None
        assert other.daily_report_if_due("console-b") is None
    finally:
        poller.close()
        other.close_database()
        desk.close_database()
    [mail] = _reports(smtp_server)
    message = mail.message
    assert message["Subject"] == "Acme Support, 5 Jan: speed 50%, 4 new, CSAT –"
    assert message["From"].addresses[0].addr_spec == "support@example.com"
    assert message["Auto-Submitted"] == "auto-replied"
    text = message.get_content()
    assert "Monday 5 January 2026" in text
    assert "New requests          4" in text
    assert "First answers         3" in text
    assert "Median first answer   20m" in text
    assert "Speed score           50%  (2 of 4 requests answered within 12h)" in text
    assert "Backlog now           1 on the stack" in text
    anna = next(line for line in text.splitlines() if line.strip().startswith("anna"))
    assert anna.split()[1:4] == ["3", "3", "20m"]


def test_two_processes_claiming_the_same_day_send_one_report(
    tmp_path: Path, clock: FrozenClock, smtp_server: Any
) -> None:
    desk = _desk(tmp_path, clock, smtp_server, **REPORT)
    other = _desk(tmp_path, clock, smtp_server, **REPORT)
    try:
        clock.set(datetime(2026, 1, 6, 8, 0, tzinfo=UTC))
        first = desk.daily_report_if_due("console-a")
        second = other.daily_report_if_due("console-b")
    finally:
        other.close_database()
        desk.close_database()
    assert first is not None and first.sent and first.day == "2026-01-05"
    assert second is None
    assert len(_reports(smtp_server)) == 1


def test_smtp_down_records_the_error_and_a_later_round_sends_it(
    tmp_path: Path, clock: FrozenClock, smtp_server: Any
) -> None:
    desk = _desk(tmp_path, clock, smtp_server, **REPORT)
    clock.set(datetime(2026, 1, 6, 8, 0, tzinfo=UTC))
    smtp_server.stop()
    try:
        failed = desk.daily_report_if_due("console-a")
        assert failed is not None and not failed.sent and failed.error
        checks = {c.name: c for c in desk.check()}
        assert checks["daily report"].status == "warn"
        assert "2026-01-05: not sent yet, try 1/10" in checks["daily report"].detail

        smtp_server.start()
        assert desk.daily_report_if_due("console-a") is None  # the backoff: not yet
        clock.advance(timedelta(minutes=1))
        sent = desk.daily_report_if_due("console-a")
        assert sent is not None and sent.sent
        assert {c.name: c.status for c in desk.check()}["daily report"] == "ok"
    finally:
        desk.close_database()
    assert len(_reports(smtp_server)) == 1


def test_a_report_that_never_goes_out_is_given_up_and_said_by_db_check(
    tmp_path: Path, clock: FrozenClock, smtp_server: Any
) -> None:
    desk = _desk(tmp_path, clock, smtp_server, **REPORT)
    clock.set(datetime(2026, 1, 6, 8, 0, tzinfo=UTC))
    smtp_server.stop()
    tries = []
    try:
        for _ in range(15):  # 08:00 to 22:00, once an hour
            result = desk.daily_report_if_due("console-a")
            if result is not None:
                tries.append(result)
            clock.advance(timedelta(hours=1))
        checks = {c.name: c for c in desk.check()}
    finally:
        desk.close_database()
    assert len(tries) == 10 and tries[-1].gave_up
    assert checks["daily report"].status == "fail"
    assert "given up" in checks["daily report"].detail


def test_no_report_without_the_setting(
    tmp_path: Path, clock: FrozenClock, smtp_server: Any
) -> None:
    desk = _desk(tmp_path, clock, smtp_server)
    poller = Poller(desk, "console-a")
    try:
        clock.set(datetime(2026, 1, 6, 8, 0, tzinfo=UTC))
        assert poller.round().report is None
        assert "daily report" not in {c.name for c in desk.check()}
    finally:
        poller.close()
        desk.close_database()
    assert _reports(smtp_server) == []


def test_a_report_to_the_support_address_is_refused_in_one_line(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        {"stats": {"daily_report": "08:00", "report_to": "Support@Example.com"}},
    )
    result = run_cli("stack", cwd=tmp_path)
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert "report_to" in line and "support address" in line
