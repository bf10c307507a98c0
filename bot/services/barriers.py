"""The barrier register, read side: cards, lists, the digest's summary and the export.

Nothing here ever reads who raised a barrier, except to tell a named raiser's card apart from an
anonymous one: an anonymous raiser's id never leaves this module in any view, item or record.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.config import AllianceConfig
from bot.domain.errors import LearnLoopError
from bot.domain.escalation import (
    STALE_AFTER,
    EscalationStatus,
    allowed_actions,
    is_stale,
    next_level,
)
from bot.domain.suppression import suppressed
from bot.ports import Clock
from bot.views import BarrierCardView, BarrierChangeView, BarrierLine, BarrierListView
from storage.escalations import OPEN_STATUSES
from storage.models import EscalationEventRow, EscalationRow
from storage.uow import UnitOfWork, UnitOfWorkFactory

# `/barriers all` and friends show this many; the export has everything.
LIST_LIMIT = 40
TERMINAL_KINDS = ("resolved", "closed")
WHICH: tuple[str, ...] = ("open", "mine", "stale", "all")
USAGE = (
    "Try `/barriers` (open ones), `/barriers mine` (ones you raised, own or linked a check-in "
    "to), `/barriers stale` (no change for 2 weeks) or `/barriers all`."
)


class UnknownFilter(LearnLoopError):
    """`/barriers` was given a word it does not know."""

    code = "unknown_filter"


# --------------------------------------------------------------------------- the digest's view


@dataclass(frozen=True)
class BarrierItem:
    """One barrier as the digest and other readers see it (never who raised it)."""

    id: int
    title: str
    status: str
    status_label: str
    level: str
    level_name: str
    agencies: list[str]
    owner_user_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    card_url: str | None
    channel_id: str | None
    outcome: str | None


@dataclass(frozen=True)
class MovedUp:
    """A barrier that went up the ladder in the period."""

    barrier: BarrierItem
    from_level_name: str
    to_level_name: str
    at: dt.datetime


@dataclass(frozen=True)
class BarrierSummary:
    """What happened in the register in [start, end), for the digest's barrier section."""

    start: dt.datetime
    end: dt.datetime
    new: list[BarrierItem] = field(default_factory=list)
    moved_up: list[MovedUp] = field(default_factory=list)
    stale: list[BarrierItem] = field(default_factory=list)
    resolved: list[BarrierItem] = field(default_factory=list)
    closed: list[BarrierItem] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Whether there is nothing to report."""
        return not (self.new or self.moved_up or self.stale or self.resolved or self.closed)


# --------------------------------------------------------------------------- the register


class BarrierRegister:
    """Reads the register for cards, `/barriers`, the digest and the export."""

    def __init__(self, uow: UnitOfWorkFactory, alliance: AllianceConfig, clock: Clock) -> None:
        self.uow = uow
        self.alliance = alliance
        self.clock = clock

    # ------------------------------------------------------------------ names

    @property
    def ladder(self) -> list[str]:
        """The ladder's levels, lowest first."""
        return [rung.level for rung in self.alliance.escalation_ladder]

    def level_name(self, level: str) -> str:
        """A level's name from the config (its id if it was removed from the ladder)."""
        for rung in self.alliance.escalation_ladder:
            if rung.level == level:
                return rung.name
        return level

    def level_channel(self, level: str) -> str | None:
        """The channel of a ladder level, if it is still on the ladder."""
        for rung in self.alliance.escalation_ladder:
            if rung.level == level:
                return rung.channel
        return None

    def agency_names(self, agency_ids: Sequence[str]) -> list[str]:
        """Agency names from the config, in the order given."""
        names = {a.id: a.name for a in self.alliance.agencies}
        return [names.get(a, a) for a in agency_ids]

    # ------------------------------------------------------------------ cards

    def card_view(self, uow: UnitOfWork, row: EscalationRow, note: str = "") -> BarrierCardView:
        """The card for a barrier as it is now."""
        status = EscalationStatus(row.status)
        up = next_level(self.ladder, row.level)
        last = uow.escalations.last_event(row.id)
        change = None
        if last is not None:
            change = BarrierChangeView(
                kind=last.kind,
                at=last.at,
                # The "raised" event of an anonymous raiser has no actor; a named raiser's card
                # already says who raised it, so the actor is only shown for steward changes.
                actor_user_id=_user_id(uow, last.actor_id) if last.kind != "raised" else None,
                to_level_name=self.level_name(last.to_level) if last.to_level else None,
            )
        raiser = None
        if not row.raiser_anonymous:
            raiser = _user_id(uow, row.raised_by_id)
        return BarrierCardView(
            barrier_id=row.id,
            version=row.version,
            title=row.title,
            description=row.description,
            status=status.value,
            status_label=status.label,
            level_name=self.level_name(row.level),
            raised_on=row.created_at.astimezone(self.alliance.alliance.zone).date(),
            who_is_affected=row.who_is_affected,
            agency_names=self.agency_names(row.agencies or []),
            owner_user_id=_user_id(uow, row.owner_id),
            raised_by_user_id=raiser,
            linked_checkins=len(uow.escalations.linked_checkins(row.id)),
            outcome=row.outcome,
            last_change=change,
            actions=[a.value for a in allowed_actions(status, up is not None)],
            next_level_name=self.level_name(up) if up else None,
            note=note,
        )

    # ------------------------------------------------------------------ /barriers

    def listing(self, platform: str, user_id: str, which: str) -> BarrierListView:
        """The compact list `/barriers [open|mine|stale|all]` answers with."""
        which = (which or "open").strip().lower()
        if which not in WHICH:
            raise UnknownFilter(f"I don't know `/barriers {which}`. {USAGE}")
        now = self.clock()
        with self.uow() as uow:
            filters: dict[str, Any] = {}
            if which == "mine":
                member = uow.members.by_platform_id(platform, user_id)
                # -1 matches nobody: someone with no member row has no barriers.
                filters = {"member_id": member.id if member else -1}
                heading = "Barriers you raised, own or linked a check-in to"
                empty = (
                    "You haven't raised, owned or linked a check-in to any barrier yet. "
                    "`/escalate` raises one."
                )
            elif which == "stale":
                filters = {"statuses": OPEN_STATUSES, "changed_before": now - STALE_AFTER}
                heading = f"Barriers with no change for {STALE_AFTER.days // 7} weeks or more"
                empty = "No stale barriers: every open barrier has moved in the last two weeks."
            elif which == "all":
                heading = "All barriers"
                empty = "No barriers have been raised yet. `/escalate` raises one."
            else:
                filters = {"statuses": OPEN_STATUSES}
                heading = "Open barriers"
                empty = "No open barriers right now. `/escalate` raises one."
            rows = uow.escalations.listing(**filters, limit=LIST_LIMIT)
            total = len(rows) if len(rows) < LIST_LIMIT else uow.escalations.count(**filters)
            lines = [self._line(uow, row, now) for row in rows]
        return BarrierListView(heading=heading, lines=lines, total=total, empty_text=empty)

    def _line(self, uow: UnitOfWork, row: EscalationRow, now: dt.datetime) -> BarrierLine:
        return BarrierLine(
            barrier_id=row.id,
            title=row.title,
            status_label=EscalationStatus(row.status).label,
            level_name=self.level_name(row.level),
            days_since_change=max(0, (now - row.updated_at).days),
            owner_user_id=_user_id(uow, row.owner_id),
            card_url=row.card_url,
            channel=row.channel_id,
        )

    def stale_lines(self, uow: UnitOfWork, now: dt.datetime) -> dict[str, list[BarrierLine]]:
        """Stale barriers grouped by ladder level, most neglected first."""
        rows = uow.escalations.listing(statuses=OPEN_STATUSES, changed_before=now - STALE_AFTER)
        grouped: dict[str, list[BarrierLine]] = {}
        for row in sorted(rows, key=lambda r: (r.updated_at, r.id)):
            if is_stale(row.status, row.updated_at, now):
                grouped.setdefault(row.level, []).append(self._line(uow, row, now))
        return grouped

    # ------------------------------------------------------------------ the digest

    def summary_for_period(self, start: dt.datetime, end: dt.datetime) -> BarrierSummary:
        """New, moved up, stale (as at `end`), resolved and closed barriers in [start, end)."""
        with self.uow() as uow:
            new_rows = uow.escalations.created_between(start, end)
            moves = uow.escalations.events_between(["escalated"], start, end)
            endings = uow.escalations.events_between(list(TERMINAL_KINDS), start, end)
            candidates = uow.escalations.stale_candidates(end - STALE_AFTER, end - STALE_AFTER)
            history = _by_barrier(uow.escalations.history([r.id for r in candidates]))
            rows = uow.escalations.by_ids(
                [e.escalation_id for e in [*moves, *endings]] + [r.id for r in new_rows]
            )
            rows.update({r.id: r for r in candidates})
            items = {row_id: self._item(uow, row) for row_id, row in rows.items()}
            return BarrierSummary(
                start=start,
                end=end,
                new=[items[r.id] for r in new_rows],
                moved_up=[
                    MovedUp(
                        barrier=items[e.escalation_id],
                        from_level_name=self.level_name(e.from_level or ""),
                        to_level_name=self.level_name(e.to_level or ""),
                        at=e.at,
                    )
                    for e in moves
                ],
                stale=[items[r.id] for r in candidates if _stale_at(history.get(r.id, []), end)],
                resolved=[items[e.escalation_id] for e in endings if e.kind == "resolved"],
                closed=[items[e.escalation_id] for e in endings if e.kind == "closed"],
            )

    def _item(self, uow: UnitOfWork, row: EscalationRow) -> BarrierItem:
        status = EscalationStatus(row.status)
        return BarrierItem(
            id=row.id,
            title=row.title,
            status=status.value,
            status_label=status.label,
            level=row.level,
            level_name=self.level_name(row.level),
            agencies=list(row.agencies or []),
            owner_user_id=_user_id(uow, row.owner_id),
            created_at=row.created_at,
            updated_at=row.updated_at,
            card_url=row.card_url,
            channel_id=row.channel_id,
            outcome=row.outcome,
        )

    # ------------------------------------------------------------------ the export

    def export_records(self) -> list[dict[str, Any]]:
        """Every barrier with its history, for board papers. No raiser appears, ever."""
        threshold = self.alliance.alliance.suppress_below
        with self.uow() as uow:
            rows = sorted(uow.escalations.listing(), key=lambda r: r.id)
            ids = [r.id for r in rows]
            events_of = _by_barrier(uow.escalations.history(ids))
            linked = uow.escalations.linked_counts(ids)
            people = {e.actor_id for es in events_of.values() for e in es} | {
                r.owner_id for r in rows
            }
            user_ids = _user_ids(uow, {p for p in people if p is not None})
            records = []
            for row in rows:
                events = events_of.get(row.id, [])
                ended = next((e.at for e in reversed(events) if e.kind in TERMINAL_KINDS), None)
                records.append(
                    {
                        "id": row.id,
                        "title": row.title,
                        "status": EscalationStatus(row.status).label,
                        "level": row.level,
                        "level_name": self.level_name(row.level),
                        "agencies": self.agency_names(row.agencies or []),
                        "who_is_affected": row.who_is_affected or "",
                        "description": row.description,
                        "owner": user_ids.get(row.owner_id, "") if row.owner_id else "",
                        "outcome": row.outcome or "",
                        "raised_on": row.created_at.isoformat(),
                        "last_change": row.updated_at.isoformat(),
                        "ended_on": ended.isoformat() if ended else "",
                        # A count like any other: small ones read "fewer than N".
                        "linked_checkins": suppressed(linked.get(row.id, 0), threshold),
                        "card_url": row.card_url or "",
                        "history": [_event_record(e, user_ids) for e in events],
                    }
                )
        return records


CSV_COLUMNS = (
    "id",
    "title",
    "status",
    "level",
    "level_name",
    "agencies",
    "who_is_affected",
    "description",
    "owner",
    "outcome",
    "raised_on",
    "last_change",
    "ended_on",
    "linked_checkins",
    "card_url",
)


def records_as_csv(records: Sequence[dict[str, Any]]) -> str:
    """The export as CSV: one row per barrier (the history is in the JSON export)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for record in records:
        row = {**record, "agencies": "; ".join(record["agencies"])}
        writer.writerow({key: spreadsheet_safe(value) for key, value in row.items()})
    return out.getvalue()


# A spreadsheet runs a cell that starts with one of these as a formula (or DDE command).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a leading `'` defuses `=HYPERLINK(…)` and kin.

    The board papers this goes into are opened in Excel or Sheets, where a barrier title such
    as `=HYPERLINK("http://…")` would otherwise run. Only text is touched; numbers stay numbers.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def records_as_json(records: Sequence[dict[str, Any]]) -> str:
    """The export as JSON, history included."""
    return json.dumps({"barriers": list(records)}, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- helpers


def _user_id(uow: UnitOfWork, member_id: int | None) -> str | None:
    if member_id is None:
        return None
    member = uow.members.get(member_id)
    return member.platform_user_id if member else None


def _user_ids(uow: UnitOfWork, member_ids: set[int]) -> dict[int, str]:
    return uow.escalations.platform_ids(member_ids)


def _event_record(event: EscalationEventRow, actors: dict[int, str]) -> dict[str, Any]:
    # Who raised a barrier is never exported, named or not: board papers need the barrier.
    actor = None if event.kind == "raised" or event.actor_id is None else actors.get(event.actor_id)
    return {
        "at": event.at.isoformat(),
        "kind": event.kind,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "from_level": event.from_level,
        "to_level": event.to_level,
        "by": actor,
        "note": event.note,
    }


def _by_barrier(events: Sequence[EscalationEventRow]) -> dict[int, list[EscalationEventRow]]:
    grouped: dict[int, list[EscalationEventRow]] = {}
    for event in events:
        grouped.setdefault(event.escalation_id, []).append(event)
    return grouped


def _stale_at(events: Sequence[EscalationEventRow], end: dt.datetime) -> bool:
    """Whether a barrier's last change before `end` was not an ending and is STALE_AFTER old."""
    last = None
    for event in events:
        if event.at < end:
            last = event
    if last is None:
        return False
    return last.kind not in TERMINAL_KINDS and end - last.at >= STALE_AFTER
