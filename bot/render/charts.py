"""Digest charts as PNG bytes (matplotlib, Agg): the same images go to Slack and to reports.

Figures are built with the object API (no pyplot), so nothing global is shared between
threads or calls.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.views.digest import DigestView

if TYPE_CHECKING:  # matplotlib is imported only when a chart is drawn
    from matplotlib.figure import Figure

MAX_AGENCIES_IN_LEGEND = 8
MAX_THEMES = 12
OTHER_AGENCIES = "Other agencies"
# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
    "#999999",
)


OTHER_COLOUR = "#999999"
AGENCY_COLOURS = PALETTE[:-1]  # grey is kept for "Other agencies"


def agency_colours(agencies: Sequence[str], others: Sequence[str] = ()) -> dict[str, str]:
    """One colour per agency, fixed by its place among all the alliance's agencies by name.

    Not by rank in one chart: the same agency keeps its colour in this week's digest, a
    manager's digest and the review pack. `others` (names not among `agencies`) come after,
    so they never move an alliance agency's colour.
    """
    names = sorted(set(agencies))
    names += sorted(set(others) - set(names))
    return {name: AGENCY_COLOURS[i % len(AGENCY_COLOURS)] for i, name in enumerate(names)}


def _text_colour(fill: str) -> str:
    """Black or white, whichever reads better on `fill` (#rrggbb)."""
    red, green, blue = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 140 else "white"


def themes_by_agency_png(view: DigestView, agencies: Sequence[str] = ()) -> bytes | None:
    """The themes-by-agency chart as PNG bytes, or None when no count may be drawn."""
    figure = themes_by_agency_figure(view, agencies)
    return _png(figure) if figure is not None else None


def themes_by_agency_figure(view: DigestView, agencies: Sequence[str] = ()) -> Figure | None:
    """Themes by agency as a stacked bar chart, or None when no count may be drawn.

    Only counts the suppression rule shows get a bar: a suppressed agency, and anonymous
    entries (never counted against an agency), are left out, as the alt text says. Each
    segment is labelled with its count. `agencies` (all the alliance's agency names) fixes
    each agency's colour; without it, the agencies this view names do.
    """
    lines = [line for line in view.themes if any(not n.suppressed for _, n in line.by_agency)][
        :MAX_THEMES
    ]
    if not lines:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    totals: dict[str, int] = {}
    for line in lines:
        for agency, n in line.by_agency:
            totals[agency] = totals.get(agency, 0) + n.sort_key
    ranked = sorted((a for a in totals if totals[a]), key=lambda a: (-totals[a], a))
    shown = ranked[:MAX_AGENCIES_IN_LEGEND]
    series = shown + ([OTHER_AGENCIES] if len(ranked) > len(shown) else [])

    colours = agency_colours(agencies, [*(p.agency for p in view.participation), *totals])
    figure = Figure(figsize=(8, 0.45 * len(lines) + 1.8), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    labels = [line.theme for line in reversed(lines)]
    left = [0] * len(labels)
    for agency in series:
        values = []
        for line in reversed(lines):
            counts = {a: n.sort_key for a, n in line.by_agency}
            if agency == OTHER_AGENCIES:
                values.append(sum(n for a, n in counts.items() if a not in shown))
            else:
                values.append(counts.get(agency, 0))
        colour = OTHER_COLOUR if agency == OTHER_AGENCIES else colours[agency]
        bars = axes.barh(labels, values, left=left, label=agency, color=colour)
        axes.bar_label(
            bars,
            labels=[str(v) if v else "" for v in values],
            label_type="center",
            fontsize=8,
            color=_text_colour(colour),
        )
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_xlabel(
        f"learnings tagged with the theme, named entries per agency "
        f"(counts under {view.suppress_below} not drawn)"
    )
    axes.set_title(view.chart_title, fontsize=11)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(fontsize=8, frameon=False, loc="lower right")
    figure.tight_layout()
    return figure


def weekly_totals_png(view: DigestView) -> bytes | None:
    """The learnings-per-week chart as PNG bytes, or None when there is nothing to draw."""
    figure = weekly_totals_figure(view)
    return _png(figure) if figure is not None else None


def weekly_totals_figure(view: DigestView) -> Figure | None:
    """Learnings per week across a report's range, or None when there is one week or none.

    A week under the suppression threshold has no bar, only "<N" (the alt text says "fewer
    than N"); each other bar is labelled with its count.
    """
    if len(view.weekly_totals) < 2 or all(n.suppressed for _, n in view.weekly_totals):
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    weeks = [week for week, _ in view.weekly_totals]
    bars = axes.bar(weeks, [n.sort_key for _, n in view.weekly_totals], color=PALETTE[0])
    # The number on each bar; a week too small to show says so rather than looking empty.
    axes.bar_label(
        bars,
        labels=[
            str(n) if not n.suppressed else f"<{view.suppress_below}" for _, n in view.weekly_totals
        ],
        fontsize=7,
        padding=2,
    )
    axes.set_ylabel(f"learnings (weeks under {view.suppress_below} not drawn)")
    axes.set_title(view.weekly_title, fontsize=11)
    axes.tick_params(axis="x", labelrotation=60, labelsize=7)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # No timestamp or software metadata: the same data gives the same bytes.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
