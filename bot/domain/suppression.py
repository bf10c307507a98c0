"""The one suppression rule for every count that reaches someone else.

A count under the alliance's `suppress_below` is never shown as a number: it reads "fewer than
N", charts leave its bar out, and nothing is sorted by its true value. Digests, charts, the
review pack, inquiry and purpose summaries, App Home, /metrics and exports all make their
counts here, straight from what the queries returned, so no renderer ever holds a small number.

Anonymous entries are the other half of the rule, kept by the queries themselves: they are
never counted against an agency (per-agency counts leave them out), and they join a total only
when that total covers the whole alliance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Count:
    """A count as a person may see it: its number, or None when under the threshold."""

    shown: int | None
    threshold: int

    def __str__(self) -> str:
        return f"{self.shown:,}" if self.shown is not None else f"fewer than {self.threshold}"

    @property
    def suppressed(self) -> bool:
        """Whether the number is hidden (it was under the threshold)."""
        return self.shown is None

    @property
    def sort_key(self) -> int:
        """What to sort by: the number when shown, else 0 (small counts are never ranked)."""
        return self.shown if self.shown is not None else 0

    def of(self, singular: str, plural: str | None = None) -> str:
        """The count with its noun: "1 agency", "12 agencies", "fewer than 3 agencies"."""
        noun = singular if self.shown == 1 else (plural or f"{singular}s")
        return f"{self} {noun}"


def suppress(count: int, threshold: int) -> Count:
    """The count as it may be shown: any count under the threshold (zero too) is hidden."""
    return Count(count if count >= threshold else None, threshold)


def suppressed(count: int, threshold: int) -> str:
    """A count as words: "12", or "fewer than 3" for any count under the threshold."""
    return str(suppress(count, threshold))


def average(value: float, threshold: int) -> str:
    """An average of counts as words: "4.5", or "fewer than 3" when under the threshold."""
    return f"{value:.1f}" if value >= threshold else f"fewer than {threshold}"


def suppress_all(counts: Mapping[str, int], threshold: int) -> dict[str, Count]:
    """Every count of a breakdown (by status, by source, …) through the rule."""
    return {key: suppress(n, threshold) for key, n in counts.items()}


def shown_only(counts: Iterable[tuple[str, int]], threshold: int) -> list[tuple[str, int]]:
    """The (label, count) pairs at or above the threshold: for outputs that cannot say words."""
    return [(label, n) for label, n in counts if n >= threshold]
