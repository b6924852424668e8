"""Local delivery: a sendmail program, .eml files in a folder, or nowhere at all."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path

from supportdesk.mail.delivery_types import (
    DeliveryError,
    DeliveryResult,
    Outgoing,
    check_envelope,
    failed_result,
)

EX_TEMPFAIL = 75


class SendmailTransport:
    """Pipe each message to ``sendmail -i -f sender -- recipients...``.

    Exit status 75 (EX_TEMPFAIL), death by a signal and a timeout are temporary; any other
    non-zero status and a missing or unrunnable program are permanent. The message is
    passed with Unix (LF) line ends, as local sendmail programs expect.
    """

    def __init__(
        self, program: str | os.PathLike[str] = "/usr/sbin/sendmail", timeout: float = 60.0
    ) -> None:
        self.program = os.fspath(program)
        self.timeout = timeout

    def deliver(self, batch: list[Outgoing]) -> list[DeliveryResult]:
        """Run sendmail once per message; one result per message, never raises."""
        results = []
        for out in batch:
            try:
                check_envelope(out)
                self._run(out)
            except DeliveryError as exc:
                results.append(failed_result(out, exc))
            else:
                results.append(DeliveryResult(out.key, ok=True))
        return results

    def _run(self, out: Outgoing) -> None:
        args = [self.program, "-i", "-f", out.sender or "<>", "--", *out.recipients]
        data = out.raw.replace(b"\r\n", b"\n")
        try:
            proc = subprocess.run(
                args, input=data, capture_output=True, timeout=self.timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise DeliveryError(
                f"{self.program} timed out after {self.timeout:g}s", permanent=False
            ) from exc
        except OSError as exc:  # missing, not executable
            raise DeliveryError(
                f"cannot run {self.program}: {exc.strerror or exc}", permanent=True
            ) from exc
        if proc.returncode == 0:
            return
        stderr = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = f": {stderr[-1][:300]}" if stderr else ""
        if proc.returncode < 0:
            raise DeliveryError(
                f"{self.program} killed by signal {-proc.returncode}{detail}", permanent=False
            )
        raise DeliveryError(
            f"{self.program} exited with {proc.returncode}{detail}",
            permanent=proc.returncode != EX_TEMPFAIL,
        )


_UNSAFE_ID = re.compile(r"[^A-Za-z0-9._@+=-]")


def safe_id(message_id: str) -> str:
    """A message id reduced to a harmless file-name fragment (no slashes, no leading dot)."""
    name = _UNSAFE_ID.sub("_", message_id.strip().strip("<>")).lstrip(".")[:120]
    return name or "message"


class FileTransport:
    """Write each message to ``<folder>/<UTC timestamp>-<safe message id>.eml``, atomically.

    The file is written under a temporary name in the same folder and renamed into place,
    so a reader never sees half a message. An I/O error is temporary.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def deliver(self, batch: list[Outgoing]) -> list[DeliveryResult]:
        """Write one .eml file per message; one result per message, never raises."""
        results = []
        for out in batch:
            try:
                self.write(out)
            except OSError as exc:
                results.append(
                    DeliveryResult(
                        out.key,
                        ok=False,
                        permanent=False,
                        error=f"cannot write to {self.folder}: {exc}",
                    )
                )
            else:
                results.append(DeliveryResult(out.key, ok=True))
        return results

    def write(self, out: Outgoing) -> Path:
        """Write one message and return the path of the new file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        headers = BytesHeaderParser().parsebytes(out.raw, headersonly=True)
        stem = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        stem = f"{stem}-{safe_id(str(headers.get('Message-ID', '') or out.key))}"
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".eml", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(out.raw)
                fh.flush()
                os.fsync(fh.fileno())
            target, n = self.folder / f"{stem}.eml", 1
            while target.exists():
                n += 1
                target = self.folder / f"{stem}-{n}.eml"
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.folder, os.O_RDONLY)  # make the rename itself durable
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return target


class NullTransport:
    """kind = "none": outgoing mail is switched off; messages are discarded as delivered."""

    def deliver(self, batch: list[Outgoing]) -> list[DeliveryResult]:
        """Report every message as delivered without sending anything."""
        return [DeliveryResult(out.key, ok=True) for out in batch]
