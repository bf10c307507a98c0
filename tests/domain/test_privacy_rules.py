"""The pure rules behind erasure and retention."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.privacy import (
    daily_slot_start,
    export_filename,
    months_before,
    retention_cutoff,
    subject_key,
)

UTC = dt.UTC


def test_subject_key_is_one_way_and_distinguishes_platforms() -> None:
    key = subject_key("slack", "U0ALICE")
    assert len(key) == 64 and all(c in "0123456789abcdef" for c in key)
    assert "U0ALICE" not in key
    assert key == subject_key("slack", "U0ALICE")
    assert key != subject_key("teams", "U0ALICE")
    assert key != subject_key("slack", "U0ALICE2")
    # The separator keeps ("slack", "xU1") and ("slackx", "U1") apart.
    assert subject_key("slack", "xU1") != subject_key("slackx", "U1")


@pytest.mark.parametrize(
    ("now", "months", "expected"),
    [
        (
            dt.datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
            24,
            dt.datetime(2024, 12, 1, 9, 30, tzinfo=UTC),
        ),
        (dt.datetime(2026, 3, 31, tzinfo=UTC), 1, dt.datetime(2026, 2, 28, tzinfo=UTC)),
        (dt.datetime(2028, 3, 31, tzinfo=UTC), 1, dt.datetime(2028, 2, 29, tzinfo=UTC)),
        (dt.datetime(2026, 1, 15, tzinfo=UTC), 13, dt.datetime(2024, 12, 15, tzinfo=UTC)),
        (dt.datetime(2026, 5, 31, tzinfo=UTC), 3, dt.datetime(2026, 2, 28, tzinfo=UTC)),
    ],
)
def test_retention_cutoff_counts_calendar_months(
    now: dt.datetime, months: int, expected: dt.datetime
) -> None:
    assert retention_cutoff(now, months) == expected


def test_retention_cutoff_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        retention_cutoff(dt.datetime(2026, 1, 1), 24)  # naive
    with pytest.raises(ValueError):
        retention_cutoff(dt.datetime(2026, 1, 1, tzinfo=UTC), 0)


@given(
    st.datetimes(
        min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    st.integers(min_value=1, max_value=120),
)
def test_cutoff_is_before_now_and_within_the_months(now: dt.datetime, months: int) -> None:
    cutoff = retention_cutoff(now, months)
    assert cutoff < now
    # Never more than `months` months of 31 days, never less than `months` of 28.
    assert dt.timedelta(days=28 * months) <= now - cutoff <= dt.timedelta(days=31 * months)
    assert months_before(now, 0) == now


def test_export_filename_names_no_one() -> None:
    assert export_filename(dt.date(2026, 12, 1)) == "learnloop-my-data-2026-12-01.json"


@pytest.mark.parametrize(
    ("now", "slot"),
    [
        # Winter: 02:00 London is 02:00 UTC.
        (dt.datetime(2026, 1, 10, 2, 0, tzinfo=UTC), dt.datetime(2026, 1, 10, 2, 0, tzinfo=UTC)),
        (dt.datetime(2026, 1, 10, 1, 59, tzinfo=UTC), dt.datetime(2026, 1, 9, 2, 0, tzinfo=UTC)),
        # Summer: 02:00 London is 01:00 UTC.
        (dt.datetime(2026, 7, 10, 1, 0, tzinfo=UTC), dt.datetime(2026, 7, 10, 1, 0, tzinfo=UTC)),
        (dt.datetime(2026, 7, 10, 23, 0, tzinfo=UTC), dt.datetime(2026, 7, 10, 1, 0, tzinfo=UTC)),
    ],
)
def test_the_daily_slot_is_two_in_the_morning_local(now: dt.datetime, slot: dt.datetime) -> None:
    assert daily_slot_start(now, ZoneInfo("Europe/London")) == slot
