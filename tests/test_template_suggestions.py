"""Suggestions on a real desk: ten realistic requests, the team's templates, top three."""

from __future__ import annotations

from pathlib import Path

from supportdesk.clock import FrozenClock
from supportdesk.desk.templates import shipped_dir
from tests.fixtures import drop_into_maildir, make_desk
from tests.mailfactory import make_mail
from tests.template_cases import CASES


def test_the_template_an_agent_would_pick_is_in_the_top_three(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    desk.import_templates(shipped_dir())
    for i, case in enumerate(CASES):
        drop_into_maildir(
            tmp_path,
            make_mail(
                sender=f"Customer {i} <c{i}@example.org>", subject=case.subject, body=case.body
            ),
        )
    desk.fetch()
    hits, report = 0, []
    for number, case in enumerate(CASES, start=1):
        assert desk.request(number).request.language == case.language
        top = [t.name for t, _ in desk.suggest_templates(number, "anna", limit=3)]
        assert all(desk.template(name, "anna").scope != "system" for name in top)
        hits += case.expected in top
        report.append(f"#{number} {case.expected}: {top}")
    print("\n".join(report), f"\n{hits}/10 in the top three")
    assert hits >= 8, "\n".join(report)


def test_what_the_agent_sent_before_comes_first_for_similar_requests(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """Anna answers 'the app is slow' with her own template whose words share nothing with
    the complaint; after a few such answers it is her first suggestion for the next one."""
    desk = make_desk(tmp_path, clock)
    desk.import_templates(shipped_dir())
    desk.add_template(
        "outage",
        "Hi {{ customer.first_name }}, we had an outage today; all fixed now.\n",
        owner="anna",
    )
    slow = "The projects page takes forever to load and sync is stuck since this morning."
    for i in range(4):
        drop_into_maildir(
            tmp_path, make_mail(sender=f"c{i}@example.org", subject="Slow", body=slow)
        )
    drop_into_maildir(
        tmp_path, make_mail(sender="z@example.org", subject="Invoice", body="I need my invoice.")
    )
    desk.fetch()
    assert "outage" not in [t.name for t, _ in desk.suggest_templates(4, "anna")]
    for number in (1, 2, 3):
        desk.reply_with_template(number, "outage", "anna")
    assert desk.suggest_templates(4, "anna")[0][0].name == "outage"
    assert desk.suggest_templates(5, "anna")[0][0].name == "invoice-copy"
