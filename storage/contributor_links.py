"""Contributor links and their submissions (the rate limit's count)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import Session

from storage.models import (
    BarrierContactRow,
    CheckinRow,
    ContributionRow,
    ContributorLinkRow,
    MemberRow,
)


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

    def forget_member(self, platform: str, user_id: str) -> int:
        """Delete a contribution's one-off member row once it has no entry left (how many)."""
        result = self.session.execute(
            delete(MemberRow).where(
                MemberRow.platform == platform,
                MemberRow.platform_user_id == user_id,
                ~exists().where(CheckinRow.member_id == MemberRow.id),
            )
        )
        self.session.expire_all()
        return int(getattr(result, "rowcount", 0) or 0)


class BarrierContactRepository:
    """E-mail contacts of barriers (people with no chat account who follow one)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, escalation_id: int, email: str, added_by: str, at: dt.datetime) -> bool:
        """Follow a barrier by e-mail; False if this address already does."""
        exists = self.session.scalar(
            select(BarrierContactRow.id).where(
                BarrierContactRow.escalation_id == escalation_id, BarrierContactRow.email == email
            )
        )
        if exists is not None:
            return False
        self.session.add(
            BarrierContactRow(
                escalation_id=escalation_id, email=email, added_by=added_by, added_at=at
            )
        )
        self.session.flush()
        return True

    def remove(self, escalation_id: int, email: str) -> bool:
        """Stop following; False if the address did not follow it."""
        row = self.session.scalars(
            select(BarrierContactRow).where(
                BarrierContactRow.escalation_id == escalation_id, BarrierContactRow.email == email
            )
        ).first()
        if row is None:
            return False
        self.session.delete(row)
        return True

    def of(self, escalation_id: int) -> list[str]:
        """The addresses following a barrier."""
        return list(
            self.session.scalars(
                select(BarrierContactRow.email)
                .where(BarrierContactRow.escalation_id == escalation_id)
                .order_by(BarrierContactRow.id)
            )
        )
