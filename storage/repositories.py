"""Repositories: queries and writes on a Session they are given. They never commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.checkins import Visibility
from bot.domain.errors import DataDeleted
from bot.domain.privacy import subject_key
from storage.models import (
    OUTSIDE_AGENCY_ID,
    AgencyRow,
    AuditEventRow,
    CheckinRow,
    CheckinThemeRow,
    CohortRow,
    MemberRow,
    PromptRow,
    ThemeRow,
    TombstoneRow,
    utcnow,
)

# The queries every DM reply, /checkin and "Share a learning" runs, built once: building a
# select (its column comparisons, coercions and cache key) cost more of the interpreter than
# running it did (py-spy, BENCHMARKS.md issue 18). Values are bound per call.
_MEMBER_BY_PLATFORM_ID = select(MemberRow).where(
    MemberRow.platform == bindparam("platform"),
    MemberRow.platform_user_id == bindparam("user"),
)
_LATEST_OPEN_PROMPT = (
    select(PromptRow)
    .where(PromptRow.member_id == bindparam("member_id"), PromptRow.status == "sent")
    .order_by(PromptRow.created_at.desc(), PromptRow.id.desc())
    .limit(1)
)
_CHECKIN_BY_IDEMPOTENCY_KEY = select(CheckinRow).where(
    CheckinRow.idempotency_key == bindparam("key")
)


class AlreadyStored(Exception):
    """Another transaction stored a row with the same idempotency key first.

    The session that raised it is spoiled: end its unit of work and read the row in a new one.
    """

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def insert_ignoring_conflicts(session: Session, model: type[Any], values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on SQLite or PostgreSQL; True if a row was inserted."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = session.execute(insert(model).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)


class ConfigRepository:
    """Keeps agencies, cohorts and themes in step with the alliance file."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert_agency(self, agency_id: str, name: str, platform: str) -> None:
        """Create or rename an agency."""
        row = self.session.get(AgencyRow, agency_id)
        if row is None:
            self.session.add(AgencyRow(id=agency_id, name=name, platform=platform))
        else:
            row.name, row.platform = name, platform

    def upsert_cohort(self, cohort_id: str, question_set_id: str) -> None:
        """Create a cohort or update its question set."""
        row = self.session.get(CohortRow, cohort_id)
        if row is None:
            self.session.add(CohortRow(id=cohort_id, question_set_id=question_set_id))
        else:
            row.question_set_id = question_set_id

    def ensure_themes(self, names: Iterable[str]) -> None:
        """Create any theme not yet stored (themes are never deleted: old check-ins use them)."""
        existing = set(self.session.scalars(select(ThemeRow.name)))
        for name in names:
            if name not in existing:
                self.session.add(ThemeRow(name=name))
                existing.add(name)
        self.session.flush()

    def themes_named(self, names: Sequence[str]) -> list[ThemeRow]:
        """Stored themes with these names."""
        if not names:
            return []
        return list(self.session.scalars(select(ThemeRow).where(ThemeRow.name.in_(names))))


class MemberRepository:
    """People, by platform id."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, member_id: int) -> MemberRow | None:
        """A member by id."""
        return self.session.get(MemberRow, member_id)

    def by_platform_id(self, platform: str, user_id: str) -> MemberRow | None:
        """A member by platform user id."""
        return self.session.scalar(_MEMBER_BY_PLATFORM_ID, {"platform": platform, "user": user_id})

    def ensure(self, platform: str, user_id: str, agency_id: str) -> MemberRow:
        """The member, created in `agency_id` if new (an existing member keeps their agency).

        Raises DataDeleted for someone who deleted their data: callers filter them
        out first; this is the safety net that keeps them from being re-created.
        """
        if self.session.get(TombstoneRow, subject_key(platform, user_id)) is not None:
            raise DataDeleted()
        insert_ignoring_conflicts(
            self.session,
            MemberRow,
            {
                "platform": platform,
                "platform_user_id": user_id,
                "agency_id": agency_id,
                "active": True,
                "created_at": utcnow(),
            },
        )
        member = self.by_platform_id(platform, user_id)
        assert member is not None
        if member.agency_id == OUTSIDE_AGENCY_ID and agency_id != OUTSIDE_AGENCY_ID:
            # A steward or owner placed outside the agencies now has a real one.
            member.agency_id = agency_id
        return member

    def mark_inactive(self, member_id: int, reason: str) -> None:
        """Stop prompting someone whose account is gone."""
        self.session.execute(
            update(MemberRow)
            .where(MemberRow.id == member_id)
            .values(active=False, inactive_reason=reason[:64])
        )

    def set_alliance_note(self, member_id: int, on: bool) -> None:
        """Turn someone's weekly alliance note on or off."""
        row = self.session.get(MemberRow, member_id)
        if row is not None:
            row.alliance_note = on

    def set_paused_until(self, member_id: int, until: dt.datetime | None) -> None:
        """Pause prompts until a time, or resume (None)."""
        self.session.execute(
            update(MemberRow).where(MemberRow.id == member_id).values(paused_until=until)
        )

    # The roster for scheduled prompts.
    def ensure_many(self, platform: str, agencies: dict[str, str]) -> list[MemberRow]:
        """Members for many user ids at once (user id -> agency id for anyone new)."""
        rows: list[MemberRow] = []
        user_ids = list(agencies)
        for start in range(0, len(user_ids), 500):
            chunk = user_ids[start : start + 500]
            query = select(MemberRow).where(
                MemberRow.platform == platform, MemberRow.platform_user_id.in_(chunk)
            )
            found = {row.platform_user_id: row for row in self.session.scalars(query)}
            missing = [u for u in chunk if u not in found]
            if missing:
                # The safety net of ensure(), in bulk: skip (not raise) anyone who
                # deleted their data, so the rest of the batch is still stored.
                keys = {subject_key(platform, u): u for u in missing}
                gone = set(
                    self.session.scalars(
                        select(TombstoneRow.subject_key).where(TombstoneRow.subject_key.in_(keys))
                    )
                )
                missing = [u for k, u in keys.items() if k not in gone]
            if missing:
                dialect = self.session.get_bind().dialect.name
                insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
                now = utcnow()
                self.session.execute(
                    insert(MemberRow).on_conflict_do_nothing(),
                    [
                        {
                            "platform": platform,
                            "platform_user_id": u,
                            "agency_id": agencies[u],
                            "active": True,
                            "created_at": now,
                        }
                        for u in missing
                    ],
                )
                query = select(MemberRow).where(
                    MemberRow.platform == platform, MemberRow.platform_user_id.in_(missing)
                )
                found.update({row.platform_user_id: row for row in self.session.scalars(query)})
            for row in found.values():
                if row.agency_id == OUTSIDE_AGENCY_ID:  # See ensure()
                    row.agency_id = agencies[row.platform_user_id]
            rows.extend(found[u] for u in chunk if u in found)
        return rows

    def set_profile(
        self,
        member_id: int,
        timezone: str | None,
        checked_at: dt.datetime,
        inactive_reason: str | None,
        active: bool,
    ) -> None:
        """Store what the platform profile says: time zone, and whether to prompt at all."""
        values: dict[str, Any] = {"timezone": timezone, "timezone_checked_at": checked_at}
        if active:
            values.update(active=True, inactive_reason=None)
        elif inactive_reason is not None:
            values.update(active=False, inactive_reason=inactive_reason[:64])
        self.session.execute(update(MemberRow).where(MemberRow.id == member_id).values(**values))


class PromptRepository:
    """The delivery ledger."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, prompt_id: int) -> PromptRow | None:
        """A ledger row by id."""
        return self.session.get(PromptRow, prompt_id)

    def get_for_update(self, prompt_id: int) -> PromptRow | None:
        """A ledger row by id, locked until commit (PostgreSQL), so no other worker's claim or
        send can begin on it between reading and writing it."""
        return self.session.get(PromptRow, prompt_id, with_for_update=True)

    def latest_open(self, member_id: int) -> PromptRow | None:
        """The member's most recent prompt still waiting for an answer."""
        return self.session.scalar(_LATEST_OPEN_PROMPT, {"member_id": member_id})

    def counts_by_status(self, cycle_suffix: str | None = None) -> dict[str, int]:
        """How many ledger rows are in each status (optionally for cycles ending in a suffix)."""
        query = select(PromptRow.status, func.count()).group_by(PromptRow.status)
        if cycle_suffix:
            query = query.where(PromptRow.cycle.endswith(cycle_suffix))
        return {status: count for status, count in self.session.execute(query)}

    # The scheduler's ledger operations.
    def insert_pending(self, cohort_id: str, entries: Sequence[tuple[int, str]]) -> None:
        """Ledger rows for (member id, cycle) pairs, before anything is sent; existing ones stay."""
        if not entries:
            return
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        now = utcnow()
        for start in range(0, len(entries), 500):
            self.session.execute(
                insert(PromptRow).on_conflict_do_nothing(),
                [
                    {
                        "member_id": member_id,
                        "cohort_id": cohort_id,
                        "cycle": cycle,
                        "status": "pending",
                        "attempts": 0,
                        "created_at": now,
                    }
                    for member_id, cycle in entries[start : start + 500]
                ],
            )

    def for_cycles(self, cohort_id: str, cycles: Iterable[str]) -> list[Any]:
        """A cohort's ledger for some cycles: (id, member_id, cycle, status, sending_at) rows."""
        query = select(
            PromptRow.id,
            PromptRow.member_id,
            PromptRow.cycle,
            PromptRow.status,
            PromptRow.sending_at,
        ).where(PromptRow.cohort_id == cohort_id, PromptRow.cycle.in_(list(cycles)))
        return list(self.session.execute(query))

    def claim(
        self,
        prompt_ids: Sequence[int],
        worker: str,
        now: dt.datetime,
        until: dt.datetime,
    ) -> list[int]:
        """Reserve some pending rows for `worker` to send; the ids it got (others skipped).

        On PostgreSQL the rows are picked `FOR UPDATE SKIP LOCKED`: workers claiming at once
        each get different rows without waiting for each other. A reservation held by another
        worker is taken only once it has expired; a row whose send began (`sending_at`) is
        never claimed here (it is in doubt: see `in_doubt`).
        """
        if not prompt_ids:
            return []
        free = (
            PromptRow.id.in_(list(prompt_ids)),
            PromptRow.status == "pending",
            PromptRow.sending_at.is_(None),
            (
                PromptRow.leased_by.is_(None)
                | (PromptRow.leased_by == worker)
                | (PromptRow.lease_expires_at < now)
            ),
        )
        pick = select(PromptRow.id).where(*free).order_by(PromptRow.id)
        if self.session.get_bind().dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        # SQLite: one writer at a time (and one worker), so the conditional UPDATE suffices.
        ids = list(self.session.scalars(pick))
        if not ids:
            return []
        result = self.session.execute(
            update(PromptRow)
            .where(PromptRow.id.in_(ids), *free)
            .values(leased_by=worker, lease_expires_at=until)
            .returning(PromptRow.id)
        )
        return sorted(result.scalars())

    def begin_send(self, prompt_id: int, worker: str, now: dt.datetime, until: dt.datetime) -> bool:
        """Mark the send of a row this worker reserved as begun; False if it is not ours now.

        A conditional UPDATE: a reservation that expired and was taken by another worker (or
        a row settled meanwhile) is not sent, so each prompt goes out once.
        """
        result = self.session.execute(
            update(PromptRow)
            .where(
                PromptRow.id == prompt_id,
                PromptRow.status == "pending",
                PromptRow.sending_at.is_(None),
                PromptRow.leased_by == worker,
            )
            .values(sending_at=now, lease_expires_at=until, attempts=PromptRow.attempts + 1)
        )
        return bool(result.rowcount)

    def begin_sends(
        self, prompt_ids: Sequence[int], worker: str, now: dt.datetime, until: dt.datetime
    ) -> list[int]:
        """`begin_send` for several rows in one statement; the ids whose send may begin.

        The same conditions per row: a reservation taken over meanwhile (or a row settled) is
        left out, so each prompt still goes out once.
        """
        if not prompt_ids:
            return []
        result = self.session.execute(
            update(PromptRow)
            .where(
                PromptRow.id.in_(list(prompt_ids)),
                PromptRow.status == "pending",
                PromptRow.sending_at.is_(None),
                PromptRow.leased_by == worker,
            )
            .values(sending_at=now, lease_expires_at=until, attempts=PromptRow.attempts + 1)
            .returning(PromptRow.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(result.scalars())

    def record_sent(self, sent: Sequence[tuple[int, str, str, dt.datetime]], worker: str) -> None:
        """Write the outcome of sends this worker began: (id, channel, ts, sent at) each.

        One statement for them all (executemany). Only a row still marked as being sent by
        this worker is written: one settled meanwhile by another keeps what that one found.
        """
        if not sent:
            return
        table = PromptRow.__table__
        statement = (
            update(table)
            .where(
                table.c.id == bindparam("pid"),
                table.c.status == "pending",
                table.c.sending_at.is_not(None),
                table.c.leased_by == worker,
            )
            .values(
                status="sent",
                channel_id=bindparam("ch"),
                message_ts=bindparam("ts"),
                sent_at=bindparam("at"),
                sending_at=None,
                lease_expires_at=None,
                error=None,
            )
        )
        self.session.connection().execute(
            statement,
            [{"pid": pid, "ch": channel, "ts": ts, "at": at} for pid, channel, ts, at in sent],
        )

    def unbegin(self, prompt_ids: Sequence[int], worker: str) -> None:
        """Undo `begin_sends` for rows whose send never started (a stop request came first)."""
        if not prompt_ids:
            return
        self.session.execute(
            update(PromptRow)
            .where(
                PromptRow.id.in_(list(prompt_ids)),
                PromptRow.status == "pending",
                PromptRow.leased_by == worker,
                PromptRow.sending_at.is_not(None),
            )
            .values(
                sending_at=None,
                leased_by=None,
                lease_expires_at=None,
                attempts=PromptRow.attempts - 1,
            )
            .execution_options(synchronize_session=False)
        )

    def lease(self, prompt_id: int, now: dt.datetime, worker: str | None = None) -> bool:
        """Take a pending row to send it; False if someone else has it or it is settled.

        A conditional UPDATE, so of two processes racing for one row exactly one wins.
        """
        result = self.session.execute(
            update(PromptRow)
            .where(
                PromptRow.id == prompt_id,
                PromptRow.status == "pending",
                PromptRow.sending_at.is_(None),
            )
            .values(sending_at=now, leased_by=worker, attempts=PromptRow.attempts + 1)
        )
        return bool(result.rowcount)

    def release(self, prompt_ids: Sequence[int], worker: str) -> None:
        """Give back reservations whose send never began (a stop request), for others."""
        if not prompt_ids:
            return
        self.session.execute(
            update(PromptRow)
            .where(
                PromptRow.id.in_(list(prompt_ids)),
                PromptRow.leased_by == worker,
                PromptRow.sending_at.is_(None),
            )
            .values(leased_by=None, lease_expires_at=None)
        )

    def reservation_holders(self) -> list[str]:
        """Workers holding reservations of pending rows whose send has not begun."""
        query = (
            select(PromptRow.leased_by)
            .where(
                PromptRow.status == "pending",
                PromptRow.sending_at.is_(None),
                PromptRow.leased_by.is_not(None),
            )
            .distinct()
        )
        return [str(holder) for holder in self.session.scalars(query)]

    def release_holder(self, worker: str) -> int:
        """Free every reservation of a worker that is gone (its sends never began)."""
        result = self.session.execute(
            update(PromptRow)
            .where(
                PromptRow.leased_by == worker,
                PromptRow.status == "pending",
                PromptRow.sending_at.is_(None),
            )
            .values(leased_by=None, lease_expires_at=None)
        )
        return int(result.rowcount or 0)

    def in_doubt(self) -> list[tuple[PromptRow, str]]:
        """Pending rows whose send began but never ended (a crash, a timeout), with user ids."""
        query = (
            select(PromptRow, MemberRow.platform_user_id)
            .join(MemberRow, MemberRow.id == PromptRow.member_id)
            .where(PromptRow.status == "pending", PromptRow.sending_at.is_not(None))
        )
        return [(row, user_id) for row, user_id in self.session.execute(query)]

    def open_before(self, cohort_id: str, cycle: str) -> list[tuple[PromptRow, str | None]]:
        """Pending or sent rows of cycles before `cycle`, with their member's time zone."""
        query = (
            select(PromptRow, MemberRow.timezone)
            .join(MemberRow, MemberRow.id == PromptRow.member_id)
            .where(
                PromptRow.cohort_id == cohort_id,
                PromptRow.status.in_(("pending", "sent")),
                PromptRow.cycle < cycle,
            )
        )
        return [(row, tz) for row, tz in self.session.execute(query)]

    def awaiting_reminder(
        self, cohort_id: str, sent_before: dt.datetime
    ) -> list[tuple[PromptRow, MemberRow]]:
        """Sent, unanswered, never reminded, and sent before a time; with the member."""
        query = (
            select(PromptRow, MemberRow)
            .join(MemberRow, MemberRow.id == PromptRow.member_id)
            .where(
                PromptRow.cohort_id == cohort_id,
                PromptRow.status == "sent",
                PromptRow.reminded_at.is_(None),
                PromptRow.sent_at <= sent_before,
            )
        )
        return [(row, member) for row, member in self.session.execute(query)]

    def claim_reminders(self, prompt_ids: Sequence[int], now: dt.datetime) -> list[int]:
        """`claim_reminder` for several rows in one statement; the ids claimed now."""
        if not prompt_ids:
            return []
        result = self.session.execute(
            update(PromptRow)
            .where(
                PromptRow.id.in_(list(prompt_ids)),
                PromptRow.status == "sent",
                PromptRow.reminded_at.is_(None),
            )
            .values(reminded_at=now)
            .returning(PromptRow.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(result.scalars())

    def claim_reminder(self, prompt_id: int, now: dt.datetime) -> bool:
        """Mark a row reminded, once; False if it was reminded or answered meanwhile."""
        result = self.session.execute(
            update(PromptRow)
            .where(
                PromptRow.id == prompt_id,
                PromptRow.status == "sent",
                PromptRow.reminded_at.is_(None),
            )
            .values(reminded_at=now)
        )
        return bool(result.rowcount)

    def cycle_counts(
        self, cohort_id: str, cycle: str
    ) -> tuple[dict[str, int], dict[str, int], int]:
        """Rows per status, errors per code and reminders sent, for one cohort and cycle."""
        where = (PromptRow.cohort_id == cohort_id, PromptRow.cycle == cycle)
        statuses = self.session.execute(
            select(PromptRow.status, func.count()).where(*where).group_by(PromptRow.status)
        )
        errors = self.session.execute(
            select(PromptRow.error, func.count())
            .where(*where, PromptRow.error.is_not(None))
            .group_by(PromptRow.error)
        )
        reminded = self.session.scalar(
            select(func.count()).where(*where, PromptRow.reminded_at.is_not(None))
        )
        return dict(statuses.all()), dict(errors.all()), int(reminded or 0)


class CheckinRepository:
    """Stored learnings."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_idempotency_key(self, key: str) -> CheckinRow | None:
        """The check-in stored for a platform event, if it was stored before."""
        return self.session.scalar(_CHECKIN_BY_IDEMPOTENCY_KEY, {"key": key})

    def add(self, row: CheckinRow, themes: Sequence[ThemeRow]) -> CheckinRow:
        """Store a check-in and its themes; AlreadyStored if its idempotency key is taken."""
        self.session.add(row)
        try:
            self.session.flush()
        except IntegrityError as exc:
            # Two deliveries of one event raced past the lookup: the unique key let one in.
            if row.idempotency_key is None:
                raise
            raise AlreadyStored(row.idempotency_key) from exc
        for theme in themes:
            self.session.add(CheckinThemeRow(checkin_id=row.id, theme_id=theme.id))
        self.session.flush()
        return row

    def get(self, checkin_id: int) -> CheckinRow | None:
        """A check-in by id."""
        return self.session.get(CheckinRow, checkin_id)

    def counts_by_agency(self) -> dict[str, int]:
        """Named check-ins per agency (counts only): anonymous ones never count against one."""
        query = (
            select(CheckinRow.agency_id, func.count())
            .where(CheckinRow.visibility != Visibility.ANONYMOUS.value)
            .group_by(CheckinRow.agency_id)
        )
        return {agency: count for agency, count in self.session.execute(query)}

    def counts_by_theme(self) -> dict[str, int]:
        """Check-ins per theme (counts only)."""
        query = (
            select(ThemeRow.name, func.count())
            .join(CheckinThemeRow, CheckinThemeRow.theme_id == ThemeRow.id)
            .group_by(ThemeRow.name)
        )
        return {name: count for name, count in self.session.execute(query)}


class AuditRepository:
    """The append-only audit log."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        actor: str,
        action: str,
        target: str | None = None,
        *,
        at: dt.datetime | None = None,
        **details: Any,
    ) -> AuditEventRow:
        """Append one audit event (at `at`, the caller's clock, else now)."""
        row = AuditEventRow(
            actor=actor, action=action, target=target, details=details, at=at or utcnow()
        )
        self.session.add(row)
        return row

    def since(self, since: dt.datetime | None = None) -> list[AuditEventRow]:
        """Events at or after `since` (all when None), oldest first."""
        query = select(AuditEventRow).order_by(AuditEventRow.at, AuditEventRow.id)
        if since is not None:
            query = query.where(AuditEventRow.at >= since)
        return list(self.session.scalars(query))
