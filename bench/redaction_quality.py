"""Measure redaction quality and speed on the labelled practitioner corpus.

Run from the repository root: ``python bench/redaction_quality.py``. Prints recall and
precision per identifier kind, the false-positive rate on clean sentences, the time to
redact a 3,000-character answer, and how much the UK shape rule adds to libphonenumber.
"""

from __future__ import annotations

import json
import statistics
import sys
import timeit
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a plain script, the repository root is not on sys.path; the bot package is.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import phonenumbers  # noqa: E402

from bot.domain.redaction import IdentifierKind, redact  # noqa: E402

CORPUS = ROOT / "tests" / "domain" / "redaction_corpus.jsonl"
ANSWER_CHARS = 3000
CALLS_PER_REPEAT = 500
REPEATS = 7


@dataclass
class Tally:
    """True positives, false positives and false negatives for one kind."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, expected: int, found: int) -> None:
        """Count one sentence: matches up to the expected count are true positives."""
        self.tp += min(expected, found)
        self.fp += max(0, found - expected)
        self.fn += max(0, expected - found)

    @property
    def recall(self) -> float:
        """Return the share of expected identifiers that were found."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def precision(self) -> float:
        """Return the share of found identifiers that were expected."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0


def load_corpus() -> list[dict[str, object]]:
    """Return the corpus rows."""
    with CORPUS.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def expected_counts(row: dict[str, object]) -> dict[str, int]:
    """Return the row's expected counts, typed."""
    expected = row["expected"]
    assert isinstance(expected, dict)
    return {str(k): int(v) for k, v in expected.items()}


def quality(rows: list[dict[str, object]]) -> None:
    """Print recall and precision per kind and the clean-sentence false-positive rate."""
    tallies = {kind: Tally() for kind in IdentifierKind}
    clean = clean_hits = 0
    misses: list[str] = []
    for row in rows:
        text = str(row["text"])
        expected = expected_counts(row)
        result = redact(text)
        for kind in IdentifierKind:
            tallies[kind].add(expected.get(kind.value, 0), result.counts.get(kind, 0))
        if not expected:
            clean += 1
            clean_hits += result.total > 0
        if {k.value: n for k, n in result.counts.items()} != expected:
            misses.append(text)

    print(f"Corpus: {len(rows)} sentences, {clean} clean")
    print(f"{'kind':<15}{'expected':>9}{'found':>7}{'recall':>9}{'precision':>11}")
    for kind, t in tallies.items():
        expected_total, found_total = t.tp + t.fn, t.tp + t.fp
        print(
            f"{kind.value:<15}{expected_total:>9}{found_total:>7}"
            f"{t.recall:>9.1%}{t.precision:>11.1%}"
        )
    rate = clean_hits / clean if clean else 0.0
    print(f"False-positive rate on clean sentences: {clean_hits}/{clean} = {rate:.1%}")
    print(f"Sentences with any wrong count: {len(misses)}")
    for text in misses[:10]:
        print(f"  - {text}")


def phone_recall(rows: list[dict[str, object]]) -> None:
    """Compare libphonenumber's default matcher with the full rule set on phone numbers."""
    default, full = Tally(), Tally()
    for row in rows:
        text = str(row["text"])
        expected = expected_counts(row).get(IdentifierKind.PHONE.value, 0)
        default.add(expected, sum(1 for _ in phonenumbers.PhoneNumberMatcher(text, "GB")))
        full.add(expected, redact(text).counts.get(IdentifierKind.PHONE, 0))
    print("Phone numbers on the corpus:")
    print(
        f"  phonenumbers.PhoneNumberMatcher(text, 'GB') alone: recall {default.recall:.1%}, "
        f"precision {default.precision:.1%}"
    )
    print(
        f"  redact() (matcher + UK shape rule):               recall {full.recall:.1%}, "
        f"precision {full.precision:.1%}"
    )


def build_answer(texts: Iterable[str]) -> str:
    """Join corpus sentences into one answer of exactly ANSWER_CHARS characters."""
    parts: list[str] = []
    length = 0
    pool = list(texts)
    i = 0
    while length < ANSWER_CHARS:
        sentence = pool[i % len(pool)]
        parts.append(sentence)
        length += len(sentence) + 1
        i += 1
    return " ".join(parts)[:ANSWER_CHARS]


def time_call(call: Callable[[], object]) -> tuple[float, float]:
    """Return (median, p99) milliseconds per call, each the median over REPEATS repeats."""
    medians: list[float] = []
    p99s: list[float] = []
    timer = timeit.Timer(call)
    timer.timeit(number=50)  # warm caches before measuring
    for _ in range(REPEATS):
        per_call = sorted(t * 1000 for t in timer.repeat(repeat=CALLS_PER_REPEAT, number=1))
        medians.append(statistics.median(per_call))
        p99s.append(per_call[int(len(per_call) * 0.99) - 1])
    return statistics.median(medians), statistics.median(p99s)


def speed(rows: list[dict[str, object]]) -> None:
    """Print the time to redact a 3,000-character answer, mixed and clean."""
    mixed = build_answer(str(row["text"]) for row in rows)
    clean = build_answer(str(row["text"]) for row in rows if not row["expected"])
    print(
        f"Time to redact a {ANSWER_CHARS}-character answer "
        f"({REPEATS} repeats x {CALLS_PER_REPEAT} calls, median of repeats):"
    )
    for label, text in (("with identifiers", mixed), ("clean", clean)):
        median, p99 = time_call(lambda text=text: redact(text))
        found = redact(text).total
        print(f"  {label:<17} ({found:>2} removed): median {median:.3f} ms, p99 {p99:.3f} ms")


def main() -> None:
    """Print the quality and speed report."""
    rows = load_corpus()
    quality(rows)
    print()
    phone_recall(rows)
    print()
    speed(rows)


if __name__ == "__main__":
    main()
