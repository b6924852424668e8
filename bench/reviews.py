"""The review queue's speed: a team with many trainees' letters waiting.

    python bench/reviews.py                 # 1,000 held letters (SQLite file in a temp folder)
    python bench/reviews.py --letters 5000

A desk gets `--letters` customer requests by mail, a trainee answers each (held for review),
then it times what a mentor does all day: reading the queue (`desk.reviews.queue`, what f6
and `reviews list` show), counting it (the stack header), the f6 screen's whole read (the
queue with each customer's message), and approving letters one by one
(each queues a message in one transaction). Prints ms per call, median of 5 (approve: p50
and p99 over 200 approvals).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from supportdesk.clock import FrozenClock  # noqa: E402
from tests.fixtures import drop_into_maildir, make_desk  # noqa: E402
from tests.mailfactory import make_mail  # noqa: E402


def _ms(run: object, times: int = 5) -> float:
    found = []
    for _ in range(times):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        found.append((time.perf_counter() - started) * 1000)
    return statistics.median(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=1000)
    letters = parser.parse_args().letters
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clock = FrozenClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
        desk = make_desk(folder, clock)
        desk.ensure_agent("mia", role="admin")
        for login in ("tom", "tina"):
            desk.ensure_agent(login)
            desk.set_training(login, True, "mia")
        mails = [
            make_mail(sender=f"c{i}@example.org", subject=f"Question {i}") for i in range(letters)
        ]
        drop_into_maildir(folder, *mails)
        desk.fetch()
        for number in range(1, letters + 1):
            desk.reply(number, f"Answer {number}", "tom" if number % 2 else "tina")
        clock.advance(timedelta(minutes=45))  # some late
        print(f"{letters:,} letters waiting for review")
        print(f"queue (f6, reviews list):   {_ms(lambda: desk.reviews.queue('mia')):8.1f} ms")
        print(
            f"count (the stack header):   {_ms(lambda: desk.reviews.pending_count('mia')):8.1f} ms"
        )
        from supportdesk.ui.screens.reviews import read_reviews

        print(f"f6 screen's data (+ texts): {_ms(lambda: read_reviews(desk, 'mia')):8.1f} ms")
        took = []
        for review in desk.reviews.queue("mia")[:200]:
            started = time.perf_counter()
            desk.reviews.approve(review.id, "mia")
            took.append((time.perf_counter() - started) * 1000)
        took.sort()
        p99 = took[int(len(took) * 0.99) - 1]
        print(
            f"approve (one letter):       {statistics.median(took):8.1f} ms p50, {p99:.1f} ms p99"
        )


if __name__ == "__main__":
    main()
