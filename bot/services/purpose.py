"""The purpose question — when a cohort is asked it, and its answers for the digest."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.alliance import (
    PURPOSE_QUESTION,
    PURPOSE_QUESTION_ID,
    AllianceConfig,
    Cohort,
    Question,
    QuestionKind,
)
from bot.domain.answers import PURPOSE, extra_text
from bot.domain.checkins import Visibility
from bot.domain.cycles import cycle_for, local_now
from bot.domain.digest import shorten
from bot.domain.purpose import is_purpose_cycle, period_of
from bot.domain.reading import read_answers
from bot.domain.suppression import suppressed
from bot.domain.visibility import (
    Audience,
    attribution,
    can_read,
    may_name_author,
    quotable_in_scope,
)
from bot.ports import Clock
from bot.views.inquiry import AnswerGroup, PurposeAnswerView, PurposeSectionView, QuotedAnswer
from storage.inquiries import StoredCheckin
from storage.uow import UnitOfWork, UnitOfWorkFactory

MAX_PURPOSE_QUOTES = 8
# Groups of similar purpose answers shown (each quoted by at most two of its answers).
MAX_PURPOSE_GROUPS = 6
_HOW_OFTEN = {
    "monthly": "once a month",
    "quarterly": "once a quarter",
    "half_yearly": "twice a year",
    "yearly": "once a year",
}


class PurposeService:
    """Asks the purpose question in the first cycle of each period and gathers its answers."""

    def __init__(self, uow: UnitOfWorkFactory, alliance: AllianceConfig, clock: Clock) -> None:
        self.uow = uow
        self.alliance = alliance
        self.clock = clock

    def period_for(self, cohort: Cohort, cycle_start: dt.date) -> str | None:
        """The purpose period a cohort's cycle asks for, or None when it is not a purpose cycle."""
        purpose = self.alliance.purpose
        if purpose is None or not purpose.applies_to(cohort.id):
            return None
        if not is_purpose_cycle(cycle_start, purpose.cadence, cohort.schedule.cadence):
            return None
        return period_of(cycle_start, purpose.cadence)

    def current_cycle_start(self, cohort: Cohort) -> dt.date:
        """The Monday the cohort's current cycle started, in the alliance's time zone."""
        today = local_now(self.clock(), self.alliance.alliance.zone).date()
        return cycle_for(cohort.id, today, cohort.schedule.cadence).starts

    def question(self) -> Question:
        """The purpose question as the check-in form asks it (optional, long text)."""
        purpose = self.alliance.purpose
        assert purpose is not None
        return Question(
            id=PURPOSE_QUESTION_ID,
            label=purpose.question,
            kind=QuestionKind.LONG_TEXT,
            hint=f"We ask this {_HOW_OFTEN[purpose.cadence]}. A sentence or two, if you can.",
        )

    def due(self, uow: UnitOfWork, cohort: Cohort, member_id: int, cycle_start: dt.date) -> str:
        """The period to ask about now, or "" (not a purpose cycle, or already answered)."""
        period = self.period_for(cohort, cycle_start)
        if period is None or uow.inquiries.purpose_answered(member_id, period):
            return ""
        return period

    def _quotable(
        self, start: dt.datetime, end: dt.datetime, audience: Audience, stored: list[Any]
    ) -> list[Any]:
        """The answers this audience's output may quote: the k-anonymity gate for an agency's."""
        if audience.kind != "agency" or audience.agency_id is None:
            return stored
        with self.uow() as uow:
            contributors = uow.digests.contributors(start, end, [audience.agency_id])
        threshold = self.alliance.alliance.suppress_below
        return quotable_in_scope(stored, audience.agency_id, contributors, threshold)

    def section(
        self, start: dt.datetime, end: dt.datetime, audience: Audience
    ) -> PurposeSectionView | None:
        """The digest's purpose section for [start, end): None when nothing was said.

        Each answer goes through the visibility policy for the digest's audience; the total
        counts every answer (a count, never who).
        """
        with self.uow() as uow:
            stored = uow.inquiries.purpose_answers(start, end)
        if audience.kind == "agency":
            stored = [e for e in stored if e.agency_id == audience.agency_id]
        if not stored:
            return None
        names = {a.id: a.name for a in self.alliance.agencies}
        threshold = self.alliance.alliance.suppress_below
        # k-anonymity: a small agency's anonymous answer is quoted only at alliance level.
        quotable = {id(e) for e in self._quotable(start, end, audience, stored)}
        readable = [
            e
            for e in stored
            if extra_text(e.answers, PURPOSE) and can_read(audience, e) and id(e) in quotable
        ]

        def quoted(entry: StoredCheckin) -> PurposeAnswerView:
            name = entry.author_name if may_name_author(audience, entry) else None
            agency = names.get(entry.agency_id, entry.agency_id)
            return PurposeAnswerView(
                text=shorten(extra_text(entry.answers, PURPOSE)),
                byline=attribution(audience, entry, name, agency),
            )

        # Read, not only counted: similar answers together, by the digest's pattern finder.
        groups = tuple(
            AnswerGroup(
                label=group.label,
                size=str(group.size),
                quotes=tuple(QuotedAnswer(q.text, q.byline) for q in map(quoted, group.quoted)),
                together=group.members > 1,
            )
            for group in read_answers(
                readable,
                lambda e: extra_text(e.answers, PURPOSE),
                threshold,
                max_groups=MAX_PURPOSE_GROUPS,
            )
        )
        answers = [quoted(e) for e in readable]
        periods = sorted({e.purpose_period for e in stored if e.purpose_period})
        # An agency's total never counts its anonymous answers (they are the alliance's).
        counted = (
            sum(1 for e in stored if e.visibility != Visibility.ANONYMOUS)
            if audience.kind == "agency"
            else len(stored)
        )
        return PurposeSectionView(
            # Answers outlive a config change: fall back to the seeds' wording.
            question=self.alliance.purpose.question if self.alliance.purpose else PURPOSE_QUESTION,
            period=", ".join(periods),
            # The newest answers when there are many; the total says how many there were.
            answers=tuple(answers[-MAX_PURPOSE_QUOTES:]),
            total=suppressed(counted, threshold),
            groups=groups,
        )
