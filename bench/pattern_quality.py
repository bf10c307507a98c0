"""Pattern quality: the old finder and the new one side by side on the labelled weeks.

Run from the repository root: ``python bench/pattern_quality.py [--rounds 5] [--show]``.

The labelled set is tests/domain/pattern_weeks.jsonl: one entry per line with its week, its
agency and the gold pattern it belongs to (or null). Weeks 1-9 are the development part (the
finder's settings were chosen on them); weeks 10-18 are held out and were not tuned on.

Each week's texts go through a finder; like the digest, only groups whose members come from two
or more agencies are reported. Definitions:

- a reported pattern is *correct* when its members overlap a gold pattern of the same week with
  Jaccard >= 0.5 (|A ∩ B| / |A ∪ B|); pattern precision = correct / reported;
- a gold pattern is *found* when some reported pattern overlaps it with Jaccard >= 0.5; pattern
  recall = found / gold;
- pairwise: every pair of entries in one reported pattern against every pair in one gold
  pattern; precision, recall and F1 over those pairs;
- time: median wall time to run the finder over one week, over --rounds rounds;
- scale (--scale N): one synthetic week of N texts (the labelled texts, each with a few words
  of another appended so no two are identical), median time and peak traced memory per finder.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.legacy_patterns import similar_groups  # noqa: E402
from bot.domain.patterns import find_groups  # noqa: E402

LABELLED = ROOT / "tests" / "domain" / "pattern_weeks.jsonl"
MATCH_JACCARD = 0.5

Finder = Callable[[Sequence[str]], list[list[int]]]


@dataclass(frozen=True)
class Entry:
    """One labelled check-in."""

    id: str
    week: int
    split: str
    agency: str
    gold: str | None
    text: str


@dataclass
class Score:
    """Counts for pattern-level and pairwise precision and recall."""

    reported: int = 0
    correct: int = 0
    gold: int = 0
    found: int = 0
    pairs_reported: int = 0
    pairs_gold: int = 0
    pairs_both: int = 0

    def add(self, other: Score) -> None:
        """Add another week's counts."""
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def precision(self) -> float:
        """Share of reported patterns that match a gold one."""
        return self.correct / self.reported if self.reported else 1.0

    @property
    def recall(self) -> float:
        """Share of gold patterns matched by a reported one."""
        return self.found / self.gold if self.gold else 1.0

    @property
    def pair_f1(self) -> float:
        """Pairwise F1."""
        p = self.pairs_both / self.pairs_reported if self.pairs_reported else 1.0
        r = self.pairs_both / self.pairs_gold if self.pairs_gold else 1.0
        return 2 * p * r / (p + r) if p + r else 0.0


def load(path: Path = LABELLED) -> list[Entry]:
    """Every labelled entry, in file order."""
    with path.open(encoding="utf-8") as handle:
        return [
            Entry(r["id"], r["week"], r["split"], r["agency"], r["gold"], r["text"])
            for r in map(json.loads, handle)
            if r
        ]


def weeks(entries: Sequence[Entry]) -> dict[int, list[Entry]]:
    """Entries by week, in file order."""
    out: dict[int, list[Entry]] = defaultdict(list)
    for entry in entries:
        out[entry.week].append(entry)
    return dict(out)


def new_finder(texts: Sequence[str]) -> list[list[int]]:
    """The production finder, as the digest calls it."""
    return [list(g.members) for g in find_groups(texts)]


def reported(week: Sequence[Entry], finder: Finder) -> list[frozenset[str]]:
    """The groups a digest would show: members from two or more agencies."""
    groups = finder([e.text for e in week])
    return [
        frozenset(week[i].id for i in g) for g in groups if len({week[i].agency for i in g}) >= 2
    ]


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|A ∩ B| / |A ∪ B|."""
    return len(a & b) / len(a | b)


def score_week(week: Sequence[Entry], found: Sequence[frozenset[str]]) -> Score:
    """Pattern and pair counts of one week's reported groups against its gold patterns."""
    gold_sets: dict[str, set[str]] = defaultdict(set)
    for entry in week:
        if entry.gold:
            gold_sets[entry.gold].add(entry.id)
    gold = [frozenset(s) for s in gold_sets.values()]

    def pairs(groups: Sequence[frozenset[str]]) -> set[tuple[str, str]]:
        return {tuple(sorted(p)) for g in groups for p in combinations(g, 2)}  # type: ignore[misc]

    found_pairs, gold_pairs = pairs(found), pairs(gold)
    return Score(
        reported=len(found),
        correct=sum(1 for f in found if any(jaccard(f, g) >= MATCH_JACCARD for g in gold)),
        gold=len(gold),
        found=sum(1 for g in gold if any(jaccard(f, g) >= MATCH_JACCARD for f in found)),
        pairs_reported=len(found_pairs),
        pairs_gold=len(gold_pairs),
        pairs_both=len(found_pairs & gold_pairs),
    )


def evaluate(entries: Sequence[Entry], finder: Finder) -> dict[str, Score]:
    """Scores for the development part, the held-out part and all weeks."""
    out = {"dev": Score(), "heldout": Score(), "all": Score()}
    for week in weeks(entries).values():
        score = score_week(week, reported(week, finder))
        out[week[0].split].add(score)
        out["all"].add(score)
    return out


def time_per_week(entries: Sequence[Entry], finder: Finder, rounds: int) -> float:
    """Median milliseconds to run the finder over one week."""
    by_week = list(weeks(entries).values())
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for week in by_week:
            finder([e.text for e in week])
        samples.append((time.perf_counter() - start) * 1000 / len(by_week))
    return statistics.median(samples)


def big_week(entries: Sequence[Entry], size: int) -> list[str]:
    """`size` texts made from the labelled ones, none identical (deterministic)."""
    rng = random.Random(size)
    words = [w for e in entries for w in e.text.split()]
    texts = [e.text for e in entries]
    return [
        f"{texts[i % len(texts)]} {' '.join(rng.choice(words) for _ in range(4))}"
        for i in range(size)
    ]


def scale(texts: Sequence[str], finder: Finder, rounds: int) -> tuple[float, float]:
    """Median seconds over `rounds` runs, and peak traced memory in MB of one run."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        finder(texts)
        samples.append(time.perf_counter() - start)
    tracemalloc.start()
    finder(texts)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(samples), peak / 1e6


def show(entries: Sequence[Entry], finder: Finder) -> None:
    """Each week's reported patterns, marked against the gold ones (for error analysis)."""
    for number, week in weeks(entries).items():
        gold = {e.gold for e in week if e.gold}
        for group in reported(week, finder):
            golds = {e.gold for e in week if e.id in group}
            print(f"  week {number:2}: {sorted(group)} gold={sorted(map(str, golds))}")
        hit = {e.gold for e in week if e.gold for g in reported(week, finder) if e.id in g}
        for missing in sorted(gold - hit):
            print(f"  week {number:2}: MISSED {missing}")


def main() -> None:
    """Print the side-by-side table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--show", choices=["old", "new"], help="list each week's patterns")
    parser.add_argument("--split", choices=["dev", "heldout", "all"], default="all")
    parser.add_argument("--scale", type=int, default=0, help="also time one week of N texts")
    args = parser.parse_args()
    entries = load()
    finders: dict[str, Finder] = {"old": similar_groups, "new": new_finder}
    if args.show:
        chosen = [e for e in entries if args.split in ("all", e.split)]
        show(chosen, finders[args.show])
        return
    gold = len({e.gold for e in entries if e.gold})
    print(f"{len(entries)} entries, {len(weeks(entries))} weeks, {gold} gold patterns")
    header = f"{'part':8} {'finder':6} {'precision':>9} {'recall':>7} {'pair F1':>8} {'found':>9}"
    print(header)
    for part in ("dev", "heldout", "all"):
        for name, finder in finders.items():
            s = evaluate(entries, finder)[part]
            print(
                f"{part:8} {name:6} {s.precision:9.2f} {s.recall:7.2f} {s.pair_f1:8.2f} "
                f"{s.correct:>4}/{s.reported:<4}"
            )
    old_ms = time_per_week(entries, similar_groups, args.rounds)
    new_ms = time_per_week(entries, new_finder, args.rounds)
    print(
        f"time per week (median of {args.rounds} rounds): old {old_ms:.1f} ms, "
        f"new {new_ms:.1f} ms, ratio {new_ms / old_ms:.2f}x"
    )
    if args.scale:
        texts = big_week(entries, args.scale)
        old_s, old_mb = scale(texts, similar_groups, args.rounds)
        new_s, new_mb = scale(texts, new_finder, args.rounds)
        print(
            f"one week of {args.scale:,} texts (median of {args.rounds}): old {old_s:.2f} s "
            f"(peak {old_mb:.0f} MB), new {new_s:.2f} s (peak {new_mb:.0f} MB), "
            f"time ratio {new_s / old_s:.2f}x"
        )


if __name__ == "__main__":
    main()
