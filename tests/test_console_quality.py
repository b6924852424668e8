"""Issue 19 point 4 in the console: the quality screen lists the sampled answers a reviewer
may score beside the customer's message, `s` scores one, and the agent sees their scores."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, Static

from supportdesk.clock import FrozenClock
from supportdesk.ui import make_app
from supportdesk.ui.modals.score import ScoreModal
from supportdesk.ui.screens.quality import QualityScreen
from tests.fixtures import drop_into_maildir, make_desk
from tests.mailfactory import make_mail
from tests.test_console import settle

SIZE = (80, 24)


def _cells(screen: QualityScreen, table: str) -> list[list[str]]:
    found = screen.query_one(table, DataTable)
    return [[str(c) for c in found.get_row_at(i)] for i in range(found.row_count)]


async def test_a_reviewer_scores_an_answer_and_the_agent_sees_it(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock, {"review": {"sample": 1}})
    desk.ensure_agent("boss", role="admin")
    drop_into_maildir(
        tmp_path,
        make_mail(
            sender="ann@example.org",
            subject="Printer [bold]on fire[/bold]",
            body="My printer is [red]on fire[/red]. Help!\n",
        ),
    )
    desk.fetch()
    desk.reply(1, "Unplug it and call [link=x]us[/link].", "anna")

    app = make_app(desk, "boss", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(QualityScreen(desk, "boss"))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QualityScreen)
        rows = _cells(screen, "#quality-queue")
        assert [r[1:3] for r in rows] == [["#1", "anna"]]
        assert "[bold]on fire[/bold]" in rows[0][4]  # mail text stays text
        customer = str(screen.query_one("#customer-text", Static).render())
        answer = str(screen.query_one("#answer-text", Static).render())
        assert "My printer is [red]on fire[/red]" in customer
        assert "call [link=x]us[/link]" in answer

        await pilot.press("s")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ScoreModal)
        modal.query_one("#score", Input).value = "3"
        modal.query_one("#rule", Input).value = "greeting"
        modal.query_one("#comment", Input).focus()
        await pilot.press("enter")  # no comment below 5: refused in the modal
        await settle(pilot)
        assert app.screen is modal and "Below 5" in str(
            modal.query_one("#score-error", Static).render()
        )
        modal.query_one("#comment", Input).value = "Say hello first."
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert _cells(screen, "#quality-queue") == []
        await pilot.press("escape")
        await settle(pilot)

    check = desk.quality.checks(agent="anna")[0]
    assert (check.score, check.rule, check.reviewer) == (3, "greeting", "boss")

    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(QualityScreen(desk, "anna"))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QualityScreen)
        assert not screen.query_one("#quality-queue", DataTable).display  # anna scores nobody
        mine = _cells(screen, "#quality-mine")
        assert [r[:4] for r in mine] == [["3", "greeting", "Say hello first.", "boss"]]
