"""The barrier register's storage: barriers, their links, history and reminders. Never commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from storage.models import (
    OUTSIDE_AGENCY_ID,
    OUTSIDE_AGENCY_NAME,
    AgencyRow,
    CheckinRow,
    EscalationEventRow,
    EscalationLinkRow,
    EscalationReminderRow,
    EscalationRow,
    MemberRow,
    utcnow,
)
from storage.repositories import insert_ignoring_conflicts

OPEN_STATUSES = ("open", "acknowledged", "in_progress")


class EscalationRepository:
    """Barriers and everything recorded about them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------------ writing

    def add(self, row: EscalationRow, checkin_ids: Iterable[int]) -> EscalationRow:
        """Store a new barrier and its linked check-ins."""
        self.session.add(row)
        self.session.flush()
        for checkin_id in checkin_ids:
            self.session.add(EscalationLinkRow(escalation_id=row.id, checkin_id=checkin_id))
        self.session.flush()
        return row

    def link(self, escalation_id: int, checkin_ids: Iterable[int], via: str) -> int:
        """Link more check-ins to a barrier (ones already linked stay as they are)."""
        have = set(self.linked_checkins(escalation_id))
        added = 0
        for checkin_id in dict.fromkeys(checkin_ids):
            if checkin_id not in have:
                self.session.add(
                    EscalationLinkRow(
                        escalation_id=escalation_id, checkin_id=checkin_id, linked_via=via
                    )
                )
                added += 1
        self.session.flush()
        return added

    def raised_for(self, checkin_ids: Iterable[int]) -> dict[int, str]:
        """For each of these check-ins linked to a barrier, the title of its newest barrier."""
        ids = sorted(set(checkin_ids))
        found: dict[int, str] = {}
        for start in range(0, len(ids), 500):
            rows = self.session.execute(
                select(EscalationLinkRow.checkin_id, EscalationRow.title)
                .join(EscalationRow, EscalationRow.id == EscalationLinkRow.escalation_id)
                .where(EscalationLinkRow.checkin_id.in_(ids[start : start + 500]))
                .order_by(EscalationRow.created_at, EscalationRow.id)
            )
            for checkin_id, title in rows:
                found[checkin_id] = title
        return found

    def apply(self, escalation_id: int, expected_version: int, **values: Any) -> bool:
        """Change a barrier only if it is still at `expected_version`; True if it was changed.

        One conditional UPDATE (… WHERE id = ? AND version = ?) bumps the version, so of two
        stewards acting on the same version at once exactly one succeeds, on SQLite (writes
        are serialised) and PostgreSQL (the second UPDATE re-checks the row once the first
        commits) alike.
        """
        result = self.session.execute(
            update(EscalationRow)
            .where(EscalationRow.id == escalation_id, EscalationRow.version == expected_version)
            .values(version=expected_version + 1, **values)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    def set_card(
        self, escalation_id: int, channel: str | None, ts: str | None, url: str | None
    ) -> None:
        """Remember where the barrier's card is (not a change of state: no new version)."""
        self.session.execute(
            update(EscalationRow)
            .where(EscalationRow.id == escalation_id)
            .values(channel_id=channel, message_ts=ts, card_url=url)
            .execution_options(synchronize_session=False)
        )

    def record(
        self,
        escalation_id: int,
        kind: str,
        actor_id: int | None,
        at: dt.datetime,
        from_status: str | None = None,
        to_status: str | None = None,
        from_level: str | None = None,
        to_level: str | None = None,
        note: str | None = None,
    ) -> EscalationEventRow:
        """Append one event to a barrier's history."""
        row = EscalationEventRow(
            escalation_id=escalation_id,
            kind=kind,
            actor_id=actor_id,
            from_status=from_status,
            to_status=to_status,
            from_level=from_level,
            to_level=to_level,
            note=note,
            at=at,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def ensure_outside_agency(self, platform: str) -> None:
        """Create the reserved agency for people in none of the configured ones (race-safe)."""
        insert_ignoring_conflicts(
            self.session,
            AgencyRow,
            {"id": OUTSIDE_AGENCY_ID, "name": OUTSIDE_AGENCY_NAME, "platform": platform},
        )

    # ------------------------------------------------------------------ reading

    def get(self, escalation_id: int) -> EscalationRow | None:
        """A barrier by id, read fresh from the database."""
        return self.session.scalar(
            select(EscalationRow)
            .where(EscalationRow.id == escalation_id)
            .execution_options(populate_existing=True)
        )

    def by_key(self, idempotency_key: str) -> EscalationRow | None:
        """The barrier a modal submission already raised, if it did."""
        return self.session.scalar(
            select(EscalationRow).where(EscalationRow.idempotency_key == idempotency_key)
        )

    def linked_checkins(self, escalation_id: int) -> list[int]:
        """Ids of the check-ins linked to a barrier."""
        return list(
            self.session.scalars(
                select(EscalationLinkRow.checkin_id)
                .where(EscalationLinkRow.escalation_id == escalation_id)
                .order_by(EscalationLinkRow.checkin_id)
            )
        )

    def people_to_tell(self, escalation_id: int) -> list[MemberRow]:
        """The raiser and the authors of linked check-ins, once each, raiser first."""
        barrier = self.session.get(EscalationRow, escalation_id)
        people: dict[int, MemberRow] = {}
        if barrier is not None and barrier.raised_by_id is not None:
            raiser = self.session.get(MemberRow, barrier.raised_by_id)
            if raiser is not None:
                people[raiser.id] = raiser
        authors = self.session.scalars(
            select(MemberRow)
            .join(CheckinRow, CheckinRow.member_id == MemberRow.id)
            .join(EscalationLinkRow, EscalationLinkRow.checkin_id == CheckinRow.id)
            .where(EscalationLinkRow.escalation_id == escalation_id)
            .order_by(MemberRow.id)
        )
        for author in authors:
            people.setdefault(author.id, author)
        return list(people.values())

    def history(self, escalation_ids: Sequence[int]) -> list[EscalationEventRow]:
        """Events of some barriers, oldest first."""
        if not escalation_ids:
            return []
        return list(
            self.session.scalars(
                select(EscalationEventRow)
                .where(EscalationEventRow.escalation_id.in_(escalation_ids))
                .order_by(EscalationEventRow.at, EscalationEventRow.id)
            )
        )

    def last_event(self, escalation_id: int) -> EscalationEventRow | None:
        """The newest event of a barrier."""
        return self.session.scalar(
            select(EscalationEventRow)
            .where(EscalationEventRow.escalation_id == escalation_id)
            .order_by(EscalationEventRow.at.desc(), EscalationEventRow.id.desc())
            .limit(1)
        )

    def listing(
        self,
        statuses: Sequence[str] | None = None,
        changed_before: dt.datetime | None = None,
        member_id: int | None = None,
        level: str | None = None,
        limit: int | None = None,
    ) -> list[EscalationRow]:
        """Barriers newest change first, filtered by status, age, level or a person's part.

        `member_id` keeps barriers the person raised, owns, or linked a check-in to.
        """
        query = self._filtered(select(EscalationRow), statuses, changed_before, member_id, level)
        query = query.order_by(EscalationRow.updated_at.desc(), EscalationRow.id.desc())
        if limit is not None:
            query = query.limit(limit)
        return list(self.session.scalars(query))

    def listing_ids(
        self,
        statuses: Sequence[str] | None = None,
        changed_before: dt.datetime | None = None,
        member_id: int | None = None,
    ) -> Select[tuple[int]]:
        """The ids `listing` would give, as a query."""
        return self._filtered(select(EscalationRow.id), statuses, changed_before, member_id, None)

    def _filtered(
        self,
        query: Select[Any],
        statuses: Sequence[str] | None,
        changed_before: dt.datetime | None,
        member_id: int | None,
        level: str | None,
    ) -> Select[Any]:
        if statuses is not None:
            query = query.where(EscalationRow.status.in_(statuses))
        if changed_before is not None:
            query = query.where(EscalationRow.updated_at <= changed_before)
        if level is not None:
            query = query.where(EscalationRow.level == level)
        if member_id is not None:
            linked = (
                select(EscalationLinkRow.escalation_id)
                .join(CheckinRow, CheckinRow.id == EscalationLinkRow.checkin_id)
                .where(CheckinRow.member_id == member_id)
            )
            query = query.where(
                or_(
                    EscalationRow.raised_by_id == member_id,
                    EscalationRow.owner_id == member_id,
                    EscalationRow.id.in_(linked),
                )
            )
        return query

    def count(
        self,
        statuses: Sequence[str] | None = None,
        changed_before: dt.datetime | None = None,
        member_id: int | None = None,
    ) -> int:
        """How many barriers `listing` would give without its limit."""
        ids = self.listing_ids(statuses, changed_before, member_id)
        return int(self.session.scalar(select(func.count()).select_from(ids.subquery())) or 0)

    def stale_candidates(
        self, created_before: dt.datetime, changed_since: dt.datetime
    ) -> list[EscalationRow]:
        """Barriers old enough to be stale that had not already ended by `changed_since`."""
        return list(
            self.session.scalars(
                select(EscalationRow)
                .where(
                    EscalationRow.created_at <= created_before,
                    or_(
                        EscalationRow.status.in_(OPEN_STATUSES),
                        EscalationRow.updated_at > changed_since,
                    ),
                )
                .order_by(EscalationRow.created_at, EscalationRow.id)
            )
        )

    def platform_ids(self, member_ids: Iterable[int]) -> dict[int, str]:
        """Platform user ids of some members (stewards, owners), in one query."""
        wanted = list(set(member_ids))
        if not wanted:
            return {}
        rows = self.session.execute(
            select(MemberRow.id, MemberRow.platform_user_id).where(MemberRow.id.in_(wanted))
        )
        return {member_id: user_id for member_id, user_id in rows}

    def linked_counts(self, escalation_ids: Sequence[int]) -> dict[int, int]:
        """How many check-ins are linked to each of some barriers."""
        if not escalation_ids:
            return {}
        rows = self.session.execute(
            select(EscalationLinkRow.escalation_id, func.count())
            .where(EscalationLinkRow.escalation_id.in_(escalation_ids))
            .group_by(EscalationLinkRow.escalation_id)
        )
        return {escalation_id: n for escalation_id, n in rows}

    def created_between(self, start: dt.datetime, end: dt.datetime) -> list[EscalationRow]:
        """Barriers raised in [start, end), oldest first."""
        return list(
            self.session.scalars(
                select(EscalationRow)
                .where(and_(EscalationRow.created_at >= start, EscalationRow.created_at < end))
                .order_by(EscalationRow.created_at, EscalationRow.id)
            )
        )

    def events_between(
        self, kinds: Sequence[str], start: dt.datetime, end: dt.datetime
    ) -> list[EscalationEventRow]:
        """Events of some kinds in [start, end), oldest first."""
        return list(
            self.session.scalars(
                select(EscalationEventRow)
                .where(
                    EscalationEventRow.kind.in_(kinds),
                    EscalationEventRow.at >= start,
                    EscalationEventRow.at < end,
                )
                .order_by(EscalationEventRow.at, EscalationEventRow.id)
            )
        )

    def by_ids(self, ids: Iterable[int]) -> dict[int, EscalationRow]:
        """Barriers by id."""
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = self.session.scalars(select(EscalationRow).where(EscalationRow.id.in_(wanted)))
        return {row.id: row for row in rows}

    def recent_checkins(self, member_id: int, since: dt.datetime, limit: int) -> list[CheckinRow]:
        """A person's own check-ins since a time, newest first (to link to a barrier)."""
        return list(
            self.session.scalars(
                select(CheckinRow)
                .where(CheckinRow.member_id == member_id, CheckinRow.created_at >= since)
                .order_by(CheckinRow.created_at.desc(), CheckinRow.id.desc())
                .limit(limit)
            )
        )

    # ------------------------------------------------------------------ reminders

    def claim_reminder(
        self, level: str, period: str, destination: str = ""
    ) -> EscalationReminderRow | None:
        """The reminder row to post for (level, week, destination), or None if already posted.

        `destination` is "" for the level's channel, else an agency's leadership channel.
        """
        insert_ignoring_conflicts(
            self.session,
            EscalationReminderRow,
            {
                "level": level,
                "period": period,
                "destination": destination,
                "status": "pending",
                "barrier_count": 0,
                "created_at": utcnow(),
            },
        )
        row = self.session.scalar(
            select(EscalationReminderRow).where(
                EscalationReminderRow.level == level,
                EscalationReminderRow.period == period,
                EscalationReminderRow.destination == destination,
            )
        )
        return row if row is not None and row.status == "pending" else None

    def reminded_levels(self, period: str) -> set[tuple[str, str]]:
        """(level, destination) of the stale reminders of a week already posted."""
        rows = self.session.execute(
            select(EscalationReminderRow.level, EscalationReminderRow.destination).where(
                EscalationReminderRow.period == period,
                EscalationReminderRow.status == "posted",
            )
        )
        return {(level, destination) for level, destination in rows}

    def reminder(self, reminder_id: int) -> EscalationReminderRow | None:
        """A reminder row by id."""
        return self.session.get(EscalationReminderRow, reminder_id)
