"""HTML mail to readable plain text (for HTML-only messages), with C-speed regexes only."""

from __future__ import annotations

import html
import re

from supportdesk.mail.sanitize import clean_text

_FLAGS = re.I | re.S
_DROP = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<(script|style|head|title|template|noscript)\b.*?</\1\s*>",
    _FLAGS,
)
_LINK = re.compile(r"<a\b[^>]*?href\s*=\s*[\"']?(https?://[^\"'\s>]+)[^>]*>(.*?)</a\s*>", _FLAGS)
_LIST_ITEM = re.compile(r"<li\b[^>]*>", re.I)
_BREAK = re.compile(
    r"</?(?:p|div|br|tr|h[1-6]|blockquote|pre|table|ul|ol|hr|section|article|header|footer|"
    r"dd|dt|li|center|form)\b[^>]*>",
    re.I,
)
_CELL = re.compile(r"</?t[dh]\b[^>]*>", re.I)
_IMG_ALT = re.compile(r"<img\b[^>]*?\balt\s*=\s*[\"']([^\"']+)[\"'][^>]*>", re.I)
_TAG = re.compile(r"<[^>]*>", re.S)
_SPACES = re.compile(r"[ \t\f\v\xa0]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*(?:\n\s*)+")


def _link(m: re.Match[str]) -> str:
    href, label = m[1], m[2]
    plain = _TAG.sub("", label).strip()
    return label if not plain or href in plain else f"{label} ({href})"


def html_to_text(source: str) -> str:
    """Readable text from HTML: blocks become lines, scripts and styles vanish, links kept."""
    text = _DROP.sub("", source)
    text = _LINK.sub(_link, text)
    text = _IMG_ALT.sub(r"[\1]", text)
    text = text.replace("\r", "").replace("\n", " ")
    text = _LIST_ITEM.sub("\n- ", text)
    text = _BREAK.sub("\n", text)
    text = _CELL.sub(" ", text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _BLANK_LINES.sub("\n\n", text).strip()
    return clean_text(text)
