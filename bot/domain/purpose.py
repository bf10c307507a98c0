"""The purpose question: which prompt cycle asks it, and the period its answers belong to.

HLS's first seed question — "What is this system set up to do, and is it doing it?" — is
asked now and then, not every week. A cohort asks it in the *first cycle that starts in each
period* (month, quarter, half-year or year): the cycle whose Monday falls in the period while
the cycle before it started in the previous one. That rule needs no memory and no scheduler:
any process can tell, from the cycle alone, whether the purpose question belongs to it.
"""

from __future__ import annotations

import datetime as dt
import re

PURPOSE_CADENCES = ("monthly", "quarterly", "half_yearly", "yearly")

_CYCLE_WEEK = re.compile(r":(\d{4})-W(\d{2})$")


def period_of(day: dt.date, cadence: str) -> str:
    """The purpose period a day falls in, e.g. "2026-Q4", "2026-11", "2026-H2", "2026"."""
    if cadence == "monthly":
        return f"{day.year}-{day.month:02d}"
    if cadence == "quarterly":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if cadence == "half_yearly":
        return f"{day.year}-H{1 if day.month <= 6 else 2}"
    if cadence == "yearly":
        return str(day.year)
    raise ValueError(f"unknown purpose cadence {cadence!r} (use one of {PURPOSE_CADENCES})")


def cycle_length(schedule_cadence: str) -> dt.timedelta:
    """How long one prompt cycle lasts (a week or a fortnight)."""
    return dt.timedelta(weeks=2 if schedule_cadence == "fortnightly" else 1)


def is_purpose_cycle(cycle_start: dt.date, cadence: str, schedule_cadence: str = "weekly") -> bool:
    """Whether the cycle starting on `cycle_start` is the first one of its purpose period."""
    previous = cycle_start - cycle_length(schedule_cadence)
    return period_of(cycle_start, cadence) != period_of(previous, cadence)


def cycle_start(cycle_key: str) -> dt.date | None:
    """The Monday a ledger cycle key such as "weekly:2026-W48" starts on (None if unreadable)."""
    match = _CYCLE_WEEK.search(cycle_key)
    if match is None:
        return None
    try:
        return dt.date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        return None
