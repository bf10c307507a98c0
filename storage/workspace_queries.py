"""Which agency a Slack user or DM channel belongs to (to pick the workspace's token)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import MemberRow, PromptRow


class WorkspaceQueries:
    """Read-only look-ups for routing outbound Slack calls; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def agency_of_user(self, user_id: str) -> str | None:
        """The agency id of a Slack member, if LearnLoop knows them."""
        return self.session.scalar(
            select(MemberRow.agency_id).where(
                MemberRow.platform == "slack", MemberRow.platform_user_id == user_id
            )
        )

    def agency_of_dm(self, channel_id: str) -> str | None:
        """The agency id of the member a DM channel is with (from the member or the ledger)."""
        agency = self.session.scalar(
            select(MemberRow.agency_id).where(
                MemberRow.platform == "slack", MemberRow.dm_channel_id == channel_id
            )
        )
        if agency is not None:
            return agency
        return self.session.scalar(
            select(MemberRow.agency_id)
            .join(PromptRow, PromptRow.member_id == MemberRow.id)
            .where(MemberRow.platform == "slack", PromptRow.channel_id == channel_id)
            .limit(1)
        )
