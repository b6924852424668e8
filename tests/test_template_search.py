"""Template search and suggestions as an agent notices them: typos, as-you-type, languages."""

from __future__ import annotations

import time

import pytest

from supportdesk.templating.search import TemplateDoc, TemplateIndex
from supportdesk.textsearch import HISTORY_CAP, Hit, Use, keywords

SIGN = "\n\nBest regards,\n{{ agent.signature }}\n"
HELLO = "Hello{% if customer.first_name %} {{ customer.first_name }}{% endif %},\n\n"
ZDR = "Здравствуйте{% if customer.first_name %}, {{ customer.first_name }}{% endif %}!\n\n"


def doc(
    key: int,
    name: str,
    body: str,
    *,
    language: str = "en",
    scope: str = "team",
    tags: tuple[str, ...] = (),
    description: str = "",
) -> TemplateDoc:
    return TemplateDoc(key, name, language, scope, tags, description, body)


DOCS = [
    doc(
        1,
        "password-reset",
        HELLO + "You can set a new password: on the sign-in page click 'Forgot password?' and "
        "follow the link we send you. The link is valid for one hour." + SIGN,
        tags=("password", "login", "forgot"),
        description="Cannot log in or forgot the password: how to reset it.",
    ),
    doc(
        2,
        "password-reset",
        ZDR + "Задать новый пароль можно так: на странице входа нажмите «Забыли пароль?» и "
        "откройте ссылку из письма. Ссылка действует один час." + SIGN,
        language="ru",
        tags=("пароль", "вход", "забыл"),
        description="Не получается войти или забыли пароль: как его сбросить.",
    ),
    doc(
        3,
        "password-protect",
        HELLO + "You can put a password on any shared link: open Share, turn on 'Require "
        "password' and send the password separately from the link." + SIGN,
        tags=("share", "link", "folder"),
        description="How to put a password on a shared link or folder.",
    ),
    doc(
        4,
        "refund",
        HELLO + "We have refunded the payment to your card. Depending on your bank the money "
        "arrives within 5-10 business days." + SIGN,
        tags=("money back", "charged twice"),
        description="Refund policy (14 days) and when the money arrives.",
    ),
    doc(
        5,
        "refund",
        ZDR + "Мы оформили возврат на карту, с которой была оплата. Деньги поступят в "
        "течение 5–10 рабочих дней." + SIGN,
        language="ru",
        tags=("возврат", "деньги", "списание"),
        description="Возврат денег и сроки.",
    ),
    doc(
        6,
        "invoice-copy",
        HELLO + "You will find every invoice under Settings → Billing → Invoices. The company "
        "name and VAT number on future invoices can be changed there too." + SIGN,
        tags=("billing", "invoice", "vat"),
        description="Where to download invoices; company details on invoices.",
    ),
    doc(
        7,
        "two-factor-lost",
        HELLO + "If you lost the phone with your authenticator app, sign in with one of your "
        "backup codes. Without them we can turn off two-factor authentication after checking "
        "that the account is yours." + SIGN,
        tags=("2fa", "authenticator", "phone", "backup codes"),
        description="Lost the phone with the two-factor codes.",
    ),
    doc(
        8,
        "need-more-details",
        HELLO + "Sorry something is not working. Could you tell us what exactly happens, "
        "what you expected, and send a screenshot of the error?" + SIGN,
        tags=("details", "screenshot", "not working"),
        description="Ask for steps, screenshots and the error message.",
    ),
    doc(
        9,
        "cancel-subscription",
        ZDR + "Отменить подписку можно в разделе Настройки → Тариф: после отмены со следующего "
        "месяца с карты ничего не спишется, а проекты будут доступны ещё 30 дней." + SIGN,
        language="ru",
        tags=("подписка", "отмена", "автопродление", "тариф"),
        description="Как отменить подписку и что будет с проектами.",
    ),
    doc(
        10,
        "delete-account",
        ZDR + "Мы удалили вашу учётную запись и все персональные данные. Рассылку вы тоже "
        "больше не получите." + SIGN,
        language="ru",
        tags=("удаление", "аккаунт", "gdpr", "персональные данные"),
        description="Удаление учётной записи и данных.",
    ),
    doc(
        11,
        "auto_ack",
        HELLO + "We have received your request #{{ request.number }} and will answer within "
        "{{ desk.answer_within }}." + SIGN,
        scope="system",
        tags=("system", "acknowledgement"),
    ),
    doc(
        12,
        "my-password-tips",
        HELLO + "A few tips from me: a password manager keeps every password safe." + SIGN,
        scope="personal",
        tags=("password",),
    ),
]


@pytest.fixture(scope="module")
def index() -> TemplateIndex:
    return TemplateIndex(DOCS)


def names(hits: list[Hit]) -> list[str]:
    return [h.doc.name for h in hits]


# --- search -----------------------------------------------------------------------------------


def test_len_counts_every_variant(index: TemplateIndex) -> None:
    assert len(index) == len(DOCS)


@pytest.mark.parametrize("query", ["pasword", "passwrod", "PASWORD", "password"])
def test_a_typo_still_finds_the_password_templates(index: TemplateIndex, query: str) -> None:
    found = names(index.search(query))
    assert {"password-protect", "password-reset"} <= set(found[:3])


def test_a_missing_letter_finds_refund(index: TemplateIndex) -> None:
    assert names(index.search("refnd"))[0] == "refund"


@pytest.mark.parametrize("query", ["пароль", "паролл", "ПАРОЛЯ", "паролем"])
def test_russian_words_and_typos_find_the_russian_password_template(
    index: TemplateIndex, query: str
) -> None:
    hits = index.search(query, language="ru")
    assert hits and hits[0].doc.name == "password-reset"
    assert hits[0].doc.language == "ru"


def test_yo_and_ye_are_the_same_letter() -> None:
    idx = TemplateIndex(
        [doc(1, "schet", "Пришлём счёт на почту.", language="ru"), doc(2, "other", "Другое.")]
    )
    for query in ("счёт", "счет", "СЧЁТ", "Счет"):
        assert names(idx.search(query)) == ["schet"], query


@pytest.mark.parametrize("typed", ["p", "pa", "pas", "pass", "passw", "passwo", "passwor"])
def test_prefixes_match_as_you_type(index: TemplateIndex, typed: str) -> None:
    assert "password-reset" in names(index.search(typed))[:3]


def test_typing_the_second_word_narrows_to_the_right_name(index: TemplateIndex) -> None:
    for typed in ("password r", "password re", "password res", "password reset"):
        assert names(index.search(typed))[0] == "password-reset", typed
    for typed in ("password p", "password prot"):
        assert names(index.search(typed))[0] == "password-protect", typed


def test_a_prefix_with_a_typo_still_finds_the_word(index: TemplateIndex) -> None:
    assert {"password-protect", "password-reset"} <= set(names(index.search("paswo"))[:3])


def test_a_tag_is_found() -> None:
    idx = TemplateIndex(
        [
            doc(1, "company-details", "We have updated the address.", tags=("billing",)),
            doc(2, "welcome", "Welcome aboard."),
        ]
    )
    assert names(idx.search("billing")) == ["company-details"]


def test_the_name_beats_a_mention_in_the_body() -> None:
    idx = TemplateIndex(
        [
            doc(1, "apology", "Sorry. If you want a refund, reply and ask for a refund."),
            doc(2, "refund", "We have sent the money back to your card."),
            doc(3, "unrelated", "Thank you for your idea."),
        ]
    )
    assert names(idx.search("refund")) == ["refund", "apology"]


def test_body_words_are_found_and_jinja_markup_is_not(index: TemplateIndex) -> None:
    assert names(index.search("screenshot"))[0] == "need-more-details"
    for inside_markup in ("customer", "signature", "agent", "endif"):
        assert index.search(inside_markup) == [], inside_markup


def test_one_hit_per_name_in_the_requested_language(index: TemplateIndex) -> None:
    en = index.search("refund", language="en")
    ru = index.search("refund", language="ru")
    assert names(en).count("refund") == 1 and names(ru).count("refund") == 1
    assert en[0].doc.language == "en" and en[0].doc.key == 4
    assert ru[0].doc.language == "ru" and ru[0].doc.key == 5


def test_without_the_language_english_else_any_variant() -> None:
    idx = TemplateIndex(
        [
            doc(1, "refund", "Money back.", language="de"),
            doc(2, "refund", "Money back.", language="en"),
            doc(3, "refund", "Money back.", language="ru"),
            doc(4, "vat", "Money back.", language="ru"),
            doc(5, "vat", "Money back.", language="de"),
        ]
    )
    by_name = {h.doc.name: h.doc for h in idx.search("money", language="fr")}
    assert by_name["refund"].language == "en"
    assert by_name["vat"].language in ("de", "ru")
    assert [h.doc.language for h in idx.search("money", language="fr")] == [
        h.doc.language for h in idx.search("money", language="fr")
    ]
    by_name = {h.doc.name: h.doc for h in idx.search("money", language="ru")}
    assert by_name["refund"].language == "ru" and by_name["vat"].language == "ru"


def test_a_russian_query_finds_a_template_through_its_russian_variant(
    index: TemplateIndex,
) -> None:
    # the agent works in English but remembers the Russian wording: show the English variant
    hits = index.search("возврат", language="en")
    assert hits[0].doc.name == "refund" and hits[0].doc.language == "en"


@pytest.mark.parametrize("query", ["", " ", "\t\n  "])
def test_an_empty_query_lists_every_template_personal_first(
    index: TemplateIndex, query: str
) -> None:
    hits = index.search(query, language="ru", limit=100)
    assert names(hits) == [
        "my-password-tips",
        "auto_ack",
        "cancel-subscription",
        "delete-account",
        "invoice-copy",
        "need-more-details",
        "password-protect",
        "password-reset",
        "refund",
        "two-factor-lost",
    ]
    assert hits[names(hits).index("refund")].doc.language == "ru"
    assert len(index.search(query, limit=3)) == 3


def test_personal_templates_win_a_tie() -> None:
    idx = TemplateIndex(
        [
            doc(1, "a-team", "Invoice attached.", tags=("invoice",)),
            doc(2, "b-mine", "Invoice attached.", tags=("invoice",), scope="personal"),
        ]
    )
    assert names(idx.search("invoice")) == ["b-mine", "a-team"]


def test_equal_scores_are_ordered_by_name() -> None:
    idx = TemplateIndex(
        [doc(i, name, "Your invoice is attached.") for i, name in enumerate("dcab")]
    )
    assert names(idx.search("invoice")) == ["a", "b", "c", "d"]
    assert names(idx.search("invoice", limit=2)) == ["a", "b"]


def test_the_limit_is_respected(index: TemplateIndex) -> None:
    assert len(index.search("p", limit=2)) == 2
    assert index.search("password", limit=0) == []


HOSTILE = [
    ".*",
    "(a|b)*c",
    "[[[",
    "\\",
    "$^",
    "%s%n{0}",
    "\x00\x01\x1b[31m",
    "\ud800",
    "😀🔥",
    "'; DROP TABLE templates; --",
    "a" * 10_000,
    "password " * 1_200,
    "пароль" * 1_700,
    " ".join(str(n) for n in range(3_000)),
    "{{ customer.first_name }}",
]


@pytest.mark.parametrize("query", HOSTILE, ids=lambda q: repr(q[:12]))
def test_hostile_queries_are_harmless_and_fast(index: TemplateIndex, query: str) -> None:
    start = time.perf_counter()
    hits = index.search(query, language="en")
    suggested = index.suggest(query, language="en")
    assert time.perf_counter() - start < 0.5
    assert isinstance(hits, list) and isinstance(suggested, list)
    assert len({h.doc.name for h in hits}) == len(hits)


def test_hostile_queries_give_sensible_results(index: TemplateIndex) -> None:
    assert names(index.search("password(*"))[:2] == ["password-protect", "password-reset"]
    assert names(index.search("pass😀word"))  # two words, both still matched
    assert index.search("😀🔥") == []
    assert index.search(".*") == []
    assert "password-reset" in names(index.search("password " * 1_200))[:3]


def test_an_index_of_nothing() -> None:
    idx = TemplateIndex([])
    assert len(idx) == 0
    assert idx.search("") == [] and idx.search("password") == []
    assert idx.suggest("I forgot my password", language="en") == []


# --- keywords ---------------------------------------------------------------------------------


def test_keywords_normalise_stem_and_drop_stop_words() -> None:
    assert keywords("пароль") == keywords("пароля") == keywords("паролем") == keywords("ПАРОЛИ")
    assert keywords("password") == keywords("passwords") == keywords("Passwords")
    assert keywords("refunded") == keywords("refund") == keywords("refunding")
    assert keywords("ёлка") == keywords("елка")
    assert keywords("Hello, I am not in the and of it, спасибо, что вы мне это") == ()
    assert keywords("refund refund password invoice invoice invoice")[:2] == (
        keywords("invoice")[0],
        keywords("refund")[0],
    )
    assert len(keywords(" ".join(f"word{n}x" for n in range(100)), limit=7)) == 7


def test_keywords_skip_quoted_text_addresses_and_links() -> None:
    text = "Refund please.\n> On Monday you wrote:\n> password reset\nmail me at a.b@example.com"
    assert keywords(text) == keywords("refund mail")
    assert keywords("see https://example.com/invoice?id=1") == keywords("see")


# --- suggestions ------------------------------------------------------------------------------


def test_suggest_picks_the_refund_for_a_double_charge(index: TemplateIndex) -> None:
    message = (
        "Charged twice this month\nI looked at my bank statement and you took the payment "
        "from my card two times. I want my money back for the second one."
    )
    hits = index.suggest(message, language="en")
    assert names(hits)[0] == "refund" and hits[0].doc.language == "en"


def test_suggest_picks_the_two_factor_template_for_a_lost_phone(index: TemplateIndex) -> None:
    message = (
        "New phone, stuck on the code screen\nMy old phone broke and the app now asks for "
        "the code from Google Authenticator. I never saved backup codes."
    )
    assert names(index.suggest(message, language="en"))[0] == "two-factor-lost"


def test_suggest_picks_the_russian_cancellation(index: TemplateIndex) -> None:
    message = (
        "Отключить автопродление\nДобрый день! Мы переходим на другой сервис и хотим отменить "
        "тариф, чтобы со следующего месяца с карты ничего не списывалось. Что будет с "
        "проектами?"
    )
    hits = index.suggest(message, language="ru")
    assert names(hits)[0] == "cancel-subscription"
    assert hits[0].doc.language == "ru"


def test_suggest_prefers_the_variant_in_the_requests_language(index: TemplateIndex) -> None:
    hits = index.suggest("Верните деньги, списали дважды, нужен возврат", language="ru")
    assert hits[0].doc.name == "refund" and hits[0].doc.language == "ru"


def test_suggest_never_offers_system_templates(index: TemplateIndex) -> None:
    message = "We have received your request and will answer within a day, acknowledgement"
    assert "auto_ack" not in names(index.suggest(message, language="en", limit=20))
    history = [Use("auto_ack", keywords(message))] * 5
    assert "auto_ack" not in names(index.suggest(message, language="en", history=history))


def test_suggest_returns_only_matching_templates_and_respects_the_limit(
    index: TemplateIndex,
) -> None:
    assert index.suggest("xyzzy plugh", language="en") == []
    assert index.suggest("", language="en") == []
    hits = index.suggest("password link phone card invoice", language="en", limit=3)
    assert len(hits) == 3 and all(h.score > 0 for h in hits)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


# history: an agent who answers "can't log in" with a personal template of their own

LOGIN = "I can't log in to my account, the login page says my session expired"
SIMILAR = [
    "Cannot log in, the page keeps saying session expired",
    "Login fails: session expired on the login page again",
    "My account login says the session has expired, can't get in",
]
UNRELATED = [
    "Please send me the invoice for March with our VAT number",
    "The export to Excel does not include the comments",
    "Can I add a second user to my workspace?",
]


@pytest.fixture(scope="module")
def with_mine() -> TemplateIndex:
    mine = doc(
        20,
        "my-login-help",
        HELLO + "Let's get you back in: clear the browser's cookies and try again." + SIGN,
        scope="personal",
    )
    return TemplateIndex([*DOCS, mine])


def test_history_lifts_the_template_the_agent_keeps_using(with_mine: TemplateIndex) -> None:
    before = names(with_mine.suggest(LOGIN, language="en"))
    assert "my-login-help" not in before[:1]
    history = [Use("my-login-help", keywords(text)) for text in SIMILAR]
    after = with_mine.suggest(LOGIN, language="en", history=history)
    assert names(after)[0] == "my-login-help"


def test_history_for_unrelated_messages_does_not_count(with_mine: TemplateIndex) -> None:
    history = [Use("my-login-help", keywords(text)) for text in UNRELATED * 3]
    plain = with_mine.suggest(LOGIN, language="en")
    assert with_mine.suggest(LOGIN, language="en", history=history) == plain


def test_one_past_use_does_not_beat_a_clearly_better_match(index: TemplateIndex) -> None:
    message = "I was charged twice, please refund the payment to my card, I want my money back"
    history = [Use("need-more-details", keywords("charged twice refund card"))]
    assert names(index.suggest(message, language="en", history=history))[0] == "refund"


def test_more_similar_uses_give_a_bigger_boost(with_mine: TemplateIndex) -> None:
    def score(uses: int) -> float:
        history = [Use("my-login-help", keywords(t)) for t in (SIMILAR * 3)[:uses]]
        hits = with_mine.suggest(LOGIN, language="en", history=history, limit=20)
        return next((h.score for h in hits if h.doc.name == "my-login-help"), 0.0)

    text = score(0)
    assert 0.0 < text < score(1) < score(3) < score(9) <= text + HISTORY_CAP + 1e-9


def test_history_of_deleted_templates_is_ignored(index: TemplateIndex) -> None:
    history = [Use("gone", keywords(LOGIN)), Use("", ()), Use("refund", ())]
    assert index.suggest(LOGIN, language="en", history=history) == index.suggest(
        LOGIN, language="en"
    )


# --- scale ------------------------------------------------------------------------------------


def test_thousands_of_templates_stay_quick() -> None:
    text = (
        "account password invoice refund card payment login email export delete phone "
        "subscription plan upgrade trial link share folder file team user error sync backup "
        "пароль оплата возврат подписка доступ ошибка счет почта файл ссылка"
    )
    words = text.split()
    docs = [
        doc(
            i,
            f"{words[i % 31]}-{words[(i * 7) % 31]}-{i}",
            " ".join(words[(i * k) % len(words)] + f"{k % 7}" for k in range(1, 90)),
            language="ru" if i % 3 == 0 else "en",
            tags=(words[i % len(words)],),
        )
        for i in range(3000)
    ]
    idx = TemplateIndex(docs)
    timings = []
    for query in ["pa", "pasword", "refund card", "пароль", "", "a" * 10_000, "acc pay err"]:
        start = time.perf_counter()
        idx.search(query, language="en")
        timings.append(time.perf_counter() - start)
    # A guard against a pathological blow-up (a 10,000-character query, thousands of postings),
    # with room for a loaded CI machine; the speed target (20 ms on 10,000) is bench/templates.py.
    assert max(timings) < 1.0
