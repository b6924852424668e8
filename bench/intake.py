"""Intake benchmark: `supportdesk fetch` from a loopback IMAP server, and `supportdesk import`.

    python bench/intake.py                 # everything: fetch 10k and 50k, import, empty poll
    python bench/intake.py fetch --count 10000 [--server dovecot|pymap]
    python bench/intake.py import [PATH]   # default ../shared/corpus/spamassassin-public-corpus
    python bench/intake.py poll            # an empty poll inside a running poller; CLI start-up

Prints messages per second, peak memory (RSS of the supportdesk process) and database size.
Dovecot is used when installed (`apt-get install dovecot-imapd`), else pymap.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from supportdesk.samples import SampleMailbox  # noqa: E402
from tests.fixtures import imap_mailbox, write_config  # noqa: E402
from tests.servers import imap as servers  # noqa: E402

# Realistic mix: 5% with attachments (about 1 MB raw, base64 in the mail), replies, Cyrillic,
# HTML alternatives; about 62 KB per message on average, like the mailbox the issue measured.
MAIL = {"attachment_bytes": 1_550_000, "body_padding": 2_000}


def _start_server(kind: str, root: Path) -> tuple[servers.ImapTestServer, Callable[[], None]]:
    """A server with an empty mailbox, and the function that shuts it down."""
    if kind == "dovecot":
        binary = servers._find_dovecot()
        if binary is None:
            raise SystemExit("dovecot is not installed; use --server pymap")
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o755)
        root.parent.chmod(0o755)
        dovecot = servers._Dovecot(binary, root)
        return servers.DovecotServer(dovecot), dovecot.stop
    loop = servers._LoopThread()
    return servers.PymapServer(loop), loop.close


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB (from /proc)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(status.split("VmRSS:")[1].split()[0]) if "VmRSS:" in status else 0
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue
    return total / 1024


def _measure(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Run `args`; (seconds, peak memory of its whole process tree in MB, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0.0
    out_chunks: list[bytes] = []
    import threading

    reader = threading.Thread(target=lambda: out_chunks.append(proc.stdout.read()))  # type: ignore[union-attr]
    reader.start()
    while proc.poll() is None:
        peak = max(peak, _tree_rss_mb(proc.pid))
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    reader.join()
    err = proc.stderr.read().decode()  # type: ignore[union-attr]
    if proc.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{err[-3000:]}")
    return elapsed, peak, b"".join(out_chunks).decode()


def _env() -> dict[str, str]:
    env = {**os.environ, "TEST_IMAP_PASSWORD": servers.PASSWORD}
    env.pop("SUPPORTDESK_CONFIG", None)
    return env


def bench_fetch(count: int, kind: str) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="sd-bench-"))
    server, shut_down = _start_server(kind, work / "server")
    try:
        sample = SampleMailbox(seed=count, customers=max(50, count // 20), **MAIL)
        delivered = 0
        total_bytes = 0
        while delivered < count:
            chunk = list(sample.messages(min(2000, count - delivered)))
            total_bytes += sum(len(m) for m in chunk)
            server.deliver(chunk)
            delivered += len(chunk)
        desk = work / "desk"
        desk.mkdir()
        write_config(
            desk,
            {"mailbox": imap_mailbox(server), "outgoing": {"kind": "none"}},
        )
        seconds, rss, out = _measure(
            [sys.executable, "-m", "supportdesk", "fetch", "--json"], desk, _env()
        )
        report = json.loads(out)["fetch"]
        assert report["stored"] == count, report
        db_bytes = sum(p.stat().st_size for p in desk.glob("desk.db*"))
        return {
            "what": f"fetch {count} from {kind}",
            "messages": count,
            "avg_kb": round(total_bytes / count / 1024, 1),
            "seconds": round(seconds, 2),
            "msgs_per_s": round(count / seconds),
            "peak_rss_mb": round(rss),
            "db_mb": round(db_bytes / 1e6),
        }
    finally:
        shut_down()
        shutil.rmtree(work, ignore_errors=True)


def bench_import(path: Path) -> dict[str, object]:
    files = [p for p in path.rglob("*") if p.is_file()]
    work = Path(tempfile.mkdtemp(prefix="sd-bench-"))
    try:
        write_config(work, {"outgoing": {"kind": "none"}})
        seconds, rss, out = _measure(
            [sys.executable, "-m", "supportdesk", "import", str(path), "--json"], work, _env()
        )
        report = json.loads(out)
        db_bytes = sum(p.stat().st_size for p in work.glob("desk.db*"))
        return {
            "what": f"import {path.name}",
            "messages": len(files),
            "stored": report["stored"],
            "seconds": round(seconds, 2),
            "msgs_per_s": round(len(files) / seconds),
            "peak_rss_mb": round(rss),
            "db_mb": round(db_bytes / 1e6),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench_poll(kind: str) -> dict[str, object]:
    """An empty poll inside a running poller (as in `fetch --watch`), and CLI start-up."""
    from supportdesk.clock import SystemClock
    from supportdesk.config import load_settings
    from supportdesk.desk import open_desk

    work = Path(tempfile.mkdtemp(prefix="sd-bench-"))
    server, shut_down = _start_server(kind, work / "server")
    try:
        server.deliver(list(SampleMailbox(seed=1, **MAIL).messages(1000)))
        desk_dir = work / "desk"
        desk_dir.mkdir()
        config = write_config(
            desk_dir,
            {"mailbox": imap_mailbox(server), "outgoing": {"kind": "none"}},
        )
        os.environ["TEST_IMAP_PASSWORD"] = servers.PASSWORD
        desk = open_desk(load_settings(config), SystemClock())
        poller = desk.imap_poller()
        poller.poll()
        times = []
        for _ in range(20):
            start = time.perf_counter()
            assert poller.poll().intake.stored == 0
            times.append(time.perf_counter() - start)
        poller.close()
        starts = []
        for _ in range(5):
            seconds, _rss, _out = _measure(
                [sys.executable, "-m", "supportdesk", "fetch", "--json"], desk_dir, _env()
            )
            starts.append(seconds)
        times.sort()
        return {
            "what": f"empty poll ({kind})",
            "poll_median_ms": round(times[10] * 1000, 1),
            "poll_max_ms": round(times[-1] * 1000, 1),
            "cli_fetch_nothing_new_s": round(sorted(starts)[2], 2),
        }
    finally:
        shut_down()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "what", nargs="?", default="all", choices=["all", "fetch", "import", "poll"]
    )
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=REPO.parent / "shared" / "corpus" / "spamassassin-public-corpus",
    )
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument(
        "--server",
        choices=["dovecot", "pymap"],
        default="dovecot" if servers._find_dovecot() else "pymap",
    )
    args = parser.parse_args()
    results = []
    if args.what in ("all", "fetch"):
        counts = [10_000, 50_000] if args.what == "all" else [args.count]
        results += [bench_fetch(n, args.server) for n in counts]
    if args.what in ("all", "import"):
        results.append(bench_import(args.path))
    if args.what in ("all", "poll"):
        results.append(bench_poll(args.server))
    for r in results:
        print(json.dumps(r, ensure_ascii=False))


if __name__ == "__main__":
    main()
