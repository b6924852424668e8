"""Durations as people write them in config: 90s, 90m, 12h, 2d, 1w, or combined (1h30m)."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PART = re.compile(r"(\d+)\s*([smhdw])")
_WHOLE = re.compile(r"^\s*(?:\d+\s*[smhdw]\s*)+$")


def parse_duration(text: str) -> timedelta:
    """Parse `90m`, `12h`, `2d`, `1w`, `1h30m`; raise ValueError on anything else."""
    if not isinstance(text, str) or not _WHOLE.match(text.lower()):
        raise ValueError(f"expected a duration such as 90m, 12h, 2d or 1w, got {text!r}")
    seconds = sum(int(n) * _UNITS[u] for n, u in _PART.findall(text.lower()))
    return timedelta(seconds=seconds)
