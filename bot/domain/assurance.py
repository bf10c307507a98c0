"""Assurance figures for the learning review pack: barrier ageing, time to resolution per
level, and themes week by week.

A board's questions about the barrier register are "what has been waiting, and for how long?"
and "once raised, how long until it is dealt with, at each level?". Every count goes through
the one suppression rule: a band, a level or a week's theme with fewer than `suppress_below`
barriers or learnings reads "fewer than N", and a median or 90th percentile is only given when
at least that many barriers were resolved (a median of one barrier is that barrier's time).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain.suppression import suppress
from bot.views.assurance import AgeingRow, AssuranceView, ResolutionRow, ThemeWeekRow

# Age bands of an open barrier (upper bounds in days; the last band is open-ended).
AGE_BANDS: tuple[tuple[str, int | None], ...] = (
    ("under 2 weeks", 14),
    ("2 to 4 weeks", 28),
    ("4 to 12 weeks", 84),
    ("over 12 weeks", None),
)


@dataclass(frozen=True)
class OpenBarrier:
    """A barrier not yet resolved or closed: where it is and when it was raised."""

    level: str
    raised_at: dt.datetime


@dataclass(frozen=True)
class Resolution:
    """A barrier resolved or closed in the period: at which level, and how long it took."""

    level: str
    raised_at: dt.datetime
    resolved_at: dt.datetime


def band_of(age: dt.timedelta) -> str:
    """The age band an open barrier of this age falls in."""
    for label, upper in AGE_BANDS:
        if upper is None or age < dt.timedelta(days=upper):
            return label
    return AGE_BANDS[-1][0]  # pragma: no cover - the last band has no upper bound


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..1) by the nearest-rank method: always one of the values."""
    if not values:
        raise ValueError("a percentile of nothing")
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    """The median (the mean of the two middle values for an even count)."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _days(value: float) -> str:
    return f"{value:.1f} days" if value < 10 else f"{value:.0f} days"


def build_assurance(
    *,
    ladder: Sequence[tuple[str, str]],
    open_barriers: Sequence[OpenBarrier],
    resolutions: Sequence[Resolution],
    theme_weeks: Sequence[tuple[str, Mapping[str, int]]],
    as_of: dt.datetime,
    suppress_below: int,
) -> AssuranceView:
    """The review pack's assurance section: ageing, resolution times, themes over time."""
    names = dict(ladder)
    levels = [level for level, _ in ladder]
    levels += sorted(
        ({b.level for b in open_barriers} | {r.level for r in resolutions}) - set(levels)
    )
    ageing = []
    for level in levels:
        here = [b for b in open_barriers if b.level == level]
        if not here:
            continue
        bands = {label: 0 for label, _ in AGE_BANDS}
        for barrier in here:
            bands[band_of(as_of - barrier.raised_at)] += 1
        ageing.append(
            AgeingRow(
                level=names.get(level, level),
                open=suppress(len(here), suppress_below),
                bands=tuple((label, suppress(n, suppress_below)) for label, n in bands.items()),
            )
        )
    resolution = []
    for level in levels:
        taken = [
            (r.resolved_at - r.raised_at).total_seconds() / 86_400
            for r in resolutions
            if r.level == level
        ]
        if not taken:
            continue
        enough = len(taken) >= suppress_below
        resolution.append(
            ResolutionRow(
                level=names.get(level, level),
                resolved=suppress(len(taken), suppress_below),
                median=_days(median(taken)) if enough else None,
                p90=_days(percentile(taken, 0.9)) if enough else None,
            )
        )
    themes = sorted({t for _, counts in theme_weeks for t in counts})
    weeks = tuple(
        ThemeWeekRow(
            week=week,
            counts=tuple((t, suppress(counts.get(t, 0), suppress_below)) for t in themes),
        )
        for week, counts in theme_weeks
        if any(counts.values())
    )
    return AssuranceView(
        ageing=tuple(ageing),
        resolution=tuple(resolution),
        themes=tuple(themes),
        theme_weeks=weeks,
        suppress_below=suppress_below,
    )
