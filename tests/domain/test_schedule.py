"""When each member is due: own time zone, bank holidays, clock changes, cadences (pure rules)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.domain.cycles import cycle_for
from bot.domain.schedule import (
    BankHolidays,
    ScheduleSpec,
    current_cycle_key,
    latest_cycle_key,
    next_cycle_start,
    prompt_decision,
    reminder_due,
    slot_day,
    wall_clock_instant,
    zone_for,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
ENG = BankHolidays("ENG")
NONE = BankHolidays(None)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def due(spec: ScheduleSpec, now: dt.datetime, zone: ZoneInfo = LONDON, holidays=NONE) -> bool:
    return prompt_decision("c", spec, now, zone, holidays).due


THURSDAY_3PM = ScheduleSpec(days=("thu",), at=dt.time(15))


def test_slot_is_local_time_in_the_members_zone() -> None:
    # Thursday 26 November 2026: London is UTC+0, New York UTC-5.
    assert due(THURSDAY_3PM, utc(2026, 11, 26, 15, 0))
    assert not due(THURSDAY_3PM, utc(2026, 11, 26, 14, 59))
    assert not due(THURSDAY_3PM, utc(2026, 11, 26, 19, 59), NEW_YORK)
    assert due(THURSDAY_3PM, utc(2026, 11, 26, 20, 0), NEW_YORK)


def test_unknown_zone_falls_back_to_the_alliance_zone() -> None:
    assert zone_for("Mars/Olympus_Mons", LONDON) is LONDON
    assert zone_for(None, LONDON) is LONDON
    assert zone_for("America/New_York", LONDON) == NEW_YORK


def test_late_prompts_wait_for_working_hours() -> None:
    # Slot Thursday 15:00. Within two hours: any time. Later: only 08:00-20:00 on working days.
    assert due(THURSDAY_3PM, utc(2026, 11, 26, 16, 59))
    assert due(THURSDAY_3PM, utc(2026, 11, 26, 19, 59))
    assert not due(THURSDAY_3PM, utc(2026, 11, 26, 23, 0))
    assert not due(THURSDAY_3PM, utc(2026, 11, 27, 3, 0))
    assert due(THURSDAY_3PM, utc(2026, 11, 27, 8, 0))
    assert not due(THURSDAY_3PM, utc(2026, 11, 28, 11, 0))  # a Saturday the cohort doesn't use


def test_bank_holiday_moves_the_slot_to_the_next_working_day() -> None:
    monday_9 = ScheduleSpec(days=("mon",), at=dt.time(9))
    # 31 August 2026 is the Late Summer Bank Holiday in England (not in Scotland).
    assert not due(monday_9, utc(2026, 8, 31, 8, 30), holidays=ENG)
    assert not due(monday_9, utc(2026, 9, 1, 7, 59), holidays=ENG)
    assert due(monday_9, utc(2026, 9, 1, 8, 0), holidays=ENG)  # Tuesday 09:00 BST
    assert due(monday_9, utc(2026, 8, 31, 8, 0), holidays=BankHolidays("SCT"))
    assert due(monday_9, utc(2026, 8, 31, 8, 0))  # no bank_holidays configured


def test_a_cycle_with_no_working_day_left_is_skipped() -> None:
    # Christmas 2026: Friday 25th and Monday 28th (Boxing Day observed) are bank holidays.
    friday = ScheduleSpec(days=("fri",), at=dt.time(10))
    cycle = cycle_for("c", dt.date(2026, 12, 25))
    assert slot_day(cycle, friday, ENG) is None
    assert not due(friday, utc(2026, 12, 27, 12, 0), holidays=ENG)
    # New Year's Day 2027 is a Friday too: that week is skipped as well...
    assert slot_day(cycle_for("c", dt.date(2026, 12, 28)), friday, ENG) is None
    # ...while a Monday cohort that week moves from the observed Boxing Day to Tuesday.
    monday = ScheduleSpec(days=("mon",), at=dt.time(10))
    assert slot_day(cycle_for("c", dt.date(2026, 12, 28)), monday, ENG) == dt.date(2026, 12, 29)


def test_several_days_mean_the_first_that_comes() -> None:
    mon_thu = ScheduleSpec(days=("thu", "mon"), at=dt.time(9))
    decision = prompt_decision("c", mon_thu, utc(2026, 11, 23, 9, 0), LONDON, NONE)
    assert decision.due and decision.due_at == utc(2026, 11, 23, 9, 0)


def test_spring_forward_gap_sends_when_the_clocks_jump() -> None:
    # 29 March 2026, Europe/London: 01:00 GMT becomes 02:00 BST; 01:30 never happens.
    at = wall_clock_instant(dt.date(2026, 3, 29), dt.time(1, 30), LONDON)
    assert at == utc(2026, 3, 29, 1, 0)
    assert at.astimezone(LONDON).strftime("%H:%M %Z") == "02:00 BST"
    sunday = ScheduleSpec(days=("sun",), at=dt.time(1, 30))
    assert not due(sunday, utc(2026, 3, 29, 0, 59))
    assert due(sunday, utc(2026, 3, 29, 1, 0))


def test_autumn_fold_sends_at_the_first_of_the_two_times() -> None:
    # 25 October 2026: 01:30 happens at 00:30 UTC (BST) and again at 01:30 UTC (GMT).
    at = wall_clock_instant(dt.date(2026, 10, 25), dt.time(1, 30), LONDON)
    assert at == utc(2026, 10, 25, 0, 30)
    sunday = ScheduleSpec(days=("sun",), at=dt.time(1, 30))
    first = prompt_decision("c", sunday, utc(2026, 10, 25, 0, 30), LONDON, NONE)
    second = prompt_decision("c", sunday, utc(2026, 10, 25, 1, 30), LONDON, NONE)
    assert first.due and second.due  # the same cycle: the ledger sends it once
    assert first.cycle == second.cycle and first.due_at == second.due_at


def test_fortnightly_cycles_start_on_odd_weeks() -> None:
    fortnightly = ScheduleSpec(days=("wed",), at=dt.time(10), cadence="fortnightly")
    # 2026-W47 starts Monday 16 November; its fortnight runs to 29 November.
    first = prompt_decision("c", fortnightly, utc(2026, 11, 18, 10, 0), LONDON, NONE)
    second_week = prompt_decision("c", fortnightly, utc(2026, 11, 25, 10, 0), LONDON, NONE)
    assert first.cycle.key == second_week.cycle.key == "c:2026-W47"
    assert first.due_at == second_week.due_at == utc(2026, 11, 18, 10, 0)
    assert next_cycle_start(first.cycle, "fortnightly") == dt.date(2026, 11, 30)
    # ISO week 53 (an odd week) makes a one-week fortnight; the next starts in W01.
    w53 = cycle_for("c", dt.date(2026, 12, 30), "fortnightly")
    assert w53.key == "c:2026-W53"
    assert next_cycle_start(w53, "fortnightly") == dt.date(2027, 1, 4)


def test_cycle_changes_at_each_members_local_midnight() -> None:
    weekly = ScheduleSpec(days=("mon",), at=dt.time(9))
    sunday_late = utc(2026, 11, 29, 23, 30)  # Monday 00:30 in Berlin, still Sunday in London
    assert current_cycle_key("c", weekly, sunday_late, LONDON) == "c:2026-W48"
    assert current_cycle_key("c", weekly, sunday_late, ZoneInfo("Europe/Berlin")) == "c:2026-W49"
    assert latest_cycle_key("c", weekly, sunday_late) == "c:2026-W49"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2026, 11, 27, 10, 59), False),  # 20 hours not yet passed
        (utc(2026, 11, 27, 11, 0), True),
        (utc(2026, 11, 27, 20, 30), False),  # evening: wait for the morning
        (utc(2026, 11, 30, 8, 0), True),
    ],
)
def test_reminder_after_the_delay_at_a_sensible_hour(now: dt.datetime, expected: bool) -> None:
    sent = utc(2026, 11, 26, 15, 0)
    after = dt.timedelta(hours=20)
    assert reminder_due(sent, after, now, LONDON, ENG, THURSDAY_3PM) is expected
