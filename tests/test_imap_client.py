"""ImapMailbox against real servers (pymap in process, Dovecot when installed)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import pytest

from supportdesk.errors import ConfigError, MailServerError
from supportdesk.mail.imap import ImapMailbox, _uid_sets, plan_batches
from tests.servers.imap import ImapTestServer

pytestmark = pytest.mark.imap


def mailbox(server: ImapTestServer, **kw: object) -> ImapMailbox:
    kw.setdefault("password", server.password)
    kw.setdefault("timeout", 10.0)
    return ImapMailbox(server.host, server.port, server.security, server.username, **kw)  # type: ignore[arg-type]


def message(n: int, body: bytes = b"Hello.\r\n") -> bytes:
    return (
        b"From: Customer %d <c%d@example.com>\r\nTo: support@example.com\r\n"
        b"Subject: Request %d\r\nMessage-ID: <m%d@example.com>\r\n\r\n" % (n, n, n, n)
    ) + body


def one_line(exc: pytest.ExceptionInfo[MailServerError]) -> str:
    text = str(exc.value)
    assert "\n" not in text and "\r" not in text
    return text


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- connecting ------------------------------------------------------------------------------


def test_login_failure_is_one_line(imap_server: ImapTestServer) -> None:
    with pytest.raises(MailServerError) as exc, mailbox(imap_server, password="wrong"):
        pass
    assert one_line(exc).startswith(f"127.0.0.1:{imap_server.port}: login failed")


def test_closed_port_is_connection_refused() -> None:
    port = closed_port()
    with pytest.raises(MailServerError) as exc, ImapMailbox("127.0.0.1", port, "none", "u", "p"):
        pass
    assert one_line(exc) == f"127.0.0.1:{port}: connection refused"


def test_silent_server_times_out() -> None:
    with socket.socket() as listener:  # accepts TCP (backlog) but never greets
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        box = ImapMailbox("127.0.0.1", port, "none", "u", "p", timeout=0.5)
        with pytest.raises(MailServerError) as exc, box:
            pass
    assert one_line(exc) == f"127.0.0.1:{port}: connect: timed out"


def test_stopped_server_refuses_then_comes_back(imap_server: ImapTestServer) -> None:
    imap_server.deliver([message(1)])
    with mailbox(imap_server) as box:
        box.select("INBOX")
        imap_server.stop()
        with pytest.raises(MailServerError) as exc:
            box.new_messages(0)
        assert one_line(exc).startswith(f"127.0.0.1:{imap_server.port}: ")
    # leaving the block must not raise even though the connection is dead
    with pytest.raises(MailServerError) as exc, mailbox(imap_server):
        pass
    assert one_line(exc) == f"127.0.0.1:{imap_server.port}: connection refused"
    imap_server.start()
    with mailbox(imap_server) as box:
        box.select("INBOX")
        assert len(box.new_messages(0)) == 1


def test_unknown_folder_is_one_line(imap_server: ImapTestServer) -> None:
    with mailbox(imap_server) as box, pytest.raises(MailServerError) as exc:
        box.select("No Such Folder")
    assert one_line(exc).startswith(f"127.0.0.1:{imap_server.port}: select No Such Folder failed")


@pytest.mark.parametrize("tls", ["implicit", "starttls"])
def test_tls(pymap_server_factory: Callable[..., ImapTestServer], tls: str) -> None:
    server = pymap_server_factory(tls=tls)
    assert server.security == ("tls" if tls == "implicit" else "starttls")
    server.deliver([message(1)])
    with mailbox(server, ssl_context=server.ssl_context) as box:
        box.select("INBOX")
        assert list(box.fetch([uid for uid, _ in box.new_messages(0)]).values()) == [message(1)]
        assert box.wait_for_news(0.2) is False
        timer = threading.Timer(0.2, server.deliver, [[message(2)]])
        timer.start()
        assert box.wait_for_news(10) is True
        timer.join()
    with pytest.raises(MailServerError) as exc, mailbox(server):  # the system CAs
        pass
    assert one_line(exc).startswith(f"127.0.0.1:{server.port}: TLS certificate rejected")


def test_bad_security_setting() -> None:
    with pytest.raises(ConfigError, match="security"):
        ImapMailbox("127.0.0.1", 143, "ssl", "u", "p")


# --- reading ---------------------------------------------------------------------------------


def test_new_messages_after_a_checkpoint(imap_server: ImapTestServer) -> None:
    sent = [message(n) for n in range(5)]
    imap_server.deliver(sent)
    with mailbox(imap_server) as box:
        state = box.select("INBOX")
        assert state.exists == 5
        listed = box.new_messages(0)
        uids = [uid for uid, _ in listed]
        assert uids == sorted(uids) and len(uids) == 5
        assert [size for _, size in listed] == [len(m) for m in sent]
        assert state.uidnext is None or state.uidnext > uids[-1]
        assert box.new_messages(uids[2]) == listed[3:]
        # The quirk: "UID n:*" with n past the last uid still matches the last message ...
        assert box._client.search(["UID", f"{uids[-1] + 1}:*"]) == [uids[-1]]  # type: ignore[union-attr]
        # ... and new_messages filters it out.
        assert box.new_messages(uids[-1]) == []
        assert box.new_messages(uids[-1] + 1000) == []


def test_new_messages_in_an_empty_folder(imap_server: ImapTestServer) -> None:
    with mailbox(imap_server) as box:
        assert box.select("INBOX").exists == 0
        assert box.new_messages(0) == []
        assert box.fetch([]) == {}


def test_fetch_returns_the_exact_bytes(imap_server: ImapTestServer) -> None:
    crlf = message(1, "Grüße, ça va?\r\n\r\n-- \r\nLine\tend  \r\n".encode())
    latin1 = message(2, "Déjà vu\r\n".encode("latin-1") + b"\xff\xfe 8bit\r\n")
    bare_lf = message(3, b"one\ntwo\n").replace(b"\r\n", b"\n")
    imap_server.deliver([crlf, latin1, bare_lf])
    with mailbox(imap_server) as box:
        box.select("INBOX")
        uids = [uid for uid, _ in box.new_messages(0)]
        got = box.fetch(uids)
        sizes = dict(box.new_messages(0))
    assert [got[u] for u in uids[:2]] == [crlf, latin1]
    if imap_server.kind == "dovecot":  # Dovecot serves bare LF as CRLF
        assert got[uids[2]] == bare_lf.replace(b"\n", b"\r\n")
    else:  # pymap serves what was stored
        assert got[uids[2]] == bare_lf
    assert all(sizes[u] == len(got[u]) for u in uids)  # RFC822.SIZE is the size as served


def test_fetch_is_one_command_leaves_seen_alone_and_skips_missing(
    imap_server: ImapTestServer,
) -> None:
    sent = [message(n, b"x" * 5000 + b"\r\n") for n in range(300)]
    imap_server.deliver(sent)
    with mailbox(imap_server) as box:
        box.select("INBOX")
        uids = [uid for uid, _ in box.new_messages(0)]
        imap = box._client._imap  # type: ignore[union-attr]
        tag_before = imap.tagnum
        got = box.fetch([*uids, uids[-1] + 500])
        assert imap.tagnum == tag_before + 1
        assert [got[u] for u in uids] == sent
        picked = box.fetch(uids[10:20] + uids[50:51])
        assert sorted(picked) == sorted(uids[10:20] + uids[50:51])
    with imap_server.client() as client:
        client.select_folder("INBOX", readonly=True)
        flags = client.get_flags(uids)
    assert not any(b"\\Seen" in f for f in flags.values())


def test_fetch_in_byte_sized_batches(imap_server: ImapTestServer) -> None:
    sent = [message(n, b"y" * (n * 700) + b"\r\n") for n in range(60)]
    imap_server.deliver(sent)
    with mailbox(imap_server) as box:
        box.select("INBOX")
        sizes = box.new_messages(0)
        batches = plan_batches(sizes, max_bytes=100_000, max_count=25)
        assert len(batches) > 2
        got: dict[int, bytes] = {}
        for batch in batches:
            got.update(box.fetch(batch))
    assert [got[uid] for uid, _ in sizes] == sent


# --- waiting ---------------------------------------------------------------------------------


def test_wait_for_news_wakes_on_delivery(imap_server: ImapTestServer) -> None:
    with mailbox(imap_server) as box:
        box.select("INBOX")
        assert box.has_idle
        timer = threading.Timer(0.3, imap_server.deliver, [[message(1)]])
        started = time.monotonic()
        timer.start()
        try:
            assert box.wait_for_news(15) is True
        finally:
            timer.join()
        assert time.monotonic() - started < 10
        assert len(box.new_messages(0)) == 1  # the connection is still usable


def test_wait_for_news_times_out(imap_server: ImapTestServer) -> None:
    with mailbox(imap_server) as box:
        box.select("INBOX")
        started = time.monotonic()
        assert box.wait_for_news(1.0) is False
        assert 0.9 <= time.monotonic() - started < 5
        imap_server.deliver([message(1)])
        assert box.wait_for_news(10) is True  # mail that came in between is not missed
        assert len(box.new_messages(0)) == 1


def test_wait_for_news_after_a_reselect(imap_server: ImapTestServer) -> None:
    with mailbox(imap_server) as box:
        box.select("INBOX")
        assert box.new_messages(0) == []
        imap_server.deliver([message(1)])
        box.select("INBOX")  # e.g. the poller re-selects before waiting: still news
        assert box.wait_for_news(10) is True
        uid = box.new_messages(0)[0][0]
        box.select("INBOX")  # listed now: no longer news
        assert box.wait_for_news(0.5) is False
        assert box.new_messages(uid) == []


def test_wait_for_news_without_idle_is_one_noop(
    imap_server: ImapTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ImapMailbox, "has_idle", property(lambda self: False))
    with mailbox(imap_server) as box:
        box.select("INBOX")
        started = time.monotonic()
        assert box.wait_for_news(30) is False
        assert time.monotonic() - started < 5  # no waiting: the caller sleeps between polls
        imap_server.deliver([message(1)])
        assert box.wait_for_news(30) is True


def test_wait_for_news_reports_a_dropped_connection(imap_server: ImapTestServer) -> None:
    with mailbox(imap_server) as box:
        box.select("INBOX")
        timer = threading.Timer(0.3, imap_server.stop)
        timer.start()
        try:
            with pytest.raises(MailServerError) as exc:
                box.wait_for_news(10)
        finally:
            timer.join()
        assert one_line(exc).startswith(f"127.0.0.1:{imap_server.port}: ")


# --- writing ---------------------------------------------------------------------------------


def flags_of(server: ImapTestServer, folder: str = "INBOX") -> list[tuple[bytes, ...]]:
    with server.client() as client:
        client.select_folder(folder, readonly=True)
        found = client.get_flags(client.search("ALL"))
    return [found[uid] for uid in sorted(found)]


def test_mark_seen(imap_server: ImapTestServer) -> None:
    imap_server.deliver([message(n) for n in range(3)])
    with mailbox(imap_server) as box:
        box.select("INBOX")  # read-only: mark_seen re-selects read-write by itself
        uids = [uid for uid, _ in box.new_messages(0)]
        box.mark_seen(uids[:2])
        box.mark_seen([])
    seen = [b"\\Seen" in flags for flags in flags_of(imap_server)]
    assert seen == [True, True, False]


@pytest.mark.parametrize("use_move", [True, False], ids=["MOVE", "COPY+EXPUNGE"])
def test_move_creates_the_folder(imap_server: ImapTestServer, use_move: bool) -> None:
    sent = [message(n) for n in range(4)]
    imap_server.deliver(sent)
    with mailbox(imap_server) as box:
        box.select("INBOX", readonly=False)
        box._use_move = use_move
        uids = [uid for uid, _ in box.new_messages(0)]
        box.move([uids[0], uids[2], uids[3]], "Processed")
        assert [uid for uid, _ in box.new_messages(0)] == [uids[1]]
        box.select("Processed")
        moved = box.fetch([uid for uid, _ in box.new_messages(0)])
    assert sorted(moved.values()) == sorted([sent[0], sent[2], sent[3]])
    assert (imap_server.count("INBOX"), imap_server.count("Processed")) == (1, 3)


def test_append_to_sent(imap_server: ImapTestServer) -> None:
    reply = message(9, b"Thanks,\nthe desk\n")
    with mailbox(imap_server) as box:
        box.append("Sent", reply)
        box.append("Sent", reply, flags=())
        box.select("Sent")
        got = box.fetch([uid for uid, _ in box.new_messages(0)])
    assert list(got.values()) == [reply.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")] * 2
    assert [b"\\Seen" in flags for flags in flags_of(imap_server, "Sent")] == [True, False]


@pytest.mark.parametrize("folder", ["INBOX", "Archive"])
def test_reset_uidvalidity(imap_server: ImapTestServer, folder: str) -> None:
    sent = [message(n) for n in range(3)]
    imap_server.deliver(sent, folder=folder)
    with mailbox(imap_server) as box:
        before = box.select(folder).uidvalidity
    imap_server.reset_uidvalidity(folder)
    with mailbox(imap_server) as box:
        state = box.select(folder)
        assert state.uidvalidity != before
        got = box.fetch([uid for uid, _ in box.new_messages(0)])
    assert sorted(got.values()) == sorted(sent)
    assert imap_server.uidvalidity(folder) == state.uidvalidity


def test_deliver_into_another_folder(imap_server: ImapTestServer) -> None:
    imap_server.deliver([message(1), message(2)], folder="Archive")
    assert (imap_server.count("INBOX"), imap_server.count("Archive")) == (0, 2)


# --- pure functions ----------------------------------------------------------------------------


def test_plan_batches_by_bytes_and_count() -> None:
    assert plan_batches([], 100) == []
    sizes = [(1, 40), (2, 40), (3, 40), (4, 10), (5, 10)]
    assert plan_batches(sizes, 100) == [[1, 2], [3, 4, 5]]
    assert plan_batches(sizes, 100, max_count=2) == [[1, 2], [3, 4], [5]]
    assert plan_batches(sizes, 1000) == [[1, 2, 3, 4, 5]]


def test_plan_batches_gives_a_big_message_its_own_batch() -> None:
    sizes = [(1, 10), (2, 500), (3, 10), (4, 10)]
    assert plan_batches(sizes, 100) == [[1], [2], [3, 4]]
    assert plan_batches([(7, 10**9)], 100) == [[7]]


def test_plan_batches_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        plan_batches([(1, 1)], 0)
    with pytest.raises(ValueError):
        plan_batches([(1, 1)], 10, max_count=0)


def test_uid_sets_are_compact() -> None:
    assert _uid_sets([]) == []
    assert _uid_sets([5, 3, 4, 1, 9, 10, 4]) == ["1,3:5,9:10"]
    assert _uid_sets(range(1, 5001)) == ["1:5000"]  # type: ignore[arg-type]
    scattered = _uid_sets(range(1, 20000, 2))  # type: ignore[arg-type]
    assert len(scattered) > 1 and all(len(s) <= 8000 for s in scattered)
    assert sorted(int(u) for s in scattered for u in s.split(",")) == list(range(1, 20000, 2))
