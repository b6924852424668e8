"""One way to run desk calls in the background.

`run_desk(node, "Send", call, then)` runs `call` (a blocking desk call) in a thread worker
and posts a typed message to the app: `WorkDone` with the result, whose `then` the app runs
on the UI thread, or `WorkFailed` with the exception, which the app's one handler shows as a
toast of one line ("Send failed: <why> — <what to do>") and writes to the Textual log. No
failure is left to Textual's `Worker.StateChanged`, which does not bubble from a screen.

A load started again before the last one ended (`supersede=True`) replaces it: the older
one's result and failure are dropped, and so are those of a load whose screen has closed.
An action's outcome (a send, a close) is reported whatever the agent did meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual.dom import DOMNode
from textual.message import Message
from textual.worker import Worker, get_current_worker

from supportdesk.domain.text import display_safe
from supportdesk.errors import SupportDeskError

T = TypeVar("T")

FAILURE_LENGTH = 300
"""A failure toast is cut to this many characters (the whole error goes to the log)."""


class WorkDone(Message, bubble=False):
    """A desk call ended: the app runs `then(result)` unless the work was superseded."""

    def __init__(
        self,
        what: str,
        result: Any,
        then: Callable[[Any], None] | None,
        node: DOMNode,
        worker: Worker[Any],
        supersede: bool,
    ) -> None:
        super().__init__()
        self.what = what
        self.result = result
        self.then = then
        self.node = node
        self.worker = worker
        self.supersede = supersede

    @property
    def superseded(self) -> bool:
        return _superseded(self.node, self.worker, self.supersede)


class WorkFailed(Message, bubble=False):
    """A desk call (or what the screen did with its result) raised `error`."""

    def __init__(
        self,
        what: str,
        error: BaseException,
        advice: str = "",
        or_else: Callable[[BaseException], None] | None = None,
    ) -> None:
        super().__init__()
        self.what = what
        self.error = error
        self.advice = advice
        self.or_else = or_else
        """Run on the UI thread before the failure is shown (to undo a "sending…" state)."""


def run_desk(
    node: DOMNode,
    what: str,
    call: Callable[[], T],
    then: Callable[[T], None] | None = None,
    *,
    group: str,
    supersede: bool = False,
    advice: str = "",
    or_else: Callable[[BaseException], None] | None = None,
) -> Worker[None]:
    """Run `call` in a thread worker of `node` (a screen, a modal or the app).

    `what` names the work for the agent ("Send", "Close #3"); `advice` says what to do when
    it fails, if the error itself does not. `supersede`: a newer run in `group` replaces this
    one (a load). `or_else(error)` runs on the UI thread when it fails."""
    app = node.app

    def work() -> None:
        worker = get_current_worker()
        try:
            result = call()
        except Exception as exc:  # every failure goes to the app's one handler
            if not (supersede and worker.is_cancelled):
                app.post_message(WorkFailed(what, exc, advice, or_else))
            return
        app.post_message(WorkDone(what, result, then, node, worker, supersede))

    return node.run_worker(
        work, name=what, group=group, exclusive=supersede, thread=True, exit_on_error=False
    )


def _superseded(node: DOMNode, worker: Worker[Any], supersede: bool) -> bool:
    if not supersede:
        return False
    attached = node is node.app or node.is_attached
    return worker.is_cancelled or not attached


def failure_line(
    what: str, error: BaseException, advice: str = "", database_url: str | None = None
) -> str:
    """`Send failed: <why> — <what to do>` in one line of plain text (shown without markup)."""
    reason, known = explain(error, database_url)
    if not advice and not known:
        advice = "please report it (TEXTUAL_LOG=console.log keeps the details)"
    line = f"{what} failed: {reason}"
    if advice and advice not in reason:
        line += f" — {advice}"
    line = " ".join(display_safe(line).split())
    return line if len(line) <= FAILURE_LENGTH else line[: FAILURE_LENGTH - 1] + "…"


def explain(error: BaseException, database_url: str | None = None) -> tuple[str, bool]:
    """Why a desk call failed, in words an agent can act on; and whether it is a failure the
    desk knows (its own errors, the database's, the file system's) rather than a bug."""
    from supportdesk.desk.health import database_error

    if isinstance(error, SupportDeskError):
        return str(error) or type(error).__name__, True
    database = database_error(error, database_url)
    if database is not None:
        return str(database), True
    if isinstance(error, OSError):
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror or error}{where}", True
    text = str(error).strip()
    return (f"{type(error).__name__}: {text}" if text else type(error).__name__), False
