"""The weekly alliance note's ledger and its recipients. Never commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from storage.models import OUTSIDE_AGENCY_ID, AllianceNoteRow, MemberRow, utcnow
from storage.repositories import insert_ignoring_conflicts


class NoteStatus:
    """Where one member's note for one week is."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class NoteRecipient:
    """Someone the note goes to, detached from the session."""

    member_id: int
    platform: str
    user_id: str


class NoteRepository:
    """Who gets the alliance note, and the once-a-week ledger of sending it."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def due(self, period: str, agencies: Collection[str]) -> list[NoteRecipient]:
        """Members with the note on whose note for `period` has not been claimed, by id.

        Taking part is never required: everyone in a configured agency who has not turned
        the note off is due, whether or not they shared anything.
        """
        claimed = select(AllianceNoteRow.member_id).where(
            AllianceNoteRow.period == period,
            AllianceNoteRow.status != NoteStatus.PENDING,
        )
        rows = self.session.execute(
            select(MemberRow.id, MemberRow.platform, MemberRow.platform_user_id)
            .where(
                MemberRow.alliance_note.is_(True),
                MemberRow.active.is_(True),
                MemberRow.agency_id != OUTSIDE_AGENCY_ID,
                MemberRow.agency_id.in_(list(agencies)),
                MemberRow.id.not_in(claimed),
            )
            .order_by(MemberRow.id)
        ).all()
        return [NoteRecipient(int(i), str(p), str(u)) for i, p, u in rows]

    def claim(self, member_id: int, period: str, now: dt.datetime | None = None) -> bool:
        """Whether this transaction may send the member's note for `period` (at most once).

        The unique row is inserted if new, then moved from pending to sending by a conditional
        UPDATE that only one transaction can match. A row left `sending` by a crash is never
        sent again: a note missed is better than a note twice.
        """
        insert_ignoring_conflicts(
            self.session,
            AllianceNoteRow,
            {
                "member_id": member_id,
                "period": period,
                "status": NoteStatus.PENDING,
                "created_at": now or utcnow(),
            },
        )
        result = self.session.execute(
            update(AllianceNoteRow)
            .where(
                and_(
                    AllianceNoteRow.member_id == member_id,
                    AllianceNoteRow.period == period,
                    AllianceNoteRow.status == NoteStatus.PENDING,
                )
            )
            .values(status=NoteStatus.SENDING)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]

    def finish(
        self,
        member_id: int,
        period: str,
        status: str,
        error: str | None = None,
        now: dt.datetime | None = None,
    ) -> None:
        """Record how a send ended: sent, failed, or pending again (tried on a later tick)."""
        self.session.execute(
            update(AllianceNoteRow)
            .where(AllianceNoteRow.member_id == member_id, AllianceNoteRow.period == period)
            .values(
                status=status,
                error=error[:200] if error else None,
                sent_at=(now or utcnow()) if status == NoteStatus.SENT else None,
            )
            .execution_options(synchronize_session=False)
        )

    def status(self, member_id: int, period: str) -> str | None:
        """The ledger's status for one member's week (None: never claimed)."""
        return self.session.scalar(
            select(AllianceNoteRow.status).where(
                AllianceNoteRow.member_id == member_id, AllianceNoteRow.period == period
            )
        )
