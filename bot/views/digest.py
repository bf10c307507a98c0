"""The digest view-model: what a weekly learning digest says, for any platform or a report.

`DigestService` builds a `DigestView` (the facts); `digest_thread(view)` writes every sentence
of it once, as a neutral `Message` in a `Thread`, which Slack, Teams, the terminal and the HTML
review pack only lay out. Text in here is raw (not escaped): each renderer escapes for its own
format. Every count is a `Count` made by the one suppression rule
(bot/domain/suppression.py), so no renderer holds, prints or draws a suppressed number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.domain.platforms import platform_of
from bot.domain.suppression import Count
from bot.views.assurance import AssuranceView, assurance_section
from bot.views.inquiry import InquiryLine, InquirySummaryView, PurposeSectionView, purpose_section
from bot.views.inquiry import digest_section as inquiry_digest_section
from bot.views.message import (
    Block,
    Bullets,
    Divider,
    Group,
    Heading,
    Message,
    Paragraph,
    Thread,
)
from bot.views.message import Quote as QuoteBlock
from bot.views.recurring import RecurringBarrier, recurring_section
from bot.views.words import Channel, Cmd, Command, Emph, Literal, Strong, Words, joined, words


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
class AcrossAlliance:
    """What the whole alliance learned, for a reader in one agency or any practitioner.

    Built as an alliance-level reader sees it: patterns, learnings shared with the alliance
    (named or anonymous), barriers new or moved up, and those resolved ("you said, we did").
    """

    patterns: tuple[Pattern, ...] = ()
    quotes: tuple[Quote, ...] = ()
    moved: tuple[BarrierLine, ...] = ()
    resolved: tuple[BarrierLine, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether there is nothing to say."""
        return not (self.patterns or self.quotes or self.moved or self.resolved)


@dataclass(frozen=True)
class AllianceNoteView:
    """The weekly "What the alliance learned" note a practitioner may choose to receive."""

    alliance_name: str
    period_key: str
    period_label: str
    across: AcrossAlliance

    @property
    def title(self) -> str:
        """The note's heading."""
        return f"What {self.alliance_name} learned — {self.period_label}"


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
    # Purpose answers, inquiries running, and the findings of those that closed.
    purpose: PurposeSectionView | None = None
    inquiries: tuple[InquiryLine, ...] = ()
    inquiry_summaries: tuple[InquirySummaryView, ...] = ()
    # An agency's digest (and its managers' DMs) goes on to what the whole alliance learned.
    across: AcrossAlliance | None = None
    # Stewards' digest and review pack: "what got in the way" answers that keep coming up.
    recurring: tuple[RecurringBarrier, ...] = ()
    # The review pack's barrier ageing, time to resolution and themes over time (not digests).
    assurance: AssuranceView | None = None

    @property
    def chart_title(self) -> str:
        """The themes chart's title, drawn on it and given with its upload."""
        return f"Themes by agency — {self.period_label}"

    @property
    def weekly_title(self) -> str:
        """The learnings-per-week chart's title, drawn on it and given with its upload."""
        return "Learnings shared each week (all agencies, counts only)"

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


# ------------------------------------------------------------------------- builders
#
# Every sentence of a digest is written here once. Slack, Teams, the terminal and the HTML
# review pack lay these blocks out; none of them adds a word.

CONTINUED = "Continued in the replies below."
FOOTER_ANONYMOUS = "Anonymous learnings are never attributed."
STALE = "Stale — no update for 14 days"


def _agencies(n: Count) -> str:
    return n.of("agency", "agencies")


def summary(view: DigestView) -> Words:
    """The digest's one line: its notification text."""
    return words(
        f"{view.title}: {view.learnings} learnings from {_agencies(view.agencies_contributing)}."
    )


def _trend(trend: ThemeTrend) -> Words:
    return words(Strong(trend.theme), f" ({trend.count}, 4-week average {trend.baseline})")


def headline(view: DigestView) -> tuple[Paragraph, ...]:
    """How many learnings, from how many agencies, and which themes rose or fell."""
    if view.learnings_count == 0:
        lines = [Paragraph(words("No learnings were shared in this period."))]
    else:
        lines = [
            Paragraph(
                words(
                    Strong(f"{view.learnings} learnings"),
                    " this week from ",
                    Strong(_agencies(view.agencies_contributing)),
                    ".",
                )
            )
        ]
    for label, trends in (("Rising", view.rising), ("Falling", view.falling)):
        if trends:
            lines.append(Paragraph(words(f"{label}: ", joined(map(_trend, trends)), ".")))
    return tuple(lines)


def byline(quote: Quote) -> Words:
    """Who said it (as the visibility policy allows), and the themes it was tagged with."""
    themes = f" · {', '.join(quote.themes)}" if quote.themes else ""
    return words(quote.byline + themes)


def quoted(quote: Quote) -> QuoteBlock:
    """A quoted learning or barrier."""
    return QuoteBlock(quote.text, byline(quote))


def pattern_heading(pattern: Pattern) -> Words:
    """ "Barrier seen in A and B (5 entries)"."""
    what = "Barrier" if pattern.kind == "barrier" else "Learning"
    return words(Strong(f"{what} seen in {pattern.agencies_text()}"), f" ({pattern.size_text})")


def pattern_block(pattern: Pattern) -> Group:
    """One shared pattern: what it is, where it was seen, and its quotes."""
    items: list[Paragraph | Bullets | QuoteBlock] = [Paragraph(pattern_heading(pattern))]
    if pattern.about:
        items.append(Paragraph(words(Emph(pattern.about))))
    items += [quoted(q) for q in pattern.quotes]
    return Group(tuple(items))


def barrier_groups(barriers: BarrierSummary) -> list[tuple[str, tuple[BarrierLine, ...]]]:
    """The register's news, in reading order, leaving out empty groups."""
    groups = [
        ("New", barriers.new),
        ("Moved up the ladder", barriers.moved_up),
        (STALE, barriers.stale),
        ("Resolved — you said, we did", barriers.resolved),
    ]
    return [(title, lines) for title, lines in groups if lines]


def barrier_line(line: BarrierLine) -> Words:
    """One barrier: its title, where it sits on the ladder, and what was done."""
    where = line.level + (f"; {', '.join(line.agencies)}" if line.agencies else "")
    return words(Strong(line.title), f" ({where})", f" — {line.note}" if line.note else None)


def footer(view: DigestView) -> Words:
    """The digest's small print: how counts are kept safe."""
    n = view.suppress_below
    return words(
        f"Counts are per agency, never per person; counts under {n} show as “fewer than {n}”. "
        + FOOTER_ANONYMOUS
    )


def digest_message(view: DigestView) -> Message:
    """The whole digest as one message, in reading order (a platform may thread the rest)."""
    blocks: list[Block] = [
        Heading(view.title),
        Group(headline(view)),
        Paragraph(words(f"{view.scope_label} · {view.period_label}"), subtle=True),
    ]
    if view.participation:
        blocks += [
            Divider(),
            Group(
                (
                    Paragraph(
                        words(Strong("Who took part"), " — counts per agency, never per person")
                    ),
                    Bullets(
                        tuple(
                            words(f"{p.agency}: {p.learnings} learnings from {p.people} people")
                            for p in view.participation
                        )
                    ),
                )
            ),
        ]
    if view.themes:
        lines = []
        for line in view.themes:
            agencies = ", ".join(f"{name} {n}" for name, n in line.by_agency)
            lines.append(
                words(Strong(line.theme), f" — {line.total}", f": {agencies}" if agencies else None)
            )
        blocks += [
            Divider(),
            Group(
                (
                    Paragraph(words(Strong("Themes across agencies"), " (chart below)")),
                    Bullets(tuple(lines)),
                )
            ),
        ]
    if view.patterns:
        blocks += [
            Divider(),
            Paragraph(
                words(Strong("Shared patterns"), " — the same thing said in more than one agency")
            ),
            *(pattern_block(p) for p in view.patterns),
        ]
    if view.quotes:
        blocks += [Divider(), Paragraph(words(Strong("In their words"))), *map(quoted, view.quotes)]
    if not view.barriers.empty:
        items: list[Paragraph | Bullets | QuoteBlock] = [Paragraph(words(Strong("Barriers")))]
        for title, group in barrier_groups(view.barriers):
            items += [Paragraph(words(Emph(title))), Bullets(tuple(map(barrier_line, group)))]
        blocks += [Divider(), Group(tuple(items))]
    blocks += recurring_section(view.recurring)
    if view.across is not None:
        blocks += [Divider(), *across_section(view.across)]
    blocks += assurance_section(view.assurance)
    blocks += purpose_section(view.purpose)
    blocks += inquiry_digest_section(view.inquiries, view.inquiry_summaries)
    blocks.append(Paragraph(footer(view), subtle=True))
    return Message(summary=summary(view), blocks=tuple(blocks))


ACROSS = "Across the alliance"
NOTHING_ACROSS = "Nothing was shared with the whole alliance this week."
MOVED = "Barriers that moved this week"
YOU_SAID = "You said, we did"


def across_blocks(across: AcrossAlliance) -> list[Block]:
    """The alliance's patterns, shared learnings and barriers, without a heading."""
    if across.empty:
        return [Paragraph(words(NOTHING_ACROSS))]
    blocks: list[Block] = [pattern_block(p) for p in across.patterns]
    if across.quotes:
        blocks += [
            Paragraph(words(Emph("Shared with the alliance"))),
            *map(quoted, across.quotes),
        ]
    for title, lines in ((MOVED, across.moved), (YOU_SAID, across.resolved)):
        if lines:
            blocks.append(
                Group((Paragraph(words(Emph(title))), Bullets(tuple(map(barrier_line, lines)))))
            )
    return blocks


def across_section(across: AcrossAlliance) -> list[Block]:
    """An agency's digest goes on to what the whole alliance learned."""
    lead = Paragraph(words(Strong(ACROSS), " — what other agencies learned and shared"))
    return [lead, *across_blocks(across)]


def note_off_words() -> Words:
    """How to stop the weekly alliance note (said in the note itself)."""
    return words(
        "You get this note whether or not you take part. To stop it, use ",
        Cmd(Command.DIGEST, "off"),
        f" or press “{NOTE_OFF}” on LearnLoop's home page.",
    )


NOTE_OFF = "Stop the weekly alliance note"
NOTE_ON = "Send me the weekly alliance note"


def note_switched(on: bool) -> Words:
    """The answer to turning the weekly alliance note on or off (command or button)."""
    if on:
        return words(
            "You'll get the weekly note of what the alliance learned. To stop it, use ",
            Cmd(Command.DIGEST, "off"),
            ".",
        )
    return words(
        "You won't get the weekly alliance note any more. To have it again, use ",
        Cmd(Command.DIGEST, "on"),
        ".",
    )


def note_usage() -> Words:
    """What to type when `digest` came with something other than on or off."""
    return words(
        "Say ",
        Cmd(Command.DIGEST, "on"),
        " to get the weekly note of what the alliance learned, or ",
        Cmd(Command.DIGEST, "off"),
        " to stop it.",
    )


def alliance_note_message(note: AllianceNoteView) -> Message:
    """The short weekly note to a practitioner: what the alliance learned."""
    blocks: list[Block] = [
        Heading(note.title),
        *across_blocks(note.across),
        Paragraph(note_off_words(), subtle=True),
    ]
    return Message(summary=words(note.title), blocks=tuple(blocks))


def digest_thread(view: DigestView) -> Thread:
    """The digest as posts: what does not fit one goes into replies in its thread."""
    return Thread(
        message=digest_message(view),
        continued=words(CONTINUED),
        reply_summary=words(summary(view), " (continued)"),
    )


def not_posted_notice(digest_id: str, period: str, channel: str) -> Message:
    """To admins: a digest is waiting because LearnLoop is not in its channel."""
    if platform_of(channel) == "slack":
        fix = words("Please invite it there (", Literal("/invite @LearnLoop"), ")")
    else:
        fix = words("Please add the LearnLoop app to that channel in Teams")
    said = words(
        "LearnLoop couldn't post the ",
        Strong(digest_id),
        f" learning digest for {period}: it isn't a member of ",
        Channel(channel),
        ". ",
        fix,
        " — the digest is posted on the next try after that.",
    )
    return Message(summary=said, blocks=(Paragraph(said),))


def email_refused_notice(digest_id: str, period: str, code: str) -> Message:
    """To admins: the mail server refused a digest e-mail for good (an SMTP 5xx)."""
    said = words(
        "The mail server refused the ",
        Strong(digest_id),
        f" learning digest e-mail for {period} (",
        Literal(code.replace("smtp_", "SMTP ")),
        "), so LearnLoop will not try it again. Check the address in the alliance file's ",
        Literal("digests:"),
        " entry, then send it with ",
        Literal(f"learnloop digest send --destination {digest_id} --week {period}"),
        " after clearing it with ",
        Literal(f"learnloop digest retry --destination {digest_id} --week {period}"),
        ".",
    )
    return Message(summary=said, blocks=(Paragraph(said),))
