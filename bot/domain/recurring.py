"""Barriers we keep meeting: "what got in the way" answers that come back, raised or not.

Pure. The barrier answers of the last few weeks are grouped by the pattern finder
(bot/domain/patterns.py, the same finder as the digest's shared patterns); a group is a barrier
"we keep meeting" when it came up in more than one week or more than one agency, and at least
once in the digest's own period. Only answers the audience may read take part (the visibility
policy, bot/domain/visibility.py); an anonymous answer adds to the count of answers and the
weeks but never names, or counts towards, an agency. The count of answers goes through the one
suppression rule. A group none of whose check-ins is linked to a barrier in the register for
FLAG_AFTER_WEEKS weeks is flagged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.domain.checkins import Visibility
from bot.domain.digest import CheckinFact, shorten, week_key
from bot.domain.patterns import SynonymTable, find_groups
from bot.domain.suppression import suppress
from bot.domain.visibility import Audience, attribution, can_read, may_name_author
from bot.views.digest import Quote
from bot.views.recurring import RecurringBarrier

# How far back answers are read to see whether a barrier keeps coming up.
LOOKBACK_WEEKS = 8
# A recurring barrier that nobody raised is flagged once it has come up in this many weeks.
FLAG_AFTER_WEEKS = 3
MAX_RECURRING = 5
MAX_QUOTES = 2
# Check-ins a "Raise as a barrier" button links at most (Slack caps a button's value at 2,000).
MAX_LINKED = 40


@dataclass(frozen=True)
class RecurringInputs:
    """The barrier answers of the lookback window (the period's included) and the register."""

    audience: Audience
    period_start: dt.datetime
    period_end: dt.datetime
    zone: ZoneInfo
    entries: Sequence[CheckinFact]
    raised: Mapping[int, str]  # check-in id -> title of a barrier it is linked to
    agency_names: Mapping[str, str]
    suppress_below: int
    table: SynonymTable | None = None


def lookback_start(period_start: dt.datetime) -> dt.datetime:
    """Where the answers read for "Barriers we keep meeting" begin."""
    return period_start - dt.timedelta(weeks=LOOKBACK_WEEKS - 1)


def _nameable_agency(audience: Audience, entry: CheckinFact) -> str | None:
    """The agency an answer may name for this audience (never an anonymous one's)."""
    if not may_name_author(audience, entry) or audience.kind == "author":
        return None
    if audience.kind == "agency" or entry.visibility == Visibility.ALLIANCE:
        return entry.agency_id
    return None


def recurring_barriers(
    inputs: RecurringInputs, limit: int = MAX_RECURRING
) -> list[RecurringBarrier]:
    """The barriers this audience keeps meeting, flagged and unraised ones first."""
    audience = inputs.audience
    entries = [e for e in inputs.entries if can_read(audience, e) and e.barrier.strip()]
    # The same words (a template, a short stock answer) are analysed once.
    same: dict[str, list[int]] = {}
    for index, entry in enumerate(entries):
        same.setdefault(entry.barrier, []).append(index)
    texts = list(same)
    groups = find_groups(texts, table=inputs.table)
    found: list[tuple[tuple[int, int, int, int, int], RecurringBarrier]] = []
    for group in groups:
        members = sorted(
            (entries[i] for u in group.members for i in same[texts[u]]),
            key=lambda e: (e.created_at, e.id),
            reverse=True,
        )
        if len(members) < 2:
            continue
        if not any(inputs.period_start <= m.created_at < inputs.period_end for m in members):
            continue  # it did not come up this time
        weeks = {week_key(m.created_at, inputs.zone) for m in members}
        named = {a for a in (_nameable_agency(audience, m) for m in members) if a is not None}
        # Said twice in one week by one agency is not meeting it again. Only agencies the
        # reader may see count here, so whether a group shows says nothing of anonymous authors.
        if len(weeks) < 2 and len(named) < 2:
            continue
        anonymous = any(m.visibility == Visibility.ANONYMOUS for m in members)
        raised = next((inputs.raised[m.id] for m in members if m.id in inputs.raised), None)
        flagged = raised is None and len(weeks) >= FLAG_AFTER_WEEKS
        item = RecurringBarrier(
            label=group.label(set(range(len(texts)))),
            agencies=tuple(sorted(inputs.agency_names.get(a, a) for a in named)),
            agency_count=suppress(len(named), inputs.suppress_below),
            anonymous=anonymous,
            weeks=len(weeks),
            answers=suppress(len(members), inputs.suppress_below),
            quotes=tuple(_quote(inputs, m) for m in _quoted(audience, members)),
            checkin_ids=tuple(m.id for m in members[:MAX_LINKED]),
            raised_as=raised,
            flagged=flagged,
        )
        rank = (
            0 if flagged else 1,
            0 if raised is None else 1,
            -len(weeks),
            -len(named),
            min(m.id for m in members),
        )
        found.append((rank, item))
    found.sort(key=lambda pair: pair[0])
    return [item for _, item in found[:limit]]


def _turn(audience: Audience, entry: CheckinFact) -> str:
    """An answer whose author may not be named is its own turn, whatever its agency."""
    return entry.agency_id if may_name_author(audience, entry) else f"anonymous:{entry.id}"


def _quoted(audience: Audience, members: Sequence[CheckinFact]) -> list[CheckinFact]:
    """The newest answer, then the newest of another turn (another agency, or anonymous)."""
    chosen = [members[0]]
    turns = {_turn(audience, members[0])}
    said = {_said(members[0])}
    for member in members[1:]:
        if len(chosen) == MAX_QUOTES:
            break
        # The same words twice (a template, a re-sent answer) are quoted once.
        if _turn(audience, member) not in turns and _said(member) not in said:
            chosen.append(member)
            turns.add(_turn(audience, member))
            said.add(_said(member))
    return chosen


def _said(entry: CheckinFact) -> str:
    return " ".join(entry.barrier.lower().split())


def _quote(inputs: RecurringInputs, entry: CheckinFact) -> Quote:
    audience = inputs.audience
    name = entry.author_name if may_name_author(audience, entry) else None
    agency = inputs.agency_names.get(entry.agency_id, entry.agency_id)
    return Quote(
        text=shorten(entry.barrier),
        byline=attribution(audience, entry, name, agency),
        themes=entry.themes,
    )
