"""When each member is due their prompt and their reminder.

A cohort's schedule (days and a local time) is read in each member's own time zone, falling
back to the alliance's. Pure: the caller passes `now` (aware) and a bank-holiday calendar.

Rules, in one place so they can be argued with:

- **One slot per cycle.** A cycle (an ISO week, or a fortnight) is due from its first scheduled
  day at the configured local time. Several days in `days` mean "the first of these that comes";
  the ledger makes sure the prompt goes once.
- **Bank holidays.** A slot on a bank holiday moves to the next working day of the same cycle
  (not a bank holiday, and not a Saturday or Sunday unless the cohort is scheduled on that day),
  at the same local time. If the cycle has no such day left, the cycle is skipped.
- **Clock changes.** A local time that does not exist (01:30 on 29 March 2026 in Europe/London,
  when clocks jump from 01:00 to 02:00) is due at the moment the clocks go forward (02:00 BST).
  A local time that happens twice (01:30 on 25 October 2026) is due at its first occurrence
  (01:30 BST); the ledger stops the second occurrence sending again.
- **Late prompts at a sensible hour.** A prompt is sent at its slot, or up to `ON_TIME_GRACE`
  after it at any hour (so a short outage or a slow fan-out is caught up at once). Later than
  that (the worker was down, or the person joined mid-week) it waits for working hours
  (08:00-20:00 local, not a bank holiday, not a weekend the cohort doesn't use).
- **Reminders** follow the same working-hours rule once `remind_after_hours` have passed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Sequence
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

from bot.domain.cycles import WEEKDAYS, Cycle, cycle_for

ON_TIME_GRACE = dt.timedelta(hours=2)
WORKING_HOURS = (dt.time(8, 0), dt.time(20, 0))
# The zone whose local date runs furthest ahead: no one's current cycle is later than its.
FURTHEST_AHEAD = ZoneInfo("Pacific/Kiritimati")

Holidays = Container[dt.date]


class BankHolidays:
    """UK bank holidays of one subdivision (ENG, WLS, SCT, NIR), from the `holidays` package."""

    def __init__(self, subdivision: str | None) -> None:
        self.subdivision = subdivision

    def __contains__(self, day: object) -> bool:
        if self.subdivision is None or not isinstance(day, dt.date):
            return False
        return day in _uk_holidays(self.subdivision, day.year)


@cache
def _uk_holidays(subdivision: str, year: int) -> frozenset[dt.date]:
    return frozenset(holidays_lib.country_holidays("GB", subdiv=subdivision, years=year))


@dataclass(frozen=True)
class ScheduleSpec:
    """The parts of a cohort's schedule the rules need."""

    days: tuple[str, ...]
    at: dt.time
    cadence: str = "weekly"

    @property
    def weekdays(self) -> tuple[int, ...]:
        """Scheduled weekdays, Monday = 0, sorted."""
        return tuple(sorted({WEEKDAYS.index(d) for d in self.days}))


@dataclass(frozen=True)
class PromptDecision:
    """For one member at one moment: the cycle they are in, when it is due, whether to send."""

    cycle: Cycle
    due_at: dt.datetime | None
    due: bool


def zone_for(tz_name: str | None, fallback: ZoneInfo) -> ZoneInfo:
    """The member's zone if it is a known IANA name, else the alliance's."""
    if tz_name:
        try:
            return ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return fallback


def wall_clock_instant(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant a local wall-clock time happens on a day.

    In a spring-forward gap it is the moment the clocks go forward; in an autumn fold, the first
    of the two occurrences.
    """
    naive = dt.datetime.combine(day, at)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first
    # The time falls in a gap. fold=1 reads it with the offset after the change, which lands
    # before the gap; fold=0 lands after it. Bisect (to the second) for the first instant whose
    # wall clock reads `naive` or later: the moment the clocks jumped.
    lo = int(naive.replace(tzinfo=zone, fold=1).timestamp())
    hi = int(first.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        local = dt.datetime.fromtimestamp(mid, dt.UTC).astimezone(zone).replace(tzinfo=None)
        if local >= naive:
            hi = mid
        else:
            lo = mid
    return dt.datetime.fromtimestamp(hi, dt.UTC)


def next_cycle_start(cycle: Cycle, cadence: str) -> dt.date:
    """The local date the cycle after `cycle` starts (fortnights after ISO week 53 are short)."""
    day = cycle.starts + dt.timedelta(days=7)
    if cycle_for(cycle.cohort_id, day, cadence) == cycle:
        day += dt.timedelta(days=7)
    return day


def _working_day(day: dt.date, holidays: Holidays, weekdays: Sequence[int]) -> bool:
    return day not in holidays and (day.weekday() < 5 or day.weekday() in weekdays)


def slot_day(cycle: Cycle, spec: ScheduleSpec, holidays: Holidays) -> dt.date | None:
    """The local date the cycle's prompt is due: its first scheduled day, past bank holidays."""
    end = next_cycle_start(cycle, spec.cadence)
    day = cycle.starts + dt.timedelta(days=spec.weekdays[0])
    if day not in holidays:
        return day
    day += dt.timedelta(days=1)
    while day < end:
        if _working_day(day, holidays, spec.weekdays):
            return day
        day += dt.timedelta(days=1)
    return None


def is_sensible_time(local: dt.datetime, holidays: Holidays, weekdays: Sequence[int]) -> bool:
    """Working hours on a working day, in the member's local time."""
    start, end = WORKING_HOURS
    return start <= local.time() < end and _working_day(local.date(), holidays, weekdays)


def prompt_decision(
    cohort_id: str,
    spec: ScheduleSpec,
    now: dt.datetime,
    zone: ZoneInfo,
    holidays: Holidays,
    force: bool = False,
) -> PromptDecision:
    """The member's current cycle and whether its prompt should go out at `now` (aware)."""
    local = now.astimezone(zone)
    cycle = cycle_for(cohort_id, local.date(), spec.cadence)
    day = slot_day(cycle, spec, holidays)
    due_at = wall_clock_instant(day, spec.at, zone) if day else None
    if force:
        return PromptDecision(cycle, due_at, True)
    if due_at is None or now < due_at:
        return PromptDecision(cycle, due_at, False)
    on_time = now - due_at <= ON_TIME_GRACE
    return PromptDecision(
        cycle, due_at, on_time or is_sensible_time(local, holidays, spec.weekdays)
    )


def reminder_due(
    sent_at: dt.datetime,
    after: dt.timedelta,
    now: dt.datetime,
    zone: ZoneInfo,
    holidays: Holidays,
    spec: ScheduleSpec,
) -> bool:
    """Whether an unanswered prompt sent at `sent_at` should get its one nudge at `now`."""
    if now < sent_at + after:
        return False
    return is_sensible_time(now.astimezone(zone), holidays, spec.weekdays)


def current_cycle_key(cohort_id: str, spec: ScheduleSpec, now: dt.datetime, zone: ZoneInfo) -> str:
    """The ledger key of the member's current cycle (a prompt of an earlier one has expired)."""
    return cycle_for(cohort_id, now.astimezone(zone).date(), spec.cadence).key


def latest_cycle_key(cohort_id: str, spec: ScheduleSpec, now: dt.datetime) -> str:
    """The latest cycle key anyone anywhere can be in at `now` (bounds the expiry query)."""
    return current_cycle_key(cohort_id, spec, now, FURTHEST_AHEAD)
