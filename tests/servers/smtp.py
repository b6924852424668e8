"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, in a thread, with failure injection.

Fixtures:
    smtp_server          plain SMTP, no TLS, no AUTH
    smtp_server_tls      STARTTLS required, AUTH required (SMTP_USER / SMTP_PASSWORD);
                         ``server.ssl_context`` is a client context that trusts its cert
    smtp_server_factory  make(tls=None | "starttls" | "implicit", auth=False); with
                         "implicit" AUTH is offered and checked but not enforced
    smtp_cert            (cert_path, key_path) of a self-signed cert for localhost/127.0.0.1
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SMTP_USER = "desk"
SMTP_PASSWORD = "s3cret-pässword"

Stage = Literal["mail", "rcpt", "data"]


@dataclass
class Received:
    """One message as the server got it."""

    sender: str
    recipients: list[str]
    raw: bytes
    connection: int  # 1 for the first connection that sent mail, 2 for the next, ...

    @property
    def message(self) -> EmailMessage:
        """The message parsed with the modern email policy."""
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]

    parsed = message


@dataclass
class _Failure:
    stage: Stage
    code: int
    text: str


@dataclass
class _State:
    lock: threading.Condition = field(default_factory=threading.Condition)
    messages: list[Received] = field(default_factory=list)
    failures: list[_Failure] = field(default_factory=list)
    drops: int = 0
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)
    connections: int = 0
    after_data: list[tuple[str, float]] = field(default_factory=list)


class _Handler:
    """aiosmtpd hooks: record messages, apply the failures the test asked for."""

    def __init__(self, state: _State) -> None:
        self.state = state

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        st = self.state
        with st.lock:
            if not getattr(session, "sd_connection", 0):
                st.connections += 1
                session.sd_connection = st.connections
            if st.drops:
                st.drops -= 1
                server.transport.abort()  # hang up without a reply
                return "421 4.4.2 dropped"  # never reaches the client
            session.sd_failure = st.failures.pop(0) if st.failures else None
        failure = session.sd_failure
        if failure and failure.stage == "mail":
            return f"{failure.code} {failure.text}"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        failure = getattr(session, "sd_failure", None)
        if failure and failure.stage == "rcpt":
            return f"{failure.code} {failure.text}"
        with self.state.lock:
            refused = self.state.refused.get(address.lower())
        if refused:
            return f"{refused[0]} {refused[1]}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        failure = getattr(session, "sd_failure", None)
        session.sd_failure = None
        if failure and failure.stage == "data":
            return f"{failure.code} {failure.text}"
        received = Received(
            envelope.mail_from,
            list(envelope.rcpt_tos),
            bytes(envelope.original_content),
            session.sd_connection,
        )
        with self.state.lock:
            self.state.messages.append(received)
            self.state.lock.notify_all()
            action, delay = self.state.after_data.pop(0) if self.state.after_data else ("", 0.0)
        if action == "drop":  # the message is ours, but the client never hears so
            server.transport.abort()
            return "421 4.4.2 dropped"  # never reaches the client
        if delay:
            await asyncio.sleep(delay)
        return "250 OK queued"

    async def handle_RSET(self, server: Any, session: Any, envelope: Any) -> str:
        session.sd_failure = None
        return "250 OK"


class _Controller(Controller):
    """aiosmtpd's threaded controller, serving on a socket we bound ourselves (no port race)."""

    def __init__(self, handler: Any, sock: socket.socket, **kwargs: Any) -> None:
        self._sock = sock
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **kwargs)

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(100)
    except OSError:
        sock.close()
        raise
    return sock


class SmtpServer:
    """A running aiosmtpd server; stop() and start() keep the port."""

    host = "127.0.0.1"

    def __init__(
        self, tls: str | None = None, auth: bool = False, cert: tuple[Path, Path] | None = None
    ) -> None:
        if tls not in (None, "starttls", "implicit"):
            raise ValueError(tls)
        if tls and cert is None:
            raise ValueError("TLS needs a certificate")
        self.tls = tls
        self.auth = auth
        self.username = SMTP_USER if auth else None
        self.password = SMTP_PASSWORD if auth else None
        self.port = 0  # chosen by the kernel on the first start(), kept afterwards
        self._state = _State()
        self._controller: Controller | None = None
        self._server_ctx: ssl.SSLContext | None = None
        self.ssl_context: ssl.SSLContext | None = None  # for clients: trusts the cert
        if tls and cert is not None:
            self._server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._server_ctx.load_cert_chain(str(cert[0]), str(cert[1]))
            self.ssl_context = ssl.create_default_context(cafile=str(cert[0]))

    # --- inspection

    @property
    def messages(self) -> list[Received]:
        """Messages received so far (a snapshot)."""
        with self._state.lock:
            return list(self._state.messages)

    @property
    def connections(self) -> int:
        """How many connections have started a mail transaction."""
        with self._state.lock:
            return self._state.connections

    def wait_for(self, n: int, timeout: float = 5.0) -> list[Received]:
        """Wait until at least n messages arrived; AssertionError on timeout."""
        with self._state.lock:
            if not self._state.lock.wait_for(lambda: len(self._state.messages) >= n, timeout):
                raise AssertionError(
                    f"expected {n} messages within {timeout}s, got {len(self._state.messages)}"
                )
            return list(self._state.messages)

    def clear(self) -> None:
        """Forget received messages and pending failures."""
        with self._state.lock:
            self._state.messages.clear()
            self._state.failures.clear()
            self._state.refused.clear()
            self._state.after_data.clear()
            self._state.drops = 0

    # --- failure injection

    def fail_next(self, code: int, text: str = "", count: int = 1, at: Stage = "rcpt") -> None:
        """Answer the next `count` transactions with `code text` at MAIL, RCPT or DATA."""
        text = text or ("try again later" if code < 500 else "rejected")
        with self._state.lock:
            self._state.failures.extend(_Failure(at, code, text) for _ in range(count))

    def refuse(self, address: str, code: int = 550, text: str = "5.1.1 no such user") -> None:
        """Refuse RCPT TO this address (every time, until clear())."""
        with self._state.lock:
            self._state.refused[address.lower()] = (code, text)

    def drop_next(self, count: int = 1) -> None:
        """Hang up (no reply) on the next `count` MAIL commands."""
        with self._state.lock:
            self._state.drops += count

    def answer_data_late(self, delay: float, count: int = 1) -> None:
        """Take the next `count` messages, but answer the final dot of DATA only after
        `delay` seconds (the message counts as received at once)."""
        with self._state.lock:
            self._state.after_data.extend(("late", delay) for _ in range(count))

    def drop_after_data(self, count: int = 1) -> None:
        """Take the next `count` messages, then hang up instead of answering the final dot."""
        with self._state.lock:
            self._state.after_data.extend(("drop", 0.0) for _ in range(count))

    # --- lifecycle

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and self.username
            and self.password
            and data.login == self.username.encode()
            and data.password == self.password.encode()
        )
        return AuthResult(success=bool(ok), handled=False)

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        """Start listening (again) on the same port."""
        if self._controller is not None:
            return
        kwargs: dict[str, Any] = {"server_hostname": "smtp.test", "ready_timeout": 5.0}
        if self.tls == "implicit":
            kwargs["ssl_context"] = self._server_ctx
        elif self.tls == "starttls":
            kwargs.update(tls_context=self._server_ctx, require_starttls=True)
        if self.auth:
            # aiosmtpd cannot tell that an implicit-TLS session is encrypted: there AUTH
            # is offered and checked but not enforced (enforcing it means a warning).
            starttls = self.tls == "starttls"
            kwargs.update(
                authenticator=self._authenticate, auth_required=starttls, auth_require_tls=starttls
            )
        sock = _listen(self.port)
        self.port = sock.getsockname()[1]
        controller = _Controller(_Handler(self._state), sock, **kwargs)
        try:
            controller.start()
        except BaseException:
            sock.close()
            raise
        self._controller = controller

    def stop(self) -> None:
        """Stop listening; clients get "connection refused" until start()."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture(scope="session")
def smtp_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, made with the openssl CLI."""
    folder = tmp_path_factory.mktemp("smtp-cert")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


@pytest.fixture
def smtp_server_factory(smtp_cert: tuple[Path, Path]) -> Iterator[Callable[..., SmtpServer]]:
    """make(tls=None|"starttls"|"implicit", auth=False) -> a started SmtpServer."""
    servers: list[SmtpServer] = []

    def make(tls: str | None = None, auth: bool = False) -> SmtpServer:
        server = SmtpServer(tls=tls, auth=auth, cert=smtp_cert)
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def smtp_server(smtp_server_factory: Callable[..., SmtpServer]) -> SmtpServer:
    """A plain SMTP server (no TLS, no AUTH) on 127.0.0.1."""
    return smtp_server_factory()


@pytest.fixture
def smtp_server_tls(smtp_server_factory: Callable[..., SmtpServer]) -> SmtpServer:
    """STARTTLS and AUTH required; credentials in .username / .password."""
    return smtp_server_factory(tls="starttls", auth=True)
