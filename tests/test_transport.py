"""Transports against real programs: aiosmtpd on 127.0.0.1, a fake sendmail script, files."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import ssl
import stat
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from supportdesk.mail.compose import Draft, compose
from supportdesk.mail.transport import (
    DeliveryResult,
    FileTransport,
    NullTransport,
    Outgoing,
    SendmailTransport,
    SmtpTransport,
    make_transport,
    safe_id,
)
from tests.servers.smtp import SmtpServer

SUPPORT = "support@example.com"


def message(
    n: int, to: str = "customer@example.org", message_id: str | None = None, **kw: object
) -> Outgoing:
    raw = compose(
        Draft(
            from_addr=SUPPORT,
            from_name="Анна, Acme Support",
            to=[to],
            subject=f"[#{n}] Заказ {n}",
            text=f"Здравствуйте!\nСообщение {n}.\n.\nКонец\n",
            message_id=message_id or f"sd.{n}.test@example.com",
            date=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        )
    )
    fields: dict[str, object] = {"key": n, "sender": SUPPORT, "recipients": [to], "raw": raw}
    fields.update(kw)
    return Outgoing(**fields)  # type: ignore[arg-type]


def smtp(server: SmtpServer, **kw: object) -> SmtpTransport:
    settings: dict[str, object] = {
        "host": server.host,
        "port": server.port,
        "security": "starttls"
        if server.tls == "starttls"
        else "tls"
        if server.tls == "implicit"
        else "none",
        "username": server.username,
        "password": server.password,
        "timeout": 5.0,
        "ssl_context": server.ssl_context,
        "local_hostname": "desk.test",
    }
    settings.update(kw)
    return SmtpTransport(**settings)  # type: ignore[arg-type]


def assert_all_ok(results: list[DeliveryResult], keys: list[object]) -> None:
    assert [r.key for r in results] == keys
    assert all(r.ok and not r.error for r in results), results


# --------------------------------------------------------------------------- SMTP


def test_batch_of_three_over_one_connection(smtp_server: SmtpServer) -> None:
    batch = [message(1), message(2, to="other@example.net"), message(3)]
    results = smtp(smtp_server).deliver(batch)
    assert_all_ok(results, [1, 2, 3])
    got = smtp_server.wait_for(3)
    assert smtp_server.connections == 1
    assert {m.connection for m in got} == {1}
    assert [m.sender for m in got] == [SUPPORT] * 3
    assert [m.recipients for m in got] == [
        ["customer@example.org"],
        ["other@example.net"],
        ["customer@example.org"],
    ]
    parsed = got[1].message
    assert parsed["Subject"] == "[#2] Заказ 2"
    assert parsed["From"].addresses[0].display_name == "Анна, Acme Support"
    assert parsed.get_content().replace("\r\n", "\n") == "Здравствуйте!\nСообщение 2.\n.\nКонец\n"
    # The server stores what was composed, byte for byte (dot-stuffing undone).
    assert got[0].raw == batch[0].raw


def test_empty_batch_does_not_connect(smtp_server: SmtpServer) -> None:
    assert smtp(smtp_server).deliver([]) == []
    assert smtp_server.connections == 0


@pytest.mark.parametrize("at", ["mail", "rcpt", "data"])
def test_4xx_is_temporary_and_a_retry_succeeds(smtp_server: SmtpServer, at: str) -> None:
    transport = smtp(smtp_server)
    smtp_server.fail_next(451, "4.3.0 try later", at=at)  # type: ignore[arg-type]
    [first, second] = transport.deliver([message(1), message(2)])
    assert not first.ok and not first.permanent
    assert "451" in first.error and "try later" in first.error
    assert second.ok  # the same connection carries on after RSET
    assert [m.recipients for m in smtp_server.wait_for(1)] == [["customer@example.org"]]
    [retry] = transport.deliver([message(1)])
    assert retry.ok
    assert len(smtp_server.wait_for(2)) == 2


@pytest.mark.parametrize("at", ["mail", "rcpt", "data"])
def test_5xx_is_permanent(smtp_server: SmtpServer, at: str) -> None:
    smtp_server.fail_next(550, "5.7.1 go away", at=at)  # type: ignore[arg-type]
    [first, second] = smtp(smtp_server).deliver([message(1), message(2)])
    assert not first.ok and first.permanent
    assert "550" in first.error and "go away" in first.error
    assert second.ok
    assert len(smtp_server.wait_for(1)) == 1


def test_fail_next_counts_transactions(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next(452, "4.3.1 full", count=2, at="data")
    results = smtp(smtp_server).deliver([message(1), message(2), message(3)])
    assert [(r.ok, r.permanent) for r in results] == [(False, False), (False, False), (True, False)]
    assert [m.message["Subject"] for m in smtp_server.wait_for(1)] == ["[#3] Заказ 3"]


def test_internationalised_envelope_and_8bit_body(smtp_server: SmtpServer) -> None:
    raw = "From: support@example.com\r\nTo: иван@пример.рф\r\nSubject: Привет\r\n\r\nТело\r\n"
    out = Outgoing("k", SUPPORT, ["иван@пример.рф"], raw.encode())
    assert_all_ok(smtp(smtp_server).deliver([out]), ["k"])
    [got] = smtp_server.wait_for(1)
    assert got.recipients == ["иван@пример.рф"]
    assert got.raw == out.raw


def test_some_recipients_refused_counts_as_delivered(smtp_server: SmtpServer) -> None:
    smtp_server.refuse("gone@example.org", 550, "5.1.1 no such user")
    out = message(1, recipients=["customer@example.org", "gone@example.org"])
    [result] = smtp(smtp_server).deliver([out])
    assert result.ok and not result.permanent
    assert "gone@example.org" in result.error and "550" in result.error
    [got] = smtp_server.wait_for(1)
    assert got.recipients == ["customer@example.org"]


def test_a_deferred_recipient_defers_the_whole_message(smtp_server: SmtpServer) -> None:
    smtp_server.refuse("greylisted@example.org", 450, "4.2.0 greylisted")
    out = message(1, recipients=["customer@example.org", "greylisted@example.org"])
    [result] = smtp(smtp_server).deliver([out])
    assert not result.ok and not result.permanent and "greylisted" in result.error
    assert smtp_server.messages == []


def test_server_down_is_temporary_for_all(smtp_server: SmtpServer) -> None:
    transport = smtp(smtp_server)
    smtp_server.stop()
    results = transport.deliver([message(1), message(2), message(3)])
    assert [r.key for r in results] == [1, 2, 3]
    assert all(not r.ok and not r.permanent and r.error for r in results)
    assert "cannot connect" in results[0].error
    smtp_server.start()
    assert_all_ok(transport.deliver([message(1)]), [1])
    assert len(smtp_server.wait_for(1)) == 1


def test_reconnects_once_when_the_connection_drops(smtp_server: SmtpServer) -> None:
    smtp_server.drop_next()  # hangs up on the first MAIL
    results = smtp(smtp_server).deliver([message(1), message(2), message(3)])
    assert_all_ok(results, [1, 2, 3])
    assert len(smtp_server.wait_for(3)) == 3


def test_gives_up_after_the_second_drop(smtp_server: SmtpServer) -> None:
    smtp_server.drop_next(2)
    results = smtp(smtp_server).deliver([message(1), message(2)])
    assert all(not r.ok and not r.permanent for r in results)
    assert "connection lost" in results[0].error
    assert smtp_server.messages == []


def test_late_reply_to_the_final_dot_is_uncertain_and_not_sent_again(
    smtp_server: SmtpServer,
) -> None:
    """The server takes the message but answers the final dot after data_timeout: the
    message may be delivered, so it is not resent on a new connection within the batch."""
    smtp_server.answer_data_late(2.0)
    results = smtp(smtp_server, timeout=1.0, data_timeout=1.0).deliver([message(1), message(2)])
    assert [(r.ok, r.permanent, r.uncertain) for r in results] == [
        (False, False, True),
        (True, False, False),
    ]
    assert "may have received" in results[0].error and "1s" in results[0].error
    subjects = [m.message["Subject"] for m in smtp_server.wait_for(2)]
    assert subjects == ["[#1] Заказ 1", "[#2] Заказ 2"]  # one copy each
    assert smtp_server.connections == 2  # the second message on a fresh connection


def test_drop_after_the_final_dot_is_uncertain_and_not_sent_again(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.drop_after_data()
    results = smtp(smtp_server).deliver([message(1), message(2)])
    assert [(r.ok, r.permanent, r.uncertain) for r in results] == [
        (False, False, True),
        (True, False, False),
    ]
    assert "connection lost after the message" in results[0].error
    assert [m.message["Subject"] for m in smtp_server.wait_for(2)] == [
        "[#1] Заказ 1",
        "[#2] Заказ 2",
    ]


def test_the_final_dot_waits_data_timeout_not_timeout(smtp_server: SmtpServer) -> None:
    """A server that needs longer than `timeout` to accept the message (RFC 5321 gives it
    10 minutes) gets it once and the result is ok."""
    smtp_server.answer_data_late(1.0)
    [result] = smtp(smtp_server, timeout=0.3, data_timeout=5.0).deliver([message(1)])
    assert result.ok and not result.uncertain, result
    assert len(smtp_server.wait_for(1)) == 1
    assert smtp_server.connections == 1


@pytest.mark.parametrize(("code", "permanent"), [(421, False), (451, False), (550, True)])
def test_a_refusal_after_the_final_dot_is_certain(
    smtp_server: SmtpServer, code: int, permanent: bool
) -> None:
    smtp_server.fail_next(code, at="data")
    [result] = smtp(smtp_server).deliver([message(1)])
    assert not result.ok and not result.uncertain and result.permanent is permanent
    assert str(code) in result.error
    assert smtp_server.messages == []


def test_timeout_is_temporary() -> None:
    with socket.socket() as listener:  # accepts connections but never says hello
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        transport = SmtpTransport("127.0.0.1", port, "none", timeout=0.3)
        [result] = transport.deliver([message(1)])
    assert not result.ok and not result.permanent
    assert "cannot connect" in result.error


def test_invalid_envelope_is_permanent_without_connecting(smtp_server: SmtpServer) -> None:
    bad = [
        message(1, recipients=["x@example.org\r\nRCPT TO:<evil@x>"]),
        message(2, recipients=[]),
        message(3, sender="-oQ/tmp@example.com"),
    ]
    results = smtp(smtp_server).deliver(bad)
    assert all(not r.ok and r.permanent for r in results)
    assert smtp_server.connections == 0


def test_starttls_and_auth(smtp_server_tls: SmtpServer) -> None:
    server = smtp_server_tls
    assert_all_ok(smtp(server).deliver([message(1), message(2)]), [1, 2])
    assert len(server.wait_for(2)) == 2
    assert server.connections == 1


def test_wrong_password_is_temporary_and_says_authentication_failed(
    smtp_server_tls: SmtpServer,
) -> None:
    results = smtp(smtp_server_tls, password="wrong").deliver([message(1), message(2)])
    assert all(not r.ok and not r.permanent for r in results)
    assert "authentication failed" in results[0].error
    assert "wrong" not in results[0].error
    assert smtp_server_tls.messages == []


def test_plain_client_against_starttls_required_server(smtp_server_tls: SmtpServer) -> None:
    [result] = smtp(smtp_server_tls, security="none", username=None).deliver([message(1)])
    assert not result.ok and not result.permanent  # 530 "must issue STARTTLS": a config issue


def test_untrusted_certificate_is_temporary(smtp_server_tls: SmtpServer) -> None:
    [result] = smtp(smtp_server_tls, ssl_context=ssl.create_default_context()).deliver([message(1)])
    assert not result.ok and not result.permanent
    assert "certificate" in result.error.lower()


def test_implicit_tls(smtp_server_factory: Callable[..., SmtpServer]) -> None:
    server = smtp_server_factory(tls="implicit", auth=True)
    assert_all_ok(smtp(server).deliver([message(1)]), [1])
    assert server.wait_for(1)[0].message["Subject"] == "[#1] Заказ 1"


def test_deliver_from_a_worker_thread(smtp_server: SmtpServer) -> None:
    results: list[DeliveryResult] = []
    worker = threading.Thread(
        target=lambda: results.extend(smtp(smtp_server).deliver([message(1)]))
    )
    worker.start()
    worker.join(10)
    assert_all_ok(results, [1])


async def test_deliver_inside_a_running_event_loop(smtp_server: SmtpServer) -> None:
    transport = smtp(smtp_server)
    assert_all_ok(transport.deliver([message(1)]), [1])
    assert_all_ok(await transport.deliver_async([message(2)]), [2])
    assert len(await asyncio.to_thread(smtp_server.wait_for, 2)) == 2


# --------------------------------------------------------------------------- sendmail


def fake_sendmail(folder: Path, exit_code: int = 0) -> Path:
    script = folder / "sendmail"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{folder}/args"\n'
        f'cat > "{folder}/stdin"\n'
        'echo "sendmail: something to say" >&2\n'
        f"exit {exit_code}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_sendmail_passes_envelope_and_message(tmp_path: Path) -> None:
    out = message(1, recipients=["customer@example.org", "boss@example.org"])
    [result] = SendmailTransport(fake_sendmail(tmp_path)).deliver([out])
    assert result.ok, result
    args = (tmp_path / "args").read_text().splitlines()
    assert args == ["-i", "-f", SUPPORT, "--", "customer@example.org", "boss@example.org"]
    data = (tmp_path / "stdin").read_bytes()
    assert b"\r" not in data
    assert data == out.raw.replace(b"\r\n", b"\n")
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert parsed["Subject"] == "[#1] Заказ 1"


@pytest.mark.parametrize(("code", "permanent"), [(75, False), (67, True), (1, True)])
def test_sendmail_exit_codes(tmp_path: Path, code: int, permanent: bool) -> None:
    [result] = SendmailTransport(fake_sendmail(tmp_path, code)).deliver([message(1)])
    assert not result.ok and result.permanent is permanent
    assert str(code) in result.error and "something to say" in result.error


def test_sendmail_missing_program_is_permanent(tmp_path: Path) -> None:
    [result] = SendmailTransport(tmp_path / "no-such-sendmail").deliver([message(1)])
    assert not result.ok and result.permanent and "cannot run" in result.error


def test_sendmail_refuses_option_like_addresses(tmp_path: Path) -> None:
    out = message(1, recipients=["-oQ/tmp/x"])
    [result] = SendmailTransport(fake_sendmail(tmp_path)).deliver([out])
    assert not result.ok and result.permanent
    assert not (tmp_path / "args").exists()


# --------------------------------------------------------------------------- files


def test_file_transport_writes_parseable_eml_files(tmp_path: Path) -> None:
    folder = tmp_path / "out" / "eml"
    batch = [message(1), message(2, message_id="../../x"), message(3, message_id="a/b\\c<>:|?*")]
    assert_all_ok(FileTransport(folder).deliver(batch), [1, 2, 3])
    files = sorted(folder.iterdir())
    assert len(files) == 3
    assert not list(tmp_path.glob("x*")) and not list((tmp_path / "out").glob("*x*"))
    for path in files:
        assert path.parent == folder and path.suffix == ".eml"
        assert not path.name.startswith(".")
        assert "/" not in path.name and "\\" not in path.name
    by_subject = {}
    for path in files:
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        by_subject[parsed["Subject"]] = path
    assert set(by_subject) == {"[#1] Заказ 1", "[#2] Заказ 2", "[#3] Заказ 3"}
    assert by_subject["[#1] Заказ 1"].read_bytes() == batch[0].raw
    assert by_subject["[#1] Заказ 1"].name.endswith("-sd.1.test@example.com.eml")


def test_file_transport_never_overwrites(tmp_path: Path) -> None:
    transport = FileTransport(tmp_path)
    for _ in range(5):
        assert transport.deliver([message(1)])[0].ok
    assert len(list(tmp_path.glob("*.eml"))) == 5
    assert not list(tmp_path.glob(".tmp-*"))


def test_file_transport_blocked_path_is_temporary(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    [result] = FileTransport(tmp_path / "file" / "sub").deliver([message(1)])
    assert not result.ok and not result.permanent and "cannot write" in result.error


def test_safe_id() -> None:
    assert safe_id("<../../x>") == "_.._x"
    assert safe_id("...") == "message"
    assert safe_id("a b\x00c/d") == "a_b_c_d"
    assert len(safe_id("x" * 1000)) <= 120


# --------------------------------------------------------------------------- factory


def test_make_transport(tmp_path: Path) -> None:
    assert isinstance(make_transport("file", folder=tmp_path), FileTransport)
    assert isinstance(make_transport("sendmail", program="/bin/true"), SendmailTransport)
    t = make_transport("smtp", host="mail.example.com", security="tls")
    assert isinstance(t, SmtpTransport) and t.port == 465
    assert isinstance(make_transport("none"), NullTransport)
    assert make_transport("none").deliver([message(1)])[0].ok
    with pytest.raises(ValueError):
        make_transport("pigeon")
