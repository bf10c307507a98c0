"""What the Learning Board keeps of finished weeks, and the one function that forgets it.

The themes page shows eight (up to 26) weeks. Counting every week's themes and finding every
week's shared patterns on each view costs far more than the page may take, so a finished week's
figures are kept in `board_kept_weeks`: its raw theme x agency counts (suppression is applied
when they are read, by the digests' own `theme_lines`) and each scope's shared patterns.

A kept week must never show what a check-in no longer allows (erased, edited, shared less
widely). Every kept row names the span of check-ins it was worked out from (`reads_from`,
`reads_until`), and `forget_weeks_of` deletes each row whose span holds a changed check-in.
It is called by every write that changes or removes a check-in: through the session's
`before_flush` hook (`forget_changed_weeks`, registered by the unit of work) for changes made
on loaded rows, and directly before each bulk DELETE (an entry deleted, a person erased, the
retention purge).

Keeping a week races with such writes: a week worked out from check-ins read just before an
erasure commits must not be stored after it. So a week is first *claimed* (a `filling` row,
committed before its inputs are read) and only *filled* (`kept`) if that row still exists: a
write in between deleted it. On PostgreSQL the claim takes an exclusive advisory lock and every
forgetting write a shared one until it commits, so a claim is either visible to the write's
DELETE or committed after the write (and its reads see the write). SQLite lets one writer in at
a time, which gives the same order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, inspect, or_, select, text, update
from sqlalchemy.orm import Session, UOWTransaction

from storage.models import BoardKeptWeekRow, CheckinRow, MemberRow

COUNTS = "counts"
PATTERNS = "patterns"
FILLING = "filling"  # claimed, being worked out, nothing to show yet
KEPT = "kept"
RENEWING = "renewing"  # kept, being worked out again: shows what it has meanwhile
# A claim whose filler died (a crashed worker) may be taken over after this long.
CLAIM_LEASE = dt.timedelta(minutes=10)
# A fixed advisory lock key ("LLKEPTWK" in ASCII), apart from the worker's.
KEPT_LOCK_KEY = int.from_bytes(b"LLKEPTWK", "big") & 0x7FFF_FFFF_FFFF_FFFF
_CHUNK = 200
# What a kept week is worked out from, of a check-in: a change to any of these forgets it.
_COUNTED = (
    "answers",
    "questions",
    "question_set_id",
    "visibility",
    "themes",
    "agency_id",
    "member_id",
    "created_at",
)

_table = BoardKeptWeekRow.__table__


def forget_weeks_of(
    session: Session,
    moments: Iterable[dt.datetime] = (),
    *,
    checkins_where: ColumnElement[bool] | None = None,
) -> int:
    """Delete every kept week worked out from a check-in made at one of `moments`, or from any
    check-in `checkins_where` selects (call it before deleting those); how many went.

    The one place kept weeks are invalidated. It runs in the writer's transaction, so the
    rows go if and only if the change commits.
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # Shared: writers never wait for each other, only for a claim being committed.
        conn.execute(text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": KEPT_LOCK_KEY})
    gone = 0
    if checkins_where is not None:
        touched = exists(
            select(CheckinRow.id).where(
                checkins_where,
                CheckinRow.created_at >= _table.c.reads_from,
                CheckinRow.created_at < _table.c.reads_until,
            )
        )
        gone += conn.execute(delete(_table).where(touched)).rowcount
    unique = sorted(set(moments))
    for i in range(0, len(unique), _CHUNK):
        spans = [
            and_(_table.c.reads_from <= t, _table.c.reads_until > t) for t in unique[i : i + _CHUNK]
        ]
        gone += conn.execute(delete(_table).where(or_(*spans))).rowcount
    return gone


def forget_changed_weeks(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    """`before_flush`: forget the weeks of check-ins changed or deleted on loaded rows (an edit,
    a visibility change, new themes) and of people whose shown name changed (patterns quote
    it). A new check-in is made now, in a week still counted live, so it forgets nothing."""
    moments: list[dt.datetime] = []
    renamed: list[int] = []
    for obj in session.deleted:
        if isinstance(obj, CheckinRow):
            moments.append(obj.created_at)
    for obj in session.dirty:
        if isinstance(obj, CheckinRow):
            state = inspect(obj)
            if not any(state.attrs[name].history.has_changes() for name in _COUNTED):
                continue  # e.g. the prompt a new check-in answers: nothing a week shows
            history = state.attrs.created_at.history
            moments.extend([*history.unchanged, *history.added, *history.deleted])
        elif isinstance(obj, MemberRow) and obj.id is not None:
            if inspect(obj).attrs.display_name.history.has_changes():
                renamed.append(obj.id)
    if moments or renamed:
        where = CheckinRow.member_id.in_(renamed) if renamed else None
        forget_weeks_of(session, [m for m in moments if m is not None], checkins_where=where)


class KeptWeekRepository:
    """Reading, claiming and filling kept weeks. Never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def read(
        self,
        kind: str,
        scope: str,
        version: str,
        starts: Collection[dt.datetime],
        now: dt.datetime,
    ) -> dict[dt.datetime, Any]:
        """The kept payloads of the weeks starting at `starts` (missing: not kept, or gone)."""
        if not starts:
            return {}
        rows = self.session.execute(
            select(BoardKeptWeekRow.period_start, BoardKeptWeekRow.payload).where(
                BoardKeptWeekRow.kind == kind,
                BoardKeptWeekRow.scope == scope,
                BoardKeptWeekRow.version == version,
                BoardKeptWeekRow.state.in_([KEPT, RENEWING]),
                BoardKeptWeekRow.period_start.in_(list(starts)),
                or_(BoardKeptWeekRow.fresh_until.is_(None), BoardKeptWeekRow.fresh_until > now),
            )
        )
        return {start: payload for start, payload in rows}

    def claim(
        self,
        kind: str,
        scope: str,
        version: str,
        period: tuple[dt.datetime, dt.datetime],
        reads: tuple[dt.datetime, dt.datetime],
        now: dt.datetime,
        fresh_until: dt.datetime | None = None,
        renew_before: dt.datetime | None = None,
    ) -> int | None:
        """Claim a week to work out: its row id, or None if it is kept or being worked out.

        The caller commits the claim before it reads the week's check-ins. Two claims of one
        week at once (SQLite, two processes) may end in an IntegrityError: nothing is claimed.
        A kept week going stale before `renew_before` is claimed again, still readable until
        it is filled anew (`fresh_until` is then the new one's).
        """
        conn = self.session.connection()
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": KEPT_LOCK_KEY})
        key = and_(
            _table.c.kind == kind,
            _table.c.scope == scope,
            _table.c.version == version,
            _table.c.period_start == period[0],
        )
        # A kept week gone stale (the running week's) or a claim whose filler died may be
        # taken over. This DELETE comes first: on SQLite it makes us the one writer, so the
        # look below sees every claim committed before ours.
        conn.execute(
            delete(_table).where(
                key,
                or_(
                    and_(_table.c.state == KEPT, _table.c.fresh_until <= now),
                    and_(
                        _table.c.state.in_([FILLING, RENEWING]),
                        _table.c.claimed_at <= now - CLAIM_LEASE,
                    ),
                ),
            )
        )
        found = conn.execute(
            select(_table.c.id, _table.c.state, _table.c.fresh_until).where(key)
        ).first()
        if found is not None:
            row_id, state, fresh = found
            if state == KEPT and renew_before is not None and fresh is not None:
                if fresh <= renew_before:
                    conn.execute(
                        update(_table)
                        .where(_table.c.id == row_id)
                        .values(state=RENEWING, claimed_at=now)
                    )
                    return int(row_id)
            return None
        row = BoardKeptWeekRow(
            kind=kind,
            scope=scope,
            version=version,
            period_start=period[0],
            period_end=period[1],
            reads_from=reads[0],
            reads_until=reads[1],
            state=FILLING,
            claimed_at=now,
            fresh_until=fresh_until,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def fill(self, row_id: int, payload: Any, fresh_until: dt.datetime | None = None) -> bool:
        """Keep a claimed week's payload; False when a change to its check-ins dropped it."""
        done = self.session.execute(
            update(BoardKeptWeekRow)
            .where(BoardKeptWeekRow.id == row_id, BoardKeptWeekRow.state.in_([FILLING, RENEWING]))
            .values(state=KEPT, payload=payload, fresh_until=fresh_until)
            .execution_options(synchronize_session=False)
        )
        return bool(done.rowcount)

    def release(self, row_ids: Sequence[int]) -> None:
        """Give claims back (working them out failed): the next pass claims them again."""
        if row_ids:
            self.session.execute(
                delete(BoardKeptWeekRow)
                .where(
                    BoardKeptWeekRow.id.in_(list(row_ids)),
                    BoardKeptWeekRow.state.in_([FILLING, RENEWING]),
                )
                .execution_options(synchronize_session=False)
            )

    def prune(self, oldest: dt.datetime, version: str) -> int:
        """Drop weeks older than the board shows, and patterns of another alliance file."""
        gone = self.session.execute(
            delete(BoardKeptWeekRow)
            .where(
                or_(
                    BoardKeptWeekRow.period_start < oldest,
                    and_(BoardKeptWeekRow.kind == PATTERNS, BoardKeptWeekRow.version != version),
                )
            )
            .execution_options(synchronize_session=False)
        )
        return int(gone.rowcount or 0)
