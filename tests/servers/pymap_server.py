"""pymap in process: its dict backend served from an asyncio loop in a daemon thread."""

from __future__ import annotations

import argparse
import asyncio
import ssl
import threading
import uuid
import weakref
from collections.abc import Coroutine, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any, TypeVar

from tests.servers.imap_base import HOST, ImapTestServer

_T = TypeVar("_T")


class _LoopThread:
    """One asyncio loop in a daemon thread, shared by every pymap server of the session."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="pymap", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, _T], timeout: float = 600) -> _T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            asyncio.get_running_loop().stop()

        asyncio.run_coroutine_threadsafe(cancel_all(), self.loop)
        self._thread.join(10)
        self.loop.close()


def _pymap_args(username: str, password: str, starttls: bool) -> argparse.Namespace:
    """The argparse namespace `pymap dict` would build (so pymap's own defaults apply)."""
    from pymap.backend.dict import DictBackend
    from pymap.imap import IMAPService

    parser = argparse.ArgumentParser()
    parser.add_argument("--debug", action="store_true")
    parser.set_defaults(skip_services=[], passlib_cfg=None)
    DictBackend.add_subparser("dict", parser.add_subparsers(dest="backend"))
    IMAPService.add_arguments(parser)
    argv = [*([] if starttls else ["--no-tls"]), "--host", HOST, "--port", "0", "dict"]
    return parser.parse_args([*argv, "--demo-user", username, "--demo-password", password])


class _CountingLogin:
    """pymap's login interface, counting the logins it lets in (LOGIN and AUTHENTICATE)."""

    def __init__(self, login: Any, server: PymapServer) -> None:
        self._login, self._server = login, server

    async def authenticate(self, credentials: Any) -> Any:
        identity = await self._login.authenticate(credentials)
        self._server.logins += 1
        return identity

    def __getattr__(self, name: str) -> Any:
        return getattr(self._login, name)


class PymapServer(ImapTestServer):
    """pymap's in-memory dict backend, served from the shared loop thread; with `tls`
    ("implicit" or "starttls") and a (cert, key) pair it speaks TLS. `logins` counts the
    successful logins of its clients (client() and count() included)."""

    kind = "pymap"
    username = "support"
    logins = 0

    def __init__(
        self, loop: _LoopThread, tls: str | None = None, cert: tuple[Path, Path] | None = None
    ) -> None:
        self._loop, self._tls, self._server_ssl = loop, tls, None
        if tls is not None:
            if tls not in ("implicit", "starttls") or cert is None:
                raise ValueError("tls is 'implicit' or 'starttls', and needs a cert")
            self._server_ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._server_ssl.load_cert_chain(str(cert[0]), str(cert[1]))
            self.ssl_context = ssl.create_default_context(cafile=str(cert[0]))
            self.security = "tls" if tls == "implicit" else "starttls"
        self._server: asyncio.base_events.Server | None = None
        self._writers: weakref.WeakSet[asyncio.StreamWriter] = weakref.WeakSet()
        self._backend, self._config = loop.run(self._init())
        self.start()

    async def _init(self) -> tuple[Any, Any]:
        from pymap.backend.dict import DictBackend
        from pymap.concurrent import Subsystem
        from pysasl.hashing import Cleartext

        starttls = self._tls == "starttls"
        args = _pymap_args(self.username, self.password, starttls)
        tls = {"ssl_context": self._server_ssl} if starttls else {}
        # Cleartext: no password hashing per login; for_asyncio: no worker threads per server.
        return await DictBackend.init(
            args, hash_context=Cleartext(), cpu_subsystem=Subsystem.for_asyncio(), **tls
        )

    def start(self) -> None:
        if self._server is None:
            self.port = self._loop.run(self._listen())

    def stop(self) -> None:
        if self._server is not None:
            self._loop.run(self._close())

    close = stop

    async def _listen(self) -> int:
        from proxyprotocol.reader import ProxyProtocolReader
        from pymap.imap import IMAPServer

        self._config.apply_context()  # connection tasks inherit this task's context
        imap = IMAPServer(_CountingLogin(self._backend.login, self), self._config)
        handler = ProxyProtocolReader(self._config.proxy_protocol).get_callback(imap)

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self._writers.add(writer)
            await handler(reader, writer)

        implicit = self._server_ssl if self._tls == "implicit" else None
        self._server = await asyncio.start_server(on_connect, HOST, self.port, ssl=implicit)
        return int(self._server.sockets[0].getsockname()[1])

    async def _close(self) -> None:
        server, self._server = self._server, None
        assert server is not None
        server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await server.wait_closed()

    async def _in_session(self, work: Any) -> Any:
        self._config.apply_context()
        async with self._backend.login.demo_user_identity.new_session() as session:
            return await work(session)

    def deliver(self, messages: Sequence[bytes], folder: str = "INBOX") -> None:
        from pymap.exceptions import MailboxConflict
        from pymap.parsing.message import AppendMessage

        async def work(session: Any) -> None:
            if folder.upper() != "INBOX":
                with suppress(MailboxConflict):
                    await session.create_mailbox(folder)
            for start in range(0, len(messages), 200):  # let other connections breathe
                chunk = [AppendMessage(bytes(m)) for m in messages[start : start + 200]]
                await session.append_messages(folder, chunk)
                await asyncio.sleep(0)

        self._loop.run(self._in_session(work))

    def reset_uidvalidity(self, folder: str = "INBOX") -> None:
        async def work(session: Any) -> None:
            boxes = session.mailbox_set
            before = (await boxes.get_mailbox(folder)).uid_validity
            while True:  # pymap draws UIDVALIDITY at random: retry on the rare repeat
                parked = f"sd-reset-{uuid.uuid4().hex}"
                await boxes.rename_mailbox(folder, parked)  # renaming INBOX leaves a new INBOX
                if folder.upper() != "INBOX":
                    await boxes.add_mailbox(folder)
                old, new = await boxes.get_mailbox(parked), await boxes.get_mailbox(folder)
                for uid in [msg.uid async for msg in old.messages()]:
                    await old.copy(uid, new)
                await boxes.delete_mailbox(parked)
                if new.uid_validity != before:
                    return

        self._loop.run(self._in_session(work))
