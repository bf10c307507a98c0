"""The digest view-model: what a weekly learning digest says, for any platform or a report.

Text in here is raw (not escaped): each renderer escapes for its own format (Slack mrkdwn,
HTML, the terminal). Every count is a `Count` made by the one suppression rule
(bot/domain/suppression.py), so no renderer holds, prints or draws a suppressed number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.domain.suppression import Count
from bot.views.inquiry import InquiryLine, InquirySummaryView, PurposeSectionView


class Trend(StrEnum):
    """Which way a theme moved against the previous four periods."""

    ROSE = "rose"
    FELL = "fell"


@dataclass(frozen=True)
class ThemeTrend:
    """A theme that rose or fell: this period's count against the baseline average (words)."""

    theme: str
    trend: Trend
    count: Count
    baseline: str


@dataclass(frozen=True)
class AgencyParticipation:
    """One agency's participation, as words (suppressed when small): never per person."""

    agency: str
    learnings: str
    people: str


@dataclass(frozen=True)
class ThemeLine:
    """One theme across agencies: its total and the agencies that raised it (named entries).

    `total` may include anonymous entries (alliance-wide only); `by_agency` never does.
    """

    theme: str
    total: Count
    by_agency: tuple[tuple[str, Count], ...]


@dataclass(frozen=True)
class Quote:
    """A quoted learning or barrier, already cut to length, with the byline the policy allows."""

    text: str
    byline: str
    themes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pattern:
    """Learnings or barriers from two or more agencies that say the same thing."""

    kind: str  # "learning" or "barrier"
    agencies: tuple[str, ...]
    size: Count
    quotes: tuple[Quote, ...]
    anonymous: Count | None = None  # None when there were none or too few to say
    # What they share, in a few of the readers' own words: "methadone script · pharmacy".
    label: str = ""

    @property
    def size_text(self) -> str:
        """How many entries, and how many of them anonymous when that may be said."""
        extra = f", {self.anonymous} anonymous" if self.anonymous is not None else ""
        return f"{self.size.of('entry', 'entries')}{extra}"

    @property
    def about(self) -> str:
        """The label as a line to show under the heading ("About: …"), or "" without one."""
        return f"About: {self.label}" if self.label else ""

    def agencies_text(self, limit: int = 6) -> str:
        """The agencies as a phrase: "A and B", or "A, B, … and 12 more agencies"."""
        names = list(self.agencies)
        if len(names) > limit:
            rest = len(names) - (limit - 1)
            names = [*names[: limit - 1], f"{rest} more agencies"]
        if len(names) == 1:
            return names[0]
        return ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True)
class BarrierLine:
    """One barrier in the register, as the digest shows it (never who raised it)."""

    title: str
    level: str
    agencies: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class BarrierSummary:
    """Barriers new, moved up the ladder, stale, and resolved ("you said, we did")."""

    new: tuple[BarrierLine, ...] = ()
    moved_up: tuple[BarrierLine, ...] = ()
    stale: tuple[BarrierLine, ...] = ()
    resolved: tuple[BarrierLine, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether there is nothing to say about barriers."""
        return not (self.new or self.moved_up or self.stale or self.resolved)


@dataclass(frozen=True)
class DigestView:
    """A digest for one audience and period; each section is omitted by renderers when empty."""

    title: str
    period_key: str
    period_label: str
    scope_label: str
    alliance_name: str
    suppress_below: int
    learnings: str
    learnings_count: int  # only to tell "nothing was shared" apart: never printed
    agencies_contributing: Count
    rising: tuple[ThemeTrend, ...] = ()
    falling: tuple[ThemeTrend, ...] = ()
    participation: tuple[AgencyParticipation, ...] = ()
    themes: tuple[ThemeLine, ...] = ()
    patterns: tuple[Pattern, ...] = ()
    quotes: tuple[Quote, ...] = ()
    barriers: BarrierSummary = field(default_factory=BarrierSummary)
    weekly_totals: tuple[tuple[str, Count], ...] = ()
    # Issue 9: purpose answers, inquiries running, and the findings of those that closed.
    purpose: PurposeSectionView | None = None
    inquiries: tuple[InquiryLine, ...] = ()
    inquiry_summaries: tuple[InquirySummaryView, ...] = ()

    @property
    def chart_alt_text(self) -> str:
        """A plain description of the themes chart for screen readers (Slack caps it at 1,000)."""
        if not self.themes:
            return f"No themes were tagged in {self.period_label}."
        parts = []
        for line in self.themes:
            agencies = ", ".join(f"{name} {n}" for name, n in line.by_agency)
            parts.append(f"{line.theme}: {line.total}" + (f" ({agencies})" if agencies else ""))
        text = (
            f"Bar chart of themes by agency, {self.period_label}; counts under "
            f"{self.suppress_below} have no bar. " + "; ".join(parts) + "."
        )
        return text if len(text) <= 1000 else text[:999].rstrip() + "…"

    @property
    def weekly_alt_text(self) -> str:
        """A plain description of the learnings-per-week chart (Slack caps it at 1,000)."""
        text = (
            f"Bar chart of learnings per week; weeks under {self.suppress_below} have no bar: "
            + ", ".join(f"{week} {n}" for week, n in self.weekly_totals)
        )
        return text if len(text) <= 1000 else text[:999].rstrip() + "…"
