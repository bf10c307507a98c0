"""Barriers we keep meeting, and answers read: the pure rules (bot/domain/recurring, reading)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.domain.digest import CheckinFact
from bot.domain.reading import read_answers
from bot.domain.recurring import FLAG_AFTER_WEEKS, RecurringInputs, recurring_barriers
from bot.domain.visibility import Audience
from bot.views.recurring import RAISE, button_value, parse_button_value, recurring_section

ZONE = ZoneInfo("Europe/London")
# The digest's period: ISO week 47 of 2026.
START = dt.datetime(2026, 11, 16, tzinfo=dt.UTC)
END = START + dt.timedelta(days=7)
NAMES = {"housing": "Council Housing", "hospital": "Hospital Discharge", "probation": "Probation"}
PHARMACY = [
    "No pharmacy will register people placed in temporary accommodation out of area",
    "Placed in TA out of area and the pharmacy would not register him",
    "Out of area temporary accommodation again: no pharmacy would register her",
    "Pharmacy registration refused because the temporary accommodation is out of area",
]
CONSENT = "The consent form takes a week to come back from legal"


def fact(i: int, agency: str, weeks_ago: int, barrier: str, visibility: str = "alliance"):
    return CheckinFact(
        id=i,
        agency_id=agency,
        member_id=i,
        visibility=visibility,
        created_at=START + dt.timedelta(days=2) - dt.timedelta(weeks=weeks_ago),
        learning="Something learned",
        barrier=barrier,
        author_name=f"Person {i}",
    )


def inputs(entries, raised=None, threshold=3, audience=None) -> RecurringInputs:
    return RecurringInputs(
        audience=audience or Audience.alliance(),
        period_start=START,
        period_end=END,
        zone=ZONE,
        entries=entries,
        raised=raised or {},
        agency_names=NAMES,
        suppress_below=threshold,
    )


def test_a_barrier_said_over_three_weeks_and_raised_by_nobody_is_flagged() -> None:
    entries = [
        fact(1, "housing", 2, PHARMACY[0]),
        fact(2, "hospital", 1, PHARMACY[1]),
        fact(3, "hospital", 0, PHARMACY[2]),
        fact(4, "probation", 0, CONSENT),
    ]
    [item] = recurring_barriers(inputs(entries))
    assert item.weeks == FLAG_AFTER_WEEKS and item.flagged and item.raised_as is None
    assert item.agencies == ("Council Housing", "Hospital Discharge")
    assert str(item.answers) == "3"
    assert set(item.checkin_ids) == {1, 2, 3}
    # Newest first, then another agency's.
    assert [q.byline for q in item.quotes] == [
        "Person 3, Hospital Discharge",
        "Person 1, Council Housing",
    ]
    text = str(recurring_section([item]))
    assert "Raised by no one for 3 weeks" in text and RAISE in text


def test_once_raised_it_is_not_flagged_and_offers_no_button() -> None:
    entries = [fact(i, "housing", 2 - i, PHARMACY[i]) for i in range(3)]
    [item] = recurring_barriers(inputs(entries, raised={1: "No pharmacy out of area"}))
    assert not item.flagged and item.raised_as == "No pharmacy out of area"
    assert RAISE not in str(recurring_section([item]))


def test_not_met_again_this_week_or_only_once_is_not_shown() -> None:
    old = [fact(1, "housing", 3, PHARMACY[0]), fact(2, "hospital", 2, PHARMACY[1])]
    assert recurring_barriers(inputs(old)) == []  # nothing this week
    # Twice in one week from one agency is said twice, not met again.
    same = [fact(1, "housing", 0, PHARMACY[0]), fact(2, "housing", 0, PHARMACY[1])]
    assert recurring_barriers(inputs(same)) == []


def test_anonymous_and_team_answers() -> None:
    entries = [
        fact(1, "housing", 1, PHARMACY[0], "anonymous"),
        fact(2, "hospital", 0, PHARMACY[1], "alliance"),
        fact(3, "probation", 0, PHARMACY[2], "team"),
    ]
    [item] = recurring_barriers(inputs(entries, threshold=1))
    # The team-only answer is not read; the anonymous one names no agency.
    assert 3 not in item.checkin_ids
    assert item.agencies == ("Hospital Discharge",) and item.anonymous
    assert "Anonymous" in [q.byline for q in item.quotes]
    # Moving the anonymous answer to another agency changes nothing the stewards see.
    moved = [fact(1, "probation", 1, PHARMACY[0], "anonymous"), *entries[1:]]
    assert recurring_barriers(inputs(moved, threshold=1)) == [item]


def test_small_counts_are_suppressed() -> None:
    entries = [fact(1, "housing", 1, PHARMACY[0]), fact(2, "hospital", 0, PHARMACY[1])]
    [item] = recurring_barriers(inputs(entries))
    assert str(item.answers) == "fewer than 3"
    assert "fewer than 3 answers" in str(recurring_section([item]))


def test_button_value_round_trip_and_refusals() -> None:
    assert parse_button_value(button_value([3, 1, 2])) == [3, 1, 2]
    for bad in ("", "a", "1,x", "0", "-2"):
        try:
            parse_button_value(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_answers_read_similar_together_small_groups_suppressed() -> None:
    answers = [*PHARMACY[:3], CONSENT, PHARMACY[3]]
    groups = read_answers(answers, lambda a: a, 3)
    assert groups[0].members == 4 and str(groups[0].size) == "4"
    assert groups[0].label  # a short name from their words
    assert len(groups[0].quoted) == 2 and groups[0].quoted[0] == PHARMACY[3]  # newest first
    assert [g.quoted for g in groups[1:]] == [(CONSENT,)]
    assert str(groups[1].size) == "fewer than 3" and groups[1].label == ""
    # The same words twice are quoted once.
    twice = read_answers(["To keep people safe at home"] * 3, lambda a: a, 3)
    assert len(twice) == 1 and twice[0].quoted == ("To keep people safe at home",)
