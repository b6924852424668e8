"""Header decoding that never raises: RFC 2047 words, raw 8-bit bytes, addresses, dates, params."""

from __future__ import annotations

import binascii
import codecs
import re
from datetime import UTC, datetime
from email.utils import getaddresses, parsedate_to_datetime

from supportdesk.mail.sanitize import clean_line

# Charset names seen in the wild that Python does not know, mapped to what was meant.
_CHARSET_ALIASES = {
    "unicode-1-1-utf-7": "utf-7",
    "x-unknown": "latin-1",
    "unknown-8bit": "latin-1",
    "x-user-defined": "latin-1",
    "ansi_x3.4-1968": "ascii",
    "iso-8859-8-i": "iso-8859-8",
    "ks_c_5601-1987": "cp949",
    "x-sjis": "shift_jis",
    "windows-874": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-mac-roman": "mac-roman",
    "238": "cp1250",
}

_LINE_SPLIT = re.compile(rb"\r?\n(?![ \t])")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+?)\?([bBqQ])\?([^?]*?)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)\s+(=\?)")
# Message-IDs and addresses have no control characters (nor could PostgreSQL store a NUL).
_MSGID = re.compile(r"<([^<>\s\x00-\x1f\x7f]{1,900})>")


def codec_for(charset: str | None) -> str | None:
    """A Python codec name for a MIME charset, or None when it is unknown."""
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    if "*" in name:  # RFC 2231 language suffix: utf-8*en
        name = name.split("*", 1)[0]
    name = _CHARSET_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, charset: str | None, warnings: list[str], where: str) -> str:
    """Decode with the declared charset; fall back (and say so) when it is unknown or wrong."""
    codec = codec_for(charset)
    if charset and codec is None:
        warnings.append(f"{where}: unknown charset {charset.strip()[:40]!r}, guessed")
    if codec is None or codec == "ascii":
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            if codec == "ascii" and charset is not None:
                warnings.append(f"{where}: 8-bit data in a {charset[:40]} part, guessed")
            return data.decode("cp1252", "replace")
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        warnings.append(
            f"{where}: invalid {charset[:40] if charset else codec} data, some characters replaced"
        )
        if codec != "utf-8":
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                pass
        return data.decode(codec, "replace")
    except Exception:  # broken codecs (utf-7 on garbage, etc.)
        warnings.append(f"{where}: undecodable {codec} data, guessed")
        return data.decode("utf-8", "replace")


def split_headers(block: bytes) -> list[tuple[str, bytes]]:
    """Logical header lines of a header block: [(lower-case name, raw value)]."""
    result = []
    for line in _LINE_SPLIT.split(block):
        name, sep, value = line.partition(b":")
        if not sep:
            continue
        key = name.strip().lower()
        if not key or len(key) > 200:
            continue
        result.append((key.decode("ascii", "replace"), value.strip()))
    return result


def raw_header_text(value: bytes) -> str:
    """A raw header value as text: UTF-8 when it is, else Windows-1252 (never fails)."""
    try:
        return value.decode("ascii")
    except UnicodeDecodeError:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.decode("cp1252", "replace")


def _decode_word(charset: str, encoding: str, text: str, warnings: list[str]) -> str:
    try:
        if encoding in "bB":
            data = binascii.a2b_base64(text + "=" * (-len(text) % 4))
        else:
            data = binascii.a2b_qp(text.replace("_", " ").encode("ascii", "replace"), header=True)
    except (binascii.Error, ValueError):
        warnings.append("header: broken encoded word kept as is")
        return f"=?{charset}?{encoding}?{text}?="
    return decode_bytes(data, charset, warnings, "header")


def decode_header_value(value: bytes | str, warnings: list[str]) -> str:
    """Unfold and decode a header value (RFC 2047 encoded words, raw UTF-8), never raising."""
    text = raw_header_text(value) if isinstance(value, bytes) else value
    text = text.replace("\r\n", "").replace("\n", "")
    if "=?" not in text:
        return text
    text = _BETWEEN_WORDS.sub(r"\1\2", text)
    return _ENCODED_WORD.sub(lambda m: _decode_word(m[1], m[2], m[3], warnings), text)


_SIMPLE_ADDR = re.compile(
    r"\s*(?:([^<>\",;:()@]*?)\s*<([^<>\s\",;:()@]+@[^<>\s\",;:()@]+)>|"
    r"([^<>\s\",;:()@]+@[^<>\s\",;:()@]+))\s*$"
)


_PLAUSIBLE = re.compile(
    r"[^@\s<>,;:\"()\[\]\\\x00-\x1f\x7f]{1,64}"
    r"@[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\u0080-\uffff.-]{0,253})"
)


def plausible_address(addr: str) -> bool:
    """Looks like local@domain, with nothing that would break a header."""
    return len(addr) <= 320 and _PLAUSIBLE.fullmatch(addr) is not None


def parse_addresses(value: str, warnings: list[str] | None = None) -> list[tuple[str, str]]:
    """[(display name, lower-case address)] from a raw address header; junk is skipped.

    The list is split before encoded words are decoded, so a decoded name with a comma or
    quotes in it stays one name.
    """
    if not value:
        return []
    value = value.replace("\r\n", "").replace("\n", "")
    if "=?" in value:
        return [
            (
                clean_line(decode_header_value(name, warnings if warnings is not None else []))[
                    :200
                ],
                addr,
            )
            for name, addr in _split_addresses(value)
        ]
    return _split_addresses(value)


def _split_addresses(value: str) -> list[tuple[str, str]]:
    if '"' not in value and "(" not in value and ":" not in value:
        simple = []
        for item in value.split(","):
            m = _SIMPLE_ADDR.match(item)
            if m is None:
                if item.strip():
                    break
                continue
            addr = (m[3] or m[2]).lower()
            if plausible_address(addr):
                simple.append(("" if m[3] else clean_line(m[1])[:200], addr))
        else:
            return simple
    pairs = []
    for name, addr in getaddresses([value[:20000]]):
        addr = addr.strip().strip("<>").strip()
        if not plausible_address(addr):
            continue
        pairs.append((clean_line(name)[:200], addr.lower()))
    return pairs


# RFC 5322 section 3.3 day month year (section 4.3: obs-year may have two or three digits).
_DATE_YEAR = re.compile(
    r"(?i)(\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+)"
    r"(\d+)(?=\s|$)"
)
# The earliest and latest instants kept: a day inside what datetime holds, so that the date
# survives being shown in any time zone.
_EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
_LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def _rfc_year(digits: str) -> int:
    """RFC 5322 section 4.3: a two-digit year 00-49 is 20xx and 50-99 is 19xx; a three-digit
    year has 1900 added; four digits or more are the year as written."""
    year = int(digits)
    if len(digits) == 2:
        return year + (2000 if year < 50 else 1900)
    if len(digits) == 3:
        return year + 1900
    return year


def parse_date(value: str | None, warnings: list[str]) -> datetime | None:
    """The Date: header in UTC, the obsolete syntax included; None (with a warning) when it
    cannot be read or represented. The raw header stays in the raw message."""
    if not value:
        return None
    text = value.strip()
    when = None
    m = _DATE_YEAR.search(text)
    year = _rfc_year(m[2]) if m else None
    # The standard library would read a year below 100 as 19xx/20xx whatever its digits.
    if year is None or 100 <= year <= 9999:
        if m and year is not None:
            text = f"{text[: m.start(2)]}{year:04d}{text[m.end(2) :]}"
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            when = None
    if when is not None:
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        try:
            when = when.astimezone(UTC)
        except (OverflowError, ValueError):
            when = None
    if when is None or not _EARLIEST <= when <= _LATEST:
        warnings.append(f"Date: unreadable, kept as unknown: {clean_line(value)[:60]!r}")
        return None
    return when


def message_ids(value: str | None, limit: int = 50) -> list[str]:
    """Message-IDs in a References/In-Reply-To value, without angle brackets, last `limit`."""
    if not value:
        return []
    found = _MSGID.findall(value)
    return found[-limit:]


def parse_content_type(value: str | None) -> tuple[str, dict[str, str]]:
    """('type/subtype', params) with RFC 2231 continuations joined; tolerant of junk."""
    if not value:
        return "text/plain", {}
    main, _, rest = value.partition(";")
    ctype = main.strip().lower() or "text/plain"
    if "/" not in ctype:
        ctype = "text/plain" if ctype in ("text", "") else f"application/{ctype}"
    return ctype, parse_params(rest)


_PARAM = re.compile(r'\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;]*)\s*;?')


def parse_params(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    continued: dict[str, dict[int, tuple[str, bool]]] = {}
    for m in _PARAM.finditer(text):
        key, val = m[1].lower(), m[2].strip()
        if val.startswith('"'):
            val = val[1:-1] if val.endswith('"') and len(val) > 1 else val[1:]
            val = val.replace('\\"', '"').replace("\\\\", "\\")
        if "*" in key:
            base, _, idx = key.partition("*")
            encoded = idx.endswith("*") or idx == ""
            idx = idx.rstrip("*")
            number = int(idx) if idx.isdigit() else 0
            continued.setdefault(base, {})[number] = (val, encoded)
        else:
            params.setdefault(key, val)
    for base, pieces in continued.items():
        params[base] = _join_rfc2231(pieces)
    return params


def _join_rfc2231(pieces: dict[int, tuple[str, bool]]) -> str:
    from urllib.parse import unquote_to_bytes

    charset = None
    out = bytearray()
    for n in sorted(pieces):
        val, encoded = pieces[n]
        if encoded:
            if n == 0 and val.count("'") >= 2:
                charset, _lang, val = val.split("'", 2)
            out += unquote_to_bytes(val)
        else:
            out += val.encode("utf-8", "replace")
    codec = codec_for(charset) or "utf-8"
    try:
        return out.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return out.decode("utf-8", "replace")
