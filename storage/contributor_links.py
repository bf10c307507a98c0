"""Contributor links and their submissions (the rate limit's count)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.models import ContributionRow, ContributorLinkRow


class ContributorLinkRepository:
    """A group's links: the live one, revoking, and counting recent submissions."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def live(self, group_id: str) -> ContributorLinkRow | None:
        """The group's link that is not revoked (the newest, if several)."""
        return self.session.scalars(
            select(ContributorLinkRow)
            .where(ContributorLinkRow.group_id == group_id, ContributorLinkRow.revoked_at.is_(None))
            .order_by(ContributorLinkRow.id.desc())
            .limit(1)
        ).first()

    def by_nonce(self, nonce: str) -> ContributorLinkRow | None:
        """A link by its nonce, revoked or not."""
        return self.session.scalars(
            select(ContributorLinkRow).where(ContributorLinkRow.nonce == nonce)
        ).first()

    def add(
        self, group_id: str, nonce: str, created_by: str, at: dt.datetime
    ) -> ContributorLinkRow:
        """A new live link for a group."""
        row = ContributorLinkRow(
            group_id=group_id, nonce=nonce, created_by=created_by, created_at=at
        )
        self.session.add(row)
        self.session.flush()
        return row

    def revoke(self, group_id: str, at: dt.datetime) -> int:
        """Revoke every live link of a group; how many there were."""
        result = self.session.execute(
            update(ContributorLinkRow)
            .where(ContributorLinkRow.group_id == group_id, ContributorLinkRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def submissions_since(self, link_id: int, since: dt.datetime) -> int:
        """Submissions through a link since a moment (for the rate limit)."""
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(ContributionRow)
                .where(ContributionRow.link_id == link_id, ContributionRow.at >= since)
            )
            or 0
        )

    def record_submission(self, link_id: int, at: dt.datetime) -> None:
        """One submission through a link (no text, no person: a time)."""
        self.session.add(ContributionRow(link_id=link_id, at=at))
