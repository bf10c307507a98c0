"""Who may read a check-in, and under what name: the one policy every output goes through.

Digests, escalation cards, exports, App Home and reports all ask this module; none of them
decides on its own. The author's choice per entry is the rule:

- *just my team*: readable in the author's own agency (and by the author), with their name;
- *the alliance, with my name*: readable everywhere, attributed to the author and agency;
- *the alliance, anonymously*: readable everywhere, never attributed to anyone — not even the
  agency, which in a small team could point at the person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from bot.domain.checkins import Visibility

ANONYMOUS_LABEL = "Anonymous"


@dataclass(frozen=True)
class Audience:
    """Who an output is for."""

    kind: Literal["alliance", "agency", "author", "member"]
    agency_id: str | None = None
    member_id: int | None = None

    @classmethod
    def alliance(cls) -> Audience:
        """Everyone in the alliance (steward channels, board reports)."""
        return cls("alliance")

    @classmethod
    def agency(cls, agency_id: str) -> Audience:
        """One agency's people (its channel, its managers)."""
        return cls("agency", agency_id=agency_id)

    @classmethod
    def author(cls, member_id: int) -> Audience:
        """The author themself (their export, their App Home)."""
        return cls("author", member_id=member_id)

    @classmethod
    def member(cls, member_id: int, agency_id: str) -> Audience:
        """One person reading for themself (the learning library): what they wrote, what
        their agency may read, and what was shared with the alliance."""
        return cls("member", agency_id=agency_id, member_id=member_id)


class Entry(Protocol):
    """What the policy needs to know about a check-in."""

    @property
    def visibility(self) -> str: ...

    @property
    def agency_id(self) -> str: ...

    @property
    def member_id(self) -> int | None: ...


E = TypeVar("E", bound=Entry)


def can_read(audience: Audience, entry: Entry) -> bool:
    """Whether this audience may read this entry at all."""
    if audience.kind == "author":
        return entry.member_id is not None and entry.member_id == audience.member_id
    if audience.kind == "agency":
        return entry.agency_id == audience.agency_id
    if audience.kind == "member":
        assert audience.member_id is not None and audience.agency_id is not None
        return (
            can_read(Audience.author(audience.member_id), entry)
            or can_read(Audience.agency(audience.agency_id), entry)
            or can_read(Audience.alliance(), entry)
        )
    return entry.visibility in (Visibility.ALLIANCE, Visibility.ANONYMOUS)


def readable(audience: Audience, entries: Iterable[E]) -> list[E]:
    """The entries this audience may read, in the order given."""
    return [e for e in entries if can_read(audience, e)]


def attribution(audience: Audience, entry: Entry, author_name: str | None, agency_name: str) -> str:
    """The byline to show with a quoted entry (call only for entries `can_read` allows)."""
    if not can_read(audience, entry):
        raise PermissionError("attribution asked for an entry this audience may not read")
    if _own(audience, entry):
        return "You"
    if entry.visibility == Visibility.ANONYMOUS:
        return ANONYMOUS_LABEL
    if audience.kind == "agency" or not author_name:
        return author_name or agency_name
    return f"{author_name}, {agency_name}"


def may_name_author(audience: Audience, entry: Entry) -> bool:
    """Whether the author's identity (name or id) may appear in this audience's output."""
    if _own(audience, entry):
        return True
    return can_read(audience, entry) and entry.visibility != Visibility.ANONYMOUS


def may_quote_in_scope(
    entry: Entry,
    scope_agency: str | None,
    contributors: Mapping[str, int],
    threshold: int,
) -> bool:
    """k-anonymity: whether an output scoped to `scope_agency` may quote this entry at all.

    An anonymous entry hides only in a crowd. In an output scoped to its own agency (that
    agency's channel, its managers' DMs) it is quoted only when the agency had at least
    `threshold` contributors in the period; else a small team could tell who wrote it, and it
    appears only in alliance-level outputs (scope None), where no agency is named with it.
    `contributors` is never shown: it is the gate, not a count anyone reads.
    """
    if entry.visibility != Visibility.ANONYMOUS or scope_agency is None:
        return True
    if entry.agency_id != scope_agency:
        # Quoted without its agency among every other agency's: nothing points at a team.
        return True
    return contributors.get(entry.agency_id, 0) >= threshold


def quotable_in_scope(
    entries: Iterable[E],
    scope_agency: str | None,
    contributors: Mapping[str, int],
    threshold: int,
) -> list[E]:
    """The entries an output scoped to `scope_agency` may quote (see `may_quote_in_scope`)."""
    return [e for e in entries if may_quote_in_scope(e, scope_agency, contributors, threshold)]


def may_name_agency(audience: Audience, entry: Entry) -> bool:
    """Whether the entry's agency may appear next to it (never for someone else's anonymous
    entry: in a small agency the agency points at the person)."""
    return may_name_author(audience, entry)


def _own(audience: Audience, entry: Entry) -> bool:
    if audience.kind == "author":
        return True
    return (
        audience.kind == "member"
        and entry.member_id is not None
        and entry.member_id == audience.member_id
    )
