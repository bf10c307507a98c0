"""What "Barriers we keep meeting" adds to building the stewards' digest.

Run from the repository root::

    python bench/recurring_barriers.py --history 100000 --rounds 7

It loads (once; reused from --workdir unless --fresh) the digest benchmark's SQLite database of
70 agencies (bench/digest_build.py: `--history` check-ins over five years, then a measured
week of 5,000; 60% team-only, 30% named, 10% anonymous), and times, interleaved in one run,
`DigestService.build` of the alliance digest with the section and without it (the service's
`recurring` step replaced by one returning nothing), and the section's own step alone as the
review pack runs it (reading all eight weeks itself; in the digest the period's check-ins are
already read, so only the seven earlier weeks are), with the pattern finder over their barrier
answers. Prints medians side by side and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import digest_build  # noqa: E402


def main() -> None:
    """Load (or reuse) the database, then time the builds side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/learnloop-recurring-bench"))
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    db = args.workdir / f"history-{args.history}.db"
    if args.fresh or not db.exists():
        db.unlink(missing_ok=True)
        digest_build.load(f"sqlite:///{db}", args.history)
    engine, service = digest_build._service(f"sqlite:///{db}")
    dest = service.destination("alliance")
    period = service.period(dest, digest_build.WEEK)
    view = service.build(dest, digest_build.WEEK)  # warm-up
    print(
        f"week: {view.learnings_count:,} check-ins; recurring barriers shown: "
        f"{len(view.recurring)}; shared patterns: {len(view.patterns)}"
    )
    with_section: list[float] = []
    without: list[float] = []
    alone: list[float] = []
    real = service.recurring
    for _ in range(args.rounds):
        started = time.perf_counter()
        service.build(dest, digest_build.WEEK)
        with_section.append(time.perf_counter() - started)
        service.recurring = lambda *args: []  # type: ignore[method-assign]
        started = time.perf_counter()
        service.build(dest, digest_build.WEEK)
        without.append(time.perf_counter() - started)
        service.recurring = real  # type: ignore[method-assign]
        started = time.perf_counter()
        service.recurring(dest.audience, period)
        alone.append(time.perf_counter() - started)
    engine.dispose()
    a, b, c = (statistics.median(t) for t in (with_section, without, alone))
    print(f"{'alliance digest build':<34}{'median s':>10}")
    print(f"{'with Barriers we keep meeting':<34}{a:>10.3f}")
    print(f"{'without it':<34}{b:>10.3f}")
    print(f"{'the section alone':<34}{c:>10.3f}")
    print(f"{'ratio with / without':<34}{a / b:>10.2f}")


if __name__ == "__main__":
    main()
