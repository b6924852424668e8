"""Delivering the outbox: temporary failures retry with backoff, permanent ones fail loudly.

A message the server may have received (no reply to the end of DATA) is tried at most once
more, after the backoff and with the same bytes (so the same Message-ID); the request's
timeline says so (`delivery_uncertain`). If that try is uncertain too the message is left
`unconfirmed` (`delivery_unconfirmed`): never resent behind anyone's back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from supportdesk.clock import Clock
from supportdesk.config import Settings, read_secret
from supportdesk.domain import lifecycle
from supportdesk.mail.transport import Outgoing, Transport
from supportdesk.store import outbox
from supportdesk.store.database import Database
from supportdesk.store.events import add_event
from supportdesk.store.requests import update_request

BACKOFF = [timedelta(minutes=m) for m in (1, 5, 15, 30, 60, 120, 240, 480)]
HOLD = timedelta(minutes=5)
"""How long a taken message is hidden from other workers while it is being delivered
(plus twice outgoing.data_timeout: a batch may wait that long for a slow server)."""
UNCERTAIN = "delivery_uncertain"
UNCONFIRMED = "delivery_unconfirmed"


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed tries."""
    return BACKOFF[min(max(attempts - 1, 0), len(BACKOFF) - 1)]


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unconfirmed: int = 0
    """Sent whole but never confirmed, twice: not sent again (see the request's timeline)."""
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "unconfirmed": self.unconfirmed,
            "errors": self.errors[:20],
        }


def make_transport(settings: Settings) -> Transport | None:
    """The configured transport (None when outgoing mail is switched off)."""
    from supportdesk.mail import transport as tr

    out = settings.outgoing
    if out.kind == "none":
        return None
    if out.kind == "file":
        return tr.FileTransport(Path(settings.resolve(out.path)))
    if out.kind == "sendmail":
        return tr.SendmailTransport(out.sendmail)
    from supportdesk.mail.compose import new_message_id_domain

    return tr.SmtpTransport(
        out.host,
        out.effective_port,
        out.security,
        out.username or None,
        read_secret(out, "outgoing"),
        timeout=out.timeout.total_seconds(),
        data_timeout=out.data_timeout.total_seconds(),
        local_hostname=new_message_id_domain(settings.desk.address),
    )


def deliver_outbox(
    db: Database,
    settings: Settings,
    clock: Clock,
    transport: Transport,
    batch_size: int = 50,
    max_batches: int = 1000,
) -> DeliveryReport:
    """Deliver every due message once; returns what happened."""
    report = DeliveryReport()
    hold = HOLD + 2 * settings.outgoing.data_timeout
    for _ in range(max_batches):
        now = clock.now()
        with db.write() as conn:
            pending = outbox.take(conn, outbox.due(conn, now, batch_size), now, hold)
        if not pending:
            break
        results = transport.deliver(
            [
                Outgoing(key=p.pk, sender=settings.desk.address, recipients=p.recipients, raw=p.raw)
                for p in pending
            ]
        )
        by_pk = {p.pk: p for p in pending}
        now = clock.now()
        with db.write() as conn:
            for result in results:
                p = by_pk[result.key]  # type: ignore[index]
                if result.ok:
                    outbox.mark_sent(conn, p.pk, now, result.error or None)
                    report.sent += 1
                    continue
                report.errors.append(result.error)
                attempts = p.attempts + 1
                if result.uncertain:
                    if _retry_uncertain(conn, settings, p, attempts, now, result.error):
                        report.retrying += 1
                    else:
                        report.unconfirmed += 1
                elif result.permanent or attempts >= settings.outgoing.max_attempts:
                    outbox.mark_failed(conn, p.pk, result.error)
                    push_failed_delivery(conn, p.request_id, now, result.error)
                    report.failed += 1
                else:
                    outbox.mark_retry(conn, p.pk, now + backoff(attempts), result.error)
                    report.retrying += 1
    return report


def _retry_uncertain(
    conn: Any, settings: Settings, p: outbox.Pending, attempts: int, now: datetime, error: str
) -> bool:
    """The server may have the message: schedule the one more attempt it gets (True), or,
    when it had that already (or no attempts are left), leave it unconfirmed (False)."""
    detail: dict[str, Any] = {"message_id": p.message_id, "error": error[:300]}
    again = outbox.has_delivery_event(conn, p.request_id, UNCERTAIN, p.message_id)
    if attempts < settings.outgoing.max_attempts and not again:
        next_at = now + backoff(attempts)
        outbox.mark_retry(conn, p.pk, next_at, error)
        detail["next_attempt_at"] = next_at.isoformat()
        detail["note"] = (
            "the server may have received it; one more attempt at "
            f"{next_at.astimezone().strftime('%Y-%m-%d %H:%M %Z')}"
        )
        add_event(conn, p.request_id, now, UNCERTAIN, detail=detail)
        return True
    outbox.mark_unconfirmed(conn, p.pk, error)
    detail["note"] = (
        f"the server did not confirm it{' again' if again else ''}; not sent again "
        "(it may have arrived: ask the customer or answer again)"
    )
    add_event(conn, p.request_id, now, UNCONFIRMED, detail=detail)
    return False


def push_failed_delivery(conn: Any, request_id: int, now: Any, error: str) -> None:
    """A message that cannot be delivered puts its request back on the stack."""
    update_request(conn, request_id, **lifecycle.delivery_failed(now))
    add_event(
        conn, request_id, now, "push", reason="delivery_failed", detail={"error": error[:300]}
    )
