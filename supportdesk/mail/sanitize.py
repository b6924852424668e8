"""Make untrusted mail text inert: no escape sequences, no control characters, safe file names."""

from __future__ import annotations

import re
import unicodedata

from supportdesk.domain.text import clean_line, clean_text, display_safe, strip_invisible

__all__ = ["clean_line", "clean_text", "display_safe", "safe_filename", "strip_invisible"]

_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f-\x9f<>:"|?*\\/]')
_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(1, 10)),
    *(f"lpt{i}" for i in range(1, 10)),
}


def safe_filename(name: str | None, fallback: str = "attachment") -> str:
    """A file name that stays inside the folder it is saved to, on any platform."""
    if not name:
        return fallback
    name = unicodedata.normalize("NFC", strip_invisible(clean_text(name)))
    name = name.replace("\\", "/").split("/")[-1]
    name = _UNSAFE_NAME.sub("_", name).strip().lstrip(".").strip()
    if not name or name in (".", ".."):
        return fallback
    stem = name.split(".")[0].lower()
    if stem in _RESERVED:
        name = "_" + name
    encoded = name.encode("utf-8")
    if len(encoded) > 200:
        base, dot, ext = name.rpartition(".")
        ext = ext if dot and len(ext) <= 16 else ""
        keep = 200 - len(ext.encode()) - 1
        base = (base or name).encode("utf-8")[:keep].decode("utf-8", "ignore")
        name = f"{base}.{ext}" if ext else base
    return name
