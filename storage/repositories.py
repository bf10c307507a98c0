"""Repositories: queries and writes on a Session they are given. They never commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import (
    AgencyRow,
    AuditEventRow,
    CheckinRow,
    CheckinThemeRow,
    CohortRow,
    MemberRow,
    PromptRow,
    ThemeRow,
    utcnow,
)


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
        return self.session.scalar(
            select(MemberRow).where(
                MemberRow.platform == platform, MemberRow.platform_user_id == user_id
            )
        )

    def ensure(self, platform: str, user_id: str, agency_id: str) -> MemberRow:
        """The member, created in `agency_id` if new (an existing member keeps their agency)."""
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
        return member

    def mark_inactive(self, member_id: int, reason: str) -> None:
        """Stop prompting someone whose account is gone."""
        self.session.execute(
            update(MemberRow)
            .where(MemberRow.id == member_id)
            .values(active=False, inactive_reason=reason[:64])
        )

    def set_paused_until(self, member_id: int, until: dt.datetime | None) -> None:
        """Pause prompts until a time, or resume (None)."""
        self.session.execute(
            update(MemberRow).where(MemberRow.id == member_id).values(paused_until=until)
        )


class PromptRepository:
    """The delivery ledger."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, member_id: int, cohort_id: str, cycle: str) -> PromptRow | None:
        """The ledger row to send for (member, cycle), or None if it was already handled.

        The row is inserted before any message goes out; a row left `pending` by a crash is
        returned again so the send resumes, while a `sent` row is never sent twice.
        """
        insert_ignoring_conflicts(
            self.session,
            PromptRow,
            {
                "member_id": member_id,
                "cohort_id": cohort_id,
                "cycle": cycle,
                "status": "pending",
                "attempts": 0,
                "created_at": utcnow(),
            },
        )
        row = self.session.scalar(
            select(PromptRow).where(PromptRow.member_id == member_id, PromptRow.cycle == cycle)
        )
        return row if row is not None and row.status == "pending" else None

    def get(self, prompt_id: int) -> PromptRow | None:
        """A ledger row by id."""
        return self.session.get(PromptRow, prompt_id)

    def latest_open(self, member_id: int) -> PromptRow | None:
        """The member's most recent prompt still waiting for an answer."""
        return self.session.scalar(
            select(PromptRow)
            .where(PromptRow.member_id == member_id, PromptRow.status == "sent")
            .order_by(PromptRow.created_at.desc(), PromptRow.id.desc())
            .limit(1)
        )

    def counts_by_status(self, cycle_suffix: str | None = None) -> dict[str, int]:
        """How many ledger rows are in each status (optionally for cycles ending in a suffix)."""
        query = select(PromptRow.status, func.count()).group_by(PromptRow.status)
        if cycle_suffix:
            query = query.where(PromptRow.cycle.endswith(cycle_suffix))
        return {status: count for status, count in self.session.execute(query)}


class CheckinRepository:
    """Stored learnings."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_idempotency_key(self, key: str) -> CheckinRow | None:
        """The check-in stored for a platform event, if it was stored before."""
        return self.session.scalar(select(CheckinRow).where(CheckinRow.idempotency_key == key))

    def add(self, row: CheckinRow, themes: Sequence[ThemeRow]) -> CheckinRow:
        """Store a check-in and its themes."""
        self.session.add(row)
        self.session.flush()
        for theme in themes:
            self.session.add(CheckinThemeRow(checkin_id=row.id, theme_id=theme.id))
        self.session.flush()
        return row

    def get(self, checkin_id: int) -> CheckinRow | None:
        """A check-in by id."""
        return self.session.get(CheckinRow, checkin_id)

    def counts_by_agency(self) -> dict[str, int]:
        """Check-ins per agency (counts only)."""
        query = select(CheckinRow.agency_id, func.count()).group_by(CheckinRow.agency_id)
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
        self, actor: str, action: str, target: str | None = None, **details: Any
    ) -> AuditEventRow:
        """Append one audit event."""
        row = AuditEventRow(actor=actor, action=action, target=target, details=details, at=utcnow())
        self.session.add(row)
        return row
