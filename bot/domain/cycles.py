"""Prompt cycles: which week a prompt belongs to, and when a cohort is due."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Cycle:
    """One prompting period of a cohort: an ISO week, or a fortnight starting on an odd week."""

    cohort_id: str
    year: int
    week: int

    @property
    def key(self) -> str:
        """The ledger key, unique per cohort and period, e.g. ``weekly:2026-W48``."""
        return f"{self.cohort_id}:{self.year}-W{self.week:02d}"

    @property
    def starts(self) -> dt.date:
        """The Monday the cycle starts."""
        return dt.date.fromisocalendar(self.year, self.week, 1)


def cycle_for(cohort_id: str, day: dt.date, cadence: str = "weekly") -> Cycle:
    """The cycle a local date falls in; fortnights start on odd ISO weeks."""
    year, week, _ = day.isocalendar()
    if cadence == "fortnightly" and week % 2 == 0:
        year, week, _ = (day - dt.timedelta(days=7)).isocalendar()
    return Cycle(cohort_id=cohort_id, year=year, week=week)


def local_now(now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """An aware `now` in the given zone (a naive `now` is taken as UTC)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    return now.astimezone(zone)


def is_due(days: list[str], at: dt.time, now_local: dt.datetime) -> bool:
    """Whether a schedule's slot for this week has come: the day is past or today after `at`."""
    today = now_local.weekday()
    slots = sorted(WEEKDAYS.index(d) for d in days)
    return any(slot < today or (slot == today and now_local.time() >= at) for slot in slots)
