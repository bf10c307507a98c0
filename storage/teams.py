"""Teams conversation references, by conversation, person or member. Never commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from storage.models import MemberRow, TeamsConversationRow


class TeamsConversationRepository:
    """Where LearnLoop can reach people and channels in Teams."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def remember(
        self,
        conversation_id: str,
        kind: str,
        service_url: str,
        at: dt.datetime,
        aad_object_id: str | None = None,
        teams_user_id: str | None = None,
        tenant_id: str | None = None,
        name: str | None = None,
        display_name: str | None = None,
    ) -> TeamsConversationRow:
        """Store or refresh a conversation (Teams may move a tenant to another service URL).

        A member's display name is kept from Teams too, for bylines of learnings they share
        with their name and for cards on Slack and Teams that show who did what.
        """
        row = self.by_conversation(conversation_id)
        if row is None:
            row = TeamsConversationRow(conversation_id=conversation_id, installed_at=at)
            self.session.add(row)
        row.kind = kind
        row.service_url = service_url
        row.updated_at = at
        row.aad_object_id = aad_object_id or row.aad_object_id
        row.teams_user_id = teams_user_id or row.teams_user_id
        row.tenant_id = tenant_id or row.tenant_id
        row.name = name or row.name
        if row.aad_object_id and row.member_id is None:
            member = self._teams_member(row.aad_object_id)
            row.member_id = member.id if member else None
        if display_name and row.member_id is not None:
            member_row = self.session.get(MemberRow, row.member_id)
            if member_row is not None and member_row.display_name != display_name:
                member_row.display_name = display_name[:200]
        self.session.flush()
        return row

    def get(self, row_id: int) -> TeamsConversationRow | None:
        """A stored conversation by its row id."""
        return self.session.get(TeamsConversationRow, row_id)

    def by_conversation(self, conversation_id: str) -> TeamsConversationRow | None:
        """A stored conversation by Teams' conversation id."""
        return self.session.scalar(
            select(TeamsConversationRow).where(
                TeamsConversationRow.conversation_id == conversation_id
            )
        )

    def personal_for(self, aad_object_id: str) -> TeamsConversationRow | None:
        """The newest 1:1 chat with a person, linking it to their member row if it is not yet."""
        member = self._teams_member(aad_object_id)
        conditions = [TeamsConversationRow.aad_object_id == aad_object_id]
        if member is not None:
            conditions.append(TeamsConversationRow.member_id == member.id)
        row = self.session.scalar(
            select(TeamsConversationRow)
            .where(TeamsConversationRow.kind == "personal", or_(*conditions))
            .order_by(TeamsConversationRow.updated_at.desc(), TeamsConversationRow.id.desc())
            .limit(1)
        )
        if row is not None and member is not None and row.member_id is None:
            row.member_id = member.id
        return row

    def forget(self, conversation_id: str) -> bool:
        """Drop a conversation (the app was uninstalled there); True if one was stored."""
        result = self.session.execute(
            delete(TeamsConversationRow).where(
                TeamsConversationRow.conversation_id == conversation_id
            )
        )
        return bool(result.rowcount)

    def forget_person(self, aad_object_id: str) -> int:
        """Drop every 1:1 chat stored for a person (they deleted their data); how many."""
        result = self.session.execute(
            delete(TeamsConversationRow).where(
                TeamsConversationRow.kind == "personal",
                TeamsConversationRow.aad_object_id == aad_object_id,
            )
        )
        return int(result.rowcount or 0)

    def display_names(self, user_ids: Iterable[str]) -> dict[str, str]:
        """Display names LearnLoop knows for platform user ids (on either platform)."""
        wanted = [u for u in set(user_ids) if u]
        if not wanted:
            return {}
        rows = self.session.execute(
            select(MemberRow.platform_user_id, MemberRow.display_name).where(
                MemberRow.platform_user_id.in_(wanted), MemberRow.display_name.is_not(None)
            )
        )
        return {user_id: name for user_id, name in rows if name}

    def teams_people(self) -> list[tuple[str, str]]:
        """Teams members LearnLoop knows by name, as (Entra object id, name), by name."""
        rows = self.session.execute(
            select(MemberRow.platform_user_id, MemberRow.display_name)
            .where(MemberRow.platform == "teams", MemberRow.display_name.is_not(None))
            .order_by(MemberRow.display_name)
        )
        return [(user_id, name) for user_id, name in rows if name]

    def _teams_member(self, aad_object_id: str) -> MemberRow | None:
        return self.session.scalar(
            select(MemberRow).where(
                MemberRow.platform == "teams", MemberRow.platform_user_id == aad_object_id
            )
        )
