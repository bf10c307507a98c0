"""Learning cycles in storage: inquiries, their tagged check-ins, purpose answers. No commits."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from storage.models import (
    CheckinRow,
    CheckinThemeRow,
    EscalationLinkRow,
    EscalationRow,
    InquiryRow,
    MemberRow,
    ThemeRow,
)

OPEN = "open"
CLOSED = "closed"

# Asked on every form and every DM reply: built once (storage/repositories.py says why).
_RUNNING = (
    select(InquiryRow)
    .where(
        InquiryRow.cohort_id == bindparam("cohort_id"),
        InquiryRow.status == OPEN,
        InquiryRow.starts_at <= bindparam("at"),
        InquiryRow.ends_at > bindparam("at"),
    )
    .order_by(InquiryRow.id.desc())
    .limit(1)
)


@dataclass(frozen=True)
class StoredCheckin:
    """One check-in as the summaries read it (detached from the session)."""

    id: int
    agency_id: str
    member_id: int | None
    visibility: str
    created_at: dt.datetime
    questions: list[dict[str, Any]]
    answers: dict[str, Any]
    themes: tuple[str, ...]
    author_name: str | None
    purpose_period: str | None = None


class InquiryRepository:
    """Inquiries and the check-ins tagged to them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------------ inquiries

    def add(self, row: InquiryRow) -> InquiryRow:
        """Store a new inquiry."""
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, inquiry_id: int) -> InquiryRow | None:
        """An inquiry by id."""
        return self.session.get(InquiryRow, inquiry_id)

    def open_for(self, cohort_id: str) -> InquiryRow | None:
        """The cohort's inquiry not yet closed, if any (running or past its weeks)."""
        return self.session.scalar(
            select(InquiryRow)
            .where(InquiryRow.cohort_id == cohort_id, InquiryRow.status == OPEN)
            .order_by(InquiryRow.id.desc())
            .limit(1)
        )

    def running(self, cohort_id: str, at: dt.datetime) -> InquiryRow | None:
        """The cohort's inquiry whose weeks include `at` and that nobody has closed."""
        return self.session.scalar(_RUNNING, {"cohort_id": cohort_id, "at": at})

    def recent(self, closed_since: dt.datetime) -> list[InquiryRow]:
        """Open inquiries and those closed since a time, newest first."""
        return list(
            self.session.scalars(
                select(InquiryRow)
                .where(or_(InquiryRow.status == OPEN, InquiryRow.closed_at >= closed_since))
                .order_by(InquiryRow.id.desc())
            )
        )

    def open_ids(self) -> list[int]:
        """Ids of every inquiry not yet closed."""
        return list(
            self.session.scalars(
                select(InquiryRow.id).where(InquiryRow.status == OPEN).order_by(InquiryRow.id)
            )
        )

    def due(self, now: dt.datetime) -> list[int]:
        """Ids of open inquiries whose weeks are over."""
        return list(
            self.session.scalars(
                select(InquiryRow.id)
                .where(InquiryRow.status == OPEN, InquiryRow.ends_at <= now)
                .order_by(InquiryRow.id)
            )
        )

    def close(self, inquiry_id: int, at: dt.datetime, by: str) -> bool:
        """Close an open inquiry; True only for the one caller that closed it.

        A conditional UPDATE, so a steward's `close` and the worker's end-of-weeks close racing
        each other post one summary between them.
        """
        result = self.session.execute(
            update(InquiryRow)
            .where(InquiryRow.id == inquiry_id, InquiryRow.status == OPEN)
            .values(status=CLOSED, closed_at=at, closed_by=by[:100])
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    def set_summary(self, inquiry_id: int, channel: str, ts: str) -> None:
        """Remember where the summary was posted."""
        self.session.execute(
            update(InquiryRow)
            .where(InquiryRow.id == inquiry_id)
            .values(summary_channel_id=channel, summary_ts=ts)
            .execution_options(synchronize_session=False)
        )

    def closed_between(self, start: dt.datetime, end: dt.datetime) -> list[InquiryRow]:
        """Inquiries closed in [start, end), oldest first."""
        return list(
            self.session.scalars(
                select(InquiryRow)
                .where(
                    InquiryRow.status == CLOSED,
                    InquiryRow.closed_at >= start,
                    InquiryRow.closed_at < end,
                )
                .order_by(InquiryRow.closed_at, InquiryRow.id)
            )
        )

    def running_during(self, start: dt.datetime, end: dt.datetime) -> list[InquiryRow]:
        """Open inquiries whose weeks overlap [start, end), oldest first."""
        return list(
            self.session.scalars(
                select(InquiryRow)
                .where(
                    InquiryRow.status == OPEN,
                    InquiryRow.starts_at < end,
                    InquiryRow.ends_at > start,
                )
                .order_by(InquiryRow.starts_at, InquiryRow.id)
            )
        )

    # ------------------------------------------------------------------ check-ins

    def counts(self, inquiry_ids: Collection[int]) -> dict[int, int]:
        """Tagged check-ins per inquiry."""
        if not inquiry_ids:
            return {}
        rows = self.session.execute(
            select(CheckinRow.inquiry_id, func.count())
            .where(CheckinRow.inquiry_id.in_(list(inquiry_ids)))
            .group_by(CheckinRow.inquiry_id)
        )
        return {int(inquiry_id): int(n) for inquiry_id, n in rows}

    def tagged(self, inquiry_id: int) -> list[StoredCheckin]:
        """Every check-in tagged to an inquiry, oldest first."""
        return self._stored(CheckinRow.inquiry_id == inquiry_id)

    def linked_barriers(
        self, inquiry_id: int, agency_id: str | None = None
    ) -> list[tuple[str, str, str]]:
        """(title, status, level) of barriers linked to the inquiry's check-ins (one agency's,
        when given), oldest first."""
        linked = (
            select(EscalationLinkRow.escalation_id)
            .join(CheckinRow, CheckinRow.id == EscalationLinkRow.checkin_id)
            .where(CheckinRow.inquiry_id == inquiry_id)
        )
        if agency_id is not None:
            linked = linked.where(CheckinRow.agency_id == agency_id)
        rows = self.session.execute(
            select(EscalationRow.title, EscalationRow.status, EscalationRow.level)
            .where(EscalationRow.id.in_(linked))
            .order_by(EscalationRow.created_at, EscalationRow.id)
        )
        return [(title, status, level) for title, status, level in rows]

    # ------------------------------------------------------------------ purpose

    def purpose_answered(self, member_id: int, period: str) -> bool:
        """Whether the member already answered the purpose question in this period."""
        found = self.session.scalar(
            select(CheckinRow.id)
            .where(CheckinRow.member_id == member_id, CheckinRow.purpose_period == period)
            .limit(1)
        )
        return found is not None

    def purpose_answers(self, start: dt.datetime, end: dt.datetime) -> list[StoredCheckin]:
        """Check-ins that answered the purpose question in [start, end), oldest first."""
        return self._stored(
            CheckinRow.purpose_period.is_not(None),
            CheckinRow.created_at >= start,
            CheckinRow.created_at < end,
        )

    def _stored(self, *where: Any) -> list[StoredCheckin]:
        # Columns, not ORM objects, and themes in one extra query: a four-week inquiry of a big
        # alliance has thousands of check-ins (bench/learning_cycles.py).
        rows = self.session.execute(
            select(
                CheckinRow.id,
                CheckinRow.agency_id,
                CheckinRow.member_id,
                CheckinRow.visibility,
                CheckinRow.created_at,
                CheckinRow.questions,
                CheckinRow.answers,
                CheckinRow.purpose_period,
                MemberRow.display_name,
            )
            .outerjoin(MemberRow, MemberRow.id == CheckinRow.member_id)
            .where(*where)
            .order_by(CheckinRow.created_at, CheckinRow.id)
        ).all()
        themes: dict[int, list[str]] = defaultdict(list)
        for checkin_id, name in self.session.execute(
            select(CheckinThemeRow.checkin_id, ThemeRow.name)
            .join(CheckinRow, CheckinRow.id == CheckinThemeRow.checkin_id)
            .join(ThemeRow, ThemeRow.id == CheckinThemeRow.theme_id)
            .where(*where)
            .order_by(CheckinThemeRow.checkin_id, ThemeRow.name)
        ):
            themes[checkin_id].append(name)
        stored = []
        for cid, agency, member, visibility, created, questions, answers, period, name in rows:
            stored.append(
                StoredCheckin(
                    id=cid,
                    agency_id=agency,
                    member_id=member,
                    visibility=visibility,
                    created_at=created,
                    questions=list(questions or []),
                    answers=dict(answers or {}),
                    themes=tuple(themes.get(cid, ())),
                    author_name=name,
                    purpose_period=period,
                )
            )
        return stored
