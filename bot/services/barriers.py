"""The barrier register: raising barriers, moving them along the ladder, and reading them back.

Writing: every change is one conditional UPDATE on the barrier's version plus an event and an
audit row, committed together before anyone is told; the card, the pointer and the DMs follow
(after the ack), built by `bot.views.barriers` from what is stored. Reading: cards, `/barriers`
lists, the digest's summary and the export.

An anonymous raiser's member id is stored so they can be told what happens, and is read by
nothing that renders for stewards: it never leaves this module in any view, item or record.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.alliance import DEFAULT_QUESTION_SET, AllianceConfig, QuestionSet
from bot.domain.answers import barrier_text
from bot.domain.checkins import Visibility
from bot.domain.cycles import is_due
from bot.domain.errors import DataDeleted, LearnLoopError, NotFound, ValidationFailed
from bot.domain.escalation import (
    STALE_AFTER,
    Action,
    EscalationStatus,
    NoLadder,
    StaleBarrier,
    allowed_actions,
    check_version,
    is_stale,
    next_level,
    plan_move,
    prepare_barrier,
    suggested_title,
)
from bot.domain.platforms import platform_of
from bot.domain.roles import Role, require
from bot.domain.suppression import suppressed
from bot.ports import Clock, Mailer, MailError, MessageRef, Messenger, MessengerError
from bot.services.base import MemberFacingService
from bot.services.members import MemberService
from bot.views.barriers import (
    BarrierCardView,
    BarrierChangeView,
    BarrierLine,
    BarrierListView,
    BarrierNoticeView,
    BarrierPointerView,
    BarrierRef,
    EscalateFormView,
    StaleBarriersView,
    barrier_card,
    barrier_notice,
    barrier_pointer,
    not_posted_note,
    stale_barriers,
    unknown_filter,
)
from bot.views.message import Message
from bot.views.words import Cmd, Command, words
from storage.escalations import OPEN_STATUSES
from storage.models import (
    OUTSIDE_AGENCY_ID,
    CheckinRow,
    EscalationEventRow,
    EscalationRow,
    MemberRow,
)
from storage.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

# `/barriers all` and friends show this many; the export has everything.
LIST_LIMIT = 40
TERMINAL_KINDS = ("resolved", "closed")
WHICH: tuple[str, ...] = ("open", "mine", "stale", "all")


class UnknownFilter(LearnLoopError):
    """`/barriers` was given a word it does not know."""

    code = "unknown_filter"

    def __init__(self, which: str) -> None:
        super().__init__(unknown_filter(which))


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

    def level_channel(self, level: str, agencies: Sequence[str] = ()) -> str | None:
        """The channel of a ladder level, if it is still on the ladder.

        On the first rung (agency leadership), a barrier goes to its agency's own leadership
        channel when that agency has one: the first of `agencies` that does.
        """
        own = self.agency_channel(level, agencies)
        if own is not None:
            return own
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
            raise UnknownFilter(which)
        now = self.clock()
        with self.uow() as uow:
            filters: dict[str, Any] = {}
            if which == "mine":
                member = uow.members.by_platform_id(platform, user_id)
                # -1 matches nobody: someone with no member row has no barriers.
                filters = {"member_id": member.id if member else -1}
                heading = "Barriers you raised, own or linked a check-in to"
                empty = words(
                    "You haven't raised, owned or linked a check-in to any barrier yet. ",
                    Cmd(Command.ESCALATE),
                    " raises one.",
                )
            elif which == "stale":
                filters = {"statuses": OPEN_STATUSES, "changed_before": now - STALE_AFTER}
                heading = f"Barriers with no change for {STALE_AFTER.days // 7} weeks or more"
                empty = words(
                    "No stale barriers: every open barrier has moved in the last two weeks."
                )
            elif which == "all":
                heading = "All barriers"
                empty = words(
                    "No barriers have been raised yet. ", Cmd(Command.ESCALATE), " raises one."
                )
            else:
                filters = {"statuses": OPEN_STATUSES}
                heading = "Open barriers"
                empty = words("No open barriers right now. ", Cmd(Command.ESCALATE), " raises one.")
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

    def stale_lines(
        self, uow: UnitOfWork, now: dt.datetime
    ) -> dict[tuple[str, str], list[BarrierLine]]:
        """Stale barriers grouped by (ladder level, destination), most neglected first.

        The destination is "" for the level's own channel, or the leadership channel of the
        barrier's agency on the first rung when that agency has one: where its card went.
        """
        rows = uow.escalations.listing(statuses=OPEN_STATUSES, changed_before=now - STALE_AFTER)
        grouped: dict[tuple[str, str], list[BarrierLine]] = {}
        for row in sorted(rows, key=lambda r: (r.updated_at, r.id)):
            if is_stale(row.status, row.updated_at, now):
                key = (row.level, self.agency_channel(row.level, row.agencies) or "")
                grouped.setdefault(key, []).append(self._line(uow, row, now))
        return grouped

    def agency_channel(self, level: str, agencies: Sequence[str]) -> str | None:
        """The leadership channel of the first of `agencies` with one, on the first rung only."""
        ladder = self.alliance.escalation_ladder
        if not ladder or ladder[0].level != level:
            return None
        by_id = {a.id: a for a in self.alliance.agencies}
        for agency_id in agencies:
            agency = by_id.get(agency_id)
            if agency is not None and agency.leadership_channel:
                return agency.leadership_channel
        return None

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


# --------------------------------------------------------------------------- writing

# Check-ins offered for linking in the "Raise a barrier" modal.
RECENT_CHECKINS = dt.timedelta(weeks=8)
MAX_RECENT_CHECKINS = 10
# "Raise as a barrier" from the stewards' digest links at most this many check-ins.
MAX_SHARED_LINKS = 40
LINKED_VIA_RECURRING = "recurring"
STEWARDS = (Role.STEWARD, Role.ADMIN)
# When the weekly stale-barrier reminder is due, in the alliance's time zone.
STALE_REMINDER_DAY = "mon"
STALE_REMINDER_TIME = dt.time(9, 0)
# Slack errors that mean the card is gone for good: post a fresh one instead.
CARD_GONE = frozenset({"message_not_found", "channel_not_found", "cant_update_message"})


@dataclass(frozen=True)
class Change:
    """One recorded change: what has to be told after the ack (card, pointer, DMs)."""

    barrier_id: int
    kind: str
    actor_user_id: str | None
    from_level: str
    to_level: str
    note: str | None = None
    owner_user_id: str | None = None
    redaction_summary: str = ""
    created: bool = True


@dataclass
class StaleReport:
    """What `raise_stale` did this run (counts and level ids only)."""

    period: str
    posted: dict[str, int] = field(default_factory=dict)
    already: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    off_ladder: int = 0


class EscalationService(MemberFacingService):
    """Barriers: raising, steward actions, closing the loop, the register and reminders."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        alliance: AllianceConfig,
        members: MemberService,
        messenger: Messenger,
        clock: Clock,
        mailer: Mailer | None = None,
    ) -> None:
        super().__init__(uow, alliance, members, messenger, clock)
        self.register = BarrierRegister(uow, alliance, clock)
        # People with no chat account who follow a barrier are told by e-mail (SMTP_URL).
        self.mailer = mailer

    # ------------------------------------------------------------------ raising

    def form_for(
        self, platform: str, user_id: str, checkin_id: int | None = None, text: str = ""
    ) -> EscalateFormView:
        """What the "Raise a barrier" modal offers, pre-filled from text or a check-in."""
        if not self.alliance.escalation_ladder:
            raise NoLadder()
        title, description, linked = "", text.strip(), []
        recent: list[tuple[int, str]] = []
        with self.uow() as uow:
            member = uow.members.by_platform_id(platform, user_id)
            if member is not None:
                since = self.clock() - RECENT_CHECKINS
                rows = uow.escalations.recent_checkins(member.id, since, MAX_RECENT_CHECKINS)
                if checkin_id is not None and checkin_id not in {r.id for r in rows}:
                    source = uow.checkins.get(checkin_id)
                    if source is not None and source.member_id == member.id:
                        rows = [source, *rows[: MAX_RECENT_CHECKINS - 1]]
                recent = [(r.id, self._checkin_label(r)) for r in rows]
            if checkin_id is not None:
                source = uow.checkins.get(checkin_id)
                if source is None or member is None or source.member_id != member.id:
                    raise NotFound(
                        words("That check-in no longer exists, so it can't be escalated.")
                    )
                description = self._barrier_answer(source) or description
                linked = [checkin_id]
        if description:
            title = suggested_title(description)
        return EscalateFormView(
            levels=[(r.level, r.name) for r in self.alliance.escalation_ladder],
            agencies=[(a.id, a.name) for a in self.alliance.agencies],
            recent_checkins=recent,
            title=title,
            description=description,
            linked=linked,
            source_checkin_id=checkin_id,
        )

    def form_for_recurring(
        self, platform: str, user_id: str, checkin_ids: Sequence[int]
    ) -> EscalateFormView:
        """ "Raise as a barrier" in the stewards' digest: the form, pre-filled and linking.

        Stewards only. Only check-ins the stewards' digest may quote (shared with the alliance,
        named or anonymous) are linked; the newest one's answer fills the description, and the
        agencies of the named ones are ticked (never an anonymous answer's).
        """
        require(self.alliance.roles_of(user_id), STEWARDS, "raise a barrier from the digest")
        if not self.alliance.escalation_ladder:
            raise NoLadder()
        with self.uow() as uow:
            rows = self._shared_checkins(uow, checkin_ids)
            if not rows:
                raise NotFound(
                    words("Those check-ins are no longer shared or were deleted: nothing to raise.")
                )
            newest = max(rows, key=lambda r: (r.created_at, r.id))
            description = barrier_text(newest.questions or [], newest.answers) or (
                self._barrier_answer(newest)
            )
            agencies = sorted(
                {r.agency_id for r in rows if r.visibility == Visibility.ALLIANCE.value}
            )
            ids = [r.id for r in rows]
        return EscalateFormView(
            levels=[(r.level, r.name) for r in self.alliance.escalation_ladder],
            agencies=[(a.id, a.name) for a in self.alliance.agencies],
            title=suggested_title(description) if description else "",
            description=description,
            chosen_agencies=agencies,
            shared_checkin_ids=ids,
        )

    def _shared_checkins(self, uow: UnitOfWork, checkin_ids: Sequence[int]) -> list[CheckinRow]:
        """Of these check-ins, the ones still shared with the alliance (what stewards read)."""
        shared = (Visibility.ALLIANCE.value, Visibility.ANONYMOUS.value)
        rows = []
        for checkin_id in list(dict.fromkeys(checkin_ids))[:MAX_SHARED_LINKS]:
            row = uow.checkins.get(checkin_id)
            if row is not None and row.visibility in shared:
                rows.append(row)
        return rows

    def raise_barrier(
        self,
        platform: str,
        user_id: str,
        *,
        title: str | None,
        description: str | None,
        who_is_affected: str | None,
        agencies: list[str],
        level: str | None,
        anonymous: bool,
        checkin_ids: list[int],
        idempotency_key: str | None = None,
        shared_checkin_ids: Sequence[int] = (),
    ) -> Change:
        """Validate, redact and store a new barrier at a ladder level (anyone may raise one).

        Raises ValidationFailed naming each field; nothing is stored then. `shared_checkin_ids`
        (from "Barriers we keep meeting", stewards only) links others' shared check-ins too.
        """
        if not self.alliance.escalation_ladder:
            raise NoLadder()
        if shared_checkin_ids:
            require(self.alliance.roles_of(user_id), STEWARDS, "raise a barrier from the digest")
        now = self.clock()
        with self.uow() as uow:
            if idempotency_key:
                existing = uow.escalations.by_key(idempotency_key)
                if existing is not None:
                    return Change(
                        existing.id, "raised", None, existing.level, existing.level, created=False
                    )
            raiser = self._person(uow, platform, user_id)
            own = [
                cid
                for cid in checkin_ids
                if (checkin := uow.checkins.get(cid)) is not None and checkin.member_id == raiser.id
            ]
            draft = prepare_barrier(
                title,
                description,
                who_is_affected,
                agencies,
                level,
                anonymous,
                checkin_ids,
                known_agencies=[a.id for a in self.alliance.agencies],
                ladder=self.register.ladder,
                own_checkins=own,
            )
            row = uow.escalations.add(
                EscalationRow(
                    title=draft.title,
                    description=draft.description,
                    who_is_affected=draft.who_is_affected,
                    raised_by_id=raiser.id,
                    raiser_anonymous=draft.anonymous,
                    agencies=draft.agencies,
                    level=draft.level,
                    status=EscalationStatus.OPEN.value,
                    version=1,
                    idempotency_key=idempotency_key,
                    created_at=now,
                    updated_at=now,
                ),
                draft.checkin_ids,
            )
            shared = [r.id for r in self._shared_checkins(uow, shared_checkin_ids)]
            if shared:
                uow.escalations.link(row.id, shared, via=LINKED_VIA_RECURRING)
            # The history and the audit log are read by stewards and admins: an anonymous
            # raiser is recorded in neither.
            uow.escalations.record(
                row.id,
                "raised",
                actor_id=None if draft.anonymous else raiser.id,
                at=now,
                to_status=EscalationStatus.OPEN.value,
                # Raised *at* a level, not moved to it: readers that look for a level change
                # (from_level != to_level) must not count a new barrier as moved up.
                from_level=draft.level,
                to_level=draft.level,
            )
            uow.audit.record(
                actor="anonymous" if draft.anonymous else f"{platform}:{user_id}",
                action="escalation.raised",
                target=f"escalation:{row.id}",
                level=draft.level,
                anonymous=draft.anonymous,
                linked_checkins=len(set(draft.checkin_ids) | set(shared)),
                linked_from_digest=len(shared),
            )
            change = Change(
                barrier_id=row.id,
                kind="raised",
                actor_user_id=None if draft.anonymous else user_id,
                from_level=draft.level,
                to_level=draft.level,
                redaction_summary=draft.redaction_summary,
            )
            uow.commit()
        log.info("barrier %s raised at %s", change.barrier_id, change.to_level)
        return change

    # ------------------------------------------------------------------ steward actions

    def for_steward(
        self, platform: str, user_id: str, barrier_id: int, seen_version: int | None, action: Action
    ) -> BarrierRef:
        """Check a steward may take `action` now (before opening its modal)."""
        require(self.alliance.roles_of(user_id), STEWARDS, action.doing)
        with self.uow() as uow:
            row = self._barrier(uow, barrier_id)
            check_version(seen_version, row.version, row.status)
            # Planning with a placeholder note checks the transition and the ladder only.
            plan_move(row.status, row.level, action, self.register.ladder, note="-")
            return BarrierRef(barrier_id=row.id, version=row.version, title=row.title)

    def act(
        self,
        platform: str,
        user_id: str,
        barrier_id: int,
        seen_version: int | None,
        action: Action,
        note: str | None = None,
        owner_user_id: str | None = None,
    ) -> Change:
        """Record one steward action, or refuse it with a message saying why.

        Refusals: Forbidden (not a steward), InvalidTransition, StaleBarrier (someone else
        changed it first: of two simultaneous actions on one version exactly one is recorded),
        ValidationFailed (a missing outcome, reason or owner).
        """
        require(self.alliance.roles_of(user_id), STEWARDS, action.doing)
        now = self.clock()
        with self.uow() as uow:
            actor = self._person(uow, platform, user_id)
            row = self._barrier(uow, barrier_id)
            check_version(seen_version, row.version, row.status)
            move = plan_move(row.status, row.level, action, self.register.ladder, note)
            values: dict[str, object] = {
                "status": move.to_status.value,
                "level": move.to_level,
                "updated_at": now,
            }
            if action is Action.ASSIGN:
                if not owner_user_id:
                    raise ValidationFailed({"owner": "Choose the person who will own it."})
                values["owner_id"] = self._owner(uow, platform, owner_user_id).id
            if move.clears_owner:
                values["owner_id"] = None
            if action in (Action.RESOLVE, Action.CLOSE):
                values["outcome"] = move.note
            if not uow.escalations.apply(row.id, row.version, **values):
                # Another steward's change was committed between our read and our write.
                current = uow.escalations.get(row.id)
                raise StaleBarrier(EscalationStatus(current.status if current else row.status))
            uow.escalations.record(
                row.id,
                action.event_kind,
                actor_id=actor.id,
                at=now,
                from_status=move.from_status.value,
                to_status=move.to_status.value,
                from_level=move.from_level,
                to_level=move.to_level,
                note=move.note,
            )
            uow.audit.record(
                actor=f"{platform}:{user_id}",
                action=f"escalation.{action.event_kind}",
                target=f"escalation:{row.id}",
                from_status=move.from_status.value,
                to_status=move.to_status.value,
                from_level=move.from_level,
                to_level=move.to_level,
            )
            uow.commit()
        log.info("barrier %s %s", barrier_id, action.event_kind)
        return Change(
            barrier_id=barrier_id,
            kind=action.event_kind,
            actor_user_id=user_id,
            from_level=move.from_level,
            to_level=move.to_level,
            note=move.note,
            owner_user_id=owner_user_id if action is Action.ASSIGN else None,
        )

    # ------------------------------------------------------------------ after the ack

    def publish(self, change: Change) -> None:
        """Show a change: the card (and a pointer when it moved up), then DMs to its people."""
        if not change.created:
            return
        card_url = self._publish_card(change)
        self._tell_people(change, card_url)
        self._email_contacts(change)

    def _publish_card(self, change: Change) -> str | None:
        barrier_id = change.barrier_id
        with self.uow() as uow:
            row = self._barrier(uow, barrier_id)
            old = _ref(row.channel_id, row.message_ts)
            channel = self.register.level_channel(row.level, row.agencies) or row.channel_id
            view = self.register.card_view(uow, row)
            card_url, title = row.card_url, row.title
        moved = change.kind == "escalated" and change.from_level != change.to_level
        if old is not None and not moved:
            try:
                self.messenger.update(old, barrier_card(view))
                return card_url
            except MessengerError as exc:
                if exc.code not in CARD_GONE:
                    log.warning("could not update card of barrier %s: %s", barrier_id, exc.code)
                    return card_url
        if channel is None:
            log.warning("barrier %s has no channel to post its card in", barrier_id)
            return card_url
        try:
            ref = self._send_in_channel(channel, barrier_card(view))
        except MessengerError as exc:
            log.warning("could not post card of barrier %s: %s", barrier_id, exc.code)
            if moved and old is not None:
                self._keep_old_card(old, change, channel, exc.code)
            return card_url
        url = self.messenger.link_to(ref)
        with self.uow() as uow:
            uow.escalations.set_card(barrier_id, ref.channel, ref.ts, url)
            uow.commit()
        if moved and old is not None:
            pointer = BarrierPointerView(
                barrier_id=barrier_id,
                title=title,
                to_level_name=self.register.level_name(change.to_level),
                to_channel=ref.channel,
                at=self.clock(),
                actor_user_id=change.actor_user_id,
                card_url=url,
            )
            try:
                self.messenger.update(old, barrier_pointer(pointer))
            except MessengerError as exc:
                log.warning("could not leave a pointer for barrier %s: %s", barrier_id, exc.code)
        return url

    def _keep_old_card(self, old: MessageRef, change: Change, channel: str, code: str) -> None:
        """The next level's channel refused the card: say so on the old one, which stays live."""
        note = not_posted_note(self.register.level_name(change.to_level), code)
        with self.uow() as uow:
            view = self.register.card_view(uow, self._barrier(uow, change.barrier_id), note=note)
        try:
            self.messenger.update(old, barrier_card(view))
        except MessengerError as exc:
            log.warning("could not update card of barrier %s: %s", change.barrier_id, exc.code)
        log.warning("barrier %s card not posted in %s", change.barrier_id, channel)

    def _tell_people(self, change: Change, card_url: str | None) -> None:
        """DM the raiser and the authors of linked check-ins (anonymous raisers too)."""
        with self.uow() as uow:
            row = self._barrier(uow, change.barrier_id)
            people = [
                (m.platform_user_id, m.id == row.raised_by_id)
                for m in uow.escalations.people_to_tell(row.id)
            ]
            anonymous, title = row.raiser_anonymous, row.title
            level_name = self.register.level_name(row.level)
        for user_id, as_raiser in people:
            if change.kind != "raised" and user_id == change.actor_user_id:
                continue  # the steward who acted knows already
            view = BarrierNoticeView(
                barrier_id=change.barrier_id,
                title=title,
                kind=change.kind,
                level_name=level_name,
                as_raiser=as_raiser,
                anonymous=anonymous and as_raiser,
                actor_user_id=change.actor_user_id if change.kind != "raised" else None,
                owner_user_id=change.owner_user_id,
                note=change.note if change.kind in ("resolved", "closed") else None,
                redaction_summary=change.redaction_summary if as_raiser else "",
            )
            self._dm(user_id, view)
        owner = change.owner_user_id
        if change.kind == "assigned" and owner and owner != change.actor_user_id:
            self._dm(
                owner,
                BarrierNoticeView(
                    barrier_id=change.barrier_id,
                    title=title,
                    kind="assigned_to_you",
                    level_name=level_name,
                    as_raiser=False,
                    actor_user_id=change.actor_user_id,
                    owner_user_id=owner,
                    note=change.note,
                    card_url=card_url,
                ),
            )

    # A contact by e-mail hears when a barrier changes level or is closed, not every step.
    EMAILED_KINDS = frozenset({"escalated", "resolved", "closed"})

    def _email_contacts(self, change: Change) -> None:
        """E-mail the barrier's contacts (addresses from `people:`) when it moves or closes."""
        if change.kind not in self.EMAILED_KINDS:
            return
        if change.kind == "escalated" and change.from_level == change.to_level:
            return
        with self.uow() as uow:
            row = self._barrier(uow, change.barrier_id)
            contacts = uow.barrier_contacts.of(row.id)
            title, level_name = row.title, self.register.level_name(row.level)
        if not contacts:
            return
        if self.mailer is None:
            log.warning("barrier %s has e-mail contacts but SMTP_URL is not set", row.id)
            return
        view = BarrierNoticeView(
            barrier_id=change.barrier_id,
            title=title,
            kind=change.kind,
            level_name=level_name,
            as_raiser=False,
            as_contact=True,
            actor_user_id=change.actor_user_id,
            note=change.note if change.kind in ("resolved", "closed") else None,
        )
        for address in contacts:
            try:
                self.mailer.send(address, barrier_notice(view))
            except MailError as exc:
                # The change is recorded; one undelivered e-mail must not undo or block it.
                log.warning(
                    "could not e-mail a contact about barrier %s: %s", change.barrier_id, exc.code
                )

    def follow_by_email(
        self, barrier_id: int, email: str, actor: str, remove: bool = False
    ) -> bool:
        """Add (or remove) a `people:` address as an e-mail contact of a barrier (audited).

        True if something changed; NotFound for an unknown barrier or an address that is not
        in the alliance file's `people:`.
        """
        address = email.strip().lower()
        if address not in {p.email for p in self.alliance.people}:
            raise NotFound(
                f"{address} is not in the alliance file's people: list; add them there first."
            )
        with self.uow() as uow:
            row = self._barrier(uow, barrier_id)
            if remove:
                changed = uow.barrier_contacts.remove(row.id, address)
            else:
                changed = uow.barrier_contacts.add(row.id, address, actor[:100], self.clock())
            if changed:
                uow.audit.record(
                    at=self.clock(),
                    actor=actor[:100],
                    action="escalation.contact_removed" if remove else "escalation.contact_added",
                    target=f"escalation:{row.id}",
                )
            uow.commit()
        return changed

    def _dm(self, user_id: str, view: BarrierNoticeView) -> None:
        try:
            self.messenger.send(user_id, barrier_notice(view))
        except MessengerError as exc:
            # The change is recorded; one undelivered DM must not undo or block it.
            log.warning("could not tell someone about barrier %s: %s", view.barrier_id, exc.code)

    def refresh_card(self, barrier_id: int) -> None:
        """Re-render a card from what is stored (after a refusal showed it was out of date)."""
        with self.uow() as uow:
            row = self._barrier(uow, barrier_id)
            ref = _ref(row.channel_id, row.message_ts)
            view = self.register.card_view(uow, row)
        if ref is None:
            return
        try:
            self.messenger.update(ref, barrier_card(view))
        except MessengerError as exc:
            log.warning("could not refresh card of barrier %s: %s", barrier_id, exc.code)

    def _send_in_channel(self, channel: str, message: Message) -> MessageRef:
        """Post in a ladder channel, joining it first if the bot isn't in it yet.

        The ladder's channels are named in the config; a public Slack one can be joined
        (channels:join) instead of asking an admin to invite the bot. Where joining is not
        possible (a private channel, Teams) the platform's refusal is raised as it was.
        """
        try:
            return self.messenger.send(channel, message)
        except MessengerError as exc:
            if exc.code != "not_in_channel":
                raise
        self.messenger.join_channel(channel)
        return self.messenger.send(channel, message)

    def card(self, barrier_id: int) -> BarrierCardView:
        """A barrier's card as it is now (for someone who opened it from a list)."""
        with self.uow() as uow:
            return self.register.card_view(uow, self._barrier(uow, barrier_id))

    # ------------------------------------------------------------------ the register

    def listing(self, platform: str, user_id: str, which: str) -> BarrierListView:
        """`/barriers [open|mine|stale|all]`: a compact list, linking to the cards."""
        return self.register.listing(platform, user_id, which)

    def summary_for_period(self, start: dt.datetime, end: dt.datetime) -> BarrierSummary:
        """The digest's barrier section: new, moved up, stale, resolved and closed."""
        return self.register.summary_for_period(start, end)

    def raise_stale(self, now: dt.datetime | None = None) -> StaleReport:
        """Post, once per level per week, the barriers that have not moved for two weeks.

        Called by the worker every tick; nothing happens before the weekly slot (Monday 09:00
        alliance time) and, once a level's reminder is posted, nothing more that week.
        """
        now = now or self.clock()
        local = now.astimezone(self.alliance.alliance.zone)
        period = local.strftime("%G-W%V")
        report = StaleReport(period=period)
        if not is_due([STALE_REMINDER_DAY], STALE_REMINDER_TIME, local):
            return report
        with self.uow() as uow:
            done = uow.escalations.reminded_levels(period)
            grouped = self.register.stale_lines(uow, now)
        for (level, destination), lines in grouped.items():
            # An agency with its own leadership channel is reminded there, of its own barriers;
            # the rung's shared channel has the rest.
            shared = self.register.level_channel(level)
            if shared is None:
                report.off_ladder += len(lines)
                continue
            channel = destination or shared
            # Reported by level, with the agency channel beside it when it is one.
            name = f"{level}@{destination}" if destination else level
            if (level, destination) in done:
                report.already.append(name)
                continue
            with self.uow() as uow:
                claimed = uow.escalations.claim_reminder(level, period, destination)
                uow.commit()
                reminder_id = claimed.id if claimed else None
            if reminder_id is None:
                report.already.append(name)
                continue
            view = StaleBarriersView(
                level_name=self.register.level_name(level),
                stale_days=STALE_AFTER.days,
                lines=lines,
            )
            try:
                # Teams can't link to a card, so its reminder opens each one with a button.
                message = stale_barriers(view, open_buttons=platform_of(channel) == "teams")
                ref = self._send_in_channel(channel, message)
            except MessengerError as exc:
                # Left pending: the next run this week tries again.
                with self.uow() as uow:
                    row = uow.escalations.reminder(reminder_id)
                    if row is not None:
                        row.error = exc.code[:200]
                    uow.commit()
                report.failed[name] = exc.code
                log.warning("stale reminder for %s not posted: %s", name, exc.code)
                continue
            with self.uow() as uow:
                row = uow.escalations.reminder(reminder_id)
                if row is not None:
                    row.status = "posted"
                    row.channel_id, row.message_ts = ref.channel, ref.ts
                    row.barrier_count = len(lines)
                    row.posted_at = self.clock()
                    row.error = None
                uow.commit()
            report.posted[name] = len(lines)
        return report

    def export_records(self, actor: str = "cli", fmt: str = "") -> list[dict[str, object]]:
        """Every barrier and its history for board papers (audited; no raisers in it)."""
        records = self.register.export_records()
        with self.uow() as uow:
            uow.audit.record(
                actor=actor, action="barriers.exported", format=fmt, barriers=len(records)
            )
            uow.commit()
        return records

    # ------------------------------------------------------------------ helpers

    def _barrier(self, uow: UnitOfWork, barrier_id: int) -> EscalationRow:
        row = uow.escalations.get(barrier_id)
        if row is None:
            raise NotFound(words("That barrier no longer exists."))
        return row

    def _config_agency(self, platform: str, user_id: str) -> str | None:
        for agency in self.alliance.agencies:
            if agency.platform == platform and user_id in (*agency.members, *agency.managers):
                return agency.id
        return None

    def _person(self, uow: UnitOfWork, platform: str, user_id: str) -> MemberRow:
        """The member row for someone taking part in the register, created if need be.

        Their agency comes from the config, else their existing row; people in no agency at
        all (a steward, a board member given a barrier) go in the reserved outside agency.
        """
        row = uow.members.by_platform_id(platform, user_id)
        agency = self._config_agency(platform, user_id)
        if row is not None and (agency is None or row.agency_id != OUTSIDE_AGENCY_ID):
            return row
        if agency is None:
            uow.escalations.ensure_outside_agency(platform)
        return uow.members.ensure(platform, user_id, agency or OUTSIDE_AGENCY_ID)

    def _owner(self, uow: UnitOfWork, platform: str, user_id: str) -> MemberRow:
        try:
            return self._person(uow, platform, user_id)
        except DataDeleted:
            raise ValidationFailed(
                {
                    "owner": "That person asked LearnLoop to forget them, so they can't own a "
                    "barrier. Please choose someone else."
                }
            ) from None

    def _question_set(self, set_id: str) -> QuestionSet | None:
        if set_id == DEFAULT_QUESTION_SET.id:
            return DEFAULT_QUESTION_SET
        return next((q for q in self.alliance.question_sets if q.id == set_id), None)

    def _barrier_answer(self, row: CheckinRow) -> str:
        qset = self._question_set(row.question_set_id)
        question = qset.barrier_question if qset else None
        answer = row.answers.get(question.id) if question else None
        return answer if isinstance(answer, str) else ""

    def _checkin_label(self, row: CheckinRow) -> str:
        day = row.created_at.astimezone(self.alliance.alliance.zone).strftime("%-d %b")
        first = next((v for v in row.answers.values() if isinstance(v, str) and v.strip()), "")
        return f"{day}: {' '.join(first.split())}"


def _ref(channel: str | None, ts: str | None) -> MessageRef | None:
    return MessageRef(channel, ts) if channel and ts else None
