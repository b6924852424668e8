"""Messages of a conversation, their raw bytes and attachments, and full-text search."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, or_, select, text

from supportdesk.store import tables as t
from supportdesk.store.customers import name_key, names_of, namesakes
from supportdesk.store.records import AttachmentRecord, MessageRecord, load_warnings

_m, _a = t.message, t.attachment
_COLUMNS = (
    _m.c.id,
    _m.c.request_id,
    _m.c.message_id,
    _m.c.direction,
    _m.c.kind,
    _m.c.status,
    _m.c.from_addr,
    _m.c.from_name,
    _m.c.to_addrs,
    _m.c.subject,
    _m.c.text,
    _m.c.date,
    _m.c.received_at,
    _m.c.warnings,
    _m.c.automatic,
    _m.c.agent_login,
    _m.c.attempts,
    _m.c.sent_at,
    _m.c.last_error,
    _m.c.in_reply_to,
    _m.c.joined_by,
    _m.c.cc_addrs,
)


def _record(row: Any) -> MessageRecord:
    values = list(row)
    values[13] = load_warnings(values[13])
    return MessageRecord(*values)


def messages_of(conn: Connection, request_id: int) -> list[MessageRecord]:
    """The whole conversation, oldest first, with attachment lists."""
    records = [
        _record(r)
        for r in conn.execute(
            select(*_COLUMNS).where(_m.c.request_id == request_id).order_by(_m.c.id)
        )
    ]
    by_pk = {r.pk: r for r in records}
    if by_pk:
        rows = conn.execute(
            select(
                _a.c.id,
                _a.c.message_pk,
                _a.c.filename,
                _a.c.content_type,
                _a.c.end - _a.c.start,
                _a.c.inline,
            )
            .where(_a.c.message_pk.in_(list(by_pk)))
            .order_by(_a.c.id)
        )
        for aid, pk, name, ctype, size, inline in rows:
            by_pk[pk].attachments.append(AttachmentRecord(aid, name, ctype, size, inline))
    _senders(conn, [r for r in records if r.direction == "in"])
    return records


def _senders(conn: Connection, incoming: list[MessageRecord]) -> None:
    """What the desk knows of each sender: the name on record, and who else has the name."""
    if not incoming:
        return
    known = names_of(conn, {m.from_addr for m in incoming})
    shared = namesakes(conn, {m.from_name for m in incoming})
    for m in incoming:
        m.known_name = known.get(m.from_addr)
        m.name_shared = bool(shared.get(name_key(m.from_name), set()) - {m.from_addr})


def last_inbound(conn: Connection, request_id: int) -> MessageRecord | None:
    """The latest message the customer's side wrote; robots' mail (a bounce, an auto-reply)
    only when the request holds nothing else."""
    base = (
        select(*_COLUMNS)
        .where(_m.c.request_id == request_id, _m.c.direction == "in")
        .order_by(_m.c.id.desc())
        .limit(1)
    )
    row = conn.execute(base.where(_m.c.automatic.is_(None))).first()
    if row is None:
        row = conn.execute(base).first()
    return _record(row) if row else None


def last_outbound(
    conn: Connection, request_id: int, kinds: tuple[str, ...] = ("reply", "reminder", "notice")
) -> MessageRecord | None:
    """The last answer we wrote (acknowledgements are not answers)."""
    row = conn.execute(
        select(*_COLUMNS)
        .where(_m.c.request_id == request_id, _m.c.direction == "out", _m.c.kind.in_(kinds))
        .order_by(_m.c.id.desc())
        .limit(1)
    ).first()
    return _record(row) if row else None


def reply_address(conn: Connection, request_id: int, customer_email: str) -> str:
    """Where our answers to a request go: the Reply-To its customer gave in their first
    message, else the customer's address. Never the sender of the latest message, which may
    be a bounce, a robot or someone else entirely."""
    row = conn.execute(
        select(_m.c.reply_to)
        .where(
            _m.c.request_id == request_id,
            _m.c.direction == "in",
            _m.c.automatic.is_(None),
            or_(_m.c.from_addr == customer_email, _m.c.from_addr == ""),
        )
        .order_by(_m.c.id)
        .limit(1)
    ).first()
    return row[0] if row is not None and row[0] else customer_email


def last_cc(conn: Connection, request_id: int) -> list[str]:
    """The Cc of the customer's side's latest message (robots' mail aside), as written."""
    row = conn.execute(
        select(_m.c.cc_addrs)
        .where(_m.c.request_id == request_id, _m.c.direction == "in", _m.c.automatic.is_(None))
        .order_by(_m.c.id.desc())
        .limit(1)
    ).first()
    return split_addresses(row[0]) if row else []


def split_addresses(value: str | None) -> list[str]:
    """An address column (", "-joined) as a list."""
    return [a.strip() for a in (value or "").split(",") if a.strip()]


def references_after(conn: Connection, pk: int) -> list[str]:
    """The References of an answer to message `pk`: its own, then its Message-ID."""
    row = conn.execute(select(_m.c.references, _m.c.message_id).where(_m.c.id == pk)).one()
    refs = [r for r in (row[0] or "").split() if r]
    return [*refs[-18:], row[1]]


def raw_of(conn: Connection, pk: int) -> bytes | None:
    r = t.message_raw
    return conn.execute(
        select(r.c.raw).where(r.c.message_pk == pk).order_by(r.c.id).limit(1)
    ).scalar()


@dataclass(slots=True)
class StoredAttachment:
    filename: str
    content_type: str
    encoding: str
    start: int
    end: int
    raw: bytes


def attachment(conn: Connection, attachment_id: int) -> StoredAttachment | None:
    row = conn.execute(
        select(
            _a.c.filename, _a.c.content_type, _a.c.encoding, _a.c.start, _a.c.end, _a.c.message_pk
        ).where(_a.c.id == attachment_id)
    ).first()
    if row is None:
        return None
    raw = raw_of(conn, row[5]) or b""
    return StoredAttachment(row[0], row[1], row[2], row[3], row[4], raw)


@dataclass(slots=True)
class SearchHit:
    request_id: int
    message_pk: int
    subject: str
    from_addr: str
    snippet: str
    status: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.request_id,
            "message": self.message_pk,
            "subject": self.subject,
            "from": self.from_addr,
            "snippet": self.snippet,
            "status": self.status,
        }


_WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(query: str) -> str:
    """User words to a safe FTS5 query: every word must match, the last one as a prefix."""
    words = _WORD.findall(query)
    if not words:
        return ""
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


SNIPPET_SCAN = 20_000
"""Characters of a hit's text that its snippet is cut from: the cost of a snippet does not grow
with the message (FTS5's snippet() walked every match of a 2 MB text, seconds per hit; a match
further in shows the text's start instead)."""
SNIPPET_WORDS = 12


def search(conn: Connection, query: str, limit: int = 50) -> list[SearchHit]:
    """Full-text search over subjects, senders and texts; best matches first. The index finds
    and ranks; the snippet is cut in Python, the same on both databases, from the first
    SNIPPET_SCAN characters of each hit shown."""
    if conn.dialect.name == "postgresql":
        return _search_postgresql(conn, query, limit)
    match = fts_query(query)
    if not match:
        return []
    rows = conn.execute(
        text(
            "SELECT m.request_id, m.id, m.subject, m.from_addr, substr(m.text, 1, :scan), "
            "r.status "
            "FROM message_fts JOIN message m ON m.id = message_fts.rowid "
            "JOIN request r ON r.id = m.request_id "
            "WHERE message_fts MATCH :q ORDER BY rank LIMIT :limit"
        ),
        {"q": match, "limit": limit, "scan": SNIPPET_SCAN},
    )
    return _hits(rows, query)


def _hits(rows: Any, query: str) -> list[SearchHit]:
    words = snippet_pattern(query)
    return [
        SearchHit(number, pk, subject, sender, snippet(body or "", words), status)
        for number, pk, subject, sender, body, status in rows
    ]


def snippet_pattern(query: str) -> re.Pattern[str] | None:
    """The query's words as a case-insensitive pattern over whole words, the last one as a
    prefix (as fts_query and ts_query match them)."""
    words = _TOKEN.findall(query)
    if not words:
        return None
    alternatives = [re.escape(w) for w in words[:-1]] + [re.escape(words[-1]) + r"[^\W_]*"]
    return re.compile(r"(?<![^\W_])(?:" + "|".join(alternatives) + r")(?![^\W_])", re.I)


def snippet(body: str, words: re.Pattern[str] | None, size: int = SNIPPET_WORDS) -> str:
    """About `size` words of `body` around the first of `words` found in its first
    SNIPPET_SCAN characters (else its first words), " … " where the text goes on; one line."""
    more = len(body) >= SNIPPET_SCAN
    body = body[:SNIPPET_SCAN]
    found = words.search(body) if words is not None else None
    at = found.start() if found else 0
    low = max(0, at - 200)
    tokens = [m.span() for m in _TOKEN.finditer(body, low, at + 400)]
    if low and tokens and tokens[0][0] == low:
        del tokens[0]  # perhaps the end of a word cut at `low`
    if not tokens:
        return ""
    first = next((i for i, (start, _end) in enumerate(tokens) if start >= at), 0)
    first = max(0, first - size // 4)
    last = min(len(tokens), first + size) - 1
    start, end = tokens[first][0], min(tokens[last][1], tokens[first][0] + 200)
    cut = " ".join(body[start:end].split())
    before = " … " if body[:start].strip() else ""
    after = " … " if more or body[end:].strip() else ""
    return f"{before}{cut}{after}"


_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
"""A word as both indexes see it: letters and digits (FTS5's unicode61 splits at "_" too)."""


def ts_query(query: str) -> str:
    """User words to a safe tsquery, as fts_query does for FTS5: every word must match, the
    last one as a prefix."""
    words = [f"'{w}'" for w in _TOKEN.findall(query)]
    if not words:
        return ""
    words[-1] += ":*"
    return " & ".join(words)


def _search_postgresql(conn: Connection, query: str, limit: int) -> list[SearchHit]:
    """The tsvector column `search` (migration 0001): its GIN index finds, ts_rank orders;
    the snippet is cut as on SQLite, from the first SNIPPET_SCAN characters of each hit shown
    (ts_headline over a long text cost as FTS5's snippet() did)."""
    tsquery = ts_query(query)
    if not tsquery:
        return []
    rows = conn.execute(
        text(
            "SELECT m.request_id, m.id, m.subject, m.from_addr, left(m.text, :scan), r.status "
            "FROM to_tsquery('simple', :q) AS q, message m "
            "JOIN request r ON r.id = m.request_id "
            "WHERE m.search @@ q ORDER BY ts_rank(m.search, q) DESC, m.id DESC LIMIT :limit"
        ),
        {"q": tsquery, "limit": limit, "scan": SNIPPET_SCAN},
    )
    return _hits(rows, query)
