"""Digest and review-pack charts: one colour per agency, counts on the bars, honest weeks."""

from __future__ import annotations

from dataclasses import replace

from matplotlib.colors import to_hex
from test_digest_blocks import c, small_view

from bot.render.charts import (
    OTHER_AGENCIES,
    OTHER_COLOUR,
    agency_colours,
    themes_by_agency_figure,
    weekly_totals_figure,
)
from bot.views.digest import ThemeLine

ALLIANCE = ["Somerset Council Housing", "Musgrove Park Discharge Team", "Open Door Outreach"]


def bar_colours(figure: object) -> dict[str, str]:
    """Legend label → the colour its bars are drawn in."""
    axes = figure.axes[0]  # type: ignore[attr-defined]
    return {
        container.get_label(): to_hex(container.patches[0].get_facecolor())
        for container in axes.containers
    }


def test_an_agency_keeps_its_colour_whatever_its_rank() -> None:
    # In the digest Housing leads; in the pack Outreach does: the colours must not swap.
    digest = small_view(
        themes=(
            ThemeLine(
                "Housing",
                c(9),
                (("Somerset Council Housing", c(6)), ("Open Door Outreach", c(3))),
            ),
        )
    )
    pack = small_view(
        themes=(
            ThemeLine(
                "Housing",
                c(12),
                (("Open Door Outreach", c(8)), ("Somerset Council Housing", c(4))),
            ),
        )
    )
    one_agency = small_view(
        themes=(ThemeLine("Housing", c(4), (("Open Door Outreach", c(4)),)),),
        participation=(),
    )
    fixed = agency_colours(ALLIANCE)
    for view in (digest, pack, one_agency):
        figure = themes_by_agency_figure(view, ALLIANCE)
        assert figure is not None
        for agency, colour in bar_colours(figure).items():
            assert colour == fixed[agency].lower(), agency
    assert len(set(fixed.values())) == len(ALLIANCE)  # and no two agencies share one
    assert OTHER_COLOUR not in fixed.values()  # grey is for "Other agencies" only


def test_more_agencies_than_the_legend_holds_go_into_other_in_grey() -> None:
    many = tuple((f"Agency {i:02d}", c(3 + i)) for i in range(10))
    view = small_view(themes=(ThemeLine("Housing", c(120), many),))
    figure = themes_by_agency_figure(view, [name for name, _ in many])
    assert figure is not None
    assert bar_colours(figure)[OTHER_AGENCIES] == OTHER_COLOUR.lower()


def test_bars_are_labelled_with_their_counts() -> None:
    view = small_view(
        themes=(
            ThemeLine(
                "Housing",
                c(9),
                (("Somerset Council Housing", c(6)), ("Open Door Outreach", c(3))),
            ),
            ThemeLine("Mental health", c(4), (("Open Door Outreach", c(4)),)),
        )
    )
    figure = themes_by_agency_figure(view, ALLIANCE)
    assert figure is not None
    labels = [t.get_text() for t in figure.axes[0].texts if t.get_text()]
    assert sorted(labels) == ["3", "4", "6"]

    weekly = replace(
        view, weekly_totals=(("2026-W45", c(5)), ("2026-W46", c(1)), ("2026-W47", c(7)))
    )
    figure = weekly_totals_figure(weekly)
    assert figure is not None
    # A week too small to show says so (as the alt text does), rather than looking empty.
    assert [t.get_text() for t in figure.axes[0].texts] == ["5", "<3", "7"]
