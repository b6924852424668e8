"""Rendering templates in Jinja2's sandbox, for plain-text mail.

Templates are written by agents, values come from customers: neither is trusted.
- The immutable sandbox refuses `_`-attributes, and here also any callable reached through an
  attribute (`customer.name.upper`, `''.format`): templates use filters instead.
- StrictUndefined: a missing placeholder is an error naming the template and the line, shown
  before anything is sent, never a silent blank.
- Work is bounded: `range` is capped by the sandbox, `*`, `**`, `+` and `~` refuse results
  larger than MAX_VALUE, filters refuse huge widths, and the filters that multiply their
  input (`replace`, `join`, `wordwrap`, `indent`, `format`, `batch` ...) refuse before they
  build a result larger than MAX_VALUE. One render may build at most MAX_BUILT characters in
  all, its output stops at MAX_OUTPUT, a step budget stops nested loops (a tracer counts the
  template's own lines), and a CPU budget (the thread's CPU time, checked by the tracer, also
  inside filters written in Python, and around every filter call) stops the rest.
- Whatever goes wrong while rendering is a TemplateError, never another exception.
- Values are inserted as text: a customer named `{{ 7*7 }}` stays `{{ 7*7 }}`.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import re
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
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

from supportdesk.errors import TemplateError

MAX_OUTPUT = 256 * 1024
"""Characters a template may produce (a mail body, not a book)."""
MAX_VALUE = 100_000
"""Largest string or list an expression may build."""
MAX_NUMBER = 10_000
"""Largest number a filter argument may be (widths, counts)."""
MAX_STEPS = 200_000
"""Template lines a render may execute before it is stopped."""
MAX_BUILT = 4_000_000
"""Characters one render may build in all (filter results, joins, output pieces)."""
MAX_INT_BITS = 100_000
"""Largest integer (in bits) arithmetic may build."""
RENDER_SECONDS = 1.0
"""CPU time one render may take, by default (filters included)."""
_HUGE_FORMAT = re.compile(r"%[-#0 +]*\d{5,}|\{[^{}]*:[^{}]*\d{5,}")


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


class _TimeExceeded(Exception):
    line: int | None = None
    """The template line running when the time ran out (when the traceback cannot tell)."""


class _OutputTooLarge(Exception):
    pass


class _Budget(threading.local):
    """The render running on this thread: its CPU deadline and what it has built so far."""

    deadline: float | None = None
    built: int = 0

    def check(self) -> None:
        if self.deadline is not None and time.thread_time() > self.deadline:
            raise _TimeExceeded

    def add(self, size: int) -> None:
        if self.deadline is None:
            return
        self.built += size
        if self.built > MAX_BUILT:
            raise SecurityError(f"building more than {MAX_BUILT:,} characters in all")


_BUDGET = _Budget()


class _Generator(CodeGenerator):
    """`a ~ b` goes through the environment so its size can be checked."""

    def visit_Concat(self, node: Concat, frame: Frame) -> None:
        self.write("environment.checked_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


def _weight(value: Any, limit: int = MAX_VALUE) -> int:
    """About how many characters `value` becomes as text (lists count their items, a list of
    one long string repeated is long); stops counting once past `limit`."""
    total = 0
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            total += len(v)
        elif isinstance(v, bool) or v is None or isinstance(v, float):
            total += 5
        elif isinstance(v, int):
            total += v.bit_length() * 3 // 10 + 1
        elif isinstance(v, list | tuple | set | frozenset):
            total += 2 + 2 * len(v)
            if total <= limit:
                stack.extend(v)
        elif isinstance(v, dict):
            total += 2 + 4 * len(v)
            if total <= limit:
                stack.extend(v.keys())
                stack.extend(v.values())
        elif isinstance(v, range):
            total += len(v) * (len(str(max(abs(v.start), abs(v.stop)))) + 2)
        elif isinstance(v, Fields):
            stack.extend(v._values.values())
        else:
            total += 16
        if total > limit:
            return total
    return total


def _too_long(what: str = "a value") -> SecurityError:
    return SecurityError(f"{what} longer than {MAX_VALUE:,} characters")


def _sized(value: Any) -> Any:
    if isinstance(value, Iterator):
        return value  # a lazy result (map, select): whatever consumes it is checked
    if _weight(value) > MAX_VALUE:
        raise _too_long()
    if isinstance(value, str):
        _BUDGET.add(len(value))
    return value


def _check_arguments(args: Iterable[Any]) -> None:
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_NUMBER:
            raise SecurityError(f"the number {arg} (at most {MAX_NUMBER:,} here)")
        if isinstance(arg, str) and _HUGE_FORMAT.search(arg):
            raise SecurityError("a format width that large")


def _lines(text: str) -> int:
    return text.count("\n") + 1


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _estimate_replace(a: dict[str, Any]) -> int:
    s, old, new = str(a["s"]), str(a["old"]), str(a["new"])
    times = s.count(old) if old else len(s) + 1
    count = a.get("count")
    if isinstance(count, int) and count >= 0:
        times = min(times, count)
    return len(s) + times * max(0, len(new) - len(old))


def _estimate_join(a: dict[str, Any]) -> int:
    items = a["value"]
    glue = len(str(a["d"])) if isinstance(a["d"], str | int) else _weight(a["d"])
    count = len(items) if isinstance(items, list | tuple | str | range | dict) else 0
    return _weight(items) + max(count - 1, 0) * glue


def _estimate_wordwrap(a: dict[str, Any]) -> int:
    s = str(a["s"])
    wrap = a["wrapstring"]
    wrap_len = len(wrap) if isinstance(wrap, str) else 1
    lines = len(s) // max(_int(a["width"], 1), 1) + _lines(s)
    return len(s) + lines * wrap_len


def _estimate_indent(a: dict[str, Any]) -> int:
    s, width = str(a["s"]), a["width"]
    step = len(width) if isinstance(width, str) else _int(width, 4)
    return len(s) + _lines(s) * step


def _estimate_center(a: dict[str, Any]) -> int:
    return max(len(str(a["value"])), _int(a["width"], 0))


def _estimate_format(a: dict[str, Any]) -> int:
    text = str(a["value"])
    values = [*a["args"], *a["kwargs"].values()]
    widest = max((_weight(v) for v in values), default=0)
    numbers = max((abs(v) for v in values if _int(v, 0)), default=0)
    return len(text) + text.count("%") * (widest + numbers)


def _estimate_fill(count: str) -> Callable[[dict[str, Any]], int]:
    def estimate(a: dict[str, Any]) -> int:
        fill = a["fill_with"]
        extra = 0 if fill is None else _int(a[count], 0) * (_weight(fill) + 2)
        return _weight(a["value"]) + extra

    return estimate


def _estimate_sum(a: dict[str, Any]) -> int:
    if not isinstance(a["start"], int | float):
        raise SecurityError("sum with a start that is not a number")
    return 0


_ESTIMATES: dict[str, Callable[[dict[str, Any]], int]] = {
    "replace": _estimate_replace,
    "join": _estimate_join,
    "wordwrap": _estimate_wordwrap,
    "indent": _estimate_indent,
    "center": _estimate_center,
    "format": _estimate_format,
    "batch": _estimate_fill("linecount"),
    "slice": _estimate_fill("slices"),
    "sum": _estimate_sum,
}
"""Filters whose result can be far larger than their input: how large, before they run."""


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0
    signature = inspect.signature(func)
    estimate = _ESTIMATES.get(name)

    @functools.wraps(func)  # keeps jinja's pass_context/pass_environment markers
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _BUDGET.check()
        if len(args) > skip and isinstance(args[skip], Iterator):  # a map/select result
            items = list(itertools.islice(args[skip], MAX_VALUE + 1))
            if len(items) > MAX_VALUE:
                raise SecurityError(f"a list longer than {MAX_VALUE:,} items")
            args = (*args[:skip], items, *args[skip + 1 :])
        values = [*args[skip:], *kwargs.values()]
        _check_arguments(values)
        for value in values:
            if _weight(value) > MAX_VALUE:
                raise _too_long()
        if estimate is not None:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError:
                pass  # the call itself says what is wrong
            else:
                bound.apply_defaults()
                size = estimate(bound.arguments)
                if size > MAX_VALUE:
                    raise SecurityError(
                        f"'{name}' would build about {size:,} characters (at most {MAX_VALUE:,})"
                    )
        result = func(*args, **kwargs)
        _BUDGET.check()
        return _sized(result)

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
            finalize=_finalize,
        )
        self.globals = {"range": self.globals["range"]}  # no lipsum, cycler, dict, namespace
        self.filters = {name: _guard_filter(name, f) for name, f in self.filters.items()}
        self.filters["quote"] = _guard_filter("quote", quote)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return not callable(value) and super().is_safe_attribute(obj, attr, value)

    def wrap_str_format(self, value: Any) -> None:
        return None  # `'{}'.format` is a callable reached through an attribute: refused

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > 64:
            raise SecurityError("an exponent above 64")
        if operator in ("*", "**") and _int_too_long(operator, left, right):
            raise SecurityError(f"a number longer than {MAX_INT_BITS:,} bits")
        if operator == "%" and isinstance(left, str):
            raise SecurityError("'%' formatting (use the format filter)")
        if operator == "*":
            for a, b in ((left, right), (right, left)):
                if (
                    isinstance(a, str | list | tuple)
                    and isinstance(b, int)
                    and _weight(a) * b > MAX_VALUE
                ):
                    raise _too_long()
        if operator == "+":
            _check_sum(left, right)
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, str):
            _BUDGET.add(len(result))
        return result

    def checked_concat(self, values: Iterable[Any]) -> str:
        values = list(values)
        size = 0
        for v in values:
            size += _weight(v)
            if size > MAX_VALUE:
                raise _too_long()
        text = "".join(str(v) for v in values)
        _BUDGET.add(len(text))
        return text


def _finalize(value: Any) -> Any:
    """Every `{{ value }}` before it becomes text: a list of long strings is long text."""
    size = _weight(value, MAX_OUTPUT)
    if size > MAX_OUTPUT:
        raise _OutputTooLarge
    _BUDGET.add(size)
    return value


def _int_too_long(operator: str, left: Any, right: Any) -> bool:
    if not (isinstance(left, int) and isinstance(right, int)):
        return False
    if operator == "**":
        return left.bit_length() * abs(right) > MAX_INT_BITS
    return left.bit_length() + right.bit_length() > MAX_INT_BITS


def _check_sum(left: Any, right: Any) -> None:
    sized = isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple)
    if sized and _weight(left) + _weight(right) > MAX_VALUE:
        raise _too_long()


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

    def render(
        self,
        label: str,
        source: str,
        context: Mapping[str, Any],
        *,
        seconds: float = RENDER_SECONDS,
    ) -> str:
        """The text, or TemplateError naming the template, the line and what failed; stopped
        after `seconds` of CPU time (whatever it spends them on)."""
        template = self._compile(label, source)
        try:
            return _run(template, context, seconds)
        except _StepsExceeded:
            raise TemplateError(
                label, f"stopped after {MAX_STEPS:,} steps: does it loop too much?", None
            ) from None
        except _TimeExceeded as exc:
            raise TemplateError(
                label,
                f"stopped after {seconds:g} s of work: a loop or a filter is too expensive",
                _line_of(exc.__traceback__) or exc.line,
            ) from None
        except _OutputTooLarge:
            raise TemplateError(label, f"the text grew past {MAX_OUTPUT // 1024} KiB") from None
        except SecurityError as exc:
            raise TemplateError(label, f"refused: {exc}", _line_of(exc.__traceback__)) from None
        except JinjaTemplateError as exc:
            raise TemplateError(label, str(exc.message), _line_of(exc.__traceback__)) from None
        except RecursionError:
            raise TemplateError(label, "stopped: it calls itself too deeply") from None
        except MemoryError:
            raise TemplateError(label, "stopped: it ran out of memory") from None
        except (ArithmeticError, TypeError, ValueError, LookupError, OverflowError) as exc:
            raise TemplateError(label, str(exc), _line_of(exc.__traceback__)) from None
        except Exception as exc:  # a filter's own failure (an assert in truncate ...)
            problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise TemplateError(
                label, f"failed: {problem[:300]}", _line_of(exc.__traceback__)
            ) from None

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


_CHECK_EVERY = 64
"""Steps (template lines, or calls made by filters) between two looks at the CPU clock."""


def _run(template: Template, context: Mapping[str, Any], seconds: float) -> str:
    steps = 0
    calls = 0

    line = 0  # the generated code's line last run: the template line when time runs out

    def count(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal steps, line
        if event == "line":
            line = frame.f_lineno
            steps += 1
            if steps > MAX_STEPS:
                raise _StepsExceeded
            if steps % _CHECK_EVERY == 0:
                _BUDGET.check()
        return count

    previous = sys.gettrace()

    def dispatch(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal calls
        if frame.f_code.co_filename == "<template>":
            return count
        calls += 1  # a call inside a filter (textwrap, sort keys ...): time counts there too
        if calls % _CHECK_EVERY == 0:
            _BUDGET.check()
        return previous(frame, event, arg) if previous is not None else None  # type: ignore[arg-type]

    parts: list[str] = []
    size = 0
    outer = (_BUDGET.deadline, _BUDGET.built)
    _BUDGET.deadline, _BUDGET.built = time.thread_time() + seconds, 0
    sys.settrace(dispatch)
    try:
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise _OutputTooLarge
            parts.append(chunk)
    except _TimeExceeded as exc:
        exc.line = template.get_corresponding_lineno(line) if line else None
        raise
    finally:
        sys.settrace(previous)
        _BUDGET.deadline, _BUDGET.built = outer
    return "".join(parts)


def _line_of(tb: TracebackType | None) -> int | None:
    """The template line where the error happened (Jinja rewrites tracebacks to them)."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
