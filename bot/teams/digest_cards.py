"""The digest as Adaptive Cards: pure functions from the same DigestView Slack renders.

Every piece of text from a person or the config is made literal (no links or emphasis it did
not mean). Teams refuses a message over about 28 KB, so a long digest is split into several
cards: the first is posted in the channel, the rest as replies in its thread.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from microsoft_teams.cards import AdaptiveCard, Container

from bot.domain.suppression import Count
from bot.teams.cards import card, card_dict, escape_markdown, text
from bot.views.digest import BarrierLine, DigestView, Pattern, Quote, ThemeTrend

# Well under Teams' ~28 KB per message, leaving room for the activity around the card.
MAX_CARD_BYTES = 20_000
CONTINUED = "Continued in the replies below."


def e(value: str) -> str:
    """Make user or config text literal in a TextBlock (short alias used in this module)."""
    return escape_markdown(value)


def _agencies(n: Count) -> str:
    return n.of("agency", "agencies")


def _trend(trend: ThemeTrend) -> str:
    return f"**{e(trend.theme)}** ({trend.count}, 4-week average {trend.baseline})"


def _quote(quote: Quote) -> list[Any]:
    byline = f"— {e(quote.byline)}"
    if quote.themes:
        byline += " · " + ", ".join(e(t) for t in quote.themes)
    return [
        Container(
            style="emphasis",
            items=[text(f"“{e(quote.text)}”"), text(byline, is_subtle=True, size="Small")],
        )
    ]


def _pattern(pattern: Pattern) -> list[Any]:
    what = "Barrier" if pattern.kind == "barrier" else "Learning"
    names = [e(a) for a in pattern.agencies]
    agencies = " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]
    parts: list[Any] = [text(f"**{what} seen in {agencies}** ({pattern.size_text})")]
    if pattern.about:
        parts.append(text(f"_{e(pattern.about)}_"))
    for quote in pattern.quotes:
        parts += _quote(quote)
    return parts


def _barrier_lines(title: str, lines: Iterable[BarrierLine]) -> list[Any]:
    out: list[Any] = [text(f"_{title}_")]
    for line in lines:
        where = e(line.level)
        if line.agencies:
            where += "; " + ", ".join(e(a) for a in line.agencies)
        said = f"• **{e(line.title)}** ({where})"
        if line.note:
            said += f" — {e(line.note)}"
        out.append(text(said))
    return out


def digest_elements(view: DigestView) -> list[Any]:
    """Every element of the digest, in reading order, before splitting into cards."""
    elements: list[Any] = [text(e(view.title), weight="Bolder", size="Large")]
    if view.learnings_count == 0:
        elements.append(text("No learnings were shared in this period."))
    else:
        elements.append(
            text(
                f"**{view.learnings} learnings** this week from "
                f"**{_agencies(view.agencies_contributing)}**."
            )
        )
    if view.rising:
        elements.append(text("Rising: " + ", ".join(_trend(t) for t in view.rising) + "."))
    if view.falling:
        elements.append(text("Falling: " + ", ".join(_trend(t) for t in view.falling) + "."))
    elements.append(
        text(f"{e(view.scope_label)} · {e(view.period_label)}", is_subtle=True, size="Small")
    )
    if view.participation:
        elements.append(
            text("**Who took part** — counts per agency, never per person", separator=True)
        )
        elements += [
            text(f"• {e(p.agency)}: {p.learnings} learnings from {p.people} people")
            for p in view.participation
        ]
    if view.themes:
        elements.append(text("**Themes across agencies** (chart below)", separator=True))
        for line in view.themes:
            agencies = ", ".join(f"{e(name)} {n}" for name, n in line.by_agency)
            by = f": {agencies}" if agencies else ""
            elements.append(text(f"• **{e(line.theme)}** — {line.total}{by}"))
    if view.patterns:
        elements.append(
            text(
                "**Shared patterns** — the same thing said in more than one agency",
                separator=True,
            )
        )
        for pattern in view.patterns:
            elements += _pattern(pattern)
    if view.quotes:
        elements.append(text("**In their words**", separator=True))
        for quote in view.quotes:
            elements += _quote(quote)
    b = view.barriers
    if not b.empty:
        elements.append(text("**Barriers**", separator=True))
        if b.new:
            elements += _barrier_lines("New", b.new)
        if b.moved_up:
            elements += _barrier_lines("Moved up the ladder", b.moved_up)
        if b.stale:
            elements += _barrier_lines("Stale — no update for 14 days", b.stale)
        if b.resolved:
            elements += _barrier_lines("Resolved — you said, we did", b.resolved)
    elements.append(
        text(
            "Counts are per agency, never per person; counts under "
            f"{view.suppress_below} show as “fewer than {view.suppress_below}”. "
            "Anonymous learnings are never attributed.",
            is_subtle=True,
            size="Small",
            separator=True,
        )
    )
    return elements


def _bytes(element: Any) -> int:
    return len(json.dumps(element.model_dump(exclude_none=True)).encode())


def digest_cards(view: DigestView) -> list[AdaptiveCard]:
    """The digest as cards: the first posted in the channel, the rest as thread replies."""
    summary = (
        f"{view.title}: {view.learnings} learnings from {_agencies(view.agencies_contributing)}."
    )
    chunks: list[list[Any]] = [[]]
    size = 0
    for element in digest_elements(view):
        element_size = _bytes(element)
        if chunks[-1] and size + element_size > MAX_CARD_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(element)
        size += element_size
    cards = []
    for index, chunk in enumerate(chunks):
        if index == 0 and len(chunks) > 1:
            chunk = [*chunk, text(CONTINUED, is_subtle=True, size="Small")]
        cards.append(
            card(*chunk, fallback_text=summary if index == 0 else f"{summary} (continued)")
        )
    return cards


def digest_card_dicts(view: DigestView) -> list[dict[str, Any]]:
    """The cards as Teams receives them (for tests and previews)."""
    return [card_dict(c) for c in digest_cards(view)]
