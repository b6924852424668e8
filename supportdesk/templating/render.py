"""Rendering templates in Jinja2's sandbox, for plain-text mail.

Templates are written by agents, values come from customers: neither is trusted.
- The immutable sandbox refuses `_`-attributes, and here also any callable reached through an
  attribute (`customer.name.upper`, `''.format`): templates use filters instead.
- StrictUndefined: a missing placeholder is an error naming the template and the line, shown
  before anything is sent, never a silent blank.
- Work is bounded: `range` is capped by the sandbox, `*`, `**`, `+` and `~` refuse results
  larger than MAX_VALUE, filters refuse huge widths, the output stops at MAX_OUTPUT, and a
  step budget stops nested loops (a tracer counts the template's own lines only).
- Values are inserted as text: a customer named `{{ 7*7 }}` stays `{{ 7*7 }}`.
"""

from __future__ import annotations

import functools
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError
from jinja2.compiler import CodeGenerator, Frame
from jinja2.environment import Template
from jinja2.exceptions import SecurityError
from jinja2.exceptions import TemplateError as JinjaTemplateError
from jinja2.nodes import Concat
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import missing

from supportdesk.errors import SupportDeskError

MAX_OUTPUT = 256 * 1024
"""Characters a template may produce (a mail body, not a book)."""
MAX_VALUE = 100_000
"""Largest string or list an expression may build."""
MAX_NUMBER = 10_000
"""Largest number a filter argument may be (widths, counts)."""
MAX_STEPS = 200_000
"""Template lines a render may execute before it is stopped."""
_HUGE_FORMAT = re.compile(r"%[-#0 +]*\d{5,}|\{[^{}]*:[^{}]*\d{5,}")


class TemplateError(SupportDeskError):
    """A template that cannot be rendered: it names the template, the line and the problem."""

    def __init__(self, template: str, problem: str, line: int | None = None) -> None:
        self.template = template
        self.problem = problem
        self.line = line
        where = f", line {line}" if line else ""
        super().__init__(f"template {template}{where}: {problem}")


class Fields:
    """A read-only record for templates: `customer.name`; a wrong field names what exists."""

    __slots__ = ("_label", "_values")

    def __init__(self, label: str, values: Mapping[str, Any]) -> None:
        self._label = label
        self._values = dict(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __str__(self) -> str:
        return str(self._values.get("name", self._label))

    def __repr__(self) -> str:
        return f"<{self._label}>"


class _Undefined(StrictUndefined):
    @property
    def _undefined_message(self) -> str:
        obj, name = self._undefined_obj, self._undefined_name
        if self._undefined_hint:
            return self._undefined_hint
        if isinstance(obj, Fields):
            known = ", ".join(sorted(obj._values))
            return f"{obj._label} has no field {name!r} (it has: {known})"
        if obj is not missing and isinstance(name, str):
            return f"{type(obj).__name__} value has no field {name!r}"
        return f"{name!r} is not defined (use one of: {', '.join(CONTEXT_NAMES)})"


CONTEXT_NAMES = ("customer", "request", "agent", "desk", "last_reply", "item")


class _StepsExceeded(Exception):
    pass


class _OutputTooLarge(Exception):
    pass


class _Generator(CodeGenerator):
    """`a ~ b` goes through the environment so its size can be checked."""

    def visit_Concat(self, node: Concat, frame: Frame) -> None:
        self.write("environment.checked_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


def _sized(value: Any) -> Any:
    if isinstance(value, str | list | tuple) and len(value) > MAX_VALUE:
        raise SecurityError(f"a value longer than {MAX_VALUE:,}")
    return value


def _check_arguments(args: Iterable[Any]) -> None:
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_NUMBER:
            raise SecurityError(f"the number {arg} (at most {MAX_NUMBER:,} here)")
        if isinstance(arg, str) and _HUGE_FORMAT.search(arg):
            raise SecurityError("a format width that large")


def _guard_filter(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)  # keeps jinja's pass_context/pass_environment markers
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _check_arguments(a for a in args if not hasattr(a, "environment"))
        _check_arguments(kwargs.values())
        return _sized(func(*args, **kwargs))

    return guarded


def quote(text: Any) -> str:
    """Quote text as mail does: `> ` before every line."""
    lines = str(text).rstrip("\n").split("\n")
    return "\n".join(f"> {line}" if line else ">" for line in lines)


class _Sandbox(ImmutableSandboxedEnvironment):
    code_generator_class = _Generator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self) -> None:
        super().__init__(
            undefined=_Undefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
            cache_size=0,
        )
        self.globals = {"range": self.globals["range"]}  # no lipsum, cycler, dict, namespace
        self.filters = {name: _guard_filter(f) for name, f in self.filters.items()}
        self.filters["quote"] = _guard_filter(quote)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return not callable(value) and super().is_safe_attribute(obj, attr, value)

    def wrap_str_format(self, value: Any) -> None:
        return None  # `'{}'.format` is a callable reached through an attribute: refused

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > 64:
            raise SecurityError("an exponent above 64")
        if operator == "%" and isinstance(left, str):
            raise SecurityError("'%' formatting (use the format filter)")
        if operator == "*":
            for a, b in ((left, right), (right, left)):
                if (
                    isinstance(a, str | list | tuple)
                    and isinstance(b, int)
                    and len(a) * b > MAX_VALUE
                ):
                    raise SecurityError(f"a value longer than {MAX_VALUE:,}")
        if operator == "+":
            _check_sum(left, right)
        return super().call_binop(context, operator, left, right)

    def checked_concat(self, values: Iterable[Any]) -> str:
        parts = [str(v) for v in values]
        if sum(len(p) for p in parts) > MAX_VALUE:
            raise SecurityError(f"a value longer than {MAX_VALUE:,}")
        return "".join(parts)


def _check_sum(left: Any, right: Any) -> None:
    sized = isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple)
    if sized and len(left) + len(right) > MAX_VALUE:
        raise SecurityError(f"a value longer than {MAX_VALUE:,}")


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    subject: str | None = None


class Renderer:
    """Compiles (with a cache) and renders templates; safe to share between threads."""

    def __init__(self, cache_size: int = 256) -> None:
        self._env = _Sandbox()
        self._cache: OrderedDict[str, Template] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def check(self, label: str, source: str) -> None:
        """Raise TemplateError if `source` does not compile."""
        self._compile(label, source)

    def render(self, label: str, source: str, context: Mapping[str, Any]) -> str:
        template = self._compile(label, source)
        try:
            return _run(template, context)
        except _StepsExceeded:
            raise TemplateError(
                label, f"stopped after {MAX_STEPS:,} steps: does it loop too much?", None
            ) from None
        except _OutputTooLarge:
            raise TemplateError(label, f"the text grew past {MAX_OUTPUT // 1024} KiB") from None
        except SecurityError as exc:
            raise TemplateError(label, f"refused: {exc}", _line_of(exc.__traceback__)) from None
        except JinjaTemplateError as exc:
            raise TemplateError(label, str(exc.message), _line_of(exc.__traceback__)) from None
        except RecursionError:
            raise TemplateError(label, "stopped: it calls itself too deeply") from None
        except (ArithmeticError, TypeError, ValueError, LookupError, OverflowError) as exc:
            raise TemplateError(label, str(exc), _line_of(exc.__traceback__)) from None

    def _compile(self, label: str, source: str) -> Template:
        with self._lock:
            cached = self._cache.get(source)
            if cached is not None:
                self._cache.move_to_end(source)
                return cached
        try:
            template = self._env.from_string(source)
        except TemplateSyntaxError as exc:
            raise TemplateError(label, str(exc.message), exc.lineno) from None
        except RecursionError:
            raise TemplateError(label, "the template is nested too deeply") from None
        with self._lock:
            self._cache[source] = template
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return template


def _run(template: Template, context: Mapping[str, Any]) -> str:
    steps = 0

    def count(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal steps
        if event == "line":
            steps += 1
            if steps > MAX_STEPS:
                raise _StepsExceeded
        return count

    previous = sys.gettrace()

    def dispatch(frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename == "<template>":
            return count
        return previous(frame, event, arg) if previous is not None else None  # type: ignore[arg-type]

    parts: list[str] = []
    size = 0
    sys.settrace(dispatch)
    try:
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise _OutputTooLarge
            parts.append(chunk)
    finally:
        sys.settrace(previous)
    return "".join(parts)


def _line_of(tb: TracebackType | None) -> int | None:
    """The template line where the error happened (Jinja rewrites tracebacks to them)."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
