"""Ten realistic requests and the team template a support agent would answer each with."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    subject: str
    body: str
    language: str
    expected: str  # the team template's name


CASES: list[Case] = [
    Case(
        subject="Charged twice this month??",
        body=(
            "Hi,\n\n"
            "I just went through my bank statement and you took $29 from my card TWICE on "
            "March 3rd. We only have one workspace and one plan, so one of those is clearly a "
            "mistake. I want my money back for the second one please. Honestly a bit annoyed, "
            "this is not the first time something weird happens with billing.\n\n"
            "Tom"
        ),
        language="en",
        expected="refund",
    ),
    Case(
        subject="can't get in",
        body=(
            "Hello, I've been trying to sign into my account since yesterday evening and it "
            "keeps saying 'incorrect email or password'. I'm pretty sure I'm typing the right "
            "one but maybe I changed it at some point and forgot?? I clicked the link on the "
            "sign-in page but no email ever came. I have a client presentation at 3pm today and "
            "all my files are in there, please help asap!\n\n"
            "Thanks,\nJake"
        ),
        language="en",
        expected="password-reset",
    ),
    Case(
        subject="new phone, stuck on the code screen",
        body=(
            "Hey support,\n\n"
            "I dropped my phone in a lake last weekend (don't ask) and got a new one. Now every "
            "time I log in the app asks for the 6-digit code from Google Authenticator, which of "
            "course was on the old phone. I don't think I ever saved any backup codes when I set "
            "it up, or if I did I have no idea where they are.\n\n"
            "I'm the admin of our team workspace 'Northwind Design' so nobody else can sort this "
            "out for me. How do I get back in?\n\n"
            "Cheers, Dan"
        ),
        language="en",
        expected="two-factor-lost",
    ),
    Case(
        subject="doesnt work",
        body="your app is not working again. fix it please, we cant work like this",
        language="en",
        expected="need-more-details",
    ),
    Case(
        subject="Invoices for our accountant + company name",
        body=(
            "Hi there,\n\n"
            "our accounts department needs the invoices for January and February for their "
            "records, where can I find them? Also, the invoices currently show my own name, but "
            "they should be made out to our company: Brightline Consulting GmbH, Hauptstrasse "
            "12, 10115 Berlin, VAT ID DE123456789. Can this be changed, ideally also for the "
            "ones that were already sent?\n\n"
            "Best regards,\nSabine Keller"
        ),
        language="en",
        expected="invoice-copy",
    ),
    Case(
        subject="Sending design drafts to a client",
        body=(
            "Hello!\n\n"
            "We are about to send a folder of design drafts to a client through a share link, "
            "but our legal team is nervous that anyone who gets hold of the link could open it "
            "(it might get forwarded around their company). Is there a way to lock the link so "
            "only people who know a password can see the files? Ideally without the client "
            "having to create an account with you. Teh drafts are under NDA.\n\n"
            "Thanks in advance,\nPriya"
        ),
        language="en",
        expected="password-protect",
    ),
    Case(
        subject="Отключить автопродление",
        body=(
            "Добрый день!\n\n"
            "Мы переходим на другой сервис, поэтому хотим отказаться от вашего тарифа, чтобы со "
            "следующего месяца с карты больше ничего не списывалось. Подскажите, где это "
            "делается? И что будет с нашими проектами — они сразу пропадут или какое-то время "
            "ещё будут доступны?\n\n"
            "Спасибо,\nОльга"
        ),
        language="ru",
        expected="cancel-subscription",
    ),
    Case(
        subject="выгрузка задач в эксель",
        body=(
            "Здравствуйте. Руководитель попросил отчёт по всем задачам проекта «Ремонт офиса» за "
            "квартал: кто ответственный, сроки, статус. Можно как-то выгрузить это из вашей "
            "системы в Excel, чтобы не переписывать всё руками? И заодно хотелось бы время от "
            "времени сохранять себе копию всех файлов, мало ли что."
        ),
        language="ru",
        expected="export-data",
    ),
    Case(
        subject="Удалите мои данные",
        body=(
            "Добрый вечер.\n\n"
            "Прошу удалить мою учётную запись и все мои персональные данные в соответствии с "
            "GDPR. Вашим сервисом больше не пользуюсь, рассылку тоже прошу больше не присылать. "
            "Жду подтверждения.\n\n"
            "Игорь Смирнов"
        ),
        language="ru",
        expected="delete-account",
    ),
    Case(
        subject="Вход с другой почты",
        body=(
            "Здраствуйте!\n\n"
            "Я поменяла работу, и скоро мне отключат рабочую почту m.ivanova@oldcompany.ru, на "
            "которую зарегистрирован аккаунт. Как сделать, чтобы входить с личного адреса? "
            "Очень не хочется потерять свои проекты и файлы, там всё за три года.\n\n"
            "Мария"
        ),
        language="ru",
        expected="change-email",
    ),
]
