"""View-models for learning cycles: inquiries and the purpose question, and their words.

The dataclasses are what the services know; the builders below write every sentence about
inquiries once (the summary, the list, the start form, the command replies, the digest's
purpose and inquiry sections), for every platform's renderer to lay out.

Text in here is raw (not escaped): each renderer escapes for its own format. Counts that could
be small are already words ("fewer than 3"), so no renderer can show a suppressed number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.views.message import (
    Block,
    Bullets,
    ChoiceField,
    Divider,
    Form,
    Group,
    Message,
    Option,
    Paragraph,
    Quote,
    TextField,
)
from bot.views.words import Channel, Cmd, Command, Emph, Literal, Strong, Words, and_list, words


@dataclass(frozen=True)
class AgencyAnswers:
    """One agency's part in an inquiry, as words (suppressed when small): never per person."""

    agency: str
    learnings: str
    answers: str


@dataclass(frozen=True)
class SharedAnswer:
    """Answers from two or more agencies that say the same thing, with one quote."""

    agencies: tuple[str, ...]
    quote: str
    byline: str


@dataclass(frozen=True)
class ThemeAcrossAgencies:
    """A theme that learnings from two or more agencies were tagged with."""

    theme: str
    agencies: str  # how many agencies, as words: the suppression rule applies here too
    learnings: str


@dataclass(frozen=True)
class RaisedBarrier:
    """A barrier linked to one of the inquiry's check-ins (never who raised it)."""

    title: str
    status: str
    level: str


@dataclass(frozen=True)
class QuotedAnswer:
    """One answer quoted, with the byline the visibility policy allows."""

    text: str
    byline: str


@dataclass(frozen=True)
class AnswerGroup:
    """Answers that say the same thing (or one on its own), as many as may be quoted."""

    label: str  # a short name from the answers' words ("" for an answer on its own)
    size: str  # how many answers, as words: the suppression rule applies here too
    quotes: tuple[QuotedAnswer, ...]
    together: bool = False  # more than one answer says this


@dataclass(frozen=True)
class InquirySummaryView:
    """What an inquiry found: posted to the steward channel when it closes, and in the digest."""

    inquiry_id: int
    question: str
    cohort: str
    started: dt.date
    ends: dt.date
    closed: bool
    suppress_below: int
    learnings: str
    answers: str
    by_agency: tuple[AgencyAnswers, ...] = ()
    patterns: tuple[SharedAnswer, ...] = ()
    themes: tuple[ThemeAcrossAgencies, ...] = ()
    barrier_answers: str = ""
    barriers: tuple[RaisedBarrier, ...] = ()
    # The answers to its question that may be quoted, similar ones together.
    answer_groups: tuple[AnswerGroup, ...] = ()
    # One agency's summary (its managers' board page): the agency's name; None: the cohort's.
    agency: str | None = None

    @property
    def quoting_rule(self) -> str:
        """Which learnings the summary quotes."""
        if self.agency is None:
            return "Only learnings shared with the alliance are quoted."
        return (
            f"Only {self.agency}'s own learnings are counted and quoted; anonymous ones are "
            "never counted against it, and quoted only when enough people took part."
        )


@dataclass(frozen=True)
class InquiryLine:
    """One inquiry in `/learnloop inquiry list`."""

    inquiry_id: int
    question: str
    cohort: str
    started: dt.date
    ends: dt.date
    status: str  # "open", "ended" (its weeks are over but nobody closed it yet) or "closed"
    learnings: str


@dataclass(frozen=True)
class PurposeAnswerView:
    """One answer to the purpose question, with the byline the visibility policy allows."""

    text: str
    byline: str


@dataclass(frozen=True)
class PurposeSectionView:
    """The digest's purpose section: what people said the system is for, and whether it is."""

    question: str
    period: str
    answers: tuple[PurposeAnswerView, ...]
    total: str
    # The same answers, similar ones together (shown instead of the list when present).
    groups: tuple[AnswerGroup, ...] = ()


# ------------------------------------------------------------------------- builders
#
# Every sentence about inquiries and the purpose question is written here once; each platform's
# renderer (and the terminal and HTML ones) only lays these blocks out.

# The start form's ids, which the submit handlers of every platform listen for.
START_FORM = "inquiry_start_modal"
QUESTION_FIELD = "inquiry_question"
COHORT_FIELD = "inquiry_cohort"
WEEKS_FIELD = "inquiry_weeks"

NO_NAMES = "Please don't name or identify the people you support."


def day(value: dt.date) -> str:
    """A date as the inquiry texts write it: "3 Dec 2026"."""
    return f"{value.day} {value:%b %Y}"


def _weeks(n: int) -> str:
    return f"{n} week{'s' if n != 1 else ''}"


def summary_state(view: InquirySummaryView) -> str:
    """ "Inquiry closed" or "Inquiry so far"."""
    return "Inquiry closed" if view.closed else "Inquiry so far"


def summary_blocks(view: InquirySummaryView) -> tuple[Block, ...]:
    """An inquiry's findings: counts by agency, shared patterns, themes, barriers raised."""
    blocks: list[Block] = [
        Paragraph(words("🔍 ", Strong(f"{summary_state(view)}:"), f" “{view.question}”")),
        Paragraph(
            words(
                f"Inquiry {view.inquiry_id} · cohort {view.cohort} · "
                f"{day(view.started)} – {day(view.ends)}"
            ),
            subtle=True,
        ),
        Group(
            (
                Paragraph(
                    words(
                        Strong(view.learnings),
                        " learnings were shared while it ran; ",
                        Strong(view.answers),
                        " answered its question.",
                    )
                ),
                Paragraph(words(Strong("By agency"), " — counts only, never per person:")),
                Bullets(
                    tuple(
                        words(f"{a.agency}: {a.learnings} learnings, {a.answers} answers")
                        for a in view.by_agency
                    )
                ),
            )
        ),
    ]
    if view.answer_groups:
        said: list[Paragraph | Bullets | Quote] = [
            Paragraph(
                words(Strong("In their words"), " — answers to the question, similar ones together")
            ),
            *answer_group_items(view.answer_groups),
        ]
        blocks += [Divider(), Group(tuple(said))]
    if view.patterns or view.themes:
        shared: list[Paragraph | Bullets | Quote] = [
            Paragraph(
                words(Strong("Shared patterns"), " — the same thing said in more than one agency")
            )
        ]
        for answer in view.patterns:
            shared.append(
                Bullets((words(Strong(and_list(answer.agencies)), " said something similar:"),))
            )
            shared.append(Quote(answer.quote, words(answer.byline)))
        if view.themes:
            shared.append(Paragraph(words("Themes tagged in more than one agency:")))
            shared.append(
                Bullets(
                    tuple(
                        words(
                            Strong(t.theme),
                            f": {t.learnings} learnings from {t.agencies} agencies",
                        )
                        for t in view.themes
                    )
                )
            )
        blocks += [Divider(), Group(tuple(shared))]
    ending = "; these were raised as barriers:" if view.barriers else "."
    blocks += [
        Divider(),
        Group(
            (
                Paragraph(
                    words(
                        Strong("Barriers raised"),
                        f" — {view.barrier_answers} learnings said what got in the way{ending}",
                    )
                ),
                Bullets(
                    tuple(words(f"{b.title} — {b.status}, with {b.level}") for b in view.barriers)
                ),
            )
        ),
        Paragraph(
            words(
                f"Counts under {view.suppress_below} show as “fewer than {view.suppress_below}”. "
                + view.quoting_rule
            ),
            subtle=True,
        ),
    ]
    return tuple(blocks)


def answer_group_items(groups: Sequence[AnswerGroup]) -> list[Paragraph | Quote]:
    """Grouped answers: a line naming each group of several, then its quotes."""
    items: list[Paragraph | Quote] = []
    for group in groups:
        if group.together:
            name = group.label or "Similar answers"
            items.append(Paragraph(words(Strong(name), f" — said in {group.size} answers")))
        items += [Quote(q.text, words(q.byline)) for q in group.quotes]
    return items


def summary_message(view: InquirySummaryView) -> Message:
    """The summary posted to the steward channel."""
    return Message(
        summary=words(
            f"{summary_state(view)}: “{view.question}” — {view.learnings} learnings, "
            f"{view.answers} answers."
        ),
        blocks=summary_blocks(view),
    )


def started_reply(
    inquiry_id: int,
    question: str,
    cohort: str,
    ends: dt.date,
    weeks: int,
    channel: str | None,
    redaction_summary: str = "",
) -> Words:
    """The steward's confirmation that an inquiry started."""
    where = (
        words("its summary goes to ", Channel(channel, "the steward channel"))
        if channel
        else words("its summary is shown to whoever closes it (no steward channel is configured)")
    )
    return words(
        f"🔍 Inquiry {inquiry_id} started for the ",
        Strong(cohort),
        f" cohort until {day(ends)}: “{question}”\n",
        f"For its {_weeks(weeks)} the check-in form asks it as an extra question and every "
        "check-in is tagged to it. ",
        Cmd(Command.INQUIRY, f"close {inquiry_id}"),
        " ends it sooner; ",
        where,
        ".",
        f"\n{redaction_summary}" if redaction_summary else None,
    )


_STATES = {"open": "🟢 open", "ended": "⏳ weeks over, not closed"}


def list_reply(lines: Sequence[InquiryLine]) -> Words:
    """`inquiry list` as one message."""
    if not lines:
        return words(
            "No inquiries are open or closed recently. Start one with ",
            Cmd(Command.INQUIRY, 'start "Your question?" --cohort weekly --weeks 4'),
            ".",
        )
    out: list[Words | str] = [words(Strong("Inquiries"), " (open, and closed in the last 90 days)")]
    for line in lines:
        out.append(
            words(
                "\n• ",
                Strong(str(line.inquiry_id)),
                f" “{line.question}” — cohort {line.cohort}, {day(line.started)} – "
                f"{day(line.ends)}, {_STATES.get(line.status, 'closed')}, "
                f"{line.learnings} learnings",
            )
        )
    if any(line.status == "ended" for line in lines):
        out.append(
            words(
                "\nAn inquiry whose weeks are over is closed by the worker, or now with ",
                Cmd(Command.INQUIRY, "close"),
                ".",
            )
        )
    return words(*out)


def closed_reply(
    summary: InquirySummaryView, channel: str | None, posted: bool, error: str | None
) -> Message:
    """The answer to `inquiry close`: where the summary went, or the summary itself."""
    number = summary.inquiry_id
    steward = Channel(channel or "", "the steward channel")
    if posted:
        said = words(f"Closed inquiry {number} and posted its summary in ", steward, ".")
    elif channel is None:
        said = words(
            f"Closed inquiry {number}. No steward channel is configured (an alliance digest or "
            "the escalation ladder's ",
            Literal("alliance"),
            " level), so here is its summary:",
        )
    else:
        said = words(
            f"Closed inquiry {number}, but I couldn't post its summary in ",
            steward,
            " (",
            Literal(error or "unknown_error"),
            "). Add me to that channel so the next summary reaches it; here is this one:",
        )
    blocks: tuple[Block, ...] = (Paragraph(said),)
    if not posted:
        blocks += summary_blocks(summary)
    return Message(summary=said, blocks=blocks)


def still_open(inquiry_id: int) -> Words:
    """Why the start form can't start another inquiry for the cohort yet."""
    return words(
        f"Inquiry {inquiry_id} is still open for this cohort: close it first (",
        Cmd(Command.INQUIRY, f"close {inquiry_id}"),
        ").",
    )


def start_form(
    cohorts: Sequence[str], max_weeks: int, default_weeks: int, max_question_chars: int
) -> Form:
    """The "Start an inquiry" form (for `inquiry start` with nothing after it)."""
    return Form(
        id=START_FORM,
        title="Start an inquiry",
        submit="Start inquiry",
        items=(
            Paragraph(
                words(
                    "For the weeks it runs, the cohort's check-in form asks this as an extra "
                    "question, and every check-in is tagged to it. When it closes, a summary "
                    "goes to the stewards."
                )
            ),
            TextField(
                QUESTION_FIELD,
                "Question for the cohort",
                hint=words(NO_NAMES),
                placeholder="How is hospital discharge working for people with no home?",
                max_length=max_question_chars,
            ),
            ChoiceField(
                COHORT_FIELD,
                "Cohort to ask",
                tuple(Option(c[:150], c[:75]) for c in cohorts),
                placeholder="Choose a cohort",
                initial=(cohorts[0][:150],) if len(cohorts) == 1 else (),
            ),
            ChoiceField(
                WEEKS_FIELD,
                "How many weeks",
                tuple(Option(str(n), _weeks(n)) for n in range(1, max_weeks + 1)),
                initial=(str(default_weeks),),
            ),
        ),
    )


def running_section(running: Sequence[InquiryLine]) -> tuple[Block, ...]:
    """The digest's list of inquiries running."""
    if not running:
        return ()
    return (
        Group(
            (
                Paragraph(words(Strong("Inquiries running"))),
                Bullets(
                    tuple(
                        words(
                            f"“{line.question}” — cohort {line.cohort}, until {day(line.ends)} "
                            f"({line.learnings} learnings so far)"
                        )
                        for line in running
                    )
                ),
            )
        ),
    )


def digest_section(
    running: Sequence[InquiryLine], closed: Sequence[InquirySummaryView]
) -> tuple[Block, ...]:
    """The digest's inquiry section: inquiries running, and the findings of any that closed."""
    if not running and not closed:
        return ()
    blocks: list[Block] = [Divider(), *running_section(running)]
    for view in closed:
        blocks += summary_blocks(view)
    return tuple(blocks)


def purpose_section(section: PurposeSectionView | None) -> tuple[Block, ...]:
    """The digest's purpose section: what people said the system is for, and whether it is."""
    if section is None:
        return ()
    period = f", {section.period}" if section.period else ""
    items: list[Paragraph | Bullets | Quote] = [
        Paragraph(
            words(Strong("Purpose"), f" — “{section.question}” ({section.total} answers{period})")
        )
    ]
    if section.groups:
        items += answer_group_items(section.groups)
    else:
        items += [Quote(answer.text, words(answer.byline)) for answer in section.answers]
    if not section.answers and not section.groups:
        items.append(Paragraph(words(Emph("None of the answers were shared with this audience."))))
    return (Divider(), Group(tuple(items)))
