"""How long the CLI takes to start, the whole process: `supportdesk --help` and
`supportdesk stack --json` on a small desk (a demo desk of 20 emails made in a temporary
folder). Scripts pay this on every call.

    python bench/cli_start.py [--runs 15] [--imports]

Prints the median and the minimum wall time of each, and the CPU time (user + system, less
disturbed by other load on the machine); goals: --help under 0.3 s, stack --json under 0.6 s.
--imports also lists the biggest imports of each command (`python -X importtime`).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOALS = {"--help": 0.3, "stack --json": 0.6}


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("SUPPORTDESK_CONFIG", None)
    return env


def _command(config: Path, what: str) -> list[str]:
    base = [sys.executable, "-m", "supportdesk"]
    return [*base, "--help"] if what == "--help" else [*base, "-c", str(config), *what.split()]


def _time(command: list[str], runs: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    subprocess.run(command, env=_env(), capture_output=True, check=True)  # warm the disk cache
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, env=_env(), capture_output=True, check=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def _biggest_imports(command: list[str], top: int = 8) -> list[tuple[int, str]]:
    """The top-level imports (as the command's own code made them) that took longest, in ms."""
    result = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]], env=_env(), capture_output=True, text=True
    )
    found = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|", 2)
        if cumulative.strip().isdigit() and not name[1:].startswith("  "):
            found.append((int(cumulative) // 1000, name.strip()))
    return sorted(found, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--imports", action="store_true", help="list the biggest imports")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="supportdesk-bench-") as folder:
        desk = Path(folder)
        subprocess.run(
            [sys.executable, "-m", "supportdesk", "demo", "--path", str(desk)]
            + ["--messages", "20", "--no-console"],
            env=_env(),
            capture_output=True,
            check=True,
        )
        config = desk / "config.toml"
        print(f"{args.runs} runs each, {sys.executable}, load {os.getloadavg()[0]:.2f}")
        for what, goal in GOALS.items():
            command = _command(config, what)
            walls, cpus = _time(command, args.runs)
            median = statistics.median(walls)
            print(
                f"supportdesk {what:<13} wall median {median:.3f} s, min {min(walls):.3f} s; "
                f"cpu median {statistics.median(cpus):.3f} s "
                f"(goal {goal} s: {'met' if median < goal else 'NOT met'})"
            )
            if args.imports:
                for ms, name in _biggest_imports(command):
                    print(f"    {ms:>5} ms  {name}")


if __name__ == "__main__":
    main()
