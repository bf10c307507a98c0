"""The learning library: what `find` answers, written once for every platform.

Slack (`/learnloop find …`) and Teams (`find …` typed to the bot) lay out the same message:
each result's date, themes, agency (or "Anonymous", never an anonymous entry's agency) and a
short excerpt, newest first, with a "More results" button while there are more.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bot.views.message import Actions, Block, Button, Message, Paragraph, Part, Quote
from bot.views.words import Literal, Words, words

MORE_RESULTS = "More results"
SCOPE = (
    "Searched: your own learnings, your agency's, and those shared with the alliance. "
    "Anonymous learnings never show an agency."
)


class LibraryAction(StrEnum):
    """Ids of the library's buttons, the same on both platforms."""

    MORE = "library_more"  # value: the search and where its last page ended


@dataclass(frozen=True)
class FoundEntry:
    """One learning found: never its author's name, and no agency when it is anonymous."""

    saved_on: dt.date
    themes: tuple[str, ...]
    byline: str
    excerpt: str


@dataclass(frozen=True)
class FindView:
    """One page of a search's results, or the reason it could not be run."""

    query: str
    entries: tuple[FoundEntry, ...] = ()
    more: str | None = None
    first_page: bool = True
    problem: Words | None = None


def _line(entry: FoundEntry) -> Part:
    themes = ", ".join(entry.themes) if entry.themes else "No theme"
    said = words(f"{entry.saved_on:%-d %b %Y} · {themes} · {entry.byline}")
    return Part((Quote(entry.excerpt or "(no text)", said),))


def find_message(view: FindView) -> Message:
    """The answer to `find`: results, nothing found, or what to type instead."""
    if view.problem is not None:
        return Message(summary=view.problem, blocks=(Paragraph(view.problem),))
    asked = Literal(view.query)
    if not view.entries:
        said = (
            words(
                "Nothing found for ",
                asked,
                " among the learnings you can read. Try fewer or different words, or search "
                "without --theme or --agency.",
            )
            if view.first_page
            else words("No more learnings match ", asked, ".")
        )
        return Message(summary=said, blocks=(Paragraph(said),))
    head = (
        words("Learnings matching ", asked, ", newest first:")
        if view.first_page
        else words("More learnings matching ", asked, ":")
    )
    blocks: list[Block] = [Paragraph(head)]
    blocks.extend(_line(e) for e in view.entries)
    if view.more is not None:
        blocks.append(Actions((Button(MORE_RESULTS, action=LibraryAction.MORE, value=view.more),)))
    blocks.append(Paragraph(words(SCOPE), subtle=True))
    return Message(summary=head, blocks=tuple(blocks))
