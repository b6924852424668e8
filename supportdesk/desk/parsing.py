"""Parsing batches of raw mail, in a worker process when there is enough to parse.

Python's GIL lets one thread run Python at a time: parsing on the thread that also drives
SQLite makes both wait. A worker process parses on the other core instead; only the parsed
fields travel back (the raw bytes stay here), so the cost of crossing is small.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType

from supportdesk.mail.parse import ParsedMessage, parse_message

Item = tuple[bytes, str | None]
"""Raw bytes and, when already known, their SHA-256."""

WORKER_THRESHOLD = 400
"""Below this many messages the worker's start-up costs more than it saves."""


def _parse_stripped(items: list[Item]) -> list[ParsedMessage]:
    parsed = [parse_message(raw, sha) for raw, sha in items]
    for p in parsed:
        p.raw = b""  # the caller has the bytes already: do not send them back
    return parsed


class BatchParser:
    """`submit(items)` returns a Future of parsed messages, in order."""

    def __init__(self, expected_messages: int) -> None:
        self._pool: ProcessPoolExecutor | None = None
        if expected_messages >= WORKER_THRESHOLD and multiprocessing.cpu_count() > 1:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )

    def submit(self, items: list[Item]) -> Future[list[ParsedMessage]]:
        if self._pool is None:
            done: Future[list[ParsedMessage]] = Future()
            done.set_result([parse_message(raw, sha) for raw, sha in items])
            return done
        future = self._pool.submit(_parse_stripped, items)
        result: Future[list[ParsedMessage]] = Future()

        def reattach(f: Future[list[ParsedMessage]]) -> None:
            try:
                parsed = f.result()
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                result.set_exception(exc)
                return
            for p, (raw, _sha) in zip(parsed, items, strict=True):
                p.raw = raw
            result.set_result(parsed)

        future.add_done_callback(reattach)
        return result

    def __enter__(self) -> BatchParser:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
