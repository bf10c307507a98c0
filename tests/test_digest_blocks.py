"""The digest in Block Kit, plain text and HTML: exact blocks, safe text, Slack's limits."""

from __future__ import annotations

import json

from digest_outputs import digest_card_dicts, digest_messages
from slack_sdk.models.blocks import (
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.suppression import suppress
from bot.render.charts import themes_by_agency_png, weekly_totals_png
from bot.render.digest import Chart, render_html, render_text
from bot.slack.render import MESSAGE_BLOCKS as MAX_BLOCKS
from bot.slack.render import SECTION_CHARS
from bot.teams.render import escape as escape_markdown
from bot.views.digest import (
    AgencyParticipation,
    BarrierLine,
    BarrierSummary,
    DigestView,
    Pattern,
    Quote,
    ThemeLine,
    ThemeTrend,
    Trend,
)


def c(n: int) -> object:
    """A count through the suppression rule at the test alliance's threshold (3)."""
    return suppress(n, 3)


FOOTER = (
    "Counts are per agency, never per person; counts under 3 show as “fewer than 3”. "
    "Anonymous learnings are never attributed."
)


def small_view(**changes: object) -> DigestView:
    """A digest with one of everything."""
    values: dict[str, object] = {
        "title": "What Test Alliance learned — week 47",
        "period_key": "2026-W47",
        "period_label": "week 47",
        "scope_label": "Test Alliance, all agencies",
        "alliance_name": "Test Alliance",
        "suppress_below": 3,
        "learnings": "5",
        "learnings_count": 5,
        "agencies_contributing": c(3),
        "rising": (ThemeTrend("Housing", Trend.ROSE, c(4), "fewer than 3"),),
        "participation": (
            AgencyParticipation("Housing", "4", "3"),
            AgencyParticipation("Hospital", "fewer than 3", "fewer than 3"),
        ),
        "themes": (ThemeLine("Housing", c(4), (("Housing", c(3)), ("Hospital", c(1)))),),
        "patterns": (
            Pattern(
                kind="barrier",
                agencies=("Hospital", "Housing"),
                size=c(2),
                quotes=(Quote("Beds full on Friday", "Anonymous"),),
            ),
        ),
        "quotes": (Quote("We met at the food bank", "Sam, Housing", ("Housing",)),),
        "barriers": BarrierSummary(
            resolved=(BarrierLine("Discharge letters", "Steward group", ("Hospital",), "Fixed"),)
        ),
    }
    values.update(changes)
    return DigestView(**values)  # type: ignore[arg-type]


def test_blocks_are_exactly_the_digest() -> None:
    ((text, blocks),) = digest_messages(small_view())
    assert text == "What Test Alliance learned — week 47: 5 learnings from 3 agencies."
    expected = [
        HeaderBlock(text="What Test Alliance learned — week 47"),
        SectionBlock(
            text=MarkdownTextObject(
                text="*5 learnings* this week from *3 agencies*.\n"
                "Rising: *Housing* (4, 4-week average fewer than 3)."
            )
        ),
        ContextBlock(elements=[MarkdownTextObject(text="Test Alliance, all agencies · week 47")]),
        DividerBlock(),
        SectionBlock(
            text=MarkdownTextObject(
                text="*Who took part* — counts per agency, never per person\n"
                "• Housing: 4 learnings from 3 people\n"
                "• Hospital: fewer than 3 learnings from fewer than 3 people"
            )
        ),
        DividerBlock(),
        SectionBlock(
            text=MarkdownTextObject(
                text="*Themes across agencies* (chart below)\n"
                "• *Housing* — 4: Housing 3, Hospital fewer than 3"
            )
        ),
        DividerBlock(),
        SectionBlock(
            text=MarkdownTextObject(
                text="*Shared patterns* — the same thing said in more than one agency"
            )
        ),
        SectionBlock(
            text=MarkdownTextObject(
                text="*Barrier seen in Hospital and Housing* (fewer than 3 entries)\n"
                ">Beds full on Friday\n_— Anonymous_"
            )
        ),
        DividerBlock(),
        SectionBlock(text=MarkdownTextObject(text="*In their words*")),
        SectionBlock(
            text=MarkdownTextObject(text=">We met at the food bank\n_— Sam, Housing · Housing_")
        ),
        DividerBlock(),
        SectionBlock(
            text=MarkdownTextObject(
                text="*Barriers*\n_Resolved — you said, we did_\n"
                "• *Discharge letters* (Steward group; Hospital) — Fixed"
            )
        ),
        ContextBlock(elements=[MarkdownTextObject(text=FOOTER)]),
    ]
    assert blocks == [b.to_dict() for b in expected]


def test_empty_sections_are_left_out() -> None:
    view = small_view(
        learnings="fewer than 3",
        learnings_count=0,
        agencies_contributing=c(0),
        rising=(),
        themes=(),
        patterns=(),
        quotes=(),
        barriers=BarrierSummary(),
        participation=(),
    )
    ((_, blocks),) = digest_messages(view)
    texts = json.dumps(blocks)
    assert "No learnings were shared in this period." in texts
    for heading in ("Themes across", "Shared patterns", "In their words", "Barriers", "took part"):
        assert heading not in texts
    assert len(blocks) == 4


def test_mrkdwn_in_learnings_pings_nobody() -> None:
    nasty = "<!channel> look <@U123> & <https://evil.example|click> <!here>"
    view = small_view(
        quotes=(Quote(nasty, "<@U999>", ("<!everyone>",)),),
        barriers=BarrierSummary(new=(BarrierLine("<!channel> barrier", "<@U1>", ("A&B",)),)),
        title="<!channel> title",
    )
    messages = digest_messages(view)
    dumped = json.dumps(messages)
    for ping in (
        "<!channel>",
        "<@U123>",
        "<!here>",
        "<@U999>",
        "<!everyone>",
        "<https://",
        "<@U1>",
    ):
        assert ping not in dumped
    assert "&lt;!channel&gt; look &lt;@U123&gt; &amp; &lt;https://evil.example|click&gt;" in dumped
    assert "A&amp;B" in dumped


def test_an_oversized_digest_moves_the_rest_into_the_thread() -> None:
    quotes = tuple(Quote(f"Learning {i} " + "word " * 60, f"Agency {i}") for i in range(90))
    agencies = tuple(AgencyParticipation(f"Agency {i} " + "x" * 60, "12", "5") for i in range(70))
    view = small_view(quotes=quotes, participation=agencies)
    messages = digest_messages(view)
    assert len(messages) > 1
    first_blocks = messages[0][1]
    assert len(first_blocks) <= MAX_BLOCKS
    # One wording on both platforms (Slack said "in the thread", Teams "in the replies below").
    assert first_blocks[-1]["elements"][0]["text"] == "Continued in the replies below."
    for _, blocks in messages:
        assert len(blocks) <= MAX_BLOCKS
        for block in blocks:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= SECTION_CHARS
    everything = json.dumps([b for _, blocks in messages for b in blocks])
    # Nothing was dropped: every quote and every agency is somewhere in the thread.
    assert all(f"Learning {i} " in everything for i in range(90))
    assert all(f"Agency {i} x" in everything for i in range(70))


def test_one_giant_line_is_split_between_words_and_escapes() -> None:
    agencies = tuple((f"A&B {i}", c(1)) for i in range(600))
    view = small_view(themes=(ThemeLine("Housing", c(600), agencies),))
    for _, blocks in digest_messages(view):
        for block in blocks:
            if block["type"] == "section":
                text = block["text"]["text"]
                assert len(text) <= SECTION_CHARS
                assert not text.endswith(("&", "&a", "&am", "&amp"))


def test_text_and_html_renderings_escape_and_say_the_same() -> None:
    view = small_view(quotes=(Quote("<script>alert(1)</script> & co", "Sam"),))
    text = render_text(view)
    assert "Who took part" in text and "fewer than 3" in text and "Sam" in text
    png = themes_by_agency_png(view)
    assert png is not None and png.startswith(b"\x89PNG")
    page = render_html(view, [Chart("Themes by agency", png, view.chart_alt_text)])
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
    assert "data:image/png;base64," in page
    assert (
        'alt="Bar chart of themes by agency, week 47; counts under 3 have no bar. '
        'Housing: 4 (Housing 3, Hospital fewer than 3)."' in page
    )


def test_charts_are_left_out_when_there_is_nothing_to_draw() -> None:
    assert themes_by_agency_png(small_view(themes=())) is None
    assert weekly_totals_png(small_view()) is None
    weekly = weekly_totals_png(small_view(weekly_totals=(("2026-W40", c(3)), ("2026-W41", c(5)))))
    assert weekly is not None and weekly.startswith(b"\x89PNG")
    # Weeks and themes under the threshold have no bar, so nothing left means no chart.
    small = (("2026-W40", c(1)), ("2026-W41", c(2)))
    assert weekly_totals_png(small_view(weekly_totals=small)) is None
    hidden = (ThemeLine("Housing", c(4), (("Housing", c(2)), ("Hospital", c(1)))),)
    assert themes_by_agency_png(small_view(themes=hidden)) is None


def test_a_pattern_across_many_agencies_names_a_few_and_counts_the_rest() -> None:
    many = Pattern("learning", tuple(f"A{i}" for i in range(10)), c(12), (Quote("x", "y"),))
    assert many.agencies_text() == "A0, A1, A2, A3, A4 and 5 more agencies"
    assert Pattern("learning", ("A", "B"), c(2), ()).agencies_text() == "A and B"
    assert Pattern("learning", ("A", "B", "C"), c(3), ()).agencies_text() == "A, B and C"


def test_a_pattern_label_is_one_line_in_slack_teams_text_and_html() -> None:
    labelled = Pattern(
        kind="learning",
        agencies=("Hospital", "Housing"),
        size=c(2),
        quotes=(Quote("Lost the methadone script", "Housing"),),
        label="methadone script · A&E <!here>",
    )
    view = small_view(patterns=(labelled,))
    ((_, blocks),) = digest_messages(view)
    slack = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    (section,) = [s for s in slack if s.startswith("*Learning seen in")]
    assert section.splitlines()[1] == "_About: methadone script · A&amp;E &lt;!here&gt;_"
    teams = [
        element["text"]
        for card in digest_card_dicts(view)
        for element in card["body"]
        if element.get("type") == "TextBlock"
    ]
    # Teams' renderer escapes every markdown character in plain text, brackets included.
    heading = teams.index("**Learning seen in Hospital and Housing** \\(fewer than 3 entries\\)")
    assert teams[heading + 1] == f"_{escape_markdown(labelled.about)}_"
    assert "About: methadone script · A&E <!here>" in render_text(view)
    assert "<p><em>About: methadone script · A&amp;E &lt;!here&gt;</em></p>" in render_html(
        view, []
    )
    # No label, no line.
    assert "About:" not in render_text(small_view())
