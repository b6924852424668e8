"""Realistic support mail, generated: for the demo desk, the benchmarks and the tests.

A mix like a real support mailbox: mostly short questions, a third of them replies in a thread,
some Russian, some HTML, about 5% with an attachment, a few automatic messages.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

FIRST = [
    "Anna",
    "Ben",
    "Carla",
    "Dmitri",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Katya",
    "Liam",
    "Maria",
    "Nikolai",
    "Olga",
    "Pedro",
    "Quinn",
    "Rosa",
    "Sven",
    "Tanya",
]
LAST = [
    "Smith",
    "Ivanova",
    "Müller",
    "García",
    "Petrov",
    "Kowalski",
    "Tanaka",
    "Rossi",
    "Novak",
    "Jensen",
    "Sokolova",
    "Dubois",
]
TOPICS_EN = [
    (
        "Cannot log in",
        "I have been trying to log in since this morning and the page says my "
        "password is wrong. I reset it twice already. Could you please check my account?",
    ),
    (
        "Invoice shows the wrong amount",
        "The invoice for last month shows 49 EUR but our plan "
        "costs 39 EUR. Please send a corrected invoice; our accounting needs it by Friday.",
    ),
    (
        "Export to CSV is broken",
        "When I export the report to CSV the file is empty. This "
        "worked last week. I attached a screenshot of the settings I use.",
    ),
    (
        "How do I add a colleague?",
        "We are a team of four now. How can I invite my colleagues "
        "so that they see the same projects? I could not find it in the settings.",
    ),
    (
        "Refund for double charge",
        "My card was charged twice for the annual plan. Please refund one of the payments.",
    ),
    (
        "Feature idea: dark mode",
        "Would you consider a dark mode? I work late and the white screen is hard on the eyes.",
    ),
    (
        "App crashes on start",
        "Since the last update the app crashes right after the splash "
        "screen on my phone (Android 14). Reinstalling did not help.",
    ),
    (
        "Change billing address",
        "Our company moved. Please update the billing address on our "
        "account to: Hauptstraße 5, 10115 Berlin.",
    ),
]
TOPICS_RU = [
    (
        "Не могу войти в аккаунт",
        "Здравствуйте! С утра не получается войти: пишет, что пароль "
        "неверный. Я уже дважды его сбрасывала. Проверьте, пожалуйста, мой аккаунт.",
    ),
    (
        "Ошибка в счёте",
        "В счёте за прошлый месяц указана сумма 4900 руб., а наш тариф стоит "
        "3900 руб. Пришлите, пожалуйста, исправленный счёт.",
    ),
    (
        "Как добавить сотрудника?",
        "Нас теперь четверо. Как пригласить коллег, чтобы они видели те же проекты?",
    ),
    ("Приложение вылетает", "После обновления приложение закрывается сразу после запуска."),
]
FILLER = ("Best regards", "Thanks in advance", "Kind regards", "Cheers")
QUOTE_LINE = "> On the previous message you wrote something we are answering here.\n"


class SampleMailbox:
    """A deterministic stream of realistic messages (seeded)."""

    def __init__(
        self,
        seed: int = 1,
        customers: int = 500,
        domain: str = "example.com",
        start: datetime | None = None,
        attachment_bytes: int = 600_000,
        body_padding: int = 0,
    ) -> None:
        self.rng = random.Random(seed)
        self.customers = [self._person(i) for i in range(customers)]
        self.domain = domain
        self.now = start or datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
        self.sent: list[tuple[str, str, tuple[str, str]]] = []  # (message-id, subject, sender)
        self.counter = 0
        self.attachment_bytes = attachment_bytes
        self.body_padding = body_padding

    def _person(self, i: int) -> tuple[str, str]:
        first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
        local = unicodedata.normalize("NFKD", f"{first}.{last}{i}").encode("ascii", "ignore")
        return f"{first} {last}", f"{local.decode().lower()}@customer{i % 37}.example"

    def messages(self, count: int) -> Iterator[bytes]:
        for _ in range(count):
            yield self.next_message()

    def next_message(self) -> bytes:
        rng = self.rng
        self.counter += 1
        self.now += timedelta(seconds=rng.randint(5, 400))
        name, addr = rng.choice(self.customers)
        msg = EmailMessage()
        russian = rng.random() < 0.2
        topic, body = rng.choice(TOPICS_RU if russian else TOPICS_EN)
        bits = rng.getrandbits(40)
        if self.sent and rng.random() < 0.3:
            parent_id, parent_subject, parent = rng.choice(self.sent[-200:])
            name, addr = parent  # the customer answers in their own conversation
            msg["Subject"] = "Re: " + parent_subject.removeprefix("Re: ")
            msg["In-Reply-To"] = f"<{parent_id}>"
            msg["References"] = f"<{parent_id}>"
            body = (
                "Thanks for the quick answer. One more thing: "
                + body
                + "\n\n"
                + QUOTE_LINE * rng.randint(2, 12)
            )
        else:
            msg["Subject"] = topic
        msg["From"] = f"{name} <{addr}>"
        msg["To"] = f"support@{self.domain}"
        msg["Date"] = format_datetime(self.now)
        mid = f"m{self.counter}.{bits:x}@{addr.split('@')[1]}"
        msg["Message-ID"] = f"<{mid}>"
        if rng.random() < 0.02:
            msg["Auto-Submitted"] = "auto-replied"
            msg.replace_header("Subject", "Out of office: " + topic)
        text = f"Hello,\n\n{body}\n\n{rng.choice(FILLER)},\n{name}\n"
        if self.body_padding:
            text += "\n" + ("-- \nSent from my laptop. " * (self.body_padding // 24)) + "\n"
        if rng.random() < 0.1:
            msg.set_content(text)
            msg.add_alternative(
                f"<html><body><p>{text.replace(chr(10), '<br>')}</p></body></html>", subtype="html"
            )
        else:
            msg.set_content(text)
        if rng.random() < 0.05:
            size = rng.randint(self.attachment_bytes // 4, self.attachment_bytes)
            msg.add_attachment(
                rng.randbytes(size),
                maintype="application",
                subtype="pdf",
                filename=f"document-{self.counter}.pdf",
            )
        self.sent.append((mid, str(msg["Subject"]), (name, addr)))
        return msg.as_bytes()


def write_maildir(folder: Path, messages: list[bytes]) -> Path:
    """Deliver messages into a Maildir (tmp, then new) as a mail server would."""
    for sub in ("tmp", "new", "cur"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for i, raw in enumerate(messages):
        name = f"{1700000000 + i}.{i:06d}.demo"
        (folder / "tmp" / name).write_bytes(raw)
        (folder / "tmp" / name).rename(folder / "new" / name)
    return folder
