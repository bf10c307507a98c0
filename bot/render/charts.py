"""Digest charts as PNG bytes (matplotlib, Agg): the same images go to Slack and to reports.

Figures are built with the object API (no pyplot), so nothing global is shared between
threads or calls.
"""

from __future__ import annotations

import io

from bot.views.digest import DigestView

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


def themes_by_agency_png(view: DigestView) -> bytes | None:
    """Themes by agency as a stacked bar chart, or None when no count may be drawn.

    Only counts the suppression rule shows get a bar: a suppressed agency, and anonymous
    entries (never counted against an agency), are left out, as the alt text says.
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

    figure = Figure(figsize=(8, 0.45 * len(lines) + 1.8), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    labels = [line.theme for line in reversed(lines)]
    left = [0] * len(labels)
    for index, agency in enumerate(series):
        values = []
        for line in reversed(lines):
            counts = {a: n.sort_key for a, n in line.by_agency}
            if agency == OTHER_AGENCIES:
                values.append(sum(n for a, n in counts.items() if a not in shown))
            else:
                values.append(counts.get(agency, 0))
        axes.barh(labels, values, left=left, label=agency, color=PALETTE[index % len(PALETTE)])
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
    return _png(figure)


def weekly_totals_png(view: DigestView) -> bytes | None:
    """Learnings per week across a report's range, or None when there is one week or none.

    A week under the suppression threshold has no bar (the alt text says "fewer than N").
    """
    if len(view.weekly_totals) < 2 or all(n.suppressed for _, n in view.weekly_totals):
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    weeks = [week for week, _ in view.weekly_totals]
    axes.bar(weeks, [n.sort_key for _, n in view.weekly_totals], color=PALETTE[0])
    axes.set_ylabel(f"learnings (weeks under {view.suppress_below} not drawn)")
    axes.set_title(view.weekly_title, fontsize=11)
    axes.tick_params(axis="x", labelrotation=60, labelsize=7)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return _png(figure)


def _png(figure: object) -> bytes:
    buffer = io.BytesIO()
    # No timestamp or software metadata: the same data gives the same bytes.
    figure.savefig(buffer, format="png", metadata={"Software": None})  # type: ignore[attr-defined]
    return buffer.getvalue()
