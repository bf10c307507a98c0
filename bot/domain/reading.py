"""Answers read, not only counted: the answers an audience may read, similar ones together.

Pure. Used by the purpose section and inquiry summaries. The caller passes only entries the
visibility policy lets the audience read; the pattern finder (bot/domain/patterns.py, the same
finder as the digest's) groups them, every answer it leaves alone is a group of its own, and
each group is quoted by at most a few of its answers. A group's size goes through the one
suppression rule, so "said in fewer than 3 answers" is all a small group says of its size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.domain.patterns import SynonymTable, find_groups
from bot.domain.suppression import Count, suppress

E = TypeVar("E")

MAX_GROUPS = 6
QUOTES_PER_GROUP = 2


@dataclass(frozen=True)
class ReadGroup(Generic[E]):
    """Answers that say the same thing: a short label, how many (suppressed), what to quote."""

    label: str
    size: Count
    members: int  # the real size, only to order groups: never shown
    quoted: tuple[E, ...]


def read_answers(
    entries: Sequence[E],
    text_of: Callable[[E], str],
    threshold: int,
    *,
    table: SynonymTable | None = None,
    max_groups: int = MAX_GROUPS,
    quotes_per_group: int = QUOTES_PER_GROUP,
) -> list[ReadGroup[E]]:
    """Readable answers grouped, biggest groups first, then in the order given (newest last).

    Identical answers are quoted once. Groups of one carry no label: the quote says it.
    """
    texts = [text_of(e) for e in entries]
    kept = [i for i, text in enumerate(texts) if text.strip()]
    grouped: list[tuple[str, list[int]]] = []
    seen: set[int] = set()
    for group in find_groups([texts[i] for i in kept], table=table):
        members = [kept[i] for i in group.members]
        seen.update(members)
        label = group.label(set(range(len(kept)))) if len(members) > 1 else ""
        grouped.append((label, members))
    grouped += [("", [i]) for i in kept if i not in seen]
    # Bigger first; then the group whose newest answer is newest.
    grouped.sort(key=lambda g: (-len(g[1]), -max(g[1])))
    out: list[ReadGroup[E]] = []
    for label, members in grouped[:max_groups]:
        quoted: list[int] = []
        said: set[str] = set()
        for i in sorted(members, reverse=True):
            key = " ".join(texts[i].lower().split())
            if key not in said:
                said.add(key)
                quoted.append(i)
            if len(quoted) == quotes_per_group:
                break
        out.append(
            ReadGroup(
                label=label,
                size=suppress(len(members), threshold),
                members=len(members),
                quoted=tuple(entries[i] for i in quoted),
            )
        )
    return out
