"""Satisfaction by reply: the question on answers, reading a rating, recording it at intake."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.desk.csat import Rating, read_rating, with_question
from tests.fixtures import drop_into_maildir, make_desk, run_cli
from tests.mailfactory import make_mail

# text -> (score, good, comment, only) or None
CASES: list[tuple[str, tuple[int, bool, str, bool] | None]] = [
    ("5", (5, True, "", True)),
    ("5!", (5, True, "", True)),
    ("5/5", (5, True, "", True)),
    ("3/5", (3, False, "", True)),
    ("5 out of 5", (5, True, "", True)),
    ("4 - thanks, fast", (4, True, "thanks, fast", True)),
    ("4 — thanks, fast", (4, True, "thanks, fast", True)),
    ("5 thanks", (5, True, "thanks", True)),
    ("4. Thanks", (4, True, "Thanks", True)),
    ("2: it took two days", (2, False, "it took two days", True)),
    ("1 🙁", (1, False, "🙁", True)),
    ("good", (5, True, "", True)),
    ("Good!", (5, True, "", True)),
    ("Good, thank you", (5, True, "thank you", True)),
    ("bad: took two days", (1, False, "took two days", True)),
    ("Excellent, very quick answer", (5, True, "very quick answer", True)),
    ("👍", (5, True, "", True)),
    ("хорошо", (5, True, "", True)),
    ("Хорошо, спасибо!", (5, True, "спасибо!", True)),
    ("отлично", (5, True, "", True)),
    ("Отлично, спасибо за быструю помощь!", (5, True, "спасибо за быструю помощь!", True)),
    ("плохо", (1, False, "", True)),
    ("Плохо: ответ пришёл через неделю", (1, False, "ответ пришёл через неделю", True)),
    ("5 спасибо", (5, True, "спасибо", True)),
    ("5 из 5", (5, True, "", True)),
    ("3 - долго ждали", (3, False, "долго ждали", True)),
    # the customer's own words only: the quoted question and the signature are not read
    ("5 thanks\n\n> How did we do? Reply with a number", (5, True, "thanks", True)),
    ("4\n\nOn Mon, 5 Jan 2026, Anna wrote:\n> 3 questions", (4, True, "", True)),
    ("5\nThanks,\nBob", (5, True, "", True)),
    ("2 - slow\n\n-- \nBob Smith\n555 1234", (2, False, "slow", True)),
    # a rating first, then more: a normal reply that also rates
    ("4\n\nBut now the export fails too, can you help?", (4, True, "", False)),
    (
        "5 thanks! One more question: can I export to CSV?",
        (5, True, "thanks! One more question: can I export to CSV?", False),
    ),
    ("5\n\nЕщё вопрос: как выгрузить отчёт?", (5, True, "", False)),
    # not a rating
    ("5 users cannot log in since Monday", None),
    ("2 questions: how do I export, and where is the invoice?", None),
    ("3 invoices are missing", None),
    ("12.03.2026 the export failed", None),
    ("5/12/2026 the export failed", None),
    ("3.5 is broken", None),
    ("1) open settings 2) click export", None),
    ("5% of our users see it", None),
    ("2 - 3 days ago it stopped working", None),
    ("6", None),
    ("0", None),
    ("10 users", None),
    ("Good morning, I cannot log in", None),
    ("Great, but now the export fails", None),
    ("Хорошо, попробую завтра", None),
    ("Добрый день! 5 пользователей не могут войти", None),
    ("2 пользователя не могут войти", None),
    ("Thanks!", None),
    ("", None),
    ("> 5\n> quoted only", None),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_reading_a_rating(text: str, expected: tuple[int, bool, str, bool] | None) -> None:
    found = read_rating(text)
    if expected is None:
        assert found is None, found
    else:
        assert found is not None
        assert (found.score, found.good, found.comment, found.only) == expected


@pytest.mark.parametrize(
    ("text", "scores"),
    [("5 4", (5, 4)), ("5/4", (5, 4)), ("3, 5", (3, 5)), ("4 и 5 спасибо", (4, 5)), ("5", None)],
)
def test_two_scores_politeness_then_proficiency(text: str, scores: tuple[int, int] | None) -> None:
    found = read_rating(text)
    assert isinstance(found, Rating)
    if scores is None:
        assert found.politeness is None and found.proficiency is None
    else:
        assert (found.politeness, found.proficiency) == scores
        assert found.score == (scores[0] + scores[1] + 1) // 2


def test_the_question_goes_after_the_answer_before_the_signature() -> None:
    q = "How did we do?"
    signed = "Hello Carol,\n\nDone.\n\nBest regards,\nAnna Agent\nAcme Support\n"
    assert with_question(signed, q, "Anna Agent\nAcme Support") == (
        "Hello Carol,\n\nDone.\n\nHow did we do?\n\nBest regards,\nAnna Agent\nAcme Support\n"
    )
    delimited = "Done.\n-- \nAnna\n"
    assert with_question(delimited, q) == "Done.\n\nHow did we do?\n\n-- \nAnna\n"
    assert with_question("Done.", q) == "Done.\n\nHow did we do?\n"
    once = with_question("Done.", q)
    assert with_question(once, q) == once  # never doubled


# -- end to end ----------------------------------------------------------------------------

QUESTION_EN = "How did we do?"
QUESTION_RU = "Оцените, пожалуйста, наш ответ"


def _answered(
    tmp_path: Path, clock: FrozenClock, extra: dict[str, object] | None = None, **mail: str
) -> tuple[Desk, str]:
    """A desk with request #1 from Carol, answered by Anna: (desk, the answer's Message-ID)."""
    desk = make_desk(tmp_path, clock, extra)
    drop_into_maildir(tmp_path, make_mail(message_id="first@client.example.org", **mail))
    desk.fetch()
    clock.advance(timedelta(minutes=30))
    message_id = desk.reply(1, "Please try again now: we have fixed the invoice.", "anna")
    return desk, message_id.strip("<>")


def _answer(
    message_id: str, body: str, sender: str = "Carol Customer <carol@example.org>"
) -> bytes:
    return make_mail(
        sender=sender,
        subject="Re: My invoice is wrong [#1]",
        body=body,
        in_reply_to=message_id,
        references=["first@client.example.org", message_id],
    )


def _out(desk: Desk, number: int) -> list[str]:
    return [m.text for m in desk.request(number).messages if m.direction == "out"]


def test_the_answer_carries_the_question_once_before_the_signature(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk, _ = _answered(tmp_path, clock)
    [ack, answer] = _out(desk, 1)
    assert QUESTION_EN not in ack  # the acknowledgement asks nothing
    assert answer.count(QUESTION_EN) == 1
    assert answer.startswith("Please try again now")
    assert any(e["kind"] == "csat_asked" for e in desk.request(1).events)
    desk.close_database()


def test_no_question_when_ask_is_off(tmp_path: Path, clock: FrozenClock) -> None:
    desk, message_id = _answered(tmp_path, clock, {"csat": {"ask": False}})
    assert all(QUESTION_EN not in text for text in _out(desk, 1))
    drop_into_maildir(tmp_path, _answer(message_id, "5 thanks"))
    desk.fetch()
    assert desk.ratings(1) == []  # never asked: a "5" is just a message
    assert desk.request(1).request.status == "open"
    desk.close_database()


def test_a_russian_request_is_asked_in_russian_for_two_scores(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk, message_id = _answered(
        tmp_path,
        clock,
        {"csat": {"two_scores": True}},
        sender="Мария Петрова <carol@example.org>",
        subject="Не могу войти в аккаунт",
        body="Здравствуйте! Не могу войти, пишет неверный пароль. Письмо для сброса не приходит.\n",
    )
    assert desk.request(1).request.language == "ru"
    answer = _out(desk, 1)[-1]
    assert QUESTION_RU in answer and "вежливость" in answer and QUESTION_EN not in answer
    drop_into_maildir(tmp_path, _answer(message_id, "5 4 спасибо, быстро"))
    desk.fetch()
    [rating] = desk.ratings(1)
    assert (rating.score, rating.good, rating.comment) == (5, True, "спасибо, быстро")
    desk.close_database()


def test_only_a_good_rating_is_recorded_and_ends_the_request(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk, message_id = _answered(tmp_path, clock)
    clock.advance(timedelta(hours=2))
    drop_into_maildir(tmp_path, _answer(message_id, "5 thanks, that was fast\n\n> How did we do?"))
    desk.fetch()
    detail = desk.request(1)
    # Not back on the stack, and no reminder later to a customer who said "5, thanks".
    assert (detail.request.status, detail.request.close_reason) == ("closed", "resolved")
    assert [r.number for r in desk.stack()] == []
    assert [m.kind for m in detail.messages if m.direction == "out"] == ["ack", "reply"]
    assert detail.messages[-1].text.startswith("5 thanks")  # the message is kept
    [rating] = desk.ratings(1)
    assert (rating.score, rating.good, rating.agent) == (5, True, "anna")
    assert rating.comment == "thanks, that was fast"
    assert [e["detail"]["score"] for e in detail.events if e["kind"] == "rated"] == [5]
    assert detail.as_dict()["ratings"][0]["comment"] == "thanks, that was fast"
    clock.advance(timedelta(days=10))
    desk.tick()
    assert [m.kind for m in desk.request(1).messages if m.direction == "out"] == ["ack", "reply"]
    desk.close_database()


def test_only_a_middling_rating_leaves_the_waiting_request_waiting(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk, message_id = _answered(tmp_path, clock)
    drop_into_maildir(tmp_path, _answer(message_id, "3"))
    desk.fetch()
    assert desk.request(1).request.status == "waiting"  # the reminder will ask if all is well
    assert [r.number for r in desk.stack()] == []
    assert [r.score for r in desk.ratings(1)] == [3]
    desk.close_database()


def test_a_rating_of_a_closed_request_does_not_reopen_it(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk, message_id = _answered(tmp_path, clock)
    desk.close(1, "resolved", "anna")
    drop_into_maildir(tmp_path, _answer(message_id, "bad: took two days"))
    desk.fetch()
    assert desk.request(1).request.status == "closed"
    [rating] = desk.ratings(1)
    assert (rating.score, rating.good, rating.comment) == (1, False, "took two days")
    desk.close_database()


def test_a_rating_with_a_question_is_also_a_customer_reply(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk, message_id = _answered(tmp_path, clock)
    drop_into_maildir(
        tmp_path, _answer(message_id, "4\n\nBut now the export fails too, can you help?")
    )
    desk.fetch()
    assert desk.request(1).request.status == "open"
    assert [r.number for r in desk.stack()] == [1]
    [rating] = desk.ratings(1)
    assert (rating.score, rating.good, rating.comment) == (4, True, "")
    desk.close_database()


def test_a_stranger_cannot_rate(tmp_path: Path, clock: FrozenClock) -> None:
    desk, message_id = _answered(tmp_path, clock)
    drop_into_maildir(tmp_path, _answer(message_id, "1", sender="Mallory <mallory@evil.example>"))
    desk.fetch()
    assert desk.ratings(1) == []
    assert desk.request(1).request.status == "waiting"
    desk.close_database()


def test_the_same_mail_twice_is_one_rating_and_a_second_rating_is_kept(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk, message_id = _answered(tmp_path, clock)
    raw = _answer(message_id, "3 - ok")
    drop_into_maildir(tmp_path, raw, raw)
    desk.fetch()
    drop_into_maildir(tmp_path, raw)
    desk.fetch()
    assert [r.score for r in desk.ratings(1)] == [3]
    clock.advance(timedelta(hours=1))
    drop_into_maildir(tmp_path, _answer(message_id, "5! all good now"))
    desk.fetch()
    assert [(r.score, r.comment) for r in desk.ratings(1)] == [(3, "ok"), (5, "all good now")]
    desk.close_database()


def test_requests_show_says_the_rating_as_plain_text(tmp_path: Path, clock: FrozenClock) -> None:
    desk, message_id = _answered(tmp_path, clock)
    drop_into_maildir(tmp_path, _answer(message_id, "5 - thanks [bold]fast[/bold]"))
    desk.fetch()
    desk.close_database()
    shown = run_cli("requests", "show", "1", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert 'Rated 5/5 (good) for anna — "thanks [bold]fast[/bold]"' in shown.stdout


async def test_the_request_screen_shows_the_rating_as_plain_text(
    tmp_path: Path, clock: FrozenClock
) -> None:
    from textual.widgets import Static

    from supportdesk.ui import make_app
    from tests.test_console import SIZE, settle

    desk, message_id = _answered(tmp_path, clock)
    drop_into_maildir(tmp_path, _answer(message_id, "2 - [red]slow[/red], took two days"))
    desk.fetch()
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_request(1)
        await settle(pilot)
        facts = str(app.screen.query_one("#facts", Static).render())
        assert 'Rated 2/5 (bad) — "[red]slow[/red], took two days"' in facts
    desk.close_database()
