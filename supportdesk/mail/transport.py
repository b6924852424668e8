"""Deliver composed messages: SMTP (aiosmtplib), a local sendmail, or .eml files in a folder.

Every transport has the same synchronous API, ``deliver(batch) -> results``: one
DeliveryResult per message, in order, and no exception for delivery problems. A result is
temporary (retry later) or permanent (give up). The rule of thumb: when in doubt the failure
is temporary, because a retried message is at worst a duplicate, a dropped one is lost.
One doubt is special: a message sent whole whose final reply never came is ``uncertain``
(the server may have it), so the caller can limit how often it risks a duplicate.

SMTP lives here; sendmail, file and null delivery in local_transports.py, the shared types in
delivery_types.py; this module re-exports them all, with make_transport.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import ssl
from collections.abc import Coroutine
from typing import Any, TypeVar

import aiosmtplib

from supportdesk.mail.delivery_types import (
    DeliveryError,
    DeliveryResult,
    Outgoing,
    Transport,
    check_envelope,
    failed_result,
)
from supportdesk.mail.local_transports import (
    EX_TEMPFAIL,
    FileTransport,
    NullTransport,
    SendmailTransport,
    safe_id,
)

__all__ = [
    "EX_TEMPFAIL",
    "DeliveryError",
    "DeliveryResult",
    "FileTransport",
    "NullTransport",
    "Outgoing",
    "SendmailTransport",
    "SmtpTransport",
    "Transport",
    "make_transport",
    "run_sync",
    "safe_id",
]

_T = TypeVar("_T")


def run_sync(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine from synchronous code in any thread (asyncio.run, or a helper
    thread when this thread already runs an event loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="smtp") as pool:
        return pool.submit(asyncio.run, coro).result()


# SMTP


class _Dropped(Exception):
    """The connection broke in the middle of a transaction."""


class _Unanswered(Exception):
    """The message was sent whole but its final reply never came: the server may have it."""


_LINE_END = re.compile(rb"\r\n|\n|\r(?!\n)")
_LEADING_DOT = re.compile(rb"(?m)^\.")

# 530 "authentication required" / "must issue STARTTLS" and 538 "encryption required" are
# about our session, not the message: a configuration problem, so temporary.
_SESSION_CODES = frozenset({530, 538})


def _permanent(code: int) -> bool:
    """5xx is permanent, except 530/538; 4xx and anything odd is temporary."""
    return 500 <= code < 600 and code not in _SESSION_CODES


def _code_error(what: str, code: int, text: str) -> DeliveryError:
    if code in _SESSION_CODES:
        return DeliveryError(
            f"{what}: {code} {text} (check the security and username settings)", permanent=False
        )
    return DeliveryError(f"{what}: {code} {text}".strip(), permanent=_permanent(code))


class SmtpTransport:
    """Send over SMTP with one connection per batch (reconnecting once if it drops).

    security: "tls" (implicit TLS, port 465), "starttls" (required, 587) or "none" (25).
    Connection-level failures (refused, reset, timeout, TLS, greeting, EHLO) are temporary:
    not the message's fault. So is a rejected login ("authentication failed"), and 530/538
    at any stage: configuration problems the admin fixes, and mail must survive until then.
    5xx to MAIL, RCPT (every recipient) or DATA is permanent; 4xx is temporary. A 4xx for
    any recipient defers the whole message (nobody is silently skipped); if only some get
    5xx, the rest receive it, it counts as delivered and ``error`` names the refused ones.

    Every command waits ``timeout`` for its reply, except the final dot of DATA: there the
    server may be scanning or relaying the message, and RFC 5321 §4.5.3.2.6 asks the client
    to wait 10 minutes (``data_timeout``). When that reply never comes (a timeout, or the
    connection drops after the dot) the result is ``uncertain`` and the message is not
    sent again within the batch.
    """

    def __init__(
        self,
        host: str,
        port: int | None = None,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        data_timeout: float = 600.0,
    ) -> None:
        if security not in ("tls", "starttls", "none"):
            raise ValueError(f"unknown SMTP security {security!r}")
        self.host = host
        self.port = port or {"tls": 465, "starttls": 587, "none": 25}[security]
        self.security = security
        self.username = username or None
        self.password = password or ""
        self.timeout = timeout
        self.data_timeout = data_timeout
        self.ssl_context = ssl_context
        self.local_hostname = local_hostname

    def deliver(self, batch: list[Outgoing]) -> list[DeliveryResult]:
        """Send a batch over one connection; one result per message, never raises."""
        if not batch:
            return []
        return run_sync(self.deliver_async(batch))

    async def deliver_async(self, batch: list[Outgoing]) -> list[DeliveryResult]:
        """The same as deliver(), for callers that already run an event loop."""
        session = _Session(self)
        try:
            return [await session.send(out) for out in batch]
        finally:
            await session.close()

    async def _connect(self) -> aiosmtplib.SMTP:
        where = f"{self.host}:{self.port}"
        context = None
        if self.security != "none":
            if self.ssl_context is None:  # loading the system CAs is slow: once per transport
                self.ssl_context = ssl.create_default_context()
            context = self.ssl_context
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            timeout=self.timeout,
            use_tls=self.security == "tls",
            start_tls=self.security == "starttls",
            tls_context=context,
            local_hostname=self.local_hostname,
        )
        try:
            await client.connect()
            if client.is_ehlo_or_helo_needed:  # learn the extensions (SIZE, SMTPUTF8) now
                try:
                    await client.ehlo()
                except aiosmtplib.SMTPHeloError:
                    await client.helo()
        except aiosmtplib.SMTPResponseException as exc:
            _hang_up(client)
            raise DeliveryError(
                f"{where}: server refused us: {exc.code} {exc.message}", permanent=False
            ) from exc
        except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
            # OSError covers refused/reset connections, timeouts and ssl.SSLError.
            _hang_up(client)
            raise DeliveryError(
                f"cannot connect to {where}: {_describe(exc)}", permanent=False
            ) from exc
        if self.username:
            try:
                await client.login(self.username, self.password)
            except (aiosmtplib.SMTPException, OSError) as exc:
                _hang_up(client)
                code = getattr(exc, "code", None)
                detail = f"{code} {getattr(exc, 'message', '')}" if code else _describe(exc)
                raise DeliveryError(
                    f"{where}: authentication failed for user {self.username!r}: {detail}",
                    permanent=False,
                ) from exc
        return client

    async def _send(self, client: aiosmtplib.SMTP, out: Outgoing) -> DeliveryResult:
        """One transaction: MAIL, RCPT for each recipient, DATA."""
        options: list[str] = []
        encoding = "ascii"
        if not all(a.isascii() for a in (out.sender, *out.recipients)):
            if not client.supports_extension("smtputf8"):
                return failed_result(
                    out,
                    DeliveryError(
                        "non-ASCII address but the server lacks SMTPUTF8", permanent=True
                    ),
                )
            options.append("SMTPUTF8")
            encoding = "utf-8"
        if client.supports_extension("size"):
            options.append(f"SIZE={len(out.raw)}")
        if not out.raw.isascii() and client.supports_extension("8bitmime"):
            options.append("BODY=8BITMIME")
        try:
            try:
                await client.mail(out.sender, options=options, encoding=encoding)
            except aiosmtplib.SMTPResponseException as exc:
                return await _abort(
                    client, out, _code_error("sender refused", exc.code, exc.message)
                )
            refused: dict[str, tuple[int, str]] = {}
            for rcpt in out.recipients:
                try:
                    await client.rcpt(rcpt, encoding=encoding)
                except aiosmtplib.SMTPResponseException as exc:
                    refused[rcpt] = (exc.code, exc.message)
            detail = "; ".join(f"{r}: {c} {t}" for r, (c, t) in refused.items())
            if not all(_permanent(code) for code, _ in refused.values()):
                return await _abort(
                    client, out, DeliveryError(f"recipient deferred: {detail}", permanent=False)
                )
            if len(refused) == len(out.recipients):
                return await _abort(
                    client, out, DeliveryError(f"recipient refused: {detail}", permanent=True)
                )
            try:
                await self._data(client, out.raw)
            except aiosmtplib.SMTPResponseException as exc:
                return await _abort(
                    client, out, _code_error("message refused", exc.code, exc.message)
                )
        except _Unanswered as exc:
            _hang_up(client)  # the late reply must not be read as the next command's
            return DeliveryResult(
                out.key,
                ok=False,
                error=f"the server may have received the message: {exc}",
                uncertain=True,
            )
        except OSError as exc:  # disconnected, reset, timed out (all subclasses of OSError)
            raise _Dropped(_describe(exc)) from exc
        except ValueError as exc:  # an address aiosmtplib will not put on a command line
            return await _abort(client, out, DeliveryError(str(exc), permanent=True))
        except aiosmtplib.SMTPException as exc:
            return await _abort(client, out, DeliveryError(_describe(exc), permanent=False))
        error = f"some recipients refused: {detail}" if refused else ""
        return DeliveryResult(out.key, ok=True, error=error)

    async def _data(self, client: aiosmtplib.SMTP, raw: bytes) -> None:
        """DATA in two steps: the command waits ``timeout`` for its 354 (nothing sent yet, so
        a failure there is an ordinary one); the message and its final dot wait
        ``data_timeout``, and a failure there raises _Unanswered. aiosmtplib's own data()
        has one timeout for both and cannot tell them apart."""
        start = await client.execute_command(b"DATA")
        if start.code != 354:
            raise aiosmtplib.SMTPDataError(start.code, start.message)
        protocol = client.protocol
        if protocol is None:
            raise aiosmtplib.SMTPServerDisconnected("connection lost before the message")
        body = _LINE_END.sub(b"\r\n", raw)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        body = _LEADING_DOT.sub(b"..", body) + b".\r\n"
        try:
            protocol.write(body)
            reply = await protocol.read_response(timeout=self.data_timeout)
        except aiosmtplib.SMTPTimeoutError:
            raise _Unanswered(
                f"no reply to the end of the message within {self.data_timeout:g}s"
            ) from None
        except (aiosmtplib.SMTPServerDisconnected, OSError) as exc:
            raise _Unanswered(f"connection lost after the message: {_describe(exc)}") from exc
        except aiosmtplib.SMTPResponseException as exc:  # garbage instead of a reply
            raise _Unanswered(f"unreadable reply to the message: {exc.message}") from exc
        if reply.code != 250:
            raise aiosmtplib.SMTPDataError(reply.code, reply.message)


class _Session:
    """One batch's connection: opened on first use, reopened once if it breaks."""

    def __init__(self, transport: SmtpTransport) -> None:
        self.transport = transport
        self.client: aiosmtplib.SMTP | None = None
        self.connects_left = 2  # the first connection and one reconnect
        self.down: DeliveryError | None = None  # set once (re)connecting has failed

    async def send(self, out: Outgoing) -> DeliveryResult:
        try:
            check_envelope(out)
        except DeliveryError as exc:
            return failed_result(out, exc)
        while True:
            try:
                client = await self._client()
            except DeliveryError as exc:
                return failed_result(out, exc)
            try:
                result = await self.transport._send(client, out)
                if result.uncertain:
                    self._drop()  # the next message gets a fresh connection, if any is left
                return result
            except _Dropped as exc:
                self._drop()
                if self.connects_left == 0:
                    return failed_result(out, DeliveryError(f"connection lost: {exc}", False))
            except Exception as exc:  # a bug must not lose the rest of the batch
                self._drop()
                return failed_result(
                    out, DeliveryError(f"unexpected error: {_describe(exc)}", False)
                )

    async def _client(self) -> aiosmtplib.SMTP:
        if self.client is not None and self.client.is_connected:
            return self.client
        self._drop()
        if self.down is None and self.connects_left == 0:
            self.down = DeliveryError("connection lost, not reconnecting again", False)
        if self.down is not None:
            raise self.down
        self.connects_left -= 1
        try:
            self.client = await self.transport._connect()
        except DeliveryError as exc:
            self.down = exc
            raise
        return self.client

    def _drop(self) -> None:
        if self.client is not None:
            _hang_up(self.client)
            self.client = None

    async def close(self) -> None:
        if self.client is not None:
            await _quit(self.client)
            self.client = None


async def _abort(client: aiosmtplib.SMTP, out: Outgoing, exc: DeliveryError) -> DeliveryResult:
    """Reset the transaction after a refusal so the connection can carry the next message."""
    if client.is_connected:
        try:
            await client.rset()
        except (aiosmtplib.SMTPException, OSError):
            _hang_up(client)
    return failed_result(out, exc)


async def _quit(client: aiosmtplib.SMTP) -> None:
    transport = client.transport
    try:
        if client.is_connected:
            await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        pass
    finally:
        _hang_up(client, transport)


def _hang_up(client: aiosmtplib.SMTP, transport: asyncio.BaseTransport | None = None) -> None:
    """Close now, without waiting for a TLS close_notify, so no socket outlives the loop."""
    transport = transport or client.transport
    client.close()
    if isinstance(transport, asyncio.Transport):
        transport.abort()


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


def make_transport(kind: str, **settings: Any) -> Transport:
    """A transport by kind: "smtp" (SmtpTransport kwargs), "sendmail" (program),
    "file" (folder) or "none"."""
    if kind == "smtp":
        return SmtpTransport(**settings)
    if kind == "sendmail":
        return SendmailTransport(**settings)
    if kind == "file":
        return FileTransport(**settings)
    if kind == "none":
        return NullTransport()
    raise ValueError(f"unknown outgoing transport {kind!r}")
