"""Digest storage: the once-only digest ledger and the period queries.

Every read is bounded by the period's `created_at` range, so it walks the
`ix_checkins_created_agency` index and its cost follows the week, not the history. Counts are
aggregated in SQL; only the entries that may be quoted are loaded.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    distinct,
    func,
    or_,
    select,
    text,
    union,
    update,
)
from sqlalchemy.orm import Session

from bot.domain.checkins import PromptStatus, Visibility
from bot.domain.digest import BarrierFact, CheckinFact
from storage.models import (
    CheckinRow,
    CheckinThemeRow,
    DigestRow,
    EscalationEventRow,
    EscalationRow,
    MemberRow,
    PromptRow,
    ThemeRow,
    utcnow,
)
from storage.repositories import insert_ignoring_conflicts


class DigestStatus:
    """Ledger states: pending → posting → posted | waiting (bot not in channel) | failed."""

    PENDING = "pending"
    POSTING = "posting"
    POSTED = "posted"
    WAITING = "waiting"
    FAILED = "failed"
    # A row in one of these may be claimed (again): never one that is posting or posted.
    CLAIMABLE = (PENDING, WAITING)


# (question_set_id, answers, questions as asked) -> (learning, barrier): the third.
TextOf = Callable[[str, Mapping[str, Any], Sequence[Mapping[str, Any]]], tuple[str, str]]


class DigestRepository:
    """The digest ledger and the queries a digest is built from. Never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------------ the ledger

    def claim(
        self,
        destination_id: str,
        period: str,
        channel: str,
        now: dt.datetime | None = None,
        stale_before: dt.datetime | None = None,
    ) -> DigestRow | None:
        """The row to post for (destination, period), now `posting`, or None if not ours.

        The unique row is inserted if new; then a conditional UPDATE moves it from pending or
        waiting to posting. Only one transaction's UPDATE can match, whatever the number of
        workers, so only one of them posts; a posted row is never claimed again, and a posting
        one only when its attempt began before `stale_before` (its worker died: the caller
        then treats the next part as in doubt).
        """
        claimable: ColumnElement[bool] = DigestRow.status.in_(DigestStatus.CLAIMABLE)
        if stale_before is not None:
            claimable = or_(
                claimable,
                and_(
                    DigestRow.status == DigestStatus.POSTING,
                    DigestRow.claimed_at.is_not(None),
                    DigestRow.claimed_at < stale_before,
                ),
            )
        insert_ignoring_conflicts(
            self.session,
            DigestRow,
            {
                "destination_id": destination_id,
                "period": period,
                "status": DigestStatus.PENDING,
                "channel_id": channel,
                "created_at": utcnow(),
            },
        )
        result = self.session.execute(
            update(DigestRow)
            .where(
                DigestRow.destination_id == destination_id,
                DigestRow.period == period,
                claimable,
            )
            .values(
                status=DigestStatus.POSTING,
                # Once the first part is out, its conversation (a DM's id) is where the rest go.
                channel_id=case(
                    (DigestRow.message_ts.is_(None), channel), else_=DigestRow.channel_id
                ),
                claimed_at=now or utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return self.get(destination_id, period)

    def get(self, destination_id: str, period: str) -> DigestRow | None:
        """The ledger row for (destination, period)."""
        return self.session.scalar(
            select(DigestRow)
            .where(DigestRow.destination_id == destination_id, DigestRow.period == period)
            .execution_options(populate_existing=True)
        )

    def record_part(self, digest_id: int, index: int, channel: str, ts: str) -> None:
        """Part `index` of a digest was accepted: remember it before the next one is sent."""
        row = self.session.get(DigestRow, digest_id, populate_existing=True)
        assert row is not None
        parts = list(row.parts or [])[:index]
        row.parts = [*parts, ts]
        if index == 0:
            row.channel_id, row.message_ts = channel, ts

    def record_chart(self, digest_id: int) -> None:
        """One more of the digest's charts was uploaded."""
        row = self.session.get(DigestRow, digest_id, populate_existing=True)
        assert row is not None
        row.charts_posted = (row.charts_posted or 0) + 1

    def rows(self, destination_ids: Collection[str], period: str) -> list[DigestRow]:
        """The ledger rows of one period for these destinations (for the status command)."""
        if not destination_ids:
            return []
        return list(
            self.session.scalars(
                select(DigestRow).where(
                    DigestRow.period == period, DigestRow.destination_id.in_(list(destination_ids))
                )
            )
        )

    def reopen(self, destination_id: str, period: str) -> bool:
        """A failed digest back to pending, so it can be sent again (an admin fixed the cause)."""
        result = self.session.execute(
            update(DigestRow)
            .where(
                DigestRow.destination_id == destination_id,
                DigestRow.period == period,
                DigestRow.status == DigestStatus.FAILED,
            )
            .values(status=DigestStatus.PENDING, error=None)
        )
        return bool(getattr(result, "rowcount", 0))

    def statuses(self, destination_ids: Collection[str], period: str) -> dict[str, str]:
        """Status by destination for one period (destinations without a row are absent)."""
        if not destination_ids:
            return {}
        rows = self.session.execute(
            select(DigestRow.destination_id, DigestRow.status).where(
                DigestRow.period == period, DigestRow.destination_id.in_(list(destination_ids))
            )
        )
        return {dest: status for dest, status in rows}

    def waiting_since_before(self, destination_id: str, period: str) -> bool:
        """Whether another period of this destination is already waiting (admins were told)."""
        return (
            self.session.scalar(
                select(func.count())
                .select_from(DigestRow)
                .where(
                    DigestRow.destination_id == destination_id,
                    DigestRow.period != period,
                    DigestRow.status == DigestStatus.WAITING,
                )
            )
            or 0
        ) > 0

    # ------------------------------------------------------------------ counts

    def plan_for_this_period(self) -> None:
        """On PostgreSQL, plan each digest query for its own period's bounds (this transaction).

        psycopg prepares a statement run often on one connection, and PostgreSQL may then use a
        generic plan that cannot see the bounds, and scans every check-in ever written.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))

    @staticmethod
    def _in_period(
        start: dt.datetime, end: dt.datetime, agencies: Collection[str] | None
    ) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [
            CheckinRow.created_at >= start,
            CheckinRow.created_at < end,
        ]
        if agencies is not None:
            conditions.append(CheckinRow.agency_id.in_(list(agencies)))
        return conditions

    @staticmethod
    def _named() -> ColumnElement[bool]:
        """Check-ins that may count against their agency: every one but the anonymous."""
        return CheckinRow.visibility != Visibility.ANONYMOUS.value

    @classmethod
    def _counted(
        cls, start: dt.datetime, end: dt.datetime, agencies: Collection[str] | None
    ) -> list[ColumnElement[bool]]:
        """The check-ins a total counts: all of them alliance-wide, the named in an agency's.

        A total scoped to agencies is a count against them, so anonymous entries stay out.
        """
        conditions = cls._in_period(start, end, agencies)
        if agencies is not None:
            conditions.append(cls._named())
        return conditions

    def _theme_rows_between(
        self, start: dt.datetime, end: dt.datetime, agencies: Collection[str] | None
    ) -> list[ColumnElement[bool]] | None:
        """Bounds on checkin_themes for the period's check-ins, or None if there are none.

        Without them PostgreSQL may hash-join the period's check-ins against every
        checkin_themes row ever written (a full scan that grows with history); with them it
        reads one primary-key range. Ids follow time, so the range is the period's.
        """
        # `id + 0`: a bare min(id) tempts PostgreSQL to walk the primary key from the very first
        # check-in, filtering on created_at; this way it reads the period's index range.
        low, high = self.session.execute(
            select(func.min(CheckinRow.id + 0), func.max(CheckinRow.id + 0)).where(
                *self._in_period(start, end, agencies)
            )
        ).one()
        if low is None:
            return None
        return [CheckinThemeRow.checkin_id >= low, CheckinThemeRow.checkin_id <= high]

    def participation(
        self, start: dt.datetime, end: dt.datetime, agencies: Collection[str] | None
    ) -> tuple[dict[str, int], dict[str, int]]:
        """(check-ins, distinct people taking part) per agency in [start, end): counts only.

        Someone who answered "Nothing this week" took part without a check-in, so
        people are those with a check-in *or* a prompt closed as `nothing` in the period.
        Anonymous check-ins are never counted against an agency, nor their authors as its
        people: `anonymous()` gives the alliance-wide number.
        """
        rows = self.session.execute(
            select(CheckinRow.agency_id, func.count())
            .where(*self._in_period(start, end, agencies), self._named())
            .group_by(CheckinRow.agency_id)
        )
        learnings = {agency_id: int(count) for agency_id, count in rows}
        nothing = [
            PromptRow.status == PromptStatus.NOTHING.value,
            PromptRow.closed_at >= start,
            PromptRow.closed_at < end,
        ]
        if agencies is not None:
            nothing.append(MemberRow.agency_id.in_(list(agencies)))
        took_part = union(
            select(CheckinRow.agency_id, CheckinRow.member_id).where(
                *self._in_period(start, end, agencies), self._named()
            ),
            select(MemberRow.agency_id, PromptRow.member_id)
            .join(MemberRow, MemberRow.id == PromptRow.member_id)
            .where(*nothing),
        ).subquery()
        rows = self.session.execute(
            select(took_part.c.agency_id, func.count(distinct(took_part.c.member_id))).group_by(
                took_part.c.agency_id
            )
        )
        people = {agency_id: int(n) for agency_id, n in rows}
        return learnings, people

    def contributors(
        self, start: dt.datetime, end: dt.datetime, agencies: Collection[str] | None
    ) -> dict[str, int]:
        """Distinct people with a check-in (named or anonymous) per agency in [start, end).

        Only the k-anonymity gate (bot/domain/visibility.py) reads it: it decides whether an
        agency's own outputs may quote its anonymous entries, and is never shown to anyone.
        """
        rows = self.session.execute(
            select(CheckinRow.agency_id, func.count(distinct(CheckinRow.member_id)))
            .where(*self._in_period(start, end, agencies))
            .group_by(CheckinRow.agency_id)
        )
        return {agency_id: int(n) for agency_id, n in rows}

    def anonymous(self, start: dt.datetime, end: dt.datetime) -> int:
        """Anonymous check-ins in [start, end) across the whole alliance (never per agency)."""
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(CheckinRow)
                .where(*self._in_period(start, end, None), ~self._named())
            )
            or 0
        )

    def theme_counts(
        self, start: dt.datetime, end: dt.datetime, agencies: Collection[str] | None
    ) -> dict[tuple[str | None, str], int]:
        """Check-ins per (agency, theme) in [start, end); anonymous ones under agency None.

        An anonymous check-in is never counted against its agency: alliance-wide it counts
        under None (theme totals only), and a count scoped to agencies leaves it out.
        """
        bounds = self._theme_rows_between(start, end, agencies)
        if bounds is None:
            return {}
        agency = case((self._named(), CheckinRow.agency_id), else_=None).label("agency")
        rows = self.session.execute(
            select(agency, CheckinThemeRow.theme_id, func.count())
            .join(CheckinThemeRow, CheckinThemeRow.checkin_id == CheckinRow.id)
            .where(*self._counted(start, end, agencies), *bounds)
            .group_by(agency, CheckinThemeRow.theme_id)
        )
        names = self._theme_names()
        return {(agency_id, names[theme_id]): int(n) for agency_id, theme_id, n in rows}

    def theme_counts_by_window(
        self, windows: Sequence[tuple[dt.datetime, dt.datetime]], agencies: Collection[str] | None
    ) -> list[dict[tuple[str | None, str], int]]:
        """`theme_counts` for each of several contiguous windows (newest first), in one query.

        The same counting rules as `theme_counts`, grouped by window as well: the board's
        themes page reads eight weeks at once.
        """
        if not windows:
            return []
        if len(windows) == 1:
            return [self.theme_counts(*windows[0], agencies)]
        oldest, newest = min(lo for lo, _ in windows), max(hi for _, hi in windows)
        if (
            any(hi != windows[i][0] for i, (_, hi) in enumerate(windows[1:]))
            or newest != windows[0][1]
        ):
            # Not contiguous and newest first: count each on its own.
            return [self.theme_counts(lo, hi, agencies) for lo, hi in windows]
        bounds = self._theme_rows_between(oldest, newest, agencies)
        if bounds is None:
            return [{} for _ in windows]
        # Contiguous, newest first: the first lower bound a row passes is its own window.
        bucket = case(
            *[(CheckinRow.created_at >= lo, i) for i, (lo, _) in enumerate(windows)],
            else_=len(windows),
        ).label("bucket")
        agency = case((self._named(), CheckinRow.agency_id), else_=None).label("agency")
        rows = self.session.execute(
            select(bucket, agency, CheckinThemeRow.theme_id, func.count())
            .join(CheckinThemeRow, CheckinThemeRow.checkin_id == CheckinRow.id)
            .where(*self._counted(oldest, newest, agencies), *bounds)
            .group_by(bucket, agency, CheckinThemeRow.theme_id)
        )
        names = self._theme_names()
        result: list[dict[tuple[str | None, str], int]] = [{} for _ in windows]
        for i, agency_id, theme_id, n in rows:
            if 0 <= i < len(windows):
                result[i][(agency_id, names[theme_id])] = int(n)
        return result

    def _theme_names(self) -> dict[int, str]:
        # Grouping by id and naming afterwards saves a join per row on a big week.
        return {
            theme_id: name
            for theme_id, name in self.session.execute(select(ThemeRow.id, ThemeRow.name))
        }

    def baseline_theme_counts(
        self, windows: Sequence[tuple[dt.datetime, dt.datetime]], agencies: Collection[str] | None
    ) -> list[dict[str, int]]:
        """Theme totals for each earlier window (newest first), in one query."""
        if not windows:
            return []
        if agencies is None:
            ranges = [self._exact_id_range(lo, hi) for lo, hi in windows]
            if all(r is not None for r in ranges):
                return self._theme_totals_by_id_ranges(ranges)
        # Windows are contiguous and newest first: the first lower bound a row passes is its own.
        bucket = case(
            *[(CheckinRow.created_at >= lo, i) for i, (lo, _) in enumerate(windows)],
            else_=len(windows),
        ).label("bucket")
        oldest, newest = windows[-1][0], windows[0][1]
        bounds = self._theme_rows_between(oldest, newest, agencies)
        if bounds is None:
            return [{} for _ in windows]
        rows = self.session.execute(
            select(bucket, CheckinThemeRow.theme_id, func.count())
            .join(CheckinThemeRow, CheckinThemeRow.checkin_id == CheckinRow.id)
            .where(*self._counted(oldest, newest, agencies), *bounds)
            .group_by(bucket, CheckinThemeRow.theme_id)
        )
        names = self._theme_names()
        result: list[dict[str, int]] = [{} for _ in windows]
        for index, theme_id, n in rows:
            if 0 <= int(index) < len(windows):
                result[int(index)][names[theme_id]] = int(n)
        return result

    def _exact_id_range(
        self, start: dt.datetime, end: dt.datetime
    ) -> tuple[int, int] | tuple[()] | None:
        """The id range holding exactly the check-ins of [start, end): `()` when there are none,
        None when other check-ins' ids fall inside it (ids did not follow time)."""
        low, high, count = self.session.execute(
            select(func.min(CheckinRow.id + 0), func.max(CheckinRow.id + 0), func.count()).where(
                *self._in_period(start, end, None)
            )
        ).one()
        if not count:
            return ()
        in_range = self.session.scalar(
            select(func.count()).select_from(CheckinRow).where(CheckinRow.id.between(low, high))
        )
        return (int(low), int(high)) if in_range == count else None

    def _theme_totals_by_id_ranges(
        self, ranges: Sequence[tuple[int, int] | tuple[()] | None]
    ) -> list[dict[str, int]]:
        """Theme totals per id range, reading only checkin_themes' primary key.

        The fast path for the four-week baseline: one range scan instead of a lookup per
        check-in, so a busy history costs little more than a quiet one.
        """
        result: list[dict[str, int]] = [{} for _ in ranges]
        spans = [(i, r) for i, r in enumerate(ranges) if r]
        if not spans:
            return result
        column = CheckinThemeRow.checkin_id
        bucket = case(
            *[(column.between(lo, hi), i) for i, (lo, hi) in spans],  # type: ignore[misc]
            else_=-1,
        ).label("bucket")
        low = min(r[0] for _, r in spans)  # type: ignore[index]
        high = max(r[1] for _, r in spans)  # type: ignore[index]
        names = self._theme_names()
        rows = self.session.execute(
            select(bucket, CheckinThemeRow.theme_id, func.count())
            .where(column.between(low, high))
            .group_by(bucket, CheckinThemeRow.theme_id)
        )
        for index, theme_id, n in rows:
            if int(index) >= 0:
                result[int(index)][names[theme_id]] = int(n)
        return result

    def total(self, start: dt.datetime, end: dt.datetime, agencies: Collection[str] | None) -> int:
        """Check-ins in [start, end): all alliance-wide, the named ones for agencies."""
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(CheckinRow)
                .where(*self._counted(start, end, agencies))
            )
            or 0
        )

    # ------------------------------------------------------------------ entries

    def shareable_checkins(
        self,
        start: dt.datetime,
        end: dt.datetime,
        visibilities: Collection[str],
        own_agency: str | None,
        text_of: TextOf,
    ) -> list[CheckinFact]:
        """The period's check-ins with a visibility in `visibilities`, plus all of `own_agency`'s.

        A superset of what the audience may read: the visibility policy decides per entry.
        `text_of(question_set_id, answers, questions)` picks the learning and barrier answers.
        """
        wanted: ColumnElement[bool] = CheckinRow.visibility.in_(list(visibilities))
        if own_agency is not None:
            wanted = or_(wanted, CheckinRow.agency_id == own_agency)
        where = and_(*self._in_period(start, end, None), wanted)
        rows = self.session.execute(
            select(
                CheckinRow.id,
                CheckinRow.agency_id,
                CheckinRow.member_id,
                CheckinRow.visibility,
                CheckinRow.created_at,
                CheckinRow.question_set_id,
                CheckinRow.answers,
                MemberRow.display_name,
                CheckinRow.questions,  # Read each entry through its own questions
            )
            .outerjoin(MemberRow, MemberRow.id == CheckinRow.member_id)
            .where(where)
            .order_by(CheckinRow.created_at, CheckinRow.id)
        ).all()
        themes: dict[int, list[str]] = defaultdict(list)
        ids = [row[0] for row in rows]
        bounds = (
            [CheckinThemeRow.checkin_id >= min(ids), CheckinThemeRow.checkin_id <= max(ids)]
            if ids
            else [CheckinThemeRow.checkin_id < 0]
        )
        for checkin_id, name in self.session.execute(
            select(CheckinThemeRow.checkin_id, ThemeRow.name)
            .join(CheckinRow, CheckinRow.id == CheckinThemeRow.checkin_id)
            .join(ThemeRow, ThemeRow.id == CheckinThemeRow.theme_id)
            .where(where, *bounds)
            .order_by(CheckinThemeRow.checkin_id, ThemeRow.name)
        ):
            themes[checkin_id].append(name)
        facts = []
        for cid, agency, member, visibility, created, qset, answers, display, asked in rows:
            learning, barrier = text_of(qset, answers or {}, asked or [])
            facts.append(
                CheckinFact(
                    id=cid,
                    agency_id=agency,
                    member_id=member,
                    visibility=visibility,
                    created_at=created,
                    learning=learning,
                    barrier=barrier,
                    themes=tuple(themes.get(cid, ())),
                    author_name=display,
                )
            )
        return facts

    # ------------------------------------------------------------------ barriers

    def barriers(
        self, start: dt.datetime, end: dt.datetime, stale_before: dt.datetime
    ) -> list[BarrierFact]:
        """Barriers new, moved, resolved in [start, end), or open with no update since a date.

        Reads the escalation register directly; an empty register gives an empty list.
        """
        events = self.session.execute(
            select(
                EscalationEventRow.escalation_id,
                EscalationEventRow.from_level,
                EscalationEventRow.to_level,
                EscalationEventRow.to_status,
                EscalationEventRow.at,
            )
            .where(EscalationEventRow.at >= start, EscalationEventRow.at < end)
            .order_by(EscalationEventRow.at, EscalationEventRow.id)
        ).all()
        moved: dict[int, tuple[str | None, str]] = {}
        resolved_at: dict[int, dt.datetime] = {}
        for escalation_id, from_level, to_level, to_status, at in events:
            if to_level and to_level != from_level:
                first_from = moved.get(escalation_id, (from_level, to_level))[0]
                moved[escalation_id] = (first_from, to_level)
            if to_status == "resolved":
                resolved_at[escalation_id] = at
        touched = set(moved) | set(resolved_at)
        conditions: list[ColumnElement[bool]] = [
            and_(EscalationRow.created_at >= start, EscalationRow.created_at < end),
            and_(
                EscalationRow.status == "resolved",
                EscalationRow.updated_at >= start,
                EscalationRow.updated_at < end,
            ),
            and_(
                EscalationRow.status.in_(["open", "acknowledged", "in_progress"]),
                EscalationRow.updated_at < stale_before,
            ),
        ]
        if touched:
            conditions.append(EscalationRow.id.in_(sorted(touched)))
        rows = self.session.execute(
            select(
                EscalationRow.id,
                EscalationRow.title,
                EscalationRow.status,
                EscalationRow.level,
                EscalationRow.agencies,
                EscalationRow.created_at,
                EscalationRow.updated_at,
                EscalationRow.outcome,
            )
            .where(or_(*conditions))
            .order_by(EscalationRow.created_at, EscalationRow.id)
        ).all()
        facts = []
        for eid, title, status, level, agencies, created, updated, outcome in rows:
            move = moved.get(eid)
            facts.append(
                BarrierFact(
                    id=eid,
                    title=title,
                    status=status,
                    level=level,
                    agencies=tuple(agencies or ()),
                    created_at=created,
                    updated_at=updated,
                    outcome=outcome,
                    moved_from=move[0] if move else None,
                    moved_to=move[1] if move else None,
                    resolved_at=resolved_at.get(eid),
                )
            )
        return facts
