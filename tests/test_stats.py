"""`supportdesk stats` and Desk.stats: every figure on a desk with a known history, built
through the real intake, replies, closes and ticks under a frozen clock."""

from __future__ import annotations

import csv
import io
import json
import mailbox
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import insert

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.desk import stats as stats_service
from supportdesk.store import tables as t
from tests.fixtures import drop_into_maildir, make_desk, run_cli
from tests.mailfactory import make_mail

HOUR = timedelta(hours=1)
SETTINGS: dict[str, Any] = {
    "workflow": {"max_reminders": 1},
    "rules": [
        {"subject_any": ["invoice"], "tags": ["billing"]},
        {"subject_any": ["privet"], "language": "ru"},
    ],
}
DAY1 = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday


def mail(folder: Path, desk: Desk, **kwargs: Any) -> None:
    drop_into_maildir(folder, make_mail(**kwargs))
    desk.fetch()


def rate(desk: Desk, number: int, agent: str, score: int, at: datetime, **extra: Any) -> None:
    with desk.db.write() as conn:
        conn.execute(
            insert(t.rating).values(
                request_id=number,
                agent_login=agent,
                score=score,
                good=score >= 4,
                at=at,
                **extra,
            )
        )


def history(folder: Path, clock: FrozenClock) -> Desk:
    """Five days of a small desk (UTC, sla.first_response 12 h, one reminder):

    Mon 01-05 09:00 Carol (#1, "invoice": billing) and Dan (#2) write; 10:00 Anna answers
        #1 (1 h, met); 22:00 Bob answers #2 (13 h, missed).
    Tue 01-06 08:00 Erin writes (#3, ru), never answered: missed since 20:00. 09:00 Bob
        closes #2 (resolved); 10:00 Carol rates Anna 5 with a comment.
    Wed 01-07 11:00 the tick puts #1 back (follow-up); 11:05 Anna sends the reminder;
        12:00 Dan writes again: #2 reopened; 13:00 Dan rates Bob 2.
    Thu 01-08 nothing. Also an old mbox imported as history (counts nowhere).
    Fri 01-09 11:10 the tick closes #1 (no_reply); 11:30 Fred writes (#N, due 23:30: not
        counted yet); now is 12:00.
    """
    clock.set(DAY1 + 9 * HOUR)
    desk = make_desk(folder, clock, SETTINGS)
    desk.ensure_agent("bob", name="Bob Agent")
    carol = "Carol Customer <carol@example.org>"
    mail(folder, desk, sender=carol, subject="My invoice is wrong", message_id="c1@x")
    mail(folder, desk, sender="dan@example.net", subject="Export fails", message_id="d1@x")
    clock.advance(HOUR)
    desk.reply(1, "We fixed the invoice.", "anna")
    clock.set(DAY1 + 22 * HOUR)
    desk.reply(2, "Please update to 2.3.", "bob")
    clock.set(DAY1 + 32 * HOUR)
    mail(folder, desk, sender="erin@example.com", subject="Privet", message_id="e1@x")
    clock.set(DAY1 + 33 * HOUR)
    desk.close(2, "resolved", "bob")
    clock.set(DAY1 + 34 * HOUR)
    rate(desk, 1, "anna", 5, clock.now(), politeness=5, proficiency=4, comment="Quick, thanks")
    clock.set(DAY1 + 59 * HOUR)
    assert desk.tick().follow_ups == [1]
    clock.advance(timedelta(minutes=5))
    desk.reply_with_template(1, "reminder_1", "anna")
    clock.set(DAY1 + 60 * HOUR)
    last = desk.request(2).messages[-1].message_id
    mail(
        folder,
        desk,
        sender="dan@example.net",
        subject="Re: Export fails [#2]",
        message_id="d2@x",
        in_reply_to=last,
    )
    clock.set(DAY1 + 61 * HOUR)
    rate(desk, 2, "bob", 2, clock.now(), politeness=3)
    clock.set(DAY1 + 80 * HOUR)
    box = mailbox.mbox(str(folder / "old.mbox"))
    for i in range(2):
        box.add(make_mail(message_id=f"old{i}@x", date=datetime(2025, 6, 1, tzinfo=UTC)))
    box.flush()
    assert desk.import_mail(folder / "old.mbox", history=True).stored == 2
    clock.set(DAY1 + 4 * 24 * HOUR + 11 * HOUR + 10 * timedelta(minutes=1))
    assert desk.tick().closed == [1]
    clock.set(DAY1 + 4 * 24 * HOUR + 11.5 * HOUR)
    mail(folder, desk, sender="fred@example.com", subject="Question", message_id="f1@x")
    clock.set(DAY1 + 4 * 24 * HOUR + 12 * HOUR)
    return desk


def pick(figures: Any, *names: str) -> dict[str, Any]:
    data = figures.as_dict()
    return {name: data[name] for name in names}


COUNTS = ("new", "received", "answered", "first_answers", "sla_met", "sla_missed")
EVENTS = ("closed", "reopened", "follow_ups", "auto_closes")


def test_figures_by_day(tmp_path: Path, clock: FrozenClock) -> None:
    desk = history(tmp_path, clock)
    report = desk.stats(DAY1, DAY1 + timedelta(days=6), "day")
    days = {g.key: g for g in report.groups}
    assert list(days) == [f"2026-01-{d:02d}" for d in range(5, 11)]  # empty days too
    counts = {key: tuple(pick(g, *COUNTS).values()) for key, g in days.items()}
    assert counts == {
        "2026-01-05": (2, 2, 2, 2, 1, 1),
        "2026-01-06": (1, 1, 0, 0, 0, 1),  # Erin: unanswered past due
        "2026-01-07": (0, 1, 1, 0, 0, 0),  # the reminder is an answer
        "2026-01-08": (0, 0, 0, 0, 0, 0),
        "2026-01-09": (1, 1, 0, 0, 0, 0),  # Fred: not due yet, not counted
        "2026-01-10": (0, 0, 0, 0, 0, 0),
    }
    monday = days["2026-01-05"]
    assert (monday.first_answer_median, monday.first_answer_p90) == (7 * 3600, 13 * 3600)
    assert (monday.sla_share, monday.score) == (0.5, 50)
    assert days["2026-01-06"].score == 0
    assert days["2026-01-09"].score is None
    events = {key: tuple(pick(g, *EVENTS).values()) for key, g in days.items()}
    assert events == {
        "2026-01-05": ({}, 0, 0, 0),
        "2026-01-06": ({"resolved": 1}, 0, 0, 0),
        "2026-01-07": ({}, 1, 1, 0),
        "2026-01-08": ({}, 0, 0, 0),
        "2026-01-09": ({"no_reply": 1}, 0, 0, 1),
        "2026-01-10": ({}, 0, 0, 0),
    }
    ratings = {
        key: (g.ratings, g.good_ratings, g.politeness, g.proficiency, g.csat)
        for key, g in days.items()
        if g.ratings
    }
    assert ratings == {"2026-01-06": (1, 1, 5.0, 4.0, 1.0), "2026-01-07": (1, 0, 3.0, None, 0.0)}
    total = report.total
    assert total.key == "total"
    assert tuple(pick(total, *COUNTS).values()) == (4, 5, 3, 2, 1, 2)
    assert tuple(pick(total, *EVENTS).values()) == ({"no_reply": 1, "resolved": 1}, 1, 1, 1)
    assert (total.first_answer_median, total.first_answer_p90) == (7 * 3600, 13 * 3600)
    assert (total.ratings, total.good_ratings, total.csat) == (2, 1, 0.5)
    assert total.score == 33
    assert [(c.request, c.comment, c.agent, c.score) for c in report.comments] == [
        (1, "Quick, thanks", "anna", 5)
    ]
    # On the stack at Fri 12:00: Fred (30 min), Dan's reopened #2 (since Wed 12:00, 2 days),
    # Erin (since Tue 08:00, 3 days 4 hours).
    assert report.backlog.as_dict() == {
        "on_stack": 3,
        "by_age": {"<1h": 1, "1-4h": 0, "4-24h": 0, "1-3d": 1, ">3d": 1},
        "oldest_seconds": (3 * 24 + 4) * 3600,
    }
    assert report.sla_target_seconds == 12 * 3600
    assert report.timezone == "UTC"


def test_figures_by_agent(tmp_path: Path, clock: FrozenClock) -> None:
    desk = history(tmp_path, clock)
    report = desk.stats(DAY1, DAY1 + timedelta(days=6), "agent")
    agents = {g.key: g.as_dict() for g in report.groups}
    assert list(agents) == ["anna", "bob"]
    anna, bob = agents["anna"], agents["bob"]
    assert (anna["answered"], anna["first_answers"], anna["first_answer_median"]) == (2, 1, 3600)
    assert (anna["sla_met"], anna["sla_missed"], anna["ratings"], anna["csat"]) == (1, 0, 1, 1.0)
    assert (bob["answered"], bob["first_answers"], bob["first_answer_p90"]) == (1, 1, 13 * 3600)
    assert (bob["sla_met"], bob["sla_missed"], bob["ratings"], bob["csat"]) == (0, 1, 1, 0.0)
    for figures in (anna, bob):
        assert [figures[k] for k in ("received", "new", "closed", "reopened")] == [None] * 4
        assert [figures[k] for k in ("follow_ups", "auto_closes")] == [None] * 2
    assert (report.total.new, report.total.answered, report.total.sla_missed) == (4, 3, 2)


def test_figures_by_tag_and_language(tmp_path: Path, clock: FrozenClock) -> None:
    desk = history(tmp_path, clock)
    by_tag = desk.stats(DAY1, DAY1 + timedelta(days=6), "tag")
    billing = {g.key: g for g in by_tag.groups}["billing"]
    assert (billing.new, billing.first_answers, billing.sla_met, billing.answered) == (1, 1, 1, 2)
    assert (billing.closed, billing.auto_closes, billing.ratings) == ({"no_reply": 1}, 1, 1)
    by_language = {g.key: g for g in desk.stats(DAY1, DAY1 + timedelta(days=6), "language").groups}
    assert by_language["ru"].new == 1 and by_language["ru"].sla_missed == 1
    assert sum(g.new or 0 for g in by_language.values()) == 4


def test_weeks_are_iso_weeks_and_days_local_across_dst(tmp_path: Path, clock: FrozenClock) -> None:
    """Berlin leaves summer time on Sunday 2026-10-25 at 03:00 (UTC+2 -> UTC+1): that day has
    25 hours, and a request at 23:30 UTC on Sunday is Monday's."""
    clock.set(datetime(2026, 10, 24, 21, 30, tzinfo=UTC))  # Sat 23:30 CEST
    desk = make_desk(tmp_path, clock, {"stats": {"timezone": "Europe/Berlin"}})
    for n, at in enumerate(
        [
            datetime(2026, 10, 24, 21, 30, tzinfo=UTC),  # Sat 23:30 CEST
            datetime(2026, 10, 24, 22, 30, tzinfo=UTC),  # Sun 00:30 CEST
            datetime(2026, 10, 25, 22, 30, tzinfo=UTC),  # Sun 23:30 CET
            datetime(2026, 10, 25, 23, 30, tzinfo=UTC),  # Mon 00:30 CET
        ]
    ):
        clock.set(at)
        mail(tmp_path, desk, sender=f"c{n}@example.org", message_id=f"dst{n}@x")
    since = datetime(2026, 10, 23, 22, 0, tzinfo=UTC)  # Sat 00:00 CEST
    until = datetime(2026, 10, 26, 23, 0, tzinfo=UTC)  # Tue 00:00 CET
    report = desk.stats(since, until, "day")
    assert [(g.key, g.new) for g in report.groups] == [
        ("2026-10-24", 1),
        ("2026-10-25", 2),
        ("2026-10-26", 1),
    ]
    assert report.timezone == "Europe/Berlin"
    weeks = desk.stats(since, until, "week")
    assert [(g.key, g.new) for g in weeks.groups] == [("2026-W43", 3), ("2026-W44", 1)]
    assert weeks.total.new == 4


def test_stats_command_json_csv_and_table(tmp_path: Path, clock: FrozenClock) -> None:
    history(tmp_path, clock).close_database()
    env = {"SUPPORTDESK_NOW": clock.now().isoformat()}
    period = ("--since", "2026-01-05", "--until", "2026-01-11")
    done = run_cli("stats", *period, "--json", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == {
        "since",
        "until",
        "by",
        "timezone",
        "sla_target_seconds",
        "generated_at",
        "total",
        "groups",
        "backlog",
        "comments",
    }
    assert [g["key"] for g in data["groups"]][:2] == ["2026-01-05", "2026-01-06"]
    assert set(data["total"]) == {
        "key",
        "received",
        "new",
        "answered",
        "first_answers",
        "first_answer_median",
        "first_answer_p90",
        "sla_met",
        "sla_missed",
        "closed",
        "reopened",
        "follow_ups",
        "auto_closes",
        "ratings",
        "good_ratings",
        "politeness",
        "proficiency",
        "sla_share",
        "score",
        "csat",
    }
    assert (data["total"]["new"], data["total"]["score"], data["backlog"]["on_stack"]) == (4, 33, 3)
    # 7d: the last seven days, today (Fri 01-09) included
    week = json.loads(run_cli("stats", "--since", "7d", "--json", cwd=tmp_path, env=env).stdout)
    assert week["since"] == "2026-01-03T00:00:00+00:00"
    assert week["until"] == clock.now().isoformat()
    agents = json.loads(
        run_cli("stats", *period, "--by", "agent", "--json", cwd=tmp_path, env=env).stdout
    )
    assert [(g["key"], g["answered"]) for g in agents["groups"]] == [("anna", 2), ("bob", 1)]

    rows = list(
        csv.reader(io.StringIO(run_cli("stats", *period, "--csv", cwd=tmp_path, env=env).stdout))
    )
    header = rows[0]
    assert header[:4] == ["key", "received", "new", "answered"]
    assert "closed_resolved" in header and "closed_no_reply" in header and "closed" not in header
    assert [r[0] for r in rows[1:]] == [f"2026-01-{d:02d}" for d in range(5, 11)] + ["total"]
    assert rows[-1][header.index("closed_resolved")] == "1"

    table = run_cli("stats", *period, cwd=tmp_path, env=env)
    assert table.returncode == 0
    monday = next(line for line in table.stdout.splitlines() if line.startswith("2026-01-05"))
    assert monday.split()[1:] == ["2", "2", "2", "2", "7h", "13h", "1/2", "50%"]
    assert "Backlog now: 3 on the stack" in table.stdout


def test_stats_command_refuses_bad_options(tmp_path: Path, clock: FrozenClock) -> None:
    make_desk(tmp_path, clock).close_database()
    bad_since = run_cli("stats", "--since", "last tuesday", cwd=tmp_path)
    assert bad_since.returncode == 2
    assert "'last tuesday' is not a date (2026-12-01) or a count" in bad_since.stderr
    bad_by = run_cli("stats", "--by", "month", cwd=tmp_path)
    assert bad_by.returncode == 2
    assert "expected one of day, week, agent, tag, language" in bad_by.stderr
    empty = run_cli("stats", "--since", "2026-01-05", "--until", "2026-01-05", cwd=tmp_path)
    assert empty.returncode == 2 and "the period is empty" in empty.stderr


def test_unanswered_requests_closed_before_their_due_time_are_no_miss(
    tmp_path: Path, clock: FrozenClock
) -> None:
    clock.set(DAY1 + 9 * HOUR)
    desk = make_desk(tmp_path, clock)
    mail(tmp_path, desk, sender="spam@example.net", subject="Cheap pills", message_id="s1@x")
    mail(tmp_path, desk, sender="late@example.net", subject="Hello?", message_id="l1@x")
    clock.advance(HOUR)
    desk.close(1, "spam", "anna")  # closed at 10:00, due 21:00: nothing was owed
    clock.set(DAY1 + 22 * HOUR)
    desk.close(2, "other", "anna")  # closed unanswered at 22:00, after its due time
    day = desk.stats(DAY1, DAY1 + timedelta(days=1)).groups[0]
    assert (day.new, day.sla_met, day.sla_missed, day.score) == (2, 0, 1, 0)
    assert day.closed == {"other": 1, "spam": 1}


def test_long_periods_are_counted_in_parts(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Days go to the database a thousand at a time (bound parameters are limited): the
    figures do not depend on where a part ends."""
    desk = history(tmp_path, clock)
    whole = desk.stats(DAY1, DAY1 + timedelta(days=6)).as_dict()
    monkeypatch.setattr(stats_service, "WINDOWS_PER_QUERY", 4)
    assert desk.stats(DAY1, DAY1 + timedelta(days=6)).as_dict() == whole


@pytest.mark.parametrize("by", ["day", "agent", "tag", "language"])
def test_a_period_is_read_from_covering_indexes(
    tmp_path: Path, clock: FrozenClock, by: str
) -> None:
    """A year of a busy desk in under a second (bench/stats.py): the figures step index
    entries and read no request, message or event row (a message row carries its text).
    SQLite's plans; PostgreSQL plans on its own statistics."""
    desk = history(tmp_path, clock)
    engine = desk.ctx.db.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plans")
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, params))

    sqlalchemy_event.listen(engine, "before_cursor_execute", record)
    try:
        desk.stats(DAY1, DAY1 + timedelta(days=6), by)
    finally:
        sqlalchemy_event.remove(engine, "before_cursor_execute", record)
    slow = []
    with engine.connect() as conn:
        for statement, params in statements:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
            for row in plan:
                step = row[-1]
                table = step.split()[1] if len(step.split()) > 1 else ""
                reads_rows = table in ("request", "message", "event") and (
                    step.startswith("SCAN")
                    or ("COVERING INDEX" not in step and "PRIMARY KEY" not in step)
                )
                if reads_rows and "LIMIT" not in statement:
                    slow.append(step)
    assert slow == []


def test_a_desk_from_before_keeps_its_figures_by_agent(tmp_path: Path, clock: FrozenClock) -> None:
    """Migration 0010 finds the agent of each first answer (and its wait) in the answer
    events of a desk that did not keep them: the figures by agent do not change."""
    from alembic import command
    from alembic.config import Config

    from supportdesk.store.database import MIGRATIONS, Database

    desk = history(tmp_path, clock)
    period = (DAY1, DAY1 + timedelta(days=6))
    before = desk.stats(*period, "agent").as_dict()
    url = desk.ctx.settings.database_url
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with desk.ctx.db.write() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0009")
    desk.ctx.db.engine.dispose()
    db = Database(url)
    try:
        assert db.current_revision() == "0009" and db.upgrade()
    finally:
        db.close()
    desk.ctx.db.engine.dispose()
    after = desk.stats(*period, "agent").as_dict()
    assert after == before
    assert [g["key"] for g in after["groups"]] == ["anna", "bob"]
