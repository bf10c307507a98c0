"""An author's own entries: a page of them, how many, and deleting one. Never commits."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.kept_weeks import forget_weeks_of
from storage.models import CheckinRow, EscalationLinkRow


class EntryQueries:
    """Queries behind "Your recent learnings" and its Delete."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def page(self, member_id: int, offset: int, limit: int) -> list[CheckinRow]:
        """The member's own entries, newest first, from `offset`."""
        return list(
            self.session.scalars(
                select(CheckinRow)
                .where(CheckinRow.member_id == member_id)
                .order_by(CheckinRow.created_at.desc(), CheckinRow.id.desc())
                .offset(offset)
                .limit(limit)
            )
        )

    def count(self, member_id: int) -> int:
        """How many entries the member has."""
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(CheckinRow)
                .where(CheckinRow.member_id == member_id)
            )
            or 0
        )

    def barriers_linked(self, checkin_id: int) -> int:
        """How many barriers an entry is linked to."""
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(EscalationLinkRow)
                .where(EscalationLinkRow.checkin_id == checkin_id)
            )
            or 0
        )

    def delete(self, checkin_id: int) -> int:
        """Delete one entry; its themes, links and barrier links go by ON DELETE CASCADE.

        Returns how many barriers it was linked to (the barriers themselves stay).
        """
        linked = self.barriers_linked(checkin_id)
        # The board's kept weeks that counted it go in the same transaction.
        forget_weeks_of(self.session, checkins_where=CheckinRow.id == checkin_id)
        self.session.execute(delete(CheckinRow).where(CheckinRow.id == checkin_id))
        # A bulk statement bypasses the identity map: drop what it still holds.
        self.session.expire_all()
        return linked

    def by_source_message(self, member_id: int, source_message: str) -> CheckinRow | None:
        """The member's entry created from one chat message, if any."""
        return self.session.scalar(
            select(CheckinRow).where(
                CheckinRow.member_id == member_id,
                CheckinRow.source_message == source_message,
            )
        )
