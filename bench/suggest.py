"""Suggestion quality and speed: labelled customer requests against the shipped team templates.

    python bench/suggest.py                   # accuracy on a real desk, timing: 10,000 templates
    python bench/suggest.py --filler 0        # timing with the shipped templates only
    python bench/suggest.py --verbose         # each request, what it should get, what it got

Accuracy: a desk (SQLite file in a temp folder) with the shipped templates; each request of
bench/labelled_requests.py arrives as mail, and `Desk.suggestions` answers it. Prints top-1
(the first suggestion is the labelled template), top-3, preselect precision (a preselected
template is the right one), and no-preselect (for requests no template answers, nothing is
preselected). Timing: the same requests against an index of the shipped templates plus
`--filler` generated ones (bench/templates.py), ms per suggestion p50 / p99.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.labelled_requests import HELD_OUT, REQUESTS  # noqa: E402
from bench.templates import make_templates  # noqa: E402
from supportdesk.clock import FrozenClock  # noqa: E402
from supportdesk.desk.templates import shipped_dir  # noqa: E402
from supportdesk.templating.files import read_template_dir  # noqa: E402
from supportdesk.templating.search import TemplateDoc, TemplateIndex  # noqa: E402
from supportdesk.textsearch import PART_WEIGHT  # noqa: E402
from tests.fixtures import drop_into_maildir, make_desk  # noqa: E402
from tests.mailfactory import make_mail  # noqa: E402


def accuracy(
    verbose: bool, requests: list[tuple[str, str, str, str | None]] = REQUESTS
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        desk = make_desk(folder, FrozenClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC)))
        desk.import_templates(shipped_dir())
        for i, (subject, body, _, _) in enumerate(requests):
            sender = f"Customer {i} <c{i}@example.org>"
            drop_into_maildir(folder, make_mail(sender=sender, subject=subject, body=body))
        desk.fetch()
        top1 = top3 = answerable = quiet = unanswerable = picked = picked_right = 0
        for number, (subject, _, _, expected) in enumerate(requests, start=1):
            found = desk.suggestions(number, "anna", limit=3)
            names = [s.template.name for s in found]
            chosen = next((s.template.name for s in found if s.preselected), None)
            if chosen is not None:
                picked += 1
                picked_right += chosen == expected
            if expected is None:
                unanswerable += 1
                quiet += chosen is None
            else:
                answerable += 1
                top1 += names[:1] == [expected]
                top3 += expected in names
            if verbose:
                shown = ", ".join(f"{s.template.name} {s.score:.2f}" for s in found)
                mark = (
                    "ok" if (names[:1] == [expected] or (expected is None and not chosen)) else "--"
                )
                print(f"{mark} #{number} {subject!r}: want {expected}, pick {chosen}; {shown}")
        return {
            "requests": len(requests),
            "top1": top1 / answerable,
            "top3": top3 / answerable,
            "no_preselect": quiet / unanswerable,
            "preselect_precision": picked_right / max(1, picked),
            "preselected": picked / len(requests),
        }


def timing(filler: int) -> dict[str, float]:
    docs: list[TemplateDoc] = []
    for f in read_template_dir(shipped_dir() / "team"):
        docs.append(
            TemplateDoc(len(docs), f.name, f.language, "team", f.tags, f.description, f.body)
        )
    docs += (
        [
            TemplateDoc(
                len(docs) + d.key, d.name, d.language, d.scope, d.tags, d.description, d.body
            )
            for d in make_templates(filler, 1)
        ]
        if filler
        else []
    )
    index = TemplateIndex(docs)
    times: list[float] = []
    for _ in range(3):
        for subject, body, language, _ in REQUESTS:
            parts = [(body, PART_WEIGHT["latest"]), (subject, PART_WEIGHT["subject"])]
            start = time.perf_counter()
            index.suggest(parts, language=language, limit=5)
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "templates": len(docs),
        "p50_ms": statistics.median(times),
        "p99_ms": times[int(len(times) * 0.99) - 1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--filler", type=int, default=10_000, help="Generated templates added.")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    quality = accuracy(args.verbose)
    print(
        f"{quality['requests']} labelled requests: top-1 {quality['top1']:.0%}, "
        f"top-3 {quality['top3']:.0%}, no-preselect {quality['no_preselect']:.0%} "
        f"(preselected {quality['preselected']:.0%}, of those right "
        f"{quality['preselect_precision']:.0%})"
    )
    held = accuracy(args.verbose, HELD_OUT)
    print(
        f"{held['requests']} held-out requests: top-1 {held['top1']:.0%}, "
        f"top-3 {held['top3']:.0%}, no-preselect {held['no_preselect']:.0%} "
        f"(preselected {held['preselected']:.0%}, of those right "
        f"{held['preselect_precision']:.0%})"
    )
    speed = timing(args.filler)
    print(
        f"{speed['templates']} templates: {speed['p50_ms']:.1f} ms per suggestion (p50), "
        f"{speed['p99_ms']:.1f} ms (p99)"
    )


if __name__ == "__main__":
    main()
