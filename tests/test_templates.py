"""Templates: shipped files render, the sandbox holds, replies go out through the outbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.desk.templates import ITEM_TEMPLATES, WORKFLOW_TEMPLATES, shipped_dir
from supportdesk.errors import NotFoundError, SupportDeskError
from supportdesk.templating.files import read_template_dir
from supportdesk.templating.render import TemplateError
from tests.fixtures import drop_into_maildir, make_desk, smtp_outgoing
from tests.mailfactory import make_mail

RUSSIAN_MAIL = dict(
    sender="Мария Петрова <maria@example.org>",
    subject="Не могу войти в аккаунт",
    body="Здравствуйте! Не могу войти, пишет неверный пароль. Письмо для сброса не приходит.\n",
)


def _desk_with(tmp_path: Path, clock: FrozenClock, *mails: bytes, **extra: object) -> Desk:
    desk = make_desk(tmp_path, clock, dict(extra) or None)
    desk.import_templates(shipped_dir())
    drop_into_maildir(tmp_path, *mails)
    desk.fetch()
    return desk


def _outbox(desk: Desk, number: int, kind: str) -> list:  # type: ignore[type-arg]
    return [m for m in desk.request(number).messages if m.direction == "out" and m.kind == kind]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_shipped_template_renders_for_a_real_request(
    tmp_path: Path, clock: FrozenClock, language: str
) -> None:
    desk = _desk_with(tmp_path, clock, make_mail(sender="Carol Customer <carol@example.org>"))
    desk.reply(1, "Please check the invoice under Settings → Billing.", "anna")
    names = {t.name for t in read_template_dir(shipped_dir() / "system")}
    names |= {t.name for t in read_template_dir(shipped_dir() / "team")}
    assert set(WORKFLOW_TEMPLATES) <= names and len(names) >= len(WORKFLOW_TEMPLATES) + 8
    items = names & set(ITEM_TEMPLATES)
    for name in sorted(items):  # they speak of an item, and #1 is linked to none yet
        with pytest.raises(TemplateError, match=f"^{name} needs a linked item"):
            desk.render_template(name, "anna", 1, language)
    reminder = desk.render_template("reminder_1", "anna", 1, language).text
    assert "> Please check the invoice under Settings → Billing." in reminder
    for name in sorted(names - items):
        _check_rendered(desk, name, language)
    desk.convert(1, "bug", "anna", title="Invoice shows the wrong amount")
    for name in sorted(items):
        _check_rendered(desk, name, language)


def _check_rendered(desk: Desk, name: str, language: str) -> None:
    rendered = desk.render_template(name, "anna", 1, language)
    assert rendered.template.language == language, name
    text = rendered.text
    assert "{{" not in text and "{%" not in text, name
    if name == "csat_question":  # one line added to answers: no greeting, no signature
        return
    assert "Carol" in text, f"{name} does not greet the customer"
    assert "Anna Agent" in text or "Acme Support" in text, f"{name} is not signed"


def test_russian_customer_gets_the_russian_acknowledgement(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = _desk_with(tmp_path, clock, make_mail(**RUSSIAN_MAIL), make_mail())
    [ru] = _outbox(desk, 1, "ack")
    [en] = _outbox(desk, 2, "ack")
    assert desk.request(1).request.language == "ru"
    assert "Здравствуйте, Мария!" in ru.text and "#1" in ru.text
    assert "Hello Carol," in en.text and "#2" in en.text
    assert "12 hours" in en.text and "12 ч." in ru.text


def test_agent_changes_the_language_and_templates_follow(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = _desk_with(tmp_path, clock, make_mail(**RUSSIAN_MAIL))
    assert desk.render_template("refund", "anna", 1).template.language == "ru"
    desk.set_language(1, "en", "anna")
    assert desk.request(1).request.language == "en"
    assert desk.render_template("refund", "anna", 1).template.language == "en"
    assert desk.request(1).events[-1]["kind"] == "language"
    with pytest.raises(SupportDeskError, match="bad template language"):
        desk.set_language(1, "english!", "anna")


def test_typo_in_a_placeholder_names_template_and_line_and_queues_nothing(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = _desk_with(tmp_path, clock, make_mail())
    desk.add_template(
        "oops", "Hello {{ customer.first_name }},\n\nDear {{ customer.frist_name }}\n", owner="anna"
    )
    before = desk.request(1)
    with pytest.raises(TemplateError) as error:
        desk.reply_with_template(1, "oops", "anna")
    message = str(error.value)
    assert "'oops'" in message and "line 3" in message and "frist_name" in message
    assert "first_name" in message  # it says what exists
    after = desk.request(1)
    assert len(after.messages) == len(before.messages)
    assert after.request.status == before.request.status == "new"
    assert desk.templates("anna")[0].use_count == 0


def test_a_template_that_does_not_compile_is_refused_when_added(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = _desk_with(tmp_path, clock)
    with pytest.raises(TemplateError, match=r"'broken' \(en\), line 2"):
        desk.add_template("broken", "Hello\n{% if customer.name %}no end\n", owner="anna")
    with pytest.raises(NotFoundError):
        desk.template("broken", "anna")


SANDBOX_ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ request.__dict__ }}",
    "{{ customer.name.upper() }}",
    "{{ customer.name.upper }}",
    "{{ '{0.__class__}'.format(customer) }}",
    "{{ range.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ lipsum.__globals__ }}",
    "{% for i in range(1000000000) %}x{% endfor %}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}",
    "{{ 'x' * 1000000000 }}",
    "{{ 'x'|center(1000000000) }}",
    "{{ 9 ** 999999999 }}",
    "{{ '%999999999s' % 'x' }}",
    "{% set a = 'x'|center(9000) %}{{ a ~ a ~ a ~ a ~ a ~ a ~ a ~ a ~ a ~ a ~ a ~ a }}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
]


@pytest.mark.parametrize("source", SANDBOX_ESCAPES)
def test_the_sandbox_refuses_or_stops_hostile_templates(
    tmp_path: Path, clock: FrozenClock, source: str
) -> None:
    desk = _desk_with(tmp_path, clock, make_mail())
    desk.add_template("hostile", source, owner="anna")
    with pytest.raises(TemplateError) as error:
        desk.render_template("hostile", "anna", 1)
    assert str(error.value).startswith("template 'hostile' (personal of anna, en)")
    assert "Traceback" not in str(error.value)


def test_untrusted_values_are_inserted_as_text(tmp_path: Path, clock: FrozenClock) -> None:
    hostile = make_mail(sender='"{{ 7*7 }} [red]x[/red]" <evil@example.org>')
    desk = _desk_with(tmp_path, clock, hostile)
    desk.add_template("hi", "Dear {{ customer.name }} ({{ request.subject }})\n", owner="anna")
    text = desk.render_template("hi", "anna", 1).text
    assert text == "Dear {{ 7*7 }} [red]x[/red] (My invoice is wrong)\n"
    [ack] = _outbox(desk, 1, "ack")
    assert ack.text.startswith("Hello,\n") and "49" not in ack.text  # no name beats "Hello {{,"


def test_reply_with_template_goes_out_threaded_and_the_use_is_recorded(
    tmp_path: Path, clock: FrozenClock, smtp_server
) -> None:
    question = make_mail(
        subject="Charged twice",
        body="You charged my card twice, I want a refund.\n",
        message_id="q1@client.example.org",
    )
    desk = _desk_with(tmp_path, clock, question, **smtp_outgoing(smtp_server))
    message_id, rendered = desk.reply_with_template(1, "refund", "anna", extra="P.S. Sorry!")
    desk.deliver()
    received = {r.message["Message-ID"]: r for r in smtp_server.wait_for(2)}
    sent = received[f"<{message_id}>"].message
    assert sent["In-Reply-To"] == "<q1@client.example.org>"
    assert "<q1@client.example.org>" in sent["References"]
    assert sent["Subject"] == "Re: Charged twice [#1]"
    body = sent.get_content()
    sent_text, question = body.replace("\r\n", "\n").rsplit("\n\n", 1)
    assert sent_text == rendered.text.rstrip("\n") + "\n\nP.S. Sorry!"
    assert question.startswith("How did we do?")  # [csat] ask: the rating question, last
    assert "Hello Carol," in body and "14 days" in body
    detail = desk.request(1)
    assert detail.request.status == "waiting"
    assert detail.events[-1]["detail"]["template"] == "refund"
    [refund] = [t for t in desk.templates("anna") if t.name == "refund" and t.language == "en"]
    assert refund.use_count == 1


def test_personal_template_shadows_the_team_one_for_its_owner_only(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = _desk_with(tmp_path, clock, make_mail())
    desk.ensure_agent("bob", "Bob Agent")
    desk.add_template("refund", "My own refund words, {{ customer.first_name }}.\n", owner="anna")
    assert desk.render_template("refund", "anna", 1).text == "My own refund words, Carol.\n"
    assert "14 days" in desk.render_template("refund", "bob", 1).text
    anna = [t for t in desk.templates("anna") if t.name == "refund"]
    assert {t.scope for t in anna} == {"personal"}
    assert {t.scope for t in desk.templates("anna", shadowed=True) if t.name == "refund"} == {
        "personal",
        "team",
    }
    desk.remove_template("refund", owner="anna")
    assert "14 days" in desk.render_template("refund", "anna", 1).text


def test_team_override_of_the_acknowledgement_and_its_fallback(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = _desk_with(tmp_path, clock)
    desk.add_template("auto_ack", "Got it: #{{ request.number }}.\n", owner=None)
    drop_into_maildir(tmp_path, make_mail())
    desk.fetch()
    assert _outbox(desk, 1, "ack")[0].text == "Got it: #1.\n"
    # A broken override must not cost the customer the acknowledgement.
    desk.add_template("auto_ack", "Got it: #{{ request.numbr }}.\n", owner=None)
    drop_into_maildir(tmp_path, make_mail(sender="dan@example.net"))
    desk.fetch()
    [ack] = _outbox(desk, 2, "ack")
    assert "#2" in ack.text and "Hello" in ack.text
    errors = [e for e in desk.request(2).events if e["kind"] == "template_error"]
    assert errors and "numbr" in errors[0]["detail"]["error"]


def test_export_and_import_round_trip(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _desk_with(tmp_path / "a", clock)
    desk.add_template("mine", '+++\ntags = ["x"]\ndescription = "d"\n+++\nHi\n', owner="anna")
    team = desk.export_templates(tmp_path / "export")
    personal = desk.export_templates(tmp_path / "personal", owner="anna")
    assert [p.name for p in personal] == ["mine.en.md"]
    assert len(team) == len(list(shipped_dir().glob("*/*.md")))

    other = make_desk(tmp_path / "b", clock)
    report = other.import_templates(tmp_path / "export")
    assert report.added == len(team) - 16 and report.unchanged == 16  # system came with the desk
    other.import_templates(tmp_path / "personal", owner="anna")
    [mine] = [t for t in other.templates("anna") if t.name == "mine"]
    assert (mine.scope, mine.owner, mine.tags, mine.description) == (
        "personal",
        "anna",
        ("x",),
        "d",
    )
    assert other.import_templates(tmp_path / "export").summary() == (
        f"0 added, 0 updated, {len(team)} unchanged"
    )


def test_a_folder_with_one_bad_file_imports_nothing(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _desk_with(tmp_path, clock)
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "good.en.md").write_text("Hello\n", encoding="utf-8")
    (folder / "bad.en.md").write_text("+++\nname = 'bad'\n", encoding="utf-8")
    with pytest.raises(SupportDeskError, match="bad.en.md: the front matter has no closing"):
        desk.import_templates(folder)
    assert not [t for t in desk.templates("anna") if t.name == "good"]


# -- templates can't hurt the desk ---------------------------------------------------------

BIG = "{% set big = 'x' * 99999 %}\n"
"""A line that builds the largest allowed value; the hostile call is on line 2."""

FAILING_OVERRIDES = {
    # a filter's own assertion (not a template error)
    "assert": ('{{ "x" | truncate(1, end="...") }}\n', "line 1: failed: AssertionError"),
    # a Python exception inside a filter
    "attribute": ("{{ customer.name | xmlattr }}\n", "line 1: failed: AttributeError"),
    # a huge repeat: 100,000 copies of 100,000 characters joined (a MemoryError on main)
    "memory": (BIG + "{{ ([big] * 100000) | join }}\n", "line 2: refused"),
}


@pytest.mark.parametrize("case", FAILING_OVERRIDES)
def test_a_team_auto_ack_that_fails_in_any_way_never_blocks_intake(
    tmp_path: Path, clock: FrozenClock, case: str
) -> None:
    source, expected = FAILING_OVERRIDES[case]
    desk = _desk_with(tmp_path, clock)
    desk.add_template("auto_ack", source, owner=None)
    drop_into_maildir(tmp_path, make_mail(), make_mail(sender="Dan <dan@example.net>"))
    report = desk.fetch()  # used to raise, every time: no mail came in at all
    assert report.intake.new_requests == [1, 2]
    for number, name in ((1, "Carol"), (2, "Dan")):
        [ack] = _outbox(desk, number, "ack")  # the shipped acknowledgement
        assert ack.text.startswith(f"Hello {name},\n\nThank you for contacting us.")
        assert f"request #{number}." in ack.text
    [error] = [e for e in desk.request(1).events if e["kind"] == "template_error"]
    assert error["detail"]["error"].startswith("template 'auto_ack' (team, en), ")
    assert expected in error["detail"]["error"]
    # the second mail of the batch is told why it got the shipped text too
    [later] = [e for e in desk.request(2).events if e["kind"] == "template_error"]
    assert "earlier in this batch" in later["detail"]["error"]


def test_a_failing_workflow_template_is_logged(
    tmp_path: Path, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    desk = _desk_with(tmp_path, clock)
    desk.add_template("auto_ack", '{{ "x" | truncate(1, end="...") }}\n', owner=None)
    drop_into_maildir(tmp_path, make_mail())
    with caplog.at_level("WARNING", logger="supportdesk.templates"):
        desk.fetch()
    assert "template 'auto_ack' (team, en), line 1: failed: AssertionError" in caplog.text
    assert _outbox(desk, 1, "ack")


def test_a_slow_team_auto_ack_is_cut_short_inside_the_intake_transaction(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """Intake renders auto_ack while it holds the write lock: a few filter calls that take
    seconds in all are stopped after 50 ms of CPU, and the customer gets the shipped text."""
    slow = (
        "{% set words = 'ab ' * 30000 %}\n"
        "{% for i in range(20) %}{{ words | wordwrap(3, wrapstring='') | length }}{% endfor %}\n"
    )
    desk = _desk_with(tmp_path, clock)
    desk.add_template("auto_ack", slow, owner=None)
    drop_into_maildir(tmp_path, make_mail())
    desk.fetch()
    [ack] = _outbox(desk, 1, "ack")
    assert ack.text.startswith("Hello Carol,\n\nThank you for contacting us.")
    [error] = [e for e in desk.request(1).events if e["kind"] == "template_error"]
    assert "line 2: stopped after 0.05 s of work" in error["detail"]["error"]


HUGE_CALLS = [
    BIG + "{{ big | replace('x', big) }}",  # 10 GB
    BIG + "{{ range(100000) | join(big) }}",  # 10 GB
    BIG + "{{ big | wordwrap(1, wrapstring=big) }}",  # 10 GB
    "{% set lines = '\n' * 99999 %}{% set big = 'x' * 99999 %}\n{{ lines | indent(big) }}",
    BIG + "{{ ('%(a)s' * 16000) | format(a=big) }}",  # 1.6 GB
    BIG + "{{ [1] | batch(10000, big) | list }}",  # a list that prints as 1 GB
    BIG + "{{ ([big] * 10000) | string }}",
    BIG + "{% for x in [1] | batch(10000, big) %}{{ x }}{% endfor %}",
    "{{ ((((2 ** 64) ** 64) ** 64) ** 64) ** 64 }}",
]


@pytest.mark.parametrize("source", HUGE_CALLS)
def test_a_filter_call_that_would_build_gigabytes_is_refused_before_it_starts(
    tmp_path: Path, clock: FrozenClock, source: str
) -> None:
    import tracemalloc

    desk = _desk_with(tmp_path, clock, make_mail())
    desk.add_template("hostile", source, owner="anna")
    tracemalloc.start()
    try:
        with pytest.raises(TemplateError) as error:
            desk.render_template("hostile", "anna", 1)
        grown_mb = tracemalloc.get_traced_memory()[1] / 1e6  # the peak during the render
    finally:
        tracemalloc.stop()
    message = str(error.value)
    assert message.startswith("template 'hostile' (personal of anna, en)")
    assert ", line " in message and "refused" in message
    assert grown_mb < 100  # nothing near the gigabytes asked for was allocated


def test_cpu_spent_inside_filters_counts_against_the_render_budget(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """200 iterations of one expensive filter took over 20 s: a render stops after its
    budget (1 s of CPU), whether the time goes to the template's loop or into filters."""
    import time

    expensive = (
        "{% set words = 'ab ' * 30000 %}\n"
        "{% for i in range(200) %}{{ words | wordwrap(3, wrapstring='') | length }}"
        "{% endfor %}\n"
    )
    desk = _desk_with(tmp_path, clock, make_mail())
    desk.add_template("expensive", expensive, owner="anna")
    started = time.thread_time()
    with pytest.raises(TemplateError, match=r"'expensive' .*, line 2: stopped after 1 s of work"):
        desk.render_template("expensive", "anna", 1)
    from supportdesk.templating.render import RENDER_SECONDS

    assert time.thread_time() - started < 5 * RENDER_SECONDS


def test_a_broken_team_bug_ack_falls_back_to_the_shipped_text_when_converting(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = _desk_with(tmp_path, clock, make_mail())
    desk.add_template("bug_ack", '{{ "x" | truncate(1, end="...") }}\n', owner=None)
    linked = desk.convert(1, "bug", "anna", title="Invoice total is wrong")
    assert linked.status == "linked"
    [mail] = _outbox(desk, 1, "reply")
    assert mail.text.startswith("Hello Carol,\n\nThank you for reporting this")
    assert 'bug #1 "Invoice total is wrong"' in mail.text
    [error] = [e for e in desk.request(1).events if e["kind"] == "template_error"]
    assert "'bug_ack' (team, en), line 1: failed: AssertionError" in error["detail"]["error"]
