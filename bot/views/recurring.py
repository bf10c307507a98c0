"""Barriers we keep meeting: the stewards' digest section, written once for every platform.

The domain (bot/domain/recurring.py) groups the weeks' "what got in the way" answers and fills
in `RecurringBarrier`s; this module writes their sentences and the "Raise as a barrier" button,
whose value carries the check-ins it links (the service re-checks each one when it is pressed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.domain.suppression import Count
from bot.views.message import Actions, Block, Button, Divider, Group, Paragraph
from bot.views.message import Quote as QuoteBlock
from bot.views.words import Emph, Strong, Words, words

if TYPE_CHECKING:
    from bot.views.digest import Quote

HEADING = "Barriers we keep meeting"
RAISE = "Raise as a barrier"
NOBODY_RAISED = "Raised by no one for {weeks} weeks"
# Agencies are named up to this many; beyond it only their number is given.
MAX_NAMED = 4


class RecurringAction(StrEnum):
    """The section's button id (Slack and Teams handlers listen for it)."""

    RAISE = "recurring_barrier_raise"


@dataclass(frozen=True)
class RecurringBarrier:
    """One barrier that keeps coming up in "what got in the way" answers."""

    label: str
    agencies: tuple[str, ...]  # agencies that may be named (never an anonymous answer's)
    agency_count: Count  # how many of them (suppressed): said only when the names are too many
    anonymous: bool  # some answers were anonymous (they name no agency)
    weeks: int  # distinct weeks it came up in
    answers: Count  # suppressed
    quotes: tuple[Quote, ...]
    checkin_ids: tuple[int, ...]  # what "Raise as a barrier" links, newest first
    raised_as: str | None = None  # title of a barrier in the register it is linked to
    flagged: bool = False  # nobody raised it, and it has come up for FLAG_AFTER_WEEKS weeks


def button_value(ids: Sequence[int]) -> str:
    """What the button carries: the check-in ids, comma separated."""
    return ",".join(str(i) for i in ids)


def parse_button_value(value: str) -> list[int]:
    """The check-in ids from a button's value; ValueError when it is not such a list."""
    ids = [int(part) for part in value.split(",") if part.strip()]
    if not ids or any(i <= 0 for i in ids):
        raise ValueError(value)
    return ids


def _where(item: RecurringBarrier) -> str:
    """ "came up in A and B, and anonymously, over 3 weeks (fewer than 3 answers)"."""
    names = list(item.agencies)
    if len(names) > MAX_NAMED:
        where = f"in {item.agency_count.of('agency', 'agencies')}"
    elif len(names) > 1:
        where = f"in {', '.join(names[:-1])} and {names[-1]}"
    else:
        where = f"in {names[0]}" if names else ""
    if item.anonymous:
        where = f"{where}, and anonymously" if where else "anonymously"
    weeks = "1 week" if item.weeks == 1 else f"{item.weeks} weeks"
    return f"came up {where} over {weeks} ({item.answers.of('answer')})"


def recurring_heading(item: RecurringBarrier) -> Words:
    """ "Pharmacy registration — came up in A and B over 3 weeks (4 answers)"."""
    name = item.label or (item.quotes[0].text[:60] if item.quotes else "A barrier")
    return words(Strong(name), f" — {_where(item)}")


def recurring_block(item: RecurringBarrier) -> list[Block]:
    """One recurring barrier: where and how long, a flag or where it was raised, its quotes."""
    from bot.views.digest import byline

    items: list[Paragraph | QuoteBlock] = [Paragraph(recurring_heading(item))]
    if item.raised_as:
        items.append(Paragraph(words(Emph("Raised as a barrier: "), item.raised_as)))
    elif item.flagged:
        items.append(Paragraph(words("⚠️ ", Strong(NOBODY_RAISED.format(weeks=item.weeks)))))
    items += [QuoteBlock(q.text, byline(q)) for q in item.quotes]
    blocks: list[Block] = [Group(tuple(items))]
    if item.raised_as is None:
        blocks.append(
            Actions(
                (
                    Button(
                        RAISE,
                        RecurringAction.RAISE,
                        button_value(item.checkin_ids),
                        opens_form=True,
                    ),
                )
            )
        )
    return blocks


def recurring_section(items: Sequence[RecurringBarrier]) -> list[Block]:
    """The whole section, or nothing when no barrier came up again."""
    if not items:
        return []
    blocks: list[Block] = [
        Divider(),
        Paragraph(
            words(
                Strong(HEADING),
                " — what got in the way, said again in other weeks or agencies. "
                "Raise one to link its check-ins; their authors hear what happens.",
            )
        ),
    ]
    for item in items:
        blocks += recurring_block(item)
    return blocks
