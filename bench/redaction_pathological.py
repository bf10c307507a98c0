"""How redaction's cost grows with the length of inputs built to make regexes backtrack.

Run from the repository root: ``python bench/redaction_pathological.py``. Each shape (the ones
tests/domain/test_redaction.py checks are read as prose) is redacted at a base length and at
four times that length, side by side in one run; it prints the medians over several repeats and
their ratio. Linear work gives a ratio near 4; catastrophic backtracking gives 16 or more.
"""

from __future__ import annotations

import statistics
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.domain.redaction import redact  # noqa: E402

REPEATS = 7
SHAPES: dict[str, Callable[[int], str]] = {
    '"born " + "word " * n': lambda n: "born " + "word " * n,
    '"DOB " + "x, " * n + date': lambda n: "DOB " + "x, " * n + "12/03/1987",
    '"a" * 10n + "@"': lambda n: "a" * (10 * n) + "@",
    '"0 " * n': lambda n: "0 " * n,
    '"1" * 10n': lambda n: "1" * (10 * n),
    '"AB 12 " * n': lambda n: "AB 12 " * n,
    '"M1 " * n': lambda n: "M1 " * n,
}


def median_ms(text: str) -> float:
    """Median milliseconds to redact `text` once."""
    runs = timeit.repeat(lambda: redact(text), number=1, repeat=REPEATS)
    return statistics.median(runs) * 1000


def main() -> None:
    """Print one row per shape: time at n, at 4n, and the ratio."""
    base = 1000
    print(f"{'shape':<30} {'n=1000 ms':>10} {'n=4000 ms':>10} {'ratio':>6}")
    for name, build in SHAPES.items():
        small, large = build(base), build(4 * base)
        redact(small)  # warm the pattern cache
        t_small, t_large = median_ms(small), median_ms(large)
        print(f"{name:<30} {t_small:>10.2f} {t_large:>10.2f} {t_large / t_small:>6.2f}")


if __name__ == "__main__":
    main()
