"""Template search (the picker) and suggestions (when a request opens): templates as documents
of the generic text index (`supportdesk.textsearch`).

What is template-specific lives here: a template's scope decides which of its variants wins
(personal, then team, then system), personal templates rank a little higher and come first
in the blank-query listing, system templates (what the workflow sends) are never suggested,
and the Jinja markup of a body is not indexed.

Pure Python, no database: the caller builds `TemplateDoc`s from whatever it stores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from supportdesk.textsearch import PREFERRED_FACTOR, TextIndex

__all__ = ["PERSONAL_FACTOR", "TemplateDoc", "TemplateIndex", "strip_markup"]

PERSONAL_FACTOR = PREFERRED_FACTOR
"""How much higher a personal template ranks in search."""

_SCOPE_RANK = {"personal": 0, "team": 1, "system": 2}
_MARKUP_OPEN = re.compile(r"\{[{%#]")
_MARKUP_CLOSE = {"{": "}}", "%": "%}", "#": "#}"}


@dataclass(frozen=True, slots=True)
class TemplateDoc:
    key: int
    """Database id."""
    name: str
    language: str
    scope: str
    """"personal" | "team" | "system"."""
    tags: tuple[str, ...]
    description: str
    body: str
    """Jinja source text; its {{ }} / {% %} / {# #} markup is not indexed."""

    @property
    def text(self) -> str:
        return strip_markup(self.body)

    @property
    def rank(self) -> int:
        return _SCOPE_RANK.get(self.scope, 3)

    @property
    def preferred(self) -> bool:
        return self.scope == "personal"

    @property
    def suggested(self) -> bool:
        return self.scope != "system"


class TemplateIndex(TextIndex[TemplateDoc]):
    """Search and suggestion over a fixed set of templates; build a new one when they change."""


def strip_markup(source: str) -> str:
    """Template source without its Jinja {{ }}, {% %} and {# #} markup (in linear time)."""
    parts: list[str] = []
    pos = 0
    while (found := _MARKUP_OPEN.search(source, pos)) is not None:
        end = source.find(_MARKUP_CLOSE[source[found.start() + 1]], found.end())
        if end < 0:
            break
        parts += (source[pos : found.start()], " ")
        pos = end + 2
    parts.append(source[pos:])
    return "".join(parts)
