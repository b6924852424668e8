"""Template files: a Markdown body under TOML front matter between `+++` lines.

    +++
    name = "password-reset"
    language = "en"
    tags = ["password", "login"]
    description = "Cannot log in: how to reset the password."
    +++
    Hello {{ customer.first_name }}, ...

The file name is `NAME.LANG.md` (or `NAME.md`; the front matter wins over the file name).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from supportdesk.errors import SupportDeskError

NAME = re.compile(r"^[\w][\w.\- ]{0,79}$", re.UNICODE)
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
MAX_BODY = 64 * 1024


@dataclass(frozen=True, slots=True)
class TemplateFile:
    name: str
    language: str
    body: str
    subject: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    description: str = ""
    body_line: int = field(default=1, compare=False)
    """The file's line number of the body's first line, for error messages."""


def check_name(name: str) -> str:
    name = name.strip()
    if not NAME.match(name):
        raise SupportDeskError(
            f"bad template name {name!r}: use letters, digits, '-', '_' or '.' (at most 80)"
        )
    return name


def check_language(language: str) -> str:
    language = language.strip()
    if not LANGUAGE.match(language):
        raise SupportDeskError(f"bad template language {language!r}: use a code such as en or ru")
    return language


def parse_template_text(
    text: str, *, source: str, name: str | None = None, language: str | None = None
) -> TemplateFile:
    """Parse a template's text; `name`/`language` fill in what the front matter leaves out.

    Text without front matter is all body. Problems raise SupportDeskError naming `source`.
    """
    text = text.replace("\r\n", "\n").lstrip("\ufeff")
    meta: dict[str, object] = {}
    body, body_line = text, 1
    lines = text.split("\n")
    if lines and lines[0].strip() == "+++":
        try:
            end = next(i for i in range(1, len(lines)) if lines[i].strip() == "+++")
        except StopIteration:
            raise SupportDeskError(f"{source}: the front matter has no closing '+++'") from None
        try:
            meta = tomllib.loads("\n".join(lines[1:end]))
        except tomllib.TOMLDecodeError as exc:
            raise SupportDeskError(f"{source}: front matter: {exc}") from None
        body, body_line = "\n".join(lines[end + 1 :]), end + 2
    unknown = set(meta) - {"name", "language", "subject", "tags", "description"}
    if unknown:
        raise SupportDeskError(
            f"{source}: unknown front matter key(s): {', '.join(sorted(unknown))}"
        )
    for key in ("name", "language", "subject", "description"):
        if key in meta and not isinstance(meta[key], str):
            raise SupportDeskError(f"{source}: {key} must be a string")
    tags = meta.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise SupportDeskError(f"{source}: tags must be a list of strings")
    final_name = meta.get("name") or name
    if not final_name:
        raise SupportDeskError(f"{source}: the template has no name")
    if not body.strip():
        raise SupportDeskError(f"{source}: the template's body is empty")
    if len(body) > MAX_BODY:
        raise SupportDeskError(f"{source}: the body is longer than {MAX_BODY // 1024} KiB")
    subject = meta.get("subject")
    return TemplateFile(
        name=check_name(str(final_name)),
        language=check_language(str(meta.get("language") or language or "en")),
        body=body.strip("\n") + "\n",
        subject=str(subject) if subject else None,
        tags=tuple(dict.fromkeys(t.strip() for t in tags if t.strip())),
        description=str(meta.get("description", "")).strip(),
        body_line=body_line,
    )


def name_from_path(path: Path) -> tuple[str, str | None]:
    """`auto_ack.ru.md` -> ("auto_ack", "ru"); `refund.md` -> ("refund", None)."""
    stem = path.name.removesuffix(".md")
    base, dot, suffix = stem.rpartition(".")
    if dot and LANGUAGE.match(suffix):
        return base, suffix
    return stem, None


def read_template_file(path: Path) -> TemplateFile:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SupportDeskError(f"cannot read {path}: {exc}") from None
    name, language = name_from_path(path)
    return parse_template_text(text, source=str(path), name=name, language=language)


def read_template_dir(folder: Path) -> list[TemplateFile]:
    """Every `*.md` template directly in `folder`, sorted by name and language."""
    if not folder.is_dir():
        raise SupportDeskError(f"{folder} is not a folder")
    found = [read_template_file(p) for p in sorted(folder.glob("*.md")) if p.is_file()]
    return sorted(found, key=lambda t: (t.name, t.language))


def format_template_file(t: TemplateFile) -> str:
    """The file text for `t`; reading it back gives `t` again."""
    lines = ["+++", f"name = {_toml_str(t.name)}", f"language = {_toml_str(t.language)}"]
    if t.subject:
        lines.append(f"subject = {_toml_str(t.subject)}")
    lines.append("tags = [" + ", ".join(_toml_str(tag) for tag in t.tags) + "]")
    if t.description:
        lines.append(f"description = {_toml_str(t.description)}")
    lines.append("+++")
    return "\n".join(lines) + "\n" + t.body


def file_name(t: TemplateFile) -> str:
    return f"{t.name}.{t.language}.md"


def write_template_files(folder: Path, templates: Iterable[TemplateFile]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for t in templates:
        path = folder / file_name(t)
        path.write_text(format_template_file(t), encoding="utf-8")
        written.append(path)
    return written


def _toml_str(value: str) -> str:
    out = ['"']
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
