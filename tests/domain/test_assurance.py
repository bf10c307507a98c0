"""Barrier ageing, time to resolution and themes over time, with suppression as everywhere."""

from __future__ import annotations

import datetime as dt

from bot.domain.assurance import (
    OpenBarrier,
    Resolution,
    band_of,
    build_assurance,
    median,
    percentile,
)
from bot.render.digest import text_lines
from bot.views.assurance import assurance_section

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
LADDER = [("agency", "Agency leadership"), ("alliance", "Steward group"), ("board", "Board")]


def days_ago(n: float) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


def test_bands_and_percentiles() -> None:
    assert band_of(dt.timedelta(days=13.9)) == "under 2 weeks"
    assert band_of(dt.timedelta(days=14)) == "2 to 4 weeks"
    assert band_of(dt.timedelta(days=83)) == "4 to 12 weeks"
    assert band_of(dt.timedelta(days=400)) == "over 12 weeks"
    assert median([1, 2, 3, 10]) == 2.5
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9
    assert percentile([5], 0.9) == 5


def test_ageing_and_resolution_per_level_suppress_small_counts() -> None:
    open_ = [OpenBarrier("agency", days_ago(d)) for d in (1, 2, 3, 20)]
    open_.append(OpenBarrier("board", days_ago(100)))
    resolved = [Resolution("alliance", days_ago(d + 10), days_ago(d)) for d in (1, 2, 3, 4)]
    resolved.append(Resolution("agency", days_ago(30), days_ago(1)))
    view = build_assurance(
        ladder=LADDER,
        open_barriers=open_,
        resolutions=resolved,
        theme_weeks=[("2026-W47", {"Housing": 5, "Mental health": 1}), ("2026-W48", {})],
        as_of=NOW,
        suppress_below=3,
    )
    agency, board = view.ageing
    assert (agency.level, str(agency.open)) == ("Agency leadership", "4")
    assert dict((label, str(n)) for label, n in agency.bands) == {
        "under 2 weeks": "3",
        "2 to 4 weeks": "fewer than 3",
        "4 to 12 weeks": "fewer than 3",
        "over 12 weeks": "fewer than 3",
    }
    assert str(board.open) == "fewer than 3"
    agency_done, alliance_done = view.resolution
    # One barrier resolved: no "typical" time, which would be that barrier's own.
    assert agency_done.median is None and str(agency_done.resolved) == "fewer than 3"
    assert (alliance_done.median, alliance_done.p90) == ("10 days", "10 days")
    # A week with nothing shared is left out; a small theme count reads "fewer than 3".
    assert [w.week for w in view.theme_weeks] == ["2026-W47"]
    assert dict((t, str(n)) for t, n in view.theme_weeks[0].counts) == {
        "Housing": "5",
        "Mental health": "fewer than 3",
    }
    text = "\n".join(text_lines(assurance_section(view)))
    assert "Barrier ageing" in text and "Time to resolution" in text
    assert "median 10 days, 90% within 10 days" in text
    assert "too few to give a typical time" in text
    assert "Mental health fewer than 3" in text
    assert " 1 " not in text.replace("2026-W47", "")
