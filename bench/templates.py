"""Template search benchmark: index 10,000 synthetic templates, then time search() and suggest().

    python bench/templates.py                  # 10,000 templates, 200 queries, 50 suggestions
    python bench/templates.py --count 50000 --seed 7

The templates are generated deterministically (random.Random(seed)): English and Russian
support vocabulary (inflected forms included), names like "refund-policy-17", tags, 50-150
word bodies with Jinja markup, a few thousand rare words (product names, codes) so that the
vocabulary is as large as a real desk's. Queries: exact words, typos, prefixes of 2-5
letters, Cyrillic, multi-word, blank and hostile ones (a 10,000-character query, regex
characters, control characters, emoji). Prints one JSON line per measurement: latency p50 /
p99 / max in ms, index build time in s and the memory the index holds.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from supportdesk.templating.search import TemplateDoc, TemplateIndex  # noqa: E402
from supportdesk.textsearch import Use, keywords  # noqa: E402


def _words(text: str) -> list[str]:
    return text.split()


EN_WORDS = _words("""
account access address admin answer app application attach attachment backup bank billing
browser bug cancel cancellation card change charge charged charges checkout client code
company confirm confirmation contact contract copy credit customer data database date delete
deleted delivery device discount document documents domain download email emails error
export failed feature file files folder form install installed integration invoice invoices
issue issues key language license limit link links login logged mail message migration
mobile money month monthly notification notifications order orders owner page password
passwords payment payments period permission permissions phone plan plans price pricing
privacy problem profile project projects receipt refund refunded refunds renewal report
reports request reset restore role screen security server service session settings share
shared sign signature storage subscription subscriptions support sync tax team teams ticket
trial update updated upgrade upload user users verification version workspace year yearly
reply replied weekly deadline schedule calendar reminder reminders status statement twice
secure protect protected encryption token tokens authenticator verify verified recovery
""")
EN_FILLER = _words("""
please thank you we our your the a an to of in on for with as soon possible can will may
would like help happy sorry inconvenience apologize understand check look into team usually
within hours days business next step steps following instructions below above click open
go select choose enter new old current again still already just also once more time
""")
RU_WORDS = _words("""
аккаунт аккаунта аккаунте доступ доступа адрес адреса администратор ответ ответа приложение
приложения вложение вложения резервная копия копию банк банка оплата оплаты оплату счет счета
счёт браузер ошибка ошибки отменить отмена карта карты карту изменить изменение списание
списали списания клиент клиента код кода компания компании подтвердить подтверждение данные
данных удалить удаление удалён доставка устройство скидка документ документы домен скачать
почта почты почту письмо письма экспорт выгрузка файл файлы файлов папка папку установить
интеграция вопрос проблема проблемы ключ язык лицензия лимит ссылка ссылку ссылки вход войти
сообщение мобильный деньги деньгами месяц месяца уведомление уведомления заказ заказа
владелец страница пароль пароля паролем пароли платеж платежа тариф тарифа цена политика
профиль проект проекта проекты квитанция возврат возврата вернуть отчет отчёт отчеты запрос
сбросить сброс восстановить восстановление роль экран безопасность сервер сервис сессия
настройки подписка подписки подписку поддержка синхронизация налог команда команды
обновление обновить загрузить пользователь пользователи проверка версия год годовой
двухфакторная аутентификация телефон телефона защитить защита шифрование токен
""")
RU_FILLER = _words("""
пожалуйста спасибо мы наш ваш вам вас в на для с по как можно скорее поможем рады извините
неудобства понимаем проверим обычно в течение часов дней рабочих следующий шаг шаги инструкции
ниже выше нажмите откройте выберите введите новый старый текущий снова уже также раз время
""")
NAME_WORDS = _words("""
refund policy password reset protect invoice copy cancel subscription export data delete
account change email two factor lost login trouble billing question plan upgrade downgrade
trial extension team invite seats storage limit sync error mobile app bug report feature
request welcome onboarding security alert payment failed card expired tax receipt vat domain
setup sso integration api key webhook backup restore privacy gdpr contract renewal
""")
TAGS = NAME_WORDS + _words("""
возврат пароль оплата подписка счет доступ ошибка удаление экспорт почта безопасность
""")
MARKUP = [
    "{{ customer.first_name }}",
    "{{ request.number }}",
    "{% if customer.first_name %}{{ customer.first_name }}{% endif %}",
    "{{ agent.signature }}",
    "{{ desk.answer_within }}",
]
SYLLABLES = _words("ka ro mi ta ne lu vo si pa de xo ri bel tor an qu zen fi mar plo dro")


def _rare_words(rng: random.Random, count: int) -> list[str]:
    """Product names, codes and other words each used by a few templates only."""
    out: set[str] = set()
    while len(out) < count:
        out.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(out)


def _zipf_pick(rng: random.Random, words: list[str]) -> str:
    # index ~ Zipf-like: small indices (after a fixed shuffle) are much more frequent
    return words[min(len(words) - 1, int(rng.paretovariate(1.1)) - 1)]


def make_templates(count: int, seed: int) -> list[TemplateDoc]:
    rng = random.Random(seed)
    en, ru = EN_WORDS[:], RU_WORDS[:]
    rng.shuffle(en)
    rng.shuffle(ru)
    rare = _rare_words(rng, 6000)
    docs: list[TemplateDoc] = []
    serial = 0
    while len(docs) < count:
        serial += 1
        name = "-".join(rng.sample(NAME_WORDS, rng.randint(1, 3))) + f"-{serial}"
        scope = rng.choices(["team", "personal", "system"], [80, 12, 8])[0]
        tags = tuple(rng.sample(TAGS, rng.randint(1, 5)))
        languages = ["en", "ru"] if rng.random() < 0.3 else [rng.choice(["en", "en", "ru"])]
        topic_rare = rng.sample(rare, 3)
        for language in languages:
            content, filler = (en, EN_FILLER) if language == "en" else (ru, RU_FILLER)
            body: list[str] = []
            for _ in range(rng.randint(50, 150)):
                roll = rng.random()
                if roll < 0.45:
                    body.append(rng.choice(filler))
                elif roll < 0.9:
                    body.append(_zipf_pick(rng, content))
                elif roll < 0.97:
                    body.append(rng.choice(topic_rare))
                else:
                    body.append(rng.choice(MARKUP))
                if rng.random() < 0.08:
                    body[-1] += rng.choice([".", ",", ".\n\n", ":"])
            description = " ".join(_zipf_pick(rng, content) for _ in range(rng.randint(5, 12)))
            docs.append(
                TemplateDoc(
                    key=len(docs) + 1,
                    name=name,
                    language=language,
                    scope=scope,
                    tags=tags,
                    description=description.capitalize() + ".",
                    body=" ".join(body),
                )
            )
    return docs[:count]


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["drop", "swap", "replace", "double"])
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "replace":
        letters = "абвгдеиклмнопрст" if word[0] >= "а" else "abcdefghiklmnoprst"
        return word[:i] + rng.choice(letters) + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def make_queries(seed: int) -> list[tuple[str, str]]:
    """(kind, query) pairs, about 200."""
    rng = random.Random(seed + 1)
    content = EN_WORDS + NAME_WORDS
    long_words = [w for w in content + RU_WORDS if len(w) >= 5]
    queries: list[tuple[str, str]] = []
    queries += [("exact", rng.choice(content)) for _ in range(30)]
    queries += [("typo", _typo(rng, rng.choice(long_words))) for _ in range(40)]
    queries += [
        ("prefix", (w := rng.choice(content))[: rng.randint(2, min(5, len(w)))]) for _ in range(40)
    ]
    queries += [("cyrillic", rng.choice(RU_WORDS)) for _ in range(20)]
    queries += [("cyrillic-prefix", rng.choice(RU_WORDS)[: rng.randint(2, 5)]) for _ in range(10)]
    queries += [
        ("multi-word", " ".join(rng.sample(content + RU_WORDS, rng.randint(2, 4))))
        for _ in range(30)
    ]
    queries += [
        ("multi-word-typing", " ".join(rng.sample(content, 2)) + " " + rng.choice(content)[:3])
        for _ in range(10)
    ]
    queries += [("blank", rng.choice(["", " ", "\t\n", "   "])) for _ in range(4)]
    words = content + RU_WORDS + ["(", "*", "[", "\\", "$", "^", "?"]
    queries += [
        ("10k chars", " ".join(rng.choice(words) for _ in range(2500))[:10_000]) for _ in range(3)
    ]
    queries += [("10k chars", "a" * 10_000), ("10k chars", "пароль" * 1700)]
    queries += [
        ("hostile", q)
        for q in [".*", "(a|b)*c", "[[[", "\\", "\x00\x01\x1b[31m", "😀🔥", "pass😀word", "%s%n{0}"]
    ]
    return queries


def _percentiles(times: list[float]) -> dict[str, float]:
    ms = sorted(t * 1000 for t in times)
    return {
        "p50_ms": round(statistics.median(ms), 3),
        "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 3),
        "max_ms": round(ms[-1], 3),
    }


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    docs = make_templates(args.count, args.seed)
    words = sum(len(d.body.split()) for d in docs)
    gc.collect()
    start = time.perf_counter()
    index = TemplateIndex(docs)
    build = time.perf_counter() - start
    tracemalloc.start()
    measured = TemplateIndex(docs)
    held, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del measured
    print(
        json.dumps(
            {
                "what": "index build",
                "templates": len(index),
                "names": len({d.name for d in docs}),
                "body_words": words,
                "seconds": round(build, 2),
                "index_mb": round(held / 1e6),
            }
        )
    )

    queries = make_queries(args.seed)
    by_kind: dict[str, list[float]] = {}
    every: list[float] = []
    for kind, query in queries:
        for language in ("en", "ru"):
            # cold: each query's words are new to the index's small cache
            index._candidate_cache.clear()
            t = _timed(partial(index.search, query, language=language))
            by_kind.setdefault(kind, []).append(t)
            every.append(t)
    print(json.dumps({"what": "search", "queries": len(every), **_percentiles(every)}))
    for kind, times in by_kind.items():
        print(
            json.dumps(
                {"what": f"search: {kind}", "queries": len(times), **_percentiles(times)},
                ensure_ascii=False,
            )
        )

    rng = random.Random(args.seed + 2)
    own = [d.name for d in docs if d.scope != "system"]

    def message(language: str) -> str:
        content, filler = (EN_WORDS, EN_FILLER) if language == "en" else (RU_WORDS, RU_FILLER)
        return " ".join(
            rng.choice(content) if rng.random() < 0.5 else rng.choice(filler) for _ in range(100)
        )

    history = [
        Use(rng.choice(own), keywords(message(rng.choice(["en", "ru"])))) for _ in range(500)
    ]
    times = []
    for n in range(60):
        language = "en" if n % 2 else "ru"
        text = message(language)
        times.append(_timed(partial(index.suggest, text, language=language, history=history)))
    print(
        json.dumps(
            {"what": "suggest (100 words, 500 uses)", "calls": len(times), **_percentiles(times)}
        )
    )
    times = [
        _timed(lambda: index.suggest(message("en"), language="en", history=())) for _ in range(30)
    ]
    print(
        json.dumps(
            {"what": "suggest (100 words, no history)", "calls": len(times), **_percentiles(times)}
        )
    )
    long_text = message("en") * 200
    times = [
        _timed(lambda: index.suggest(long_text, language="en", history=history)) for _ in range(5)
    ]
    print(
        json.dumps(
            {"what": "suggest (20,000 words, 500 uses)", "calls": len(times), **_percentiles(times)}
        )
    )


if __name__ == "__main__":
    main()
