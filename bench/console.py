"""Console responsiveness benchmark, against a desk built by bench/bigdesk.py.

    python bench/bigdesk.py /tmp/bigdesk            # once: 200,000 requests, 1,000,000 messages
    python bench/console.py /tmp/bigdesk            # both parts
    python bench/console.py /tmp/bigdesk desk       # (a) headless: Desk calls only
    python bench/console.py /tmp/bigdesk console    # (b) the real console in tmux
    python bench/console.py /tmp/bigdesk desk --explain   # plus each statement's time and plan

(a) times `open_desk`, `Desk.stack(500)`, `Desk.request(N)` for 50 random requests with many
    messages, `Desk.list_requests` with filters, `Desk.search` and the calls the console makes
    every second, in this process (imports done beforehand; the OS file cache is whatever it is).
(b) starts `supportdesk --config PATH/config.toml` in a private tmux server (160x48) and polls
    `tmux capture-pane` every 10 ms: time until a stack row ("#<digit>") is on screen, RSS of
    the console's python process, Enter (open the top request, read ahead while the cursor
    rested on it) until the screen changes, Escape back, `j Enter` in one go (open the next
    request with nothing read ahead), Escape back, `j` and `down` 100 times each at key-repeat
    speed (longest time the screen did not change while keys were coming in, and how long it
    took to catch up), ctrl+q.

With --cold, desk.db is dropped from the OS file cache before each part (posix_fadvise on
that one file), so the first figures are those of a desk not read since the machine started.

Acceptance: first screen < 1.5 s, opening a request < 100 ms, moving never blocks, RSS < 250 MB.
Prints one JSON line per figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ROW = re.compile(r"#\d")
ANSI = re.compile(r"\x1b\[[0-9;:?]*[A-Za-z]")


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record, ensure_ascii=False), flush=True)


def memory(pid: int) -> dict[str, float]:
    """Resident memory of one process in MB, from /proc: `rss_mb` (all), `anon_mb` (the
    process's own heap: Python objects, SQLite's page cache), `file_mb` (file pages mapped in,
    mostly desk.db through SQLite's mmap_size, shared with the OS file cache), `peak_mb`."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            values[key] = round(int(value.split()[0]) / 1024, 1)
    return {
        "rss_mb": values.get("VmRSS", 0.0),
        "anon_mb": values.get("RssAnon", 0.0),
        "file_mb": values.get("RssFile", 0.0),
        "peak_mb": values.get("VmHWM", 0.0),
    }


def evict(db_path: Path) -> None:
    """Drop desk.db's pages from the OS file cache (only this file's), as after a reboot."""
    for name in (db_path, db_path.with_name(db_path.name + "-wal")):
        if name.exists():
            fd = os.open(name, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "n": len(ordered),
        "first_ms": ms(times[0]),
        "p50_ms": ms(statistics.median(ordered)),
        "p99_ms": ms(p99),
        "max_ms": ms(ordered[-1]),
    }


# -- (a) headless ------------------------------------------------------------------------------


class Statements:
    """Records the SQL statements a Desk call runs (for --explain)."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.on = False
        self.seen: list[tuple[str, Any]] = []

        @event.listens_for(engine, "before_cursor_execute")
        def _record(_conn: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
            if self.on and not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA")):
                self.seen.append((statement, params))

    def capture(self, call: Callable[[], Any]) -> list[tuple[str, Any]]:
        self.seen, self.on = [], True
        try:
            call()
        finally:
            self.on = False
        return self.seen


def explain(db_path: Path, op: str, statements: list[tuple[str, Any]]) -> None:
    """Each distinct statement: its full run time (all rows fetched) and the query plan."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    done = set()
    for sql, params in statements:
        if sql in done:
            continue
        done.add(sql)
        args = params if params is not None else ()
        start = time.perf_counter()
        rows = len(conn.execute(sql, args).fetchall())
        took = time.perf_counter() - start
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, args)]
        emit(
            {
                "what": "explain",
                "op": op,
                "ms": ms(took),
                "rows": rows,
                "sql": " ".join(sql.split()),
                "plan": plan,
            }
        )
    conn.close()


def bench_desk(path: Path, samples: int, seed: int, show_plans: bool) -> None:
    from supportdesk.clock import SystemClock
    from supportdesk.config import load_settings
    from supportdesk.desk import open_desk

    db_path = path / "desk.db"
    settings = load_settings(path / "config.toml")
    for attempt in ("first", "again"):  # the first one may upgrade the schema
        start = time.perf_counter()
        desk = open_desk(settings, SystemClock())
        emit({"what": "open_desk", "attempt": attempt, "ms": ms(time.perf_counter() - start)})
        if attempt == "first":
            desk.close_database()
    statements = Statements(desk.db.engine)

    def timed(name: str, call: Callable[[], Any], repeat: int = 10, **extra: Any) -> Any:
        times, result = [], None
        for _ in range(repeat):
            begin = time.perf_counter()
            result = call()
            times.append(time.perf_counter() - begin)
        size = len(result) if isinstance(result, list) else None
        emit(
            {
                "what": name,
                **extra,
                **({"rows": size} if size is not None else {}),
                **summary(times),
            }
        )
        if show_plans:
            explain(db_path, name, statements.capture(call))
        return result

    stack = timed("Desk.stack(500)", lambda: desk.stack(500))

    # requests with many messages, chosen at random (seeded)
    picker = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    longest = picker.execute("SELECT max(message_count) FROM request").fetchone()[0] or 1
    floor = max(1, longest - 3)
    numbers = [
        n for (n,) in picker.execute("SELECT id FROM request WHERE message_count >= ?", (floor,))
    ]
    picker.close()
    chosen = random.Random(seed).sample(numbers, min(samples, len(numbers)))
    times = []
    messages = 0
    for number in chosen:
        begin = time.perf_counter()
        detail = desk.request(number)
        times.append(time.perf_counter() - begin)
        messages += len(detail.messages)
    emit(
        {
            "what": "Desk.request(N)",
            "requests_with_messages": f">= {floor}",
            "avg_messages": round(messages / max(1, len(chosen)), 1),
            **summary(times),
        }
    )
    if show_plans and chosen:
        explain(db_path, "Desk.request(N)", statements.capture(lambda: desk.request(chosen[0])))
    if stack:
        timed("Desk.request(top of stack)", lambda: desk.request(stack[0].number))
        open_like_console(desk, [stack[0].number, *chosen], statements if show_plans else None)

    filters: list[dict[str, Any]] = [
        {},
        {"status": "new"},
        {"status": "waiting"},
        {"status": "closed"},
        {"status": "closed", "offset": 100_000},
        {"tag": "billing"},
        {"tag": "vip", "status": "closed"},
        {"customer": "ivanova"},
        {"customer": "anna.smith0@"},
    ]
    for f in filters:
        timed(
            "Desk.list_requests",
            partial(desk.list_requests, limit=100, **f),
            repeat=5,
            filters=f,
        )

    for query in ("password", "пароль", "invoice refund", "zzzznothing"):
        timed("Desk.search", partial(desk.search, query), repeat=5, query=query)

    # what the console does in the background every second, if this Desk has it
    for name in ("data_version", "outbox_counts", "today"):
        call = getattr(desk, name, None)
        if call is not None:
            timed(f"Desk.{name}()", call, repeat=5)
    emit({"what": "headless memory", **memory(os.getpid())})
    desk.close_database()


def open_like_console(desk: Any, numbers: list[int], statements: Statements | None) -> None:
    """What the console's request screen does on opening, when this Desk has it: the thread,
    the customer's other requests, and a claim (a write: committed with synchronous=FULL),
    released again on leaving. The claim and release leave 'claim' events behind."""
    customer_requests = getattr(desk, "customer_requests", None)
    claim, release = getattr(desk, "claim", None), getattr(desk, "release", None)
    parts: dict[str, list[float]] = {"customer_requests": [], "claim": [], "release": []}
    totals = []
    agent = desk.settings.agent_login()
    for number in numbers:
        begin = time.perf_counter()
        detail = desk.request(number)
        if customer_requests is not None:
            t0 = time.perf_counter()
            customer_requests(detail.request.customer_id, exclude=number)
            parts["customer_requests"].append(time.perf_counter() - t0)
        if claim is not None:
            t0 = time.perf_counter()
            claimed = claim(number, agent)
            parts["claim"].append(time.perf_counter() - t0)
        totals.append(time.perf_counter() - begin)
        if claim is not None and release is not None and claimed:
            t0 = time.perf_counter()
            release(number, agent)
            parts["release"].append(time.perf_counter() - t0)
    for name, times in parts.items():
        if times:
            emit({"what": f"Desk.{name}(N)", **summary(times)})
    emit({"what": "open like the console (request + customer_requests + claim)", **summary(totals)})
    if statements is not None and customer_requests is not None:
        number = numbers[0]
        cid = desk.request(number).request.customer_id
        found = statements.capture(lambda: customer_requests(cid, exclude=number))
        explain(Path(desk.db.url.split(":///", 1)[1]), "Desk.customer_requests", found)


# -- (b) the real console in tmux --------------------------------------------------------------


class Tmux:
    """A private tmux server (its own socket), so nothing else of the user's is touched."""

    def __init__(self, width: int = 160, height: int = 48) -> None:
        self.socket = f"sdbench-{os.getpid()}"
        self.target = "bench:0.0"
        self.run(
            "new-session", "-d", "-s", "bench", "-x", str(width), "-y", str(height), "sleep 3600"
        )
        self.socket_path = self.run("display-message", "-p", "#{socket_path}").strip()

    def run(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return out.stdout

    def respawn(self, command: str) -> None:
        self.run("respawn-pane", "-k", "-t", self.target, command)

    def screen(self) -> str:
        """The visible screen with colours and attributes (so a moved cursor is a change)."""
        return self.run("capture-pane", "-p", "-e", "-t", self.target)

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.target, *keys)

    def pane_pid(self) -> int:
        return int(self.run("list-panes", "-t", self.target, "-F", "#{pane_pid}").split()[0])

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        if self.socket_path:
            Path(self.socket_path).unlink(missing_ok=True)


def plain(screen: str) -> str:
    return ANSI.sub("", screen)


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def find_python(shell_pid: int) -> int | None:
    """The console's python process: the first descendant of the pane's shell running python."""
    todo = children(shell_pid)
    while todo:
        pid = todo.pop(0)
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(b"python" in part or part.endswith(b"supportdesk") for part in cmd[:2]):
            return pid
        todo += children(pid)
    return None


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class Watcher:
    """Polls the screen every 10 ms in a thread and records when it changed."""

    def __init__(self, tmux: Tmux, pid: int) -> None:
        self.tmux, self.pid = tmux, pid
        self.last = tmux.screen()
        self.changes: list[float] = []
        self.screens: list[str] = []
        self.peak_rss = 0.0
        self.peak_anon = 0.0
        self.polls = 0
        self.started = time.perf_counter()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            screen = self.tmux.screen()
            now = time.perf_counter()
            self.polls += 1
            with self.lock:
                if screen != self.last:
                    self.last = screen
                    self.changes.append(now)
                    self.screens.append(screen)
            if alive(self.pid):
                now_memory = memory(self.pid)
                self.peak_rss = max(self.peak_rss, now_memory["rss_mb"])
                self.peak_anon = max(self.peak_anon, now_memory["anon_mb"])
            time.sleep(0.01)

    def changes_since(self, start: float) -> list[float]:
        with self.lock:
            return [t for t in self.changes if t >= start]

    def first_showing(self, start: float, text: str) -> float | None:
        """When a screen containing `text` first appeared after `start`."""
        with self.lock:
            for when, screen in zip(self.changes, self.screens, strict=True):
                if when >= start and text in plain(screen):
                    return when
        return None

    def wait_quiet(self, quiet: float = 0.3, limit: float = 10.0) -> float:
        """Wait until the screen has not changed for `quiet` seconds; the last change's time."""
        begin = time.perf_counter()
        while time.perf_counter() - begin < limit:
            with self.lock:
                last = self.changes[-1] if self.changes else 0.0
            if time.perf_counter() - max(last, begin) >= quiet:
                return last
            time.sleep(0.02)
        return time.perf_counter()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()


def bench_console(path: Path) -> None:
    if shutil.which("tmux") is None:
        emit({"what": "console", "status": "tmux is not installed"})
        return
    program = Path(sys.executable).parent / "supportdesk"
    if not program.exists():
        program = Path(shutil.which("supportdesk") or "supportdesk")
    config = path / "config.toml"
    command = (
        f"{shlex.quote(str(program))} --config {shlex.quote(str(config))}; "
        'echo "[exited $?]"; sleep 3600'
    )
    env_config = os.environ.pop("SUPPORTDESK_CONFIG", None)  # tmux's server inherits our env
    tmux = Tmux()
    try:
        time.sleep(0.2)
        start = time.perf_counter()
        tmux.respawn(command)
        first_drawn = None
        usable = None
        pid = None
        text = ""
        while time.perf_counter() - start < 30:
            if pid is None:
                pid = find_python(tmux.pane_pid())
            text = plain(tmux.screen())
            now = time.perf_counter()
            if first_drawn is None and text.strip():
                first_drawn = now
            if any(ROW.search(line) for line in text.splitlines()):
                usable = now
                break
            if "[exited" in text or "Usage:" in text:
                break
            time.sleep(0.01)
        if usable is None or pid is None:
            lines = [line for line in text.splitlines() if line.strip()]
            if "Usage:" in text:  # no console behind the bare command yet: it prints help
                status = "not yet"
            elif "[exited" in text:
                status = "exited before showing the stack"
            else:
                status = "no stack row in 30 s"
            emit({"what": "console", "status": status, "screen_tail": lines[-3:]})
            return
        at_first_screen = memory(pid)
        emit(
            {
                "what": "console first screen",
                "first_paint_ms": ms((first_drawn or usable) - start),
                "usable_ms": ms(usable - start),
                **at_first_screen,
            }
        )
        watcher = Watcher(tmux, pid)
        try:
            settled = watcher.wait_quiet(0.5)
            emit(
                {
                    "what": "console settled",
                    "ms": ms(max(settled, usable) - start),
                    "screen_poll_every_ms": ms(
                        (time.perf_counter() - watcher.started) / watcher.polls
                    ),
                }
            )
            numbers = re.findall(r"#(\d+)", plain(watcher.last))
            expect = snippet(path / "desk.db", int(numbers[0])) if numbers else None
            measure_key(watcher, "Enter", "open top request (Enter)", expect)
            measure_key(watcher, "Escape", "back to the stack (Escape)")
            # j and Enter in one go: the second request was not read ahead while the cursor
            # rested on it, so this is an open from nothing.
            expect = snippet(path / "desk.db", int(numbers[1])) if len(numbers) > 1 else None
            measure_key(watcher, ("j", "Enter"), "open the next request at once (j Enter)", expect)
            measure_key(watcher, "Escape", "back to the stack (Escape)")
            measure_moves(watcher, "j", 100)
            measure_moves(watcher, "Down", 100)
            measure_moves(watcher, "k", 100)
            emit(
                {
                    "what": "console memory",
                    **memory(pid),
                    "max_rss_seen_mb": watcher.peak_rss,
                    "max_anon_seen_mb": watcher.peak_anon,
                }
            )
        finally:
            watcher.stop()
        begin = time.perf_counter()
        tmux.keys("C-q")
        while alive(pid) and time.perf_counter() - begin < 10:
            time.sleep(0.005)
        emit(
            {
                "what": "console quit (ctrl+q)",
                "ms": ms(time.perf_counter() - begin),
                "exited": not alive(pid),
            }
        )
    finally:
        tmux.close()
        if env_config is not None:
            os.environ["SUPPORTDESK_CONFIG"] = env_config


def measure_key(
    watcher: Watcher, key: str | tuple[str, ...], what: str, expect: str | None = None
) -> None:
    """Time from one key to the first screen change, to `expect` on screen (when given), and
    to the last change before the screen is quiet."""
    watcher.wait_quiet(0.3)
    begin = time.perf_counter()
    watcher.tmux.keys(*((key,) if isinstance(key, str) else key))
    last = watcher.wait_quiet(0.3, limit=10)
    while expect is not None and watcher.first_showing(begin, expect) is None:
        if time.perf_counter() - begin > 10:
            break
        last = watcher.wait_quiet(0.3, limit=10)
    changes = watcher.changes_since(begin)
    if expect is not None:
        shown = watcher.first_showing(begin, expect)
        extra = {"content_ms": ms(shown - begin) if shown else None, "expected": expect}
    else:
        extra = {}
    emit(
        {
            "what": f"console {what}",
            "first_change_ms": ms(changes[0] - begin) if changes else None,
            **extra,
            "settled_ms": ms(last - begin) if changes else None,
            "screen": [line.strip() for line in plain(watcher.last).splitlines() if line.strip()][
                :4
            ],
        }
    )


def snippet(db_path: Path, number: int) -> str | None:
    """A piece of the request's latest customer text, to know its thread is on screen."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT text FROM message WHERE request_id = ? AND direction = 'in' "
            "ORDER BY id DESC LIMIT 1",
            (number,),
        ).fetchone()
    finally:
        conn.close()
    if not row:
        return None
    lines = [line.strip() for line in row[0].splitlines() if len(line.strip()) >= 24]
    return lines[0][:24] if lines else None


def measure_moves(watcher: Watcher, key: str, count: int, interval: float = 0.03) -> None:
    """`count` presses at key-repeat speed (~33/s): does the screen keep up?

    `longest_still_ms` is the longest the screen stayed unchanged while keys were coming in
    (the console blocked, or drew nothing new); `catch_up_ms` is from the last key to the
    last change."""
    watcher.wait_quiet(0.3)
    begin = time.perf_counter()
    for _ in range(count):
        watcher.tmux.keys(key)
        time.sleep(interval)
    sent = time.perf_counter()
    last = watcher.wait_quiet(0.3, limit=10)
    changes = watcher.changes_since(begin)
    during = [begin, *[t for t in changes if t <= sent], sent]
    gaps = [b - a for a, b in zip(during, during[1:], strict=False)]
    emit(
        {
            "what": f"console {count} x {key}",
            "keys_per_s": round(count / (sent - begin), 1),
            "screen_changes": len(changes),
            "longest_still_ms": ms(max(gaps)) if gaps else None,
            "catch_up_ms": ms(max(0.0, last - sent)) if changes else None,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path, help="a desk folder built by bench/bigdesk.py")
    parser.add_argument("what", nargs="?", default="all", choices=["all", "desk", "console"])
    parser.add_argument("--samples", type=int, default=50, help="requests to open (a)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--explain", action="store_true", help="statement times and plans (a)")
    parser.add_argument(
        "--cold", action="store_true", help="evict desk.db from the OS file cache before each part"
    )
    args = parser.parse_args()
    path = args.path.resolve()
    if not (path / "config.toml").exists() or not (path / "desk.db").exists():
        raise SystemExit(f"{path} is not a desk built by bench/bigdesk.py")
    if args.what in ("all", "desk"):
        if args.cold:
            evict(path / "desk.db")
        bench_desk(path, args.samples, args.seed, args.explain)
    if args.what in ("all", "console"):
        if args.cold:
            evict(path / "desk.db")
        bench_console(path)


if __name__ == "__main__":
    main()
