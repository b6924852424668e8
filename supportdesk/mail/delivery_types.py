"""The shapes every transport shares: Outgoing in, DeliveryResult out, DeliveryError."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

_ENVELOPE_JUNK = re.compile(r"[\s<>\x00-\x1f\x7f]")


class DeliveryError(Exception):
    """A delivery failure; ``permanent`` says whether retrying can help."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass
class Outgoing:
    """One message to send: the caller's key, the envelope and the raw RFC 5322 bytes."""

    key: object
    sender: str
    recipients: list[str]
    raw: bytes


@dataclass
class DeliveryResult:
    """What happened to one Outgoing; ``error`` may be set even when ``ok`` (some refused).

    ``uncertain``: the whole message went out but the server's answer to it never came
    (a timeout or a dropped connection after the final dot of DATA), so the server may
    have it. Not ok and not permanent, but sending again may well deliver a second copy.
    """

    key: object
    ok: bool
    permanent: bool = False
    error: str = ""
    uncertain: bool = False


class Transport(Protocol):
    def deliver(self, batch: list[Outgoing]) -> list[DeliveryResult]: ...


def failed_result(out: Outgoing, exc: DeliveryError) -> DeliveryResult:
    """The DeliveryResult for `out` failing with `exc`."""
    return DeliveryResult(out.key, ok=False, permanent=exc.permanent, error=str(exc))


def check_envelope(out: Outgoing) -> None:
    """Raise a permanent DeliveryError for an envelope that cannot be sent safely."""
    if not out.recipients:
        raise DeliveryError("no recipients", permanent=True)
    bad = [a for a in (out.sender, *out.recipients) if _ENVELOPE_JUNK.search(a) or a[:1] == "-"]
    bad += [a for a in out.recipients if "@" not in a]
    if bad:
        raise DeliveryError(f"invalid envelope address {bad[0]!r}", permanent=True)
