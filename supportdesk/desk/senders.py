"""Who really wrote: a sender's display name, and its address beside it whenever the name
alone could pass for someone else.

Anyone can put any display name on a message. The address is shown beside the name when the
name is missing, differs from the name known for that address, looks like an address (or a
list of them), or is also the name of another customer with a different address. The console
and the CLI both show senders through `sender_label`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from supportdesk.domain.text import display_safe
from supportdesk.store.records import MessageRecord, RequestRecord

# A display name with these reads as an address, or as more than one person.
_ADDRESS_LIKE = ("@", "<", ">", ",", ";")


def same_name(a: str, b: str) -> bool:
    """Names compared as a reader compares them: case, spacing and invisible characters aside."""
    return name_key(a) == name_key(b)


def name_key(name: str) -> str:
    return " ".join(display_safe(name).split()).casefold()


@dataclass(frozen=True, slots=True)
class SenderLabel:
    """A sender as shown: the name, and the address when the name alone is not enough."""

    name: str
    address: str
    show_address: bool
    warning: str | None = None
    """Why the address is shown (None for a plain missing name or an honest name)."""

    def __str__(self) -> str:
        if not self.name:
            return self.address
        return f"{self.name} <{self.address}>" if self.show_address else self.name

    @property
    def full(self) -> str:
        """Name and address, always (for a request's own page)."""
        return f"{self.name} <{self.address}>" if self.name else self.address

    def fit(self, width: int) -> str:
        """At most `width` characters: the name gives way first, the address's domain last."""
        full = str(self)
        if len(full) <= width or width <= 0:
            return full
        if not self.show_address or not self.name:
            if not self.name:  # the address alone: keep its end (the domain)
                return "…" + self.address[-(width - 1) :] if width > 1 else "…"
            return self.name[: width - 1] + "…"
        tail = f" <{self.address}>"
        room = width - len(tail)
        if room >= 2:
            return self.name[: room - 1] + "…" + tail
        return SenderLabel("", self.address, True).fit(width)


def sender_label(
    name: str | None,
    email: str,
    known_name: str | None = None,
    name_shared: bool = False,
) -> SenderLabel:
    """How to show a sender.

    `known_name`: the name on record for `email` (a customer's), if any; `name_shared`: another
    customer, with a different address, goes by this name too."""
    shown = " ".join(display_safe(name or "").split())
    address = display_safe(email)
    if not shown:
        return SenderLabel("", address, True)
    if any(c in shown for c in _ADDRESS_LIKE):
        return SenderLabel(shown, address, True, "the name looks like an address")
    if known_name is not None and name_key(known_name) and not same_name(shown, known_name):
        known = " ".join(display_safe(known_name).split())
        return SenderLabel(shown, address, True, f"this address is known as {known}")
    if name_shared:
        return SenderLabel(shown, address, True, "another customer has this name")
    return SenderLabel(shown, address, False)


def request_sender(r: RequestRecord) -> SenderLabel:
    """A request's customer as lists show them."""
    return sender_label(r.customer_name, r.customer_email, None, r.customer_name_shared)


def message_sender(m: MessageRecord) -> SenderLabel:
    """Who wrote an incoming message, against what the desk knows of its address."""
    return sender_label(m.from_name, m.from_addr, m.known_name, m.name_shared)


def request_json(r: RequestRecord) -> dict[str, Any]:
    """A request for `--json`, with its customer as shown (`customer_label`) and why the
    address is beside the name (`customer_warning`, null when the name is honest)."""
    label = request_sender(r)
    return {**r.as_dict(), "customer_label": str(label), "customer_warning": label.warning}


def message_json(m: MessageRecord) -> dict[str, Any]:
    data = m.as_dict()
    if m.direction == "in":
        label = message_sender(m)
        data["from_label"], data["from_warning"] = str(label), label.warning
    return data
