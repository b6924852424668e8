"""The stats screen (f4) and the stack's speed line, on a desk with a known history and a
frozen clock; Textual's pilot presses the keys, the desk is real."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Sparkline, Static

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.ui import make_app
from supportdesk.ui.screens.stack import StackScreen
from supportdesk.ui.screens.stats import StatsScreen
from tests.fixtures import drop_into_maildir, make_desk
from tests.mailfactory import make_mail
from tests.test_console import SIZE, settle


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def stats_desk(folder: Path, clock: FrozenClock) -> Desk:
    """Monday 5 Jan 2026, UTC: four requests arrive at 09:00; anna answers #1 after 10
    minutes, #2 after 20, #3 at 22:00 (13 hours: late, the target is 12 h); #4 waits, past
    its due time. The clock stays at 22:00."""
    desk = make_desk(folder, clock, {"stats": {"timezone": "UTC"}})
    drop_into_maildir(
        folder, *(make_mail(subject=f"Question {n}", message_id=f"q{n}@x") for n in range(4))
    )
    desk.fetch()
    clock.advance(timedelta(minutes=10))
    desk.reply(1, "Answer one.", "anna")
    clock.advance(timedelta(minutes=10))
    desk.reply(2, "Answer two.", "anna")
    clock.set(datetime(2026, 1, 5, 22, 0, tzinfo=UTC))
    desk.reply(3, "Answer three.", "anna")
    return desk


def rate(desk: Desk, number: int, score: int, comment: str) -> None:
    """A customer's rating of anna's answer, stored as the rating intake stores it (recording
    ratings from replies is another part of issue 17)."""
    from sqlalchemy import insert, select

    from supportdesk.store import tables as t

    with desk.db.write() as conn:
        pk = conn.execute(select(t.request.c.id).where(t.request.c.id == number)).scalar_one()
        conn.execute(
            insert(t.rating).values(
                request_id=pk,
                agent_login="anna",
                score=score,
                good=score >= 4,
                comment=comment,
                at=desk.clock.now(),
            )
        )


def text_of(pilot: Pilot[None], selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).render())


async def test_f4_shows_todays_figures_the_month_and_each_agent(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = stats_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StackScreen)
        assert text_of(pilot, "#speed") == "Speed today 50% · median 20m"
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, StatsScreen)
        today = text_of(pilot, "#stats-today")
        assert "Speed today 50% · median 20m" in today
        assert "4 new" in today and "3 answered" in today and "3 first answers" in today
        assert "SLA 2 of 4 within 12h" in today
        spark = app.screen.query_one("#spark-new", Sparkline)
        assert len(spark.data or []) == 30 and list(spark.data or [])[-1] == 4
        table = app.screen.query_one("#stats-agents", DataTable)
        anna = [str(c) for c in table.get_row("anna")]
        assert anna[:4] == ["anna", "3", "3", "20m"]
        assert "Backlog now: 1 on the stack" in text_of(pilot, "#stats-backlog")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, StackScreen)
    desk.close_database()


async def test_a_new_answer_changes_the_figures_when_the_data_changes(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = stats_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert "3 first answers" in text_of(pilot, "#stats-today")
        other = make_desk(tmp_path, clock, {"stats": {"timezone": "UTC"}})  # another console
        other.reply(4, "Answer four, late.", "anna")
        other.close_database()
        app.check_for_changes()  # what the app's watch does when the database changes
        await settle(pilot)
        today = text_of(pilot, "#stats-today")
        assert "4 first answers" in today and "4 answered" in today
        assert "SLA 2 of 4" in today  # answered after its due time: still missed
    desk.close_database()


async def test_a_comment_with_markup_shows_literally(tmp_path: Path, clock: FrozenClock) -> None:
    desk = stats_desk(tmp_path, clock)
    rate(desk, 1, 5, "[bold]Great[/bold] and fast [link=http://x]thanks[/link]")
    rate(desk, 2, 2, "slow \x1b[31mred")
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        csat = text_of(pilot, "#stats-csat")
        assert "CSAT 50%: 1 good of 2 ratings" in csat
        assert "[bold]Great[/bold] and fast [link=http://x]thanks[/link]" in csat
        assert "\x1b" not in csat
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, StatsScreen)
    desk.close_database()


def test_snapshot_stats(tmp_path: Path, clock: FrozenClock, snap_compare) -> None:  # type: ignore[no-untyped-def]
    desk = stats_desk(tmp_path, clock)
    rate(desk, 1, 5, "Quick and kind, thank you")
    app = make_app(desk, "anna", background=False)

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)
