"""The digest view-model: what a weekly learning digest says, for any platform or a report.

Text in here is raw (not escaped): each renderer escapes for its own format (Slack mrkdwn,
HTML, the terminal). Counts that could be small are already turned into words here, so no
renderer can show a suppressed number by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.views.inquiry import InquiryLine, InquirySummaryView, PurposeSectionView


class Trend(StrEnum):
    """Which way a theme moved against the previous four periods."""

    ROSE = "rose"
    FELL = "fell"


@dataclass(frozen=True)
class ThemeTrend:
    """A theme that rose or fell: this period's count against the baseline average."""

    theme: str
    trend: Trend
    count: int
    baseline: float


@dataclass(frozen=True)
class AgencyParticipation:
    """One agency's participation, as words (suppressed when small): never per person."""

    agency: str
    learnings: str
    people: str


@dataclass(frozen=True)
class ThemeLine:
    """One theme across agencies: its total and the agencies that raised it (counts)."""

    theme: str
    total: int
    by_agency: tuple[tuple[str, int], ...]


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
    size: int
    quotes: tuple[Quote, ...]
    anonymous: int = 0

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
    learnings_count: int
    agencies_contributing: int
    rising: tuple[ThemeTrend, ...] = ()
    falling: tuple[ThemeTrend, ...] = ()
    participation: tuple[AgencyParticipation, ...] = ()
    themes: tuple[ThemeLine, ...] = ()
    patterns: tuple[Pattern, ...] = ()
    quotes: tuple[Quote, ...] = ()
    barriers: BarrierSummary = field(default_factory=BarrierSummary)
    weekly_totals: tuple[tuple[str, int], ...] = ()
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
            parts.append(f"{line.theme}: {line.total} ({agencies})")
        text = f"Bar chart of themes by agency, {self.period_label}. " + "; ".join(parts) + "."
        return text if len(text) <= 1000 else text[:999].rstrip() + "…"
