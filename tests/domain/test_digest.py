"""The digest's aggregates on hand-made data with known answers."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.domain.digest import (
    BarrierFact,
    CheckinFact,
    DigestInputs,
    build_digest,
    find_patterns,
    parse_week,
    range_period,
    select_quotes,
    shorten,
    summarise_barriers,
    suppressed,
    theme_trends,
    week_period,
)
from bot.domain.errors import BadPeriod
from bot.domain.patterns import find_groups
from bot.domain.visibility import Audience
from bot.views.digest import Trend

LONDON = ZoneInfo("Europe/London")
PERIOD = week_period("2026-W47", LONDON, 4, dt.time(9, 0))  # Friday 09:00 to Friday 09:00
IN = PERIOD.start + dt.timedelta(days=2)
NAMES = {"housing": "Council Housing", "hospital": "Hospital Discharge", "outreach": "Outreach"}


def fact(i: int, agency: str, visibility: str, learning: str, **kw: Any) -> CheckinFact:
    """A check-in in the period."""
    defaults: dict[str, Any] = {"member_id": 100 + i, "created_at": IN + dt.timedelta(hours=i)}
    defaults.update(kw)
    return CheckinFact(id=i, agency_id=agency, visibility=visibility, learning=learning, **defaults)


def inputs(audience: Audience, checkins: list[CheckinFact], **kw: Any) -> DigestInputs:
    """Digest inputs with quiet defaults."""
    scope = (
        {audience.agency_id: NAMES[audience.agency_id]}
        if audience.kind == "agency" and audience.agency_id
        else NAMES
    )
    values: dict[str, Any] = {
        "audience": audience,
        "period": PERIOD,
        "alliance_name": "Test Alliance",
        "scope_label": "Test",
        "scope_agencies": scope,
        "agency_names": NAMES,
        "suppress_below": 3,
        "learnings": {},
        "people": {},
        "theme_counts": {},
        "baseline": [],
        "checkins": checkins,
    }
    values.update(kw)
    return DigestInputs(**values)


# ---------------------------------------------------------------- periods


def test_week_period_ends_at_the_slot_and_meets_the_next() -> None:
    assert PERIOD.key == "2026-W47"
    # Friday 20 November 2026, 09:00 GMT, and the Friday before.
    assert PERIOD.end == dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
    assert PERIOD.start == dt.datetime(2026, 11, 13, 9, 0, tzinfo=dt.UTC)
    following = week_period("2026-W48", LONDON, 4, dt.time(9, 0))
    assert following.start == PERIOD.end
    plain = week_period("2026-W47", LONDON)
    assert plain.start == dt.datetime(2026, 11, 16, 0, 0, tzinfo=dt.UTC)
    assert plain.end - plain.start == dt.timedelta(days=7)


def test_a_slot_weeks_label_names_its_days_not_an_iso_week_it_mostly_is_not() -> None:
    # "2026-W47" at Friday 09:00 covers Friday 13 to Friday 20 November: days of ISO week 46.
    assert PERIOD.label == "13 Nov – 20 Nov 2026"
    assert week_period("2026-W47", LONDON).label == "week 47 of 2026 (16 Nov – 22 Nov)"
    across = week_period("2027-W01", LONDON, 4, dt.time(9, 0))
    assert across.label == "1 Jan – 8 Jan 2027"


def test_week_across_the_clock_change_keeps_local_nine_oclock() -> None:
    # BST ends on 25 October 2026: the window is 7 local days, 169 real hours.
    period = week_period("2026-W44", LONDON, 4, dt.time(9, 0))
    assert period.end == dt.datetime(2026, 10, 30, 9, 0, tzinfo=dt.UTC)
    assert period.start == dt.datetime(2026, 10, 23, 8, 0, tzinfo=dt.UTC)


def test_bad_weeks_and_ranges_say_how_to_write_them() -> None:
    assert parse_week("2026-W05") == (2026, 5)
    for bad in ("2026-47", "W47", "2026-W54", "next week"):
        with pytest.raises(BadPeriod, match="2026-W47"):
            parse_week(bad)
    with pytest.raises(BadPeriod, match="before it starts"):
        range_period(dt.date(2026, 12, 31), dt.date(2026, 10, 1), LONDON)
    quarter = range_period(dt.date(2026, 10, 1), dt.date(2026, 12, 31), LONDON)
    assert quarter.key == "2026-10-01..2026-12-31"
    assert quarter.end == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    windows = quarter.previous(4)
    assert windows[0][1] == quarter.start and len(windows) == 4


# ---------------------------------------------------------------- suppression, participation


def test_small_counts_are_words_never_numbers() -> None:
    assert suppressed(0, 3) == "fewer than 3"
    assert suppressed(2, 3) == "fewer than 3"
    assert suppressed(3, 3) == "3"
    assert suppressed(1234, 5) == "1,234"


def test_participation_is_per_agency_counts_only_and_suppressed() -> None:
    view = build_digest(
        inputs(
            Audience.alliance(),
            [],
            learnings={"housing": 7, "hospital": 2},
            people={"housing": 4, "hospital": 1},
        )
    )
    rows = {p.agency: (p.learnings, p.people) for p in view.participation}
    assert rows == {
        "Council Housing": ("7", "4"),
        "Hospital Discharge": ("fewer than 3", "fewer than 3"),
        # An agency with no one taking part reads exactly like a small one: no "who didn't" list.
        "Outreach": ("fewer than 3", "fewer than 3"),
    }
    assert view.learnings == "9" and str(view.agencies_contributing) == "fewer than 3"
    # Agencies are listed by name, not ranked by how much they took part.
    assert [p.agency for p in view.participation] == sorted(rows)
    small = build_digest(inputs(Audience.alliance(), [], learnings={"housing": 2}))
    assert small.learnings == "fewer than 3"


# ---------------------------------------------------------------- visibility and anonymity


CHECKINS = [
    fact(1, "housing", "team", "Team-only housing learning.", author_name="Tess Team"),
    fact(2, "housing", "alliance", "Named housing learning.", author_name="Nadia Named"),
    fact(3, "hospital", "anonymous", "Anonymous hospital learning.", author_name="Ann Secret"),
    fact(4, "hospital", "team", "Team-only hospital learning.", author_name="Hal Team"),
]


def test_alliance_digest_quotes_only_what_authors_shared_with_the_alliance() -> None:
    quotes = select_quotes(inputs(Audience.alliance(), CHECKINS))
    by_text = {q.text: q.byline for q in quotes}
    assert by_text == {
        "Named housing learning.": "Nadia Named, Council Housing",
        "Anonymous hospital learning.": "Anonymous",
    }


def test_agency_digest_quotes_its_own_entries_including_team_only() -> None:
    quotes = select_quotes(inputs(Audience.agency("housing"), CHECKINS))
    assert {q.text: q.byline for q in quotes} == {
        "Team-only housing learning.": "Tess Team",
        "Named housing learning.": "Nadia Named",
    }
    hospital = select_quotes(inputs(Audience.agency("hospital"), CHECKINS))
    assert {q.text: q.byline for q in hospital} == {
        "Anonymous hospital learning.": "Anonymous",
        "Team-only hospital learning.": "Hal Team",
    }


def test_anonymous_author_never_appears_in_any_digest_for_others() -> None:
    for audience in (Audience.alliance(), Audience.agency("hospital"), Audience.agency("housing")):
        view = build_digest(inputs(audience, CHECKINS))
        assert "Ann Secret" not in repr(view)
        assert "103" not in repr(view)  # the anonymous author's member id
    # ...while a named author is shown, so this test can fail.
    assert "Nadia Named" in repr(build_digest(inputs(Audience.alliance(), CHECKINS)))


def test_quotes_take_turns_across_agencies_newest_first() -> None:
    many = [fact(i, "housing", "alliance", f"Housing {i}") for i in range(1, 6)] + [
        fact(10 + i, "hospital", "alliance", f"Hospital {i}") for i in range(1, 3)
    ]
    quotes = select_quotes(inputs(Audience.alliance(), many), limit=4)
    assert [q.text for q in quotes] == ["Hospital 2", "Housing 5", "Hospital 1", "Housing 4"]


# ---------------------------------------------------------------- trend


def test_themes_rise_and_fall_against_the_four_week_average() -> None:
    current = {"Housing": 8, "Mental health": 1, "Money": 3}
    baseline = [
        {"Housing": 2, "Mental health": 5, "Money": 3},
        {"Housing": 2, "Mental health": 4, "Money": 3},
        {"Housing": 3, "Mental health": 6, "Money": 2},
        {"Housing": 1, "Mental health": 5, "Money": 4},
    ]
    rising, falling = theme_trends(current, baseline, 3)
    # Counts and averages are words: a side under the threshold reads "fewer than 3".
    assert [(t.theme, t.trend, str(t.count), t.baseline) for t in rising] == [
        ("Housing", Trend.ROSE, "8", "fewer than 3")
    ]
    assert [(t.theme, t.trend, str(t.count), t.baseline) for t in falling] == [
        ("Mental health", Trend.FELL, "fewer than 3", "5.0")
    ]


def test_a_trend_whose_larger_side_is_small_is_not_told() -> None:
    # 2 against an average of 0 rose by 2, but both sides are under the threshold of 3.
    assert theme_trends({"Housing": 2}, [{"Money": 1}] * 4, 3) == ([], [])
    rising, _ = theme_trends({"Housing": 2}, [{"Money": 1}] * 4, 2)
    assert [str(t.count) for t in rising] == ["2"]


def test_a_change_of_one_is_not_a_trend_and_no_history_means_no_trend() -> None:
    assert theme_trends({"Housing": 2}, [{"Housing": 1}] * 4) == ([], [])
    assert theme_trends({"Housing": 9}, [{}, {}, {}, {}]) == ([], [])
    assert theme_trends({"Housing": 9}, []) == ([], [])


def test_digest_headline_carries_the_trend() -> None:
    view = build_digest(
        inputs(
            Audience.alliance(),
            [],
            learnings={"housing": 8},
            theme_counts={("housing", "Housing"): 6, ("hospital", "Housing"): 2},
            baseline=[{"Housing": 1}] * 4,
        )
    )
    assert [t.theme for t in view.rising] == ["Housing"]
    by_agency = [(name, str(n)) for name, n in view.themes[0].by_agency]
    assert by_agency == [("Council Housing", "6"), ("Hospital Discharge", "fewer than 3")]


def test_anonymous_theme_entries_add_to_the_total_and_to_no_agency() -> None:
    view = build_digest(
        inputs(
            Audience.alliance(),
            [],
            learnings={"housing": 3},
            theme_counts={("housing", "Housing"): 3, (None, "Housing"): 1, (None, "Money"): 1},
        )
    )
    lines = {t.theme: (str(t.total), [(a, str(n)) for a, n in t.by_agency]) for t in view.themes}
    assert lines == {"Housing": ("4", [("Council Housing", "3")]), "Money": ("fewer than 3", [])}


# ---------------------------------------------------------------- patterns


SAME = [
    fact(1, "housing", "alliance", "Temporary accommodation is full every Friday."),
    fact(2, "hospital", "alliance", "No temporary accommodation available on Fridays again."),
    fact(3, "outreach", "alliance", "Our letters still read like threats."),
    fact(4, "housing", "alliance", "The new drop-in hub is working well."),
]


def test_two_agencies_saying_the_same_thing_are_one_pattern() -> None:
    found = find_patterns(inputs(Audience.alliance(), SAME))
    assert len(found) == 1
    pattern, quoted = found[0]
    assert pattern.kind == "learning"
    assert pattern.agencies == ("Council Housing", "Hospital Discharge")
    assert str(pattern.size) == "fewer than 3" and quoted == {1, 2}
    assert {q.text for q in pattern.quotes} == {SAME[0].learning, SAME[1].learning}


def test_barriers_form_patterns_too() -> None:
    entries = [
        fact(1, "housing", "alliance", "One thing.", barrier="Referral forms ask for too much."),
        fact(2, "outreach", "alliance", "Another.", barrier="The referral form asks too much."),
    ]
    found = find_patterns(inputs(Audience.alliance(), entries))
    assert [(p.kind, p.agencies) for p, _ in found] == [
        ("barrier", ("Council Housing", "Outreach"))
    ]


def test_one_agency_repeating_itself_is_not_a_shared_pattern() -> None:
    entries = [
        fact(1, "housing", "alliance", "Temporary accommodation is full every Friday."),
        fact(2, "housing", "alliance", "Temporary accommodation full again on Friday."),
    ]
    assert find_patterns(inputs(Audience.alliance(), entries)) == []


def test_anonymous_entries_never_name_their_agency_in_a_pattern() -> None:
    entries = [
        fact(1, "housing", "alliance", "Temporary accommodation is full every Friday."),
        fact(2, "hospital", "anonymous", "Temporary accommodation is full on Fridays."),
    ]
    # Only one agency can be named, so there is no cross-agency pattern to show.
    assert find_patterns(inputs(Audience.alliance(), entries)) == []
    third = fact(3, "outreach", "alliance", "Temporary accommodation full every Friday again.")
    ((pattern, _),) = find_patterns(inputs(Audience.alliance(), [*entries, third]))
    assert pattern.agencies == ("Council Housing", "Outreach")
    # One anonymous entry is a count under the threshold: it is not said at all.
    assert pattern.anonymous is None and str(pattern.size) == "3"


def test_team_only_entries_stay_out_of_other_agencies_patterns() -> None:
    entries = [
        fact(1, "housing", "team", "Temporary accommodation is full every Friday."),
        fact(2, "hospital", "alliance", "Temporary accommodation is full on Fridays."),
    ]
    assert find_patterns(inputs(Audience.alliance(), entries)) == []
    assert find_patterns(inputs(Audience.agency("hospital"), entries)) == []
    # Housing's own digest may link its team-only entry to Hospital's named one, quoting only
    # its own words.
    ((pattern, _),) = find_patterns(inputs(Audience.agency("housing"), entries))
    assert pattern.agencies == ("Council Housing", "Hospital Discharge")
    assert [q.text for q in pattern.quotes] == [entries[0].learning]


def test_patterns_are_deterministic_and_do_not_chain() -> None:
    texts = [
        "temporary accommodation full friday",
        "temporary accommodation full friday night",
        "friday night shelter closed early",
        "shelter closed early again",
    ]
    first = [list(g.members) for g in find_groups(texts)]
    assert first == [list(g.members) for g in find_groups(list(texts))]
    # 0~1 and 2~3 may touch through "friday night", but no group holds both 0 and 3.
    assert not any(0 in g and 3 in g for g in first)


def test_patterns_ignore_redaction_placeholders() -> None:
    texts = ["Call [phone number] about [postcode]", "Ring [phone number] near [postcode]"]
    assert sorted(sorted(g.members) for g in find_groups(texts)) == [[0], [1]]


def test_a_shared_learning_is_not_quoted_twice() -> None:
    view = build_digest(inputs(Audience.alliance(), SAME))
    pattern_texts = {q.text for p in view.patterns for q in p.quotes}
    assert pattern_texts and not pattern_texts & {q.text for q in view.quotes}


def test_patterns_on_a_shuffled_week_give_the_same_groups() -> None:
    rng = random.Random(4)
    shuffled = SAME[:]
    rng.shuffle(shuffled)
    groups = {p.agencies for p, _ in find_patterns(inputs(Audience.alliance(), shuffled))}
    assert groups == {("Council Housing", "Hospital Discharge")}


# ---------------------------------------------------------------- barriers


def barrier(i: int, **kw: Any) -> BarrierFact:
    """A barrier created long before the period, last touched in it."""
    values: dict[str, Any] = {
        "id": i,
        "title": f"Barrier {i}",
        "status": "open",
        "level": "agency",
        "agencies": ("housing",),
        "created_at": PERIOD.start - dt.timedelta(days=30),
        "updated_at": IN,
    }
    values.update(kw)
    return BarrierFact(**values)


LADDER = [("agency", "Agency leadership"), ("alliance", "Steward group")]


def test_barriers_new_moved_stale_and_resolved() -> None:
    barriers = [
        barrier(1, created_at=IN, updated_at=IN),
        barrier(2, level="alliance", moved_from="agency", moved_to="alliance"),
        barrier(3, updated_at=PERIOD.end - dt.timedelta(days=20)),
        barrier(4, status="resolved", outcome="Housing now assesses on the ward.", resolved_at=IN),
        barrier(5, status="resolved", outcome="Old news.", resolved_at=IN - dt.timedelta(days=9)),
        barrier(6, updated_at=PERIOD.end - dt.timedelta(days=10)),
        barrier(7, agencies=("hospital",), created_at=IN),
    ]
    summary = summarise_barriers(inputs(Audience.alliance(), [], barriers=barriers, ladder=LADDER))
    assert [b.title for b in summary.new] == ["Barrier 1", "Barrier 7"]
    assert [(b.title, b.level, b.note) for b in summary.moved_up] == [
        ("Barrier 2", "Steward group", "now with Steward group")
    ]
    assert [(b.title, b.note) for b in summary.stale] == [("Barrier 3", "no update for 20 days")]
    assert [(b.title, b.note) for b in summary.resolved] == [
        ("Barrier 4", "Housing now assesses on the ward.")
    ]
    housing = summarise_barriers(
        inputs(Audience.agency("housing"), [], barriers=barriers, ladder=LADDER)
    )
    assert "Barrier 7" not in [b.title for b in housing.new]


def test_an_empty_register_gives_no_barrier_section() -> None:
    assert summarise_barriers(inputs(Audience.alliance(), [])).empty


# ---------------------------------------------------------------- text


def test_quotes_are_cut_at_a_word_boundary() -> None:
    text = "word " * 100
    cut = shorten(text, 50)
    assert cut.endswith("…") and len(cut) <= 50 and "wor…" not in cut
    assert shorten("  short\n\ntext ") == "short text"
    long_quote = fact(1, "housing", "alliance", "a" * 10 + " " + "b" * 400)
    (quote,) = select_quotes(inputs(Audience.alliance(), [long_quote]))
    assert len(quote.text) <= 280 and quote.text.endswith("…")


def test_the_digest_never_lists_people() -> None:
    entries = [replace(c, member_id=9000 + c.id) for c in CHECKINS]
    view = build_digest(inputs(Audience.alliance(), entries, people={"housing": 5}))
    text = repr(view)
    assert "9001" not in text and "member" not in text.lower()


def test_an_agency_digest_quotes_its_anonymous_entries_only_in_a_crowd() -> None:
    entries = [
        fact(1, "housing", "anonymous", "Asking where people sleep tonight changed the plan."),
        fact(2, "housing", "team", "Our letters still read like threats."),
    ]
    few = build_digest(inputs(Audience.agency("housing"), entries, people={"housing": 2}))
    # Two named people: a small team could tell who wrote the anonymous one, so it is not quoted.
    assert [q.text for q in few.quotes] == ["Our letters still read like threats."]
    crowd = build_digest(inputs(Audience.agency("housing"), entries, people={"housing": 3}))
    assert sorted(q.byline for q in crowd.quotes) == ["Anonymous", "Council Housing"]
    # The alliance digest is not an agency's: it quotes the anonymous entry as before.
    alliance = build_digest(inputs(Audience.alliance(), entries))
    assert [q.byline for q in alliance.quotes] == ["Anonymous"]


# ---------------------------------------------------------------- across the alliance (issue 14)


def test_k_anonymity_gates_an_anonymous_entry_only_in_its_own_agencys_outputs() -> None:
    from bot.domain.visibility import may_quote_in_scope

    anonymous = fact(1, "housing", "anonymous", "Asking where people sleep tonight.")
    named = fact(2, "housing", "alliance", "Joint visits saved a week.")
    few, crowd = {"housing": 2}, {"housing": 3}
    assert not may_quote_in_scope(anonymous, "housing", few, 3)
    assert may_quote_in_scope(anonymous, "housing", crowd, 3)
    # Alliance-level outputs, and other agencies' "Across the alliance", may quote it.
    assert may_quote_in_scope(anonymous, None, few, 3)
    assert may_quote_in_scope(anonymous, "hospital", few, 3)
    assert may_quote_in_scope(named, "housing", few, 3)


def test_an_agency_digest_goes_on_across_the_alliance_without_repeating_itself() -> None:
    entries = [
        fact(1, "housing", "alliance", "Our own shared learning about rent arrears."),
        fact(2, "housing", "team", "Our own team note about letters."),
        fact(3, "hospital", "alliance", "A shared care plan got someone home on Friday."),
        fact(4, "hospital", "team", "The discharge lounge closes at five."),
        fact(5, "outreach", "anonymous", "Asking where people sleep tonight changed the plan."),
    ]
    view = build_digest(inputs(Audience.agency("housing"), entries, contributors={"housing": 2}))
    assert view.across is not None
    across = {q.text: q.byline for q in view.across.quotes}
    assert across == {
        "A shared care plan got someone home on Friday.": "Hospital Discharge",
        "Asking where people sleep tonight changed the plan.": "Anonymous",
    }
    own = {q.text for q in view.quotes}
    assert "Our own team note about letters." in own and "The discharge lounge" not in str(view)
    # The alliance's own digest has no such section: it is the alliance.
    assert build_digest(inputs(Audience.alliance(), entries)).across is None
