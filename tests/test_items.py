"""Bugs, ideas and stories: converting requests, attaching them, and telling every customer
when the fix ships — through the real desk, a SQLite file and a real SMTP server."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.errors import SupportDeskError
from tests.fixtures import drop_into_maildir, make_desk, smtp_outgoing
from tests.mailfactory import make_mail

CUSTOMERS = [
    ("Carol Customer <carol@example.org>", "Export to Excel fails"),
    ("Dmitri Petrov <dmitri@example.net>", "Excel export gives an error"),
    ("Erin Example <erin@example.com>", "Cannot export my projects"),
]


def three_reports(folder: Path, clock: FrozenClock, extra: dict | None = None) -> Desk:  # type: ignore[type-arg]
    """Three customers write about the same export bug: requests #1, #2 and #3."""
    desk = make_desk(folder, clock, extra)
    for n, (sender, subject) in enumerate(CUSTOMERS, 1):
        drop_into_maildir(
            folder,
            make_mail(
                sender=sender,
                subject=subject,
                body="Hello,\n\nthe export to Excel stops with 'error 500'.\n\nThanks\n",
                message_id=f"report.{n}@client.example",
            ),
        )
    desk.fetch()
    return desk


def outgoing(desk: Desk, number: int, template: str | None = None) -> list:  # type: ignore[type-arg]
    """The replies queued for request `number` (acknowledgements left out)."""
    return [m for m in desk.request(number).messages if m.direction == "out" and m.kind == "reply"]


def delivered_to(smtp_server, address: str) -> list:  # type: ignore[no-untyped-def,type-arg]
    return [r.message for r in smtp_server.messages if address in r.recipients]


def test_three_customers_one_bug_fixed_and_everyone_told(
    tmp_path: Path, clock: FrozenClock, smtp_server
) -> None:
    desk = three_reports(tmp_path, clock, smtp_outgoing(smtp_server))
    assert [r.number for r in desk.stack()] == [3, 2, 1]

    made = desk.convert(1, "bug", "anna", title="Excel export fails with error 500")
    assert (made.item.number, made.item.kind, made.created) == (1, "bug", True)
    assert made.item.tags == ["sup"] and made.item.created_by == "anna"
    for n in (2, 3):
        attached = desk.attach(n, 1, "anna")
        assert (attached.item.number, attached.created, attached.template) == (1, False, "bug_ack")

    assert desk.stack() == []  # all three are off the stack, linked
    for n in (1, 2, 3):
        request = desk.request(n).request
        assert (request.status, request.item) == ("linked", 1)
        [ack] = outgoing(desk, n)  # bug_ack exactly once each
        assert 'bug #1 "Excel export fails with error 500"' in ack.text
        assert f"request #{n}" in ack.text
    item = desk.item(1)
    assert [r.number for r in item.requests] == [1, 2, 3]
    assert (item.item.customers, item.item.waiting) == (3, 3)

    clock.advance(timedelta(days=5))
    assert desk.tick().follow_ups == []  # linked requests wait for the fix, not the customer

    desk.deliver()
    smtp_server.clear()
    change = desk.fix_item(1, "anna", notify=True)
    assert (change.pushed, change.notified, change.failed) == ([1, 2, 3], [1, 2, 3], {})
    assert change.item.status == "fixed" and change.item.waiting == 0
    assert desk.stack() == []
    desk.deliver()
    for n, (sender, _subject) in enumerate(CUSTOMERS, 1):
        address = sender.split("<")[1].rstrip(">")
        first_name = sender.split()[0]
        request = desk.request(n).request
        assert (request.status, request.reason) == ("waiting", "answered")
        [notice] = delivered_to(smtp_server, address)  # personalised, one each
        body = notice.get_content()
        assert body.startswith(f"Hello {first_name},")
        assert f'request #{n}, "Excel export fails with error 500", is now fixed' in body
        assert f"[#{n}]" in notice["Subject"]
        # threaded in the customer's own conversation
        assert notice["In-Reply-To"] == f"<report.{n}@client.example>"
        assert f"<report.{n}@client.example>" in notice["References"]
    events = [(e["kind"], e["reason"]) for e in desk.request(2).events]
    assert ("attach", "bug") in events and ("push", "fixed") in events

    assert desk.fix_item(1, "anna", notify=True).notified == []  # nobody is told twice


def test_fix_without_notify_puts_them_back_with_the_notice_suggested(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = three_reports(tmp_path, clock)
    desk.convert(1, "bug", "anna")
    desk.attach(3, 1, "anna")
    clock.advance(timedelta(hours=1))
    change = desk.set_item(1, "anna", status="fixed", ref="JIRA-42")
    assert change.pushed == [1, 3]
    stack = desk.stack()
    assert [(r.number, r.reason) for r in stack] == [(3, "fixed"), (1, "fixed"), (2, "new")]
    [(top, _score), *_] = desk.suggest_templates(3, "anna")
    assert top.name == "fixed_notice"
    rendered = desk.render_template("fixed_notice", "anna", 3)
    assert '"Export to Excel fails", is now fixed (JIRA-42)' in rendered.text
    desk.reply_with_template(3, "fixed_notice", "anna")
    assert desk.request(3).request.status == "waiting"
    assert desk.item(1).item.waiting == 1  # #1 still to be told
    # done after fixed changes nothing for the customers
    assert desk.set_item(1, "anna", status="done").pushed == []


def test_an_idea_is_thanked_closed_and_reopened_by_the_customer(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(
        tmp_path,
        make_mail(
            subject="Dark mode please", body="Could you add a dark mode?\n", message_id="i@x"
        ),
    )
    desk.fetch()
    made = desk.convert(1, "idea", "anna")
    assert made.template == "idea_thanks" and made.item.title == "Dark mode please"
    assert "Could you add a dark mode?" in made.item.description
    request = desk.request(1).request
    assert (request.status, request.close_reason) == ("closed", "idea")
    [thanks] = outgoing(desk, 1)
    assert 'idea #1 "Dark mode please"' in thanks.text
    assert desk.item(1).item.waiting == 1

    drop_into_maildir(
        tmp_path,
        make_mail(
            subject="Re: Dark mode please [#1]",
            body="Also for the mobile app!\n",
            message_id="i2@x",
            in_reply_to=thanks.message_id,
        ),
    )
    desk.fetch()
    [top] = desk.stack()
    assert (top.number, top.status, top.reason) == (1, "open", "reopened")
    desk.reply(1, "Noted, thank you!", "anna")  # still waits on the idea, quietly
    assert desk.request(1).request.status == "linked"

    # when the idea ships, the customer hears about it too
    assert desk.set_item(1, "anna", status="done").pushed == [1]
    text = desk.render_template("fixed_notice", "anna", 1).text
    assert '"Dark mode please", is now available' in text


def test_a_story_gets_the_bug_acknowledgement_worded_for_a_story(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = three_reports(tmp_path, clock)
    made = desk.convert(2, "story", "anna", title="Export of large projects")
    assert made.template == "bug_ack"
    assert desk.request(2).request.status == "linked"
    assert 'story #1 "Export of large projects"' in outgoing(desk, 2)[0].text


def test_attaching_to_a_fixed_bug_tells_the_customer_it_is_fixed(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = three_reports(tmp_path, clock)
    desk.convert(1, "bug", "anna")
    desk.fix_item(1, "anna")
    late = desk.attach(2, 1, "anna")
    assert late.template == "fixed_notice" and late.status == "waiting"
    assert "is now fixed" in outgoing(desk, 2)[0].text


def test_refusals_leave_everything_as_it_was(tmp_path: Path, clock: FrozenClock) -> None:
    desk = three_reports(tmp_path, clock)
    with pytest.raises(SupportDeskError, match="unknown kind 'feature'"):
        desk.convert(1, "feature", "anna")
    with pytest.raises(SupportDeskError, match="item #9 does not exist"):
        desk.attach(1, 9, "anna")
    with pytest.raises(SupportDeskError, match="request #99 does not exist"):
        desk.convert(99, "bug", "anna")
    desk.convert(1, "bug", "anna")
    with pytest.raises(SupportDeskError, match="already linked to bug #1"):
        desk.attach(1, 1, "anna")
    desk.set_item(1, "anna", status="wont_do")
    with pytest.raises(SupportDeskError, match="wont_do"):
        desk.attach(2, 1, "anna")
    with pytest.raises(SupportDeskError, match="unknown status"):
        desk.set_item(1, "anna", status="closed")
    assert [len(outgoing(desk, n)) for n in (1, 2, 3)] == [1, 0, 0]


def test_wont_do_brings_the_linked_requests_back_for_an_agent(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = three_reports(tmp_path, clock)
    desk.convert(1, "bug", "anna")
    desk.attach(2, 1, "anna")
    assert desk.set_item(1, "anna", status="wont_do").pushed == [1, 2]
    assert {(r.number, r.reason) for r in desk.stack()} == {
        (1, "wont_do"),
        (2, "wont_do"),
        (3, "new"),
    }


def test_a_broken_template_override_sends_nothing_and_links_nothing(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = three_reports(tmp_path, clock)
    desk.add_template("bug_ack", "Hi {{ item.nmber }}", owner="anna")
    with pytest.raises(SupportDeskError, match="nmber"):
        desk.convert(1, "bug", "anna")
    assert desk.items() == [] and desk.request(1).request.item is None
    assert outgoing(desk, 1) == []


def test_search_finds_open_items_by_typo_and_suggests_by_the_message(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = three_reports(tmp_path, clock)
    drop_into_maildir(
        tmp_path,
        make_mail(subject="Night theme?", body="Dark colours, please.\n", message_id="d@x"),
    )
    desk.fetch()
    desk.convert(1, "bug", "anna", title="Excel export fails with error 500")
    desk.convert(4, "idea", "anna", title="Dark mode for the dashboard")
    assert [i.number for i in desk.search_items("exprt")] == [1]  # one typo
    assert [i.number for i in desk.search_items("dark")] == [2]
    assert [i.number for i in desk.search_items("night")] == [2]  # the customer's words
    assert desk.search_items("", number=3)[0].number == 1  # #3 is about the export
    desk.fix_item(1, "anna")
    assert [i.number for i in desk.search_items("export")] == []  # open items only


def test_export_csv_opens_as_a_table(tmp_path: Path, clock: FrozenClock) -> None:
    from supportdesk.desk.backlog import export

    desk = three_reports(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(subject='=HYPERLINK("http://evil")', message_id="evil@x"))
    desk.fetch()
    desk.convert(1, "bug", "anna", title="Excel export fails")
    desk.attach(2, 1, "anna")
    desk.convert(4, "idea", "anna")
    rows = list(csv.DictReader(io.StringIO(export(desk.items(), "csv"))))
    assert [(r["number"], r["kind"], r["requests"], r["customers"]) for r in rows] == [
        ("1", "bug", "#1 #2", "2"),
        ("2", "idea", "#4", "1"),
    ]
    assert rows[1]["title"].startswith("'=")  # a spreadsheet shows it, never runs it


@pytest.mark.parametrize("kind", ["bug", "idea", "story"])
def test_the_notices_keep_their_paragraphs_for_every_kind(
    tmp_path: Path, clock: FrozenClock, kind: str
) -> None:
    """The kind's branch in bug_ack and fixed_notice must not swallow the blank line after it."""
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(message_id="p@x"))
    desk.fetch()
    desk.convert(1, kind, "anna", title="Dark mode")
    for name in ("bug_ack", "fixed_notice"):
        for language, closing in (("en", "Best regards,"), ("ru", "С уважением,")):
            text = desk.render_template(name, "anna", 1, language).text
            paragraphs = text.split("\n\n")
            assert len(paragraphs) >= 4, text
            assert any(p.startswith(closing) for p in paragraphs), text
