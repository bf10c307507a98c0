"""Learning cycles, pure rules: the inquiry command, purpose cycle, summaries, stored answers."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.answers import barrier_text, labelled_answers, learning_text
from bot.domain.errors import ValidationFailed
from bot.domain.inquiry import (
    BadInquiryCommand,
    InquiryCommand,
    InquiryFact,
    InquiryInputs,
    clean_question,
    display_status,
    parse_inquiry_command,
    summarise_inquiry,
)
from bot.domain.purpose import cycle_start, is_purpose_cycle, period_of
from bot.slack import render as slack
from bot.teams import render as teams
from bot.views.inquiry import RaisedBarrier

Q = "How is hospital discharge working for people with no home?"


# ------------------------------------------------------------------ the command


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'start "{Q}" --cohort weekly --weeks 4',
            InquiryCommand("start", question=Q, cohort="weekly", weeks=4),
        ),
        # Phones and Macs send curly quotes; apostrophes inside are ordinary letters.
        (
            "start “What’s stopping people getting home?” --weeks=6",
            InquiryCommand("start", question="What’s stopping people getting home?", weeks=6),
        ),
        (
            "start What's working? --cohort=weekly --weeks 2w",
            InquiryCommand("start", question="What's working?", cohort="weekly", weeks=2),
        ),
        ("start", InquiryCommand("form")),
        ("", InquiryCommand("help")),
        ("list", InquiryCommand("list")),
        ("close", InquiryCommand("close")),
        ("close #3", InquiryCommand("close", inquiry_id=3)),
        ("CLOSE 12", InquiryCommand("close", inquiry_id=12)),
    ],
)
def test_inquiry_command_is_read(text: str, expected: InquiryCommand) -> None:
    assert parse_inquiry_command(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('start "Unclosed question --weeks 4', "A quotation mark is missing its partner."),
        (f'start "{Q}" --weeks', "`--weeks` needs a value after it."),
        (f'start "{Q}" --weeks 13', "`--weeks` needs a whole number from 1 to 12."),
        (f'start "{Q}" --weeks four', "`--weeks` needs a whole number from 1 to 12."),
        (f'start "{Q}" --cohorts weekly', "I don't know the option `--cohorts`."),
        ("start --weeks 4", "Put the inquiry's question in double quotes after `start`."),
        (
            "close three",
            "`/learnloop inquiry close` takes the inquiry's number, like "
            "`/learnloop inquiry close 3`.",
        ),
        ("list all", "`/learnloop inquiry list` takes nothing after it."),
        ("begin now", "I don't know `/learnloop inquiry begin`."),
    ],
)
def test_mistakes_say_what_to_do(text: str, problem: str) -> None:
    with pytest.raises(BadInquiryCommand) as info:
        parse_inquiry_command(text)
    # The problem is Words: each platform spells its commands (Slack's slash, Teams' typed).
    assert slack.mrkdwn(info.value.problem) == problem
    assert "/learnloop inquiry start" in slack.mrkdwn(info.value.words)  # the usage comes with it
    assert "/learnloop" not in teams.markdown(info.value.words)


def test_question_is_tidied_redacted_and_bounded() -> None:
    text, counts = clean_question("  What about   the patient on NHS 943 476 5919? ")
    assert text == "What about the patient on NHS [NHS number]?"
    assert sum(counts.values()) == 1
    with pytest.raises(ValidationFailed):
        clean_question("   ")
    with pytest.raises(ValidationFailed) as info:
        clean_question("x" * 151)
    assert "150 characters" in info.value.errors["question"]


def test_display_status() -> None:
    ends = dt.datetime(2026, 12, 31, tzinfo=dt.UTC)
    assert display_status("open", ends, ends - dt.timedelta(seconds=1)) == "open"
    assert display_status("open", ends, ends) == "ended"
    assert display_status("closed", ends, ends - dt.timedelta(days=9)) == "closed"


# ------------------------------------------------------------------ the purpose cycle


def test_purpose_periods() -> None:
    day = dt.date(2026, 11, 30)
    assert period_of(day, "quarterly") == "2026-Q4"
    assert period_of(day, "monthly") == "2026-11"
    assert period_of(day, "half_yearly") == "2026-H2"
    assert period_of(day, "yearly") == "2026"
    with pytest.raises(ValueError):
        period_of(day, "weekly")


def test_purpose_is_asked_in_the_first_cycle_of_each_quarter_only() -> None:
    mondays = [dt.date(2026, 12, 21) + dt.timedelta(weeks=i) for i in range(16)]
    asked = [m for m in mondays if is_purpose_cycle(m, "quarterly")]
    # ISO week 1 of 2027 starts on 4 January; the next quarter's first Monday is 5 April.
    assert asked == [dt.date(2027, 1, 4), dt.date(2027, 4, 5)]
    # A fortnightly cohort's cycles start every other week: only one of them asks.
    fortnights = [dt.date(2027, 3, 22) + dt.timedelta(weeks=2 * i) for i in range(3)]
    assert [is_purpose_cycle(m, "quarterly", "fortnightly") for m in fortnights] == [
        False,
        True,
        False,
    ]


def test_cycle_start_from_a_ledger_key() -> None:
    assert cycle_start("weekly:2027-W01") == dt.date(2027, 1, 4)
    assert cycle_start("weekly:2027-W99") is None
    assert cycle_start("nonsense") is None


# ------------------------------------------------------------------ the summary


def fact(i: int, agency: str, vis: str, answer: str = "", **kw: object) -> InquiryFact:
    return InquiryFact(
        id=i,
        agency_id=agency,
        member_id=i,
        visibility=vis,
        answer=answer,
        learning=str(kw.pop("learning", "")),
        **kw,  # type: ignore[arg-type]
    )


SAME = "Nobody can assess housing need until a discharge date is fixed on the ward"


def inputs(*facts: InquiryFact, **kw: object) -> InquiryInputs:
    return InquiryInputs(
        inquiry_id=1,
        question=Q,
        cohort="weekly",
        started=dt.date(2026, 12, 3),
        ends=dt.date(2026, 12, 31),
        closed=True,
        suppress_below=3,
        cohort_agencies={"housing": "Council Housing", "hospital": "Hospital Discharge"},
        agency_names={
            "housing": "Council Housing",
            "hospital": "Hospital Discharge",
            "outreach": "Outreach",
        },
        facts=facts,
        **kw,  # type: ignore[arg-type]
    )


def test_counts_by_agency_are_suppressed_and_in_name_order() -> None:
    view = summarise_inquiry(
        inputs(
            *(fact(i, "hospital", "team", answer="yes") for i in range(4)),
            fact(10, "housing", "team", learning="no inquiry answer"),
        )
    )
    assert [(a.agency, a.learnings, a.answers) for a in view.by_agency] == [
        ("Council Housing", "fewer than 3", "fewer than 3"),
        ("Hospital Discharge", "4", "4"),
    ]
    assert (view.learnings, view.answers) == ("5", "4")


def test_shared_patterns_quote_only_alliance_entries_and_name_only_named_agencies() -> None:
    view = summarise_inquiry(
        inputs(
            fact(1, "housing", "alliance", answer=SAME + ".", author_name="Ann"),
            fact(2, "hospital", "alliance", answer=SAME + ", every time."),
            fact(3, "outreach", "anonymous", answer=SAME + "!"),
            # Team-only: may be counted, never quoted or used to name an agency.
            fact(4, "outreach", "team", answer=SAME + " — team only"),
        )
    )
    [shared] = view.patterns
    assert shared.agencies == ("Council Housing", "Hospital Discharge")
    assert "team only" not in shared.quote
    assert shared.byline == "Ann, Council Housing"


def test_anonymous_entries_alone_make_no_named_pattern() -> None:
    view = summarise_inquiry(
        inputs(
            fact(1, "housing", "anonymous", answer=SAME),
            fact(2, "hospital", "anonymous", answer=SAME + " again"),
        )
    )
    assert view.patterns == ()


def test_themes_across_agencies_and_barriers() -> None:
    view = summarise_inquiry(
        inputs(
            fact(1, "housing", "team", themes=("Housing",), barrier="No beds"),
            fact(2, "hospital", "team", themes=("Housing", "Mental health")),
            fact(3, "hospital", "team", themes=("Mental health",), barrier="Thresholds"),
            barriers=(RaisedBarrier("Discharge needs an address", "Open", "Steward group"),),
        )
    )
    assert [(t.theme, t.agencies, t.learnings) for t in view.themes] == [
        ("Housing", "fewer than 3", "fewer than 3")
    ]
    assert view.barrier_answers == "fewer than 3"
    assert view.barriers[0].title == "Discharge needs an address"


# ------------------------------------------------------------------ stored answers


def test_answers_are_read_through_their_own_snapshot() -> None:
    old = [
        {"id": "learned", "label": "What happened?", "kind": "long_text"},
        {"id": "got_in_the_way", "label": "What got in the way?", "kind": "long_text"},
    ]
    answers = {"learned": "A", "got_in_the_way": "B", "inquiry": "C"}
    # Snapshots from before the barrier flag fall back to the default set's barrier question.
    assert (learning_text(old, answers), barrier_text(old, answers)) == ("A", "B")
    assert labelled_answers(old, answers) == [
        ("What happened?", "A"),
        ("What got in the way?", "B"),
        ("inquiry", "C"),
    ]
    new = [
        {"id": "route", "label": "Route?", "kind": "single_choice", "barrier": False},
        {"id": "notes", "label": "Notes?", "kind": "long_text", "barrier": False},
        {"id": "blocker", "label": "Blocker?", "kind": "short_text", "barrier": True},
    ]
    answers = {"route": "Home", "notes": "N", "blocker": "X", "tags": ["a", "b"]}
    assert (learning_text(new, answers), barrier_text(new, answers)) == ("N", "X")
    assert labelled_answers(new, answers)[-1] == ("tags", "a, b")
