"""View-models for learning cycles (issue 9): inquiries and the purpose question.

Text in here is raw (not escaped): each renderer escapes for its own format. Counts that could
be small are already words ("fewer than 3"), so no renderer can show a suppressed number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


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
