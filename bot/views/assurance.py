"""The review pack's assurance section: the words, written once (HTML and text lay it out)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.suppression import Count
from bot.views.message import Block, Bullets, Divider, Group, Paragraph
from bot.views.words import Emph, Strong, words


@dataclass(frozen=True)
class AgeingRow:
    """Open barriers at one level of the ladder, by how long they have been open."""

    level: str
    open: Count
    bands: tuple[tuple[str, Count], ...]


@dataclass(frozen=True)
class ResolutionRow:
    """Barriers resolved or closed at one level in the period, and how long they took."""

    level: str
    resolved: Count
    median: str | None  # None when too few were resolved to say
    p90: str | None


@dataclass(frozen=True)
class ThemeWeekRow:
    """Learnings per theme in one week."""

    week: str
    counts: tuple[tuple[str, Count], ...]


@dataclass(frozen=True)
class AssuranceView:
    """Barrier ageing, time to resolution per level, and themes over time."""

    ageing: tuple[AgeingRow, ...] = ()
    resolution: tuple[ResolutionRow, ...] = ()
    themes: tuple[str, ...] = ()
    theme_weeks: tuple[ThemeWeekRow, ...] = ()
    suppress_below: int = 3


def assurance_section(view: AssuranceView | None) -> list[Block]:
    """The section's blocks, or none when there is no assurance view (digests)."""
    if view is None:
        return []
    items: list[Paragraph | Bullets] = [
        Paragraph(words(Strong("Barrier ageing"), " — open barriers by how long they have waited"))
    ]
    if view.ageing:
        items.append(
            Bullets(
                tuple(
                    words(
                        Strong(row.level),
                        f": {row.open.of('open barrier')} — ",
                        "; ".join(f"{label}: {n}" for label, n in row.bands),
                    )
                    for row in view.ageing
                )
            )
        )
    else:
        items.append(Paragraph(words(Emph("No barrier is open."))))
    items.append(
        Paragraph(
            words(Strong("Time to resolution"), " — barriers resolved or closed in the period")
        )
    )
    if view.resolution:
        lines = []
        for row in view.resolution:
            if row.median is None:
                lines.append(
                    words(
                        Strong(row.level),
                        f": {row.resolved.of('barrier')} resolved — too few to give a typical time",
                    )
                )
            else:
                lines.append(
                    words(
                        Strong(row.level),
                        f": {row.resolved.of('barrier')} resolved — median {row.median}, "
                        f"90% within {row.p90}",
                    )
                )
        items.append(Bullets(tuple(lines)))
    else:
        items.append(Paragraph(words(Emph("No barrier was resolved in the period."))))
    blocks: list[Block] = [Divider(), Group(tuple(items))]
    if view.theme_weeks:
        blocks += [
            Divider(),
            Group(
                (
                    Paragraph(
                        words(
                            Strong("Themes over time"),
                            " — learnings per theme each week (a count under "
                            f"{view.suppress_below} reads: fewer than {view.suppress_below})",
                        )
                    ),
                    Bullets(
                        tuple(
                            words(
                                Strong(row.week),
                                ": ",
                                "; ".join(f"{theme} {n}" for theme, n in row.counts),
                            )
                            for row in view.theme_weeks
                        )
                    ),
                )
            ),
        ]
    return blocks
