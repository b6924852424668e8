"""The request life cycle as pure functions: what each event does to a request, no database."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from supportdesk.domain import lifecycle as lc

NOW = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)
WROTE = NOW - timedelta(minutes=5)


def test_the_life_cycle_imports_only_the_standard_library() -> None:
    code = (
        "import json, sys; before = set(sys.modules); "
        "import supportdesk.domain.lifecycle; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    ours = [m for m in json.loads(out) if m.startswith("supportdesk")]
    assert all(
        m in ("supportdesk", "supportdesk.domain") or m.startswith("supportdesk.domain.")
        for m in ours
    ), ours
    assert not any(m.startswith(("sqlalchemy", "sqlmodel", "jinja2")) for m in json.loads(out))


def test_a_first_message_puts_a_new_request_on_the_stack() -> None:
    change = lc.created(WROTE, NOW)
    assert change["status"] == "new" and lc.on_stack(change["status"])
    assert change["reason"] == "new"
    assert change["pushed_at"] == WROTE  # when the customer wrote, not when we fetched it
    assert change["reminder_count"] == 0
    assert change["closed_at"] is None and change["close_reason"] is None


def test_imported_history_is_closed_at_once() -> None:
    change = lc.created(WROTE, NOW, history=True)
    assert change["status"] == "closed" and not lc.on_stack(change["status"])
    assert change["close_reason"] == "imported" and change["closed_at"] == NOW


@pytest.mark.parametrize("status", ["new", "open", "waiting", "linked"])
def test_a_customer_reply_pushes_the_request_and_resets_the_reminders(status: str) -> None:
    change = lc.message_arrived(status, "customer_reply", WROTE, NOW)
    assert change["status"] == "open" and change["reason"] == "customer_reply"
    assert change["pushed_at"] == WROTE and change["updated_at"] == NOW
    assert change["reminder_count"] == 0


def test_a_customer_reply_to_a_closed_request_reopens_it() -> None:
    change = lc.message_arrived("closed", "customer_reply", WROTE, NOW)
    assert change["status"] == "open" and change["reason"] == "reopened"
    assert change["closed_at"] is None and change["close_reason"] is None
    assert change["reminder_count"] == 0


def test_a_bounce_pushes_back_without_touching_the_reminders() -> None:
    change = lc.message_arrived("waiting", "delivery_failed", WROTE, NOW)
    assert change["status"] == "open" and change["reason"] == "delivery_failed"
    assert "reminder_count" not in change
    # A bounce on a closed request does not pass for the customer reopening it, and an open
    # request never keeps a close reason.
    closed = lc.message_arrived("closed", "delivery_failed", WROTE, NOW)
    assert closed["reason"] == "delivery_failed" and closed["close_reason"] is None


def test_a_failed_delivery_is_the_same_push_as_a_bounce() -> None:
    change = lc.delivery_failed(NOW)
    assert change == lc.message_arrived("closed", "delivery_failed", NOW, NOW)


def test_a_message_pushes_only_with_a_reason_a_message_has() -> None:
    with pytest.raises(ValueError):
        lc.message_arrived("open", "fixed", WROTE, NOW)


def test_an_answer_takes_the_request_off_the_stack_and_ends_the_claim() -> None:
    change = lc.answered("new", "new", 0, NOW)
    assert change["status"] == "waiting" and change["reason"] == "answered"
    assert not lc.on_stack(change["status"])
    assert change["reminder_count"] == 0
    assert change["claimed_by"] is None and change["claimed_until"] is None


def test_answering_a_follow_up_counts_a_reminder() -> None:
    assert lc.answer_is_reminder("open", "follow_up")
    assert lc.answered("open", "follow_up", 1, NOW)["reminder_count"] == 2
    # a customer reply after a follow-up is an answer again, not a reminder
    assert not lc.answer_is_reminder("open", "customer_reply")
    assert lc.answered("open", "customer_reply", 1, NOW)["reminder_count"] == 1
    # a follow-up reason left on a request no longer on the stack is no reminder either
    assert not lc.answer_is_reminder("waiting", "follow_up")


def test_an_answer_on_a_request_whose_bug_is_open_waits_for_the_fix() -> None:
    change = lc.answered("open", "customer_reply", 0, NOW, item_open=True)
    assert change["status"] == "linked" and change["reason"] == "linked"


def test_answering_a_closed_request_opens_it_again() -> None:
    change = lc.answered("closed", "new", 0, NOW)
    assert change["status"] == "waiting"
    assert change["closed_at"] is None and change["close_reason"] is None


def test_a_close_takes_the_request_off_the_stack_with_its_reason() -> None:
    change = lc.closed("spam", NOW)
    assert change["status"] == "closed" and change["close_reason"] == "spam"
    assert change["closed_at"] == NOW
    assert change["claimed_by"] is None
    assert "no_reply" in lc.CLOSE_REASONS and "imported" not in lc.CLOSE_REASONS


def test_silence_pushes_a_follow_up_and_the_reminder_templates_go_in_order() -> None:
    change = lc.follow_up(NOW)
    assert change == {
        "status": "open",
        "reason": "follow_up",
        "pushed_at": NOW,
        "updated_at": NOW,
    }
    assert lc.follow_up(NOW, reminder_count=1)["reminder_count"] == 1
    assert [lc.reminder_template(n) for n in (1, 2, 3)] == [
        "reminder_1",
        "reminder_2",
        "reminder_2",
    ]


def test_silence_after_the_last_reminder_closes_no_reply() -> None:
    change = lc.closed(lc.NO_REPLY, NOW)
    assert change["status"] == "closed" and change["close_reason"] == "no_reply"


@pytest.mark.parametrize(
    ("kind", "item_status", "status", "reason", "close_reason"),
    [
        ("bug", "open", "linked", "linked", None),
        ("story", "open", "linked", "linked", None),
        ("idea", "open", "closed", "idea", "idea"),
        ("bug", "fixed", "waiting", "answered", None),
        ("story", "done", "waiting", "answered", None),
    ],
)
def test_linking_to_an_item(
    kind: str, item_status: str, status: str, reason: str, close_reason: str | None
) -> None:
    change = lc.linked(kind, item_status, NOW)
    assert (change["status"], change["reason"], change["close_reason"]) == (
        status,
        reason,
        close_reason,
    )
    assert change["closed_at"] == (NOW if status == "closed" else None)
    assert change["reminder_count"] == 0 and change["claimed_by"] is None


def test_who_waits_on_an_item() -> None:
    assert lc.waits_on_item("linked", None)
    assert lc.waits_on_item("open", None)
    assert lc.waits_on_item("closed", "idea")
    assert not lc.waits_on_item("closed", "resolved")
    assert not lc.waits_on_item("waiting", None)


@pytest.mark.parametrize(
    ("old", "new", "push"),
    [
        ("open", "fixed", ("fixed", False)),
        ("in_progress", "done", ("fixed", False)),
        ("fixed", "done", None),  # already shipped: nobody is pushed twice
        ("open", "wont_do", ("wont_do", True)),
        ("fixed", "open", None),
        ("open", "open", None),
    ],
)
def test_an_item_status_change_pushes_its_requests(
    old: str, new: str, push: tuple[str, bool] | None
) -> None:
    assert lc.item_push(old, new) == push


def test_a_request_pushed_by_its_item_is_open_with_no_close_reason() -> None:
    change = lc.item_pushed("fixed", NOW)
    assert change["status"] == "open" and change["reason"] == "fixed"
    assert change["close_reason"] is None and change["reminder_count"] == 0
    assert change["pushed_at"] == NOW
