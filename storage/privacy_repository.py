"""The queries behind subject access, erasure and retention. Never commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from storage.kept_weeks import forget_weeks_of
from storage.models import (
    AuditEventRow,
    CheckinRow,
    EscalationRow,
    MemberRow,
    PromptRow,
    TombstoneRow,
)
from storage.repositories import insert_ignoring_conflicts


@dataclass(frozen=True)
class ErasedCounts:
    """What erasing one member removed or unlinked."""

    checkins: int
    prompts: int
    barriers_unattributed: int


@dataclass(frozen=True)
class PurgedCounts:
    """What a retention purge removed (or would remove, on a dry run)."""

    checkins: int
    prompts: int


class PrivacyRepository:
    """Tombstones, a person's or an agency's data, erasure and retention."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------------ tombstones

    def tombstone(self, subject_key: str) -> TombstoneRow | None:
        """The tombstone for a subject key, if that person deleted their data."""
        return self.session.get(TombstoneRow, subject_key)

    def add_tombstone(self, subject_key: str, at: dt.datetime) -> None:
        """Remember that this person deleted their data (once; a second delete changes nothing)."""
        insert_ignoring_conflicts(
            self.session, TombstoneRow, {"subject_key": subject_key, "deleted_at": at}
        )

    def remove_tombstone(self, subject_key: str) -> bool:
        """Forget a tombstone (the person chose to start again); True if there was one."""
        result = self.session.execute(
            delete(TombstoneRow).where(TombstoneRow.subject_key == subject_key)
        )
        return bool(result.rowcount)

    def tombstoned(self, subject_keys: Sequence[str]) -> set[str]:
        """Which of these subject keys have a tombstone."""
        if not subject_keys:
            return set()
        return set(
            self.session.scalars(
                select(TombstoneRow.subject_key).where(TombstoneRow.subject_key.in_(subject_keys))
            )
        )

    # ------------------------------------------------------------------ reading

    def checkins_of(self, member_id: int) -> list[CheckinRow]:
        """A member's check-ins, oldest first."""
        return list(
            self.session.scalars(
                select(CheckinRow)
                .where(CheckinRow.member_id == member_id)
                .order_by(CheckinRow.created_at, CheckinRow.id)
            )
        )

    def checkin_counts(self, member_id: int) -> tuple[int, int, dt.datetime | None]:
        """(check-ins, of which anonymous, first saved) for a member."""
        total, anonymous, first = self.session.execute(
            select(
                func.count(CheckinRow.id),
                func.count(CheckinRow.id).filter(CheckinRow.visibility == "anonymous"),
                func.min(CheckinRow.created_at),
            ).where(CheckinRow.member_id == member_id)
        ).one()
        if isinstance(first, dt.datetime) and first.tzinfo is None:
            first = first.replace(tzinfo=dt.UTC)  # SQLite returns aggregates naive
        return int(total), int(anonymous), first

    def prompts_of(self, member_id: int) -> list[PromptRow]:
        """A member's prompt ledger rows, oldest first."""
        return list(
            self.session.scalars(
                select(PromptRow)
                .where(PromptRow.member_id == member_id)
                .order_by(PromptRow.created_at, PromptRow.id)
            )
        )

    def barriers_raised_by(self, member_id: int) -> list[EscalationRow]:
        """Barriers a member raised, oldest first."""
        return list(
            self.session.scalars(
                select(EscalationRow)
                .where(EscalationRow.raised_by_id == member_id)
                .order_by(EscalationRow.created_at, EscalationRow.id)
            )
        )

    def members_of_agency(self, agency_id: str) -> list[MemberRow]:
        """An agency's members, in the order they joined."""
        return list(
            self.session.scalars(
                select(MemberRow).where(MemberRow.agency_id == agency_id).order_by(MemberRow.id)
            )
        )

    def checkins_of_agency(self, agency_id: str) -> list[CheckinRow]:
        """Every check-in written in an agency, oldest first."""
        return list(
            self.session.scalars(
                select(CheckinRow)
                .where(CheckinRow.agency_id == agency_id)
                .order_by(CheckinRow.created_at, CheckinRow.id)
            )
        )

    def audit_about(self, actor: str, member_id: int) -> list[AuditEventRow]:
        """Audit events a person caused or that were about them, oldest first."""
        return list(
            self.session.scalars(
                select(AuditEventRow)
                .where(
                    or_(AuditEventRow.actor == actor, AuditEventRow.target == f"member:{member_id}")
                )
                .order_by(AuditEventRow.at, AuditEventRow.id)
            )
        )

    def recorded_since(self, action: str, actor: str, since: dt.datetime) -> bool:
        """Whether the audit log has this action by this actor at or after `since`."""
        found = self.session.scalar(
            select(AuditEventRow.id)
            .where(
                AuditEventRow.action == action,
                AuditEventRow.actor == actor,
                AuditEventRow.at >= since,
            )
            .limit(1)
        )
        return found is not None

    # ------------------------------------------------------------------ erasure and retention

    def erase_member(self, member_id: int) -> ErasedCounts:
        """Delete a member's check-ins, prompts and profile; unlink the barriers they raised.

        Rows elsewhere that point at the member follow their foreign key's ON DELETE rule
        (every such key is CASCADE or SET NULL; a test checks it), so nothing is left
        pointing at a person who is gone.
        """
        # The board's kept weeks that counted or quoted them go in the same transaction.
        forget_weeks_of(self.session, checkins_where=CheckinRow.member_id == member_id)
        checkins = self.session.execute(delete(CheckinRow).where(CheckinRow.member_id == member_id))
        prompts = self.session.execute(delete(PromptRow).where(PromptRow.member_id == member_id))
        barriers = self.session.execute(
            update(EscalationRow)
            .where(EscalationRow.raised_by_id == member_id)
            .values(raised_by_id=None)
        )
        self.session.execute(delete(MemberRow).where(MemberRow.id == member_id))
        # Bulk statements bypass the identity map: drop anything it still holds.
        self.session.expire_all()
        return ErasedCounts(
            checkins=checkins.rowcount,
            prompts=prompts.rowcount,
            barriers_unattributed=barriers.rowcount,
        )

    def purge_before(self, cutoff: dt.datetime, dry_run: bool = False) -> PurgedCounts:
        """Delete check-ins and prompt ledger rows created before `cutoff` (count only if dry)."""
        old_checkins = CheckinRow.created_at < cutoff
        # A prompt's date is when it was sent (a pending or failed one has only its creation).
        old_prompts = func.coalesce(PromptRow.sent_at, PromptRow.created_at) < cutoff
        if dry_run:
            return PurgedCounts(
                checkins=self.session.scalar(
                    select(func.count()).select_from(CheckinRow).where(old_checkins)
                )
                or 0,
                prompts=self.session.scalar(
                    select(func.count()).select_from(PromptRow).where(old_prompts)
                )
                or 0,
            )
        forget_weeks_of(self.session, checkins_where=old_checkins)
        checkins = self.session.execute(delete(CheckinRow).where(old_checkins))
        prompts = self.session.execute(delete(PromptRow).where(old_prompts))
        self.session.expire_all()
        return PurgedCounts(checkins=checkins.rowcount, prompts=prompts.rowcount)
