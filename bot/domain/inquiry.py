"""Inquiries: a focused question a cohort is asked for a few weeks, and what it found.

A system steward starts an inquiry ("How is hospital discharge working for people with no
home?") for one cohort and a number of weeks. While it runs, the cohort's check-in form carries
its question as one more (optional) question and every check-in is tagged to it. When it closes,
a summary — answers by agency (counts only, suppressed when small), shared patterns, barriers
raised — goes to the stewards. Pure: no platform or database here.
"""

from __future__ import annotations

import datetime as dt
import shlex
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from bot.domain.checkins import Visibility
from bot.domain.digest import shorten
from bot.domain.errors import LearnLoopError, NotFound, ValidationFailed
from bot.domain.patterns import find_groups
from bot.domain.reading import read_answers
from bot.domain.redaction import IdentifierKind, redact
from bot.domain.suppression import suppressed
from bot.domain.visibility import (
    Audience,
    attribution,
    can_read,
    may_name_author,
    may_quote_in_scope,
)
from bot.views.inquiry import (
    AgencyAnswers,
    AnswerGroup,
    InquirySummaryView,
    QuotedAnswer,
    RaisedBarrier,
    SharedAnswer,
    ThemeAcrossAgencies,
)
from bot.views.words import Cmd, Command, Words, words
from bot.views.words import Literal as Fixed

DEFAULT_WEEKS = 4
MAX_WEEKS = 12
MAX_QUESTION_CHARS = 150
MAX_SHARED = 3
MAX_THEMES = 5

USAGE = words(
    "To run an inquiry:\n• ",
    Cmd(
        Command.INQUIRY,
        'start "How is hospital discharge working for people with no home?" '
        "--cohort weekly --weeks 4",
    ),
    " — or ",
    Cmd(Command.INQUIRY, "start"),
    " on its own for a form\n• ",
    Cmd(Command.INQUIRY, "list"),
    " — inquiries running and recently closed\n• ",
    Cmd(Command.INQUIRY, "close 3"),
    " — close inquiry 3 now and post its summary (the number is in the list)\n"
    f"Weeks can be 1 to {MAX_WEEKS} ({DEFAULT_WEEKS} if you don't say); "
    "the cohort can be left out when there is only one.",
)

# Phones and Macs turn typed quotes into curly ones; shlex only knows the straight kind.
_CURLY_DOUBLE = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"'})


class InquiryStatus(StrEnum):
    """Stored states: an inquiry is open until someone (or the worker) closes it."""

    OPEN = "open"
    CLOSED = "closed"


class BadInquiryCommand(LearnLoopError):
    """`inquiry …` could not be understood; the message says how to write it."""

    code = "bad_inquiry_command"

    def __init__(self, problem: Words | str) -> None:
        self.problem = words(problem)
        super().__init__(words(self.problem, "\n\n", USAGE))


class InquiryNotFound(NotFound):
    """There is no such inquiry (or none open), and the message says how to see them."""

    code = "not_found"


def no_open_inquiry() -> InquiryNotFound:
    """Closing "the" inquiry when none is open."""
    return InquiryNotFound(
        words("No inquiry is open. ", Cmd(Command.INQUIRY, "list"), " shows recent ones.")
    )


def no_such_inquiry(inquiry_id: int) -> InquiryNotFound:
    """An inquiry number that was never given."""
    return InquiryNotFound(
        words(f"There is no inquiry {inquiry_id}. ", Cmd(Command.INQUIRY, "list"), " shows them.")
    )


@dataclass(frozen=True)
class InquiryCommand:
    """A parsed `/learnloop inquiry …`."""

    action: Literal["start", "form", "list", "close", "help"]
    question: str | None = None
    cohort: str | None = None
    weeks: int = DEFAULT_WEEKS
    inquiry_id: int | None = None


def _split(text: str) -> list[str]:
    """Words, with "double-quoted phrases" kept whole; apostrophes and # are ordinary letters."""
    lexer = shlex.shlex(text.translate(_CURLY_DOUBLE), posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.escape = ""
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:
        raise BadInquiryCommand("A quotation mark is missing its partner.") from None


def parse_weeks(value: str) -> int:
    """Weeks from "4", "4w" or "4 weeks"; BadInquiryCommand says the range otherwise."""
    digits = value.strip().lower().removesuffix("weeks").removesuffix("week").removesuffix("w")
    if not digits.strip().isdigit() or not 1 <= int(digits) <= MAX_WEEKS:
        raise BadInquiryCommand(
            words(Fixed("--weeks"), f" needs a whole number from 1 to {MAX_WEEKS}.")
        )
    return int(digits)


def parse_inquiry_command(text: str) -> InquiryCommand:
    """Read what follows `/learnloop inquiry`; BadInquiryCommand (with usage) on a mistake."""
    tokens = _split(text)
    if not tokens or tokens[0].lower() == "help":
        return InquiryCommand("help")
    action, rest = tokens[0].lower(), tokens[1:]
    if action == "list":
        if rest:
            raise BadInquiryCommand(words(Cmd(Command.INQUIRY, "list"), " takes nothing after it."))
        return InquiryCommand("list")
    if action == "close":
        if len(rest) > 1 or (rest and not rest[0].lstrip("#").isdigit()):
            raise BadInquiryCommand(
                words(
                    Cmd(Command.INQUIRY, "close"),
                    " takes the inquiry's number, like ",
                    Cmd(Command.INQUIRY, "close 3"),
                    ".",
                )
            )
        return InquiryCommand("close", inquiry_id=int(rest[0].lstrip("#")) if rest else None)
    if action != "start":
        raise BadInquiryCommand(words("I don't know ", Cmd(Command.INQUIRY, action), "."))
    if not rest:
        return InquiryCommand("form")
    question: list[str] = []
    options: dict[str, str] = {}
    i = 0
    while i < len(rest):
        word = rest[i]
        if word.startswith("--"):
            name, _, value = word[2:].partition("=")
            if name not in ("cohort", "weeks"):
                raise BadInquiryCommand(words("I don't know the option ", Fixed(word), "."))
            if not value:
                i += 1
                if i >= len(rest) or rest[i].startswith("--"):
                    raise BadInquiryCommand(words(Fixed(f"--{name}"), " needs a value after it."))
                value = rest[i]
            options[name] = value
        else:
            question.append(word)
        i += 1
    if not question:
        raise BadInquiryCommand(
            words("Put the inquiry's question in double quotes after ", Fixed("start"), ".")
        )
    return InquiryCommand(
        "start",
        question=" ".join(question),
        cohort=options.get("cohort"),
        weeks=parse_weeks(options["weeks"]) if "weeks" in options else DEFAULT_WEEKS,
    )


def clean_question(text: str | None) -> tuple[str, Mapping[IdentifierKind, int]]:
    """The question as it will be asked, identifiers removed; ValidationFailed if unusable."""
    flat = " ".join((text or "").split())
    if not flat:
        raise ValidationFailed({"question": "Write the question the cohort will be asked."})
    if len(flat) > MAX_QUESTION_CHARS:
        raise ValidationFailed(
            {
                "question": f"Please shorten the question to {MAX_QUESTION_CHARS} characters "
                f"(it is {len(flat)}) so it fits a phone screen."
            }
        )
    result = redact(flat)
    if len(result.text) > MAX_QUESTION_CHARS:  # a placeholder can be longer than what it hid
        raise ValidationFailed(
            {
                "question": f"Please shorten the question to {MAX_QUESTION_CHARS} characters, "
                "and leave out details that identify people."
            }
        )
    return result.text, result.counts


def window(starts: dt.datetime, weeks: int) -> tuple[dt.datetime, dt.datetime]:
    """When an inquiry runs: from its start for `weeks` weeks."""
    return starts, starts + dt.timedelta(weeks=weeks)


def display_status(status: str, ends_at: dt.datetime, now: dt.datetime) -> str:
    """ "open", "ended" (its weeks are over but it was not closed yet) or "closed"."""
    if status == InquiryStatus.CLOSED:
        return "closed"
    return "ended" if now >= ends_at else "open"


# ------------------------------------------------------------------------------ summary


@dataclass(frozen=True)
class InquiryFact:
    """What a summary needs of one tagged check-in (it satisfies the visibility policy)."""

    id: int
    agency_id: str
    member_id: int | None
    visibility: str
    answer: str  # to the inquiry's own question
    learning: str
    barrier: str = ""
    themes: tuple[str, ...] = ()
    author_name: str | None = None

    @property
    def text(self) -> str:
        """What this check-in said about the inquiry: its answer, else its learning."""
        return self.answer or self.learning


@dataclass(frozen=True)
class InquiryInputs:
    """Everything one inquiry summary is built from."""

    inquiry_id: int
    question: str
    cohort: str
    started: dt.date
    ends: dt.date
    closed: bool
    suppress_below: int
    cohort_agencies: Mapping[str, str]  # id -> name: every agency the cohort covers
    agency_names: Mapping[str, str]  # id -> name: every agency of the alliance
    facts: Sequence[InquiryFact] = ()
    barriers: Sequence[RaisedBarrier] = field(default_factory=tuple)
    # Whom the summary is for: the stewards (the alliance), or one agency's managers, whose
    # summary is built from their agency's entries only (`InquiryService.summary`).
    audience: Audience = field(default_factory=Audience.alliance)

    @property
    def counted(self) -> list[InquiryFact]:
        """The entries the summary's totals count: all of them for the alliance; for an
        agency, its named entries only (an anonymous entry never counts against its agency)."""
        if self.audience.kind == "agency":
            return [f for f in self.facts if f.visibility != Visibility.ANONYMOUS]
        return list(self.facts)

    def quotable(self, fact: InquiryFact) -> bool:
        """Whether the summary may quote an entry: readable by its audience and, in an agency's
        summary, an anonymous entry only when that agency had enough contributors to hide in."""
        if not can_read(self.audience, fact):
            return False
        if self.audience.kind != "agency":
            return True
        authors: dict[str, set[int | None]] = defaultdict(set)
        for other in self.facts:
            authors[other.agency_id].add(other.member_id)
        contributors = {agency: len(ids) for agency, ids in authors.items()}
        return may_quote_in_scope(fact, self.audience.agency_id, contributors, self.suppress_below)


def shared_answers(inputs: InquiryInputs, limit: int = MAX_SHARED) -> list[SharedAnswer]:
    """Answers from two or more named agencies that say the same thing, one quote each.

    Only entries the summary's audience may read take part (the stewards': those shared with
    the alliance), and an agency is named only for entries shared under the author's name, as
    in the digest. An agency's own summary has one agency, so no pattern across agencies.
    """
    audience = inputs.audience
    entries = [f for f in inputs.facts if inputs.quotable(f) and f.text.strip()]
    found: list[tuple[tuple[int, int, int], SharedAnswer]] = []
    for group in find_groups([e.text for e in entries]):
        members = [entries[i] for i in group.members]
        named = {m.agency_id for m in members if m.visibility == Visibility.ALLIANCE}
        if len(named) < 2:
            continue
        centre = members[0]
        agency = inputs.agency_names.get(centre.agency_id, centre.agency_id)
        name = centre.author_name if may_name_author(audience, centre) else None
        shared = SharedAnswer(
            agencies=tuple(sorted(inputs.agency_names.get(a, a) for a in named)),
            quote=shorten(centre.text),
            byline=attribution(audience, centre, name, agency),
        )
        found.append(((-len(named), -len(members), min(m.id for m in members)), shared))
    found.sort(key=lambda item: item[0])
    return [shared for _, shared in found[:limit]]


def themes_across(inputs: InquiryInputs, limit: int = MAX_THEMES) -> list[ThemeAcrossAgencies]:
    """Themes tagged by two or more agencies during the inquiry (counts only).

    An anonymous entry adds to its theme's count but never makes its agency one of the theme's.
    """
    agencies: dict[str, set[str]] = defaultdict(set)
    counts: Counter[str] = Counter()
    for fact in inputs.facts:
        for theme in fact.themes:
            if fact.visibility != Visibility.ANONYMOUS:
                agencies[theme].add(fact.agency_id)
            counts[theme] += 1
    threshold = inputs.suppress_below
    lines = [
        ThemeAcrossAgencies(
            theme, suppressed(len(agencies[theme]), threshold), suppressed(n, threshold)
        )
        for theme, n in counts.items()
        if len(agencies[theme]) >= 2
    ]
    # Ranked by what may be said: shown counts first, the rest by name.
    shown = {t: n if n >= threshold else 0 for t, n in counts.items()}
    places = {t: len(a) if len(a) >= threshold else 0 for t, a in agencies.items()}
    lines.sort(key=lambda line: (-places[line.theme], -shown[line.theme], line.theme))
    return lines[:limit]


def summarise_inquiry(inputs: InquiryInputs) -> InquirySummaryView:
    """What the inquiry found: answers by agency, shared patterns, barriers raised."""
    threshold = inputs.suppress_below
    # Anonymous entries count in the totals (the whole cohort), never against an agency.
    counted = inputs.counted
    named = [f for f in inputs.facts if f.visibility != Visibility.ANONYMOUS]
    learnings = Counter(f.agency_id for f in named)
    answers = Counter(f.agency_id for f in named if f.answer.strip())
    covered = dict(inputs.cohort_agencies)
    for agency_id in learnings:  # someone who moved agency since still counts where they were
        covered.setdefault(agency_id, inputs.agency_names.get(agency_id, agency_id))
    by_agency = tuple(
        AgencyAnswers(
            agency=name,
            learnings=suppressed(learnings.get(agency_id, 0), threshold),
            answers=suppressed(answers.get(agency_id, 0), threshold),
        )
        # Name order, never ranked: this is not a league table.
        for agency_id, name in sorted(covered.items(), key=lambda kv: kv[1])
    )
    return InquirySummaryView(
        inquiry_id=inputs.inquiry_id,
        question=inputs.question,
        cohort=inputs.cohort,
        started=inputs.started,
        ends=inputs.ends,
        closed=inputs.closed,
        suppress_below=threshold,
        learnings=suppressed(len(counted), threshold),
        answers=suppressed(sum(1 for f in counted if f.answer.strip()), threshold),
        by_agency=by_agency,
        patterns=tuple(shared_answers(inputs)),
        themes=tuple(themes_across(inputs)),
        barrier_answers=suppressed(sum(1 for f in counted if f.barrier.strip()), threshold),
        barriers=tuple(inputs.barriers),
        answer_groups=tuple(answer_groups(inputs)),
        agency=(
            inputs.agency_names.get(inputs.audience.agency_id, inputs.audience.agency_id)
            if inputs.audience.kind == "agency" and inputs.audience.agency_id is not None
            else None
        ),
    )


def answer_groups(inputs: InquiryInputs) -> list[AnswerGroup]:
    """The answers to the inquiry's question its audience may read, similar ones together."""
    audience = inputs.audience
    readable = [f for f in inputs.facts if f.answer.strip() and inputs.quotable(f)]

    def quoted(fact: InquiryFact) -> QuotedAnswer:
        name = fact.author_name if may_name_author(audience, fact) else None
        agency = inputs.agency_names.get(fact.agency_id, fact.agency_id)
        return QuotedAnswer(shorten(fact.answer), attribution(audience, fact, name, agency))

    return [
        AnswerGroup(
            label=group.label,
            size=str(group.size),
            quotes=tuple(map(quoted, group.quoted)),
            together=group.members > 1,
        )
        for group in read_answers(readable, lambda f: f.answer, inputs.suppress_below)
    ]


class InquiryConflict(LearnLoopError):
    """The cohort already has an inquiry open: one question at a time keeps the form short."""

    code = "inquiry_conflict"

    def __init__(self, inquiry_id: int, question: str, cohort_id: str) -> None:
        super().__init__(
            words(
                f"Inquiry {inquiry_id} (“{question}”) is still open for the {cohort_id} cohort. "
                "Close it first with ",
                Cmd(Command.INQUIRY, f"close {inquiry_id}"),
                ": one inquiry at a time keeps the check-in quick.",
            )
        )
        self.inquiry_id = inquiry_id
