"""Installs of the Teams app, and where each person or channel can be reached."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.platforms import parse_teams_address, teams_address
from bot.ports import Clock
from storage.models import TeamsConversationRow
from storage.uow import UnitOfWorkFactory

# Why a Teams member was marked unreachable: installing the app makes them reachable again.
TEAMS_UNREACHABLE = frozenset({"not_installed", "conversation_not_found", "conversation_blocked"})


@dataclass(frozen=True)
class TeamsConversation:
    """A stored conversation, detached from the session."""

    address: str
    conversation_id: str
    service_url: str
    kind: str
    tenant_id: str | None = None
    aad_object_id: str | None = None

    @classmethod
    def of(cls, row: TeamsConversationRow) -> TeamsConversation:
        """Copy the fields out of a row."""
        return cls(
            address=teams_address(row.id),
            conversation_id=row.conversation_id,
            service_url=row.service_url,
            kind=row.kind,
            tenant_id=row.tenant_id,
            aad_object_id=row.aad_object_id,
        )


@dataclass(frozen=True)
class Installed:
    """What an install stored: the conversation, and whether its person is in the alliance."""

    conversation: TeamsConversation
    member: bool


class TeamsConversationService:
    """Remembers conversations at install and finds them again for proactive messages."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    def installed(
        self,
        conversation_id: str,
        kind: str,
        service_url: str,
        aad_object_id: str | None = None,
        teams_user_id: str | None = None,
        tenant_id: str | None = None,
        name: str | None = None,
        display_name: str | None = None,
    ) -> Installed:
        """Store where the app was installed; a member who couldn't be reached now can be."""
        with self.uow() as uow:
            row = uow.teams.remember(
                conversation_id,
                kind,
                service_url,
                self.clock(),
                aad_object_id=aad_object_id,
                teams_user_id=teams_user_id,
                tenant_id=tenant_id,
                name=name,
                display_name=display_name,
            )
            member = uow.members.get(row.member_id) if row.member_id else None
            if member is not None and not member.active:
                if member.inactive_reason in TEAMS_UNREACHABLE:
                    member.active, member.inactive_reason = True, None
            if member is not None:
                uow.audit.record(
                    actor=f"teams:{aad_object_id}",
                    action="teams.installed",
                    target=f"member:{member.id}",
                )
            installed = Installed(TeamsConversation.of(row), member is not None)
            uow.commit()
            return installed

    def remember(
        self,
        conversation_id: str,
        kind: str,
        service_url: str,
        aad_object_id: str | None = None,
        teams_user_id: str | None = None,
        tenant_id: str | None = None,
        display_name: str | None = None,
    ) -> TeamsConversation:
        """Refresh a conversation seen in an incoming message (no install event needed)."""
        with self.uow() as uow:
            row = uow.teams.remember(
                conversation_id,
                kind,
                service_url,
                self.clock(),
                aad_object_id=aad_object_id,
                teams_user_id=teams_user_id,
                tenant_id=tenant_id,
                display_name=display_name,
            )
            found = TeamsConversation.of(row)
            uow.commit()
            return found

    def uninstalled(self, conversation_id: str) -> bool:
        """Forget a conversation the app was removed from; True if it was stored."""
        with self.uow() as uow:
            forgotten = uow.teams.forget(conversation_id)
            uow.commit()
            return forgotten

    def forget_person(self, aad_object_id: str) -> int:
        """Forget where a person can be reached (they deleted their data)."""
        with self.uow() as uow:
            count = uow.teams.forget_person(aad_object_id)
            uow.commit()
            return count

    def personal_for(self, aad_object_id: str) -> TeamsConversation | None:
        """The 1:1 chat with a person, if they have installed the app."""
        with self.uow() as uow:
            row = uow.teams.personal_for(aad_object_id)
            found = TeamsConversation.of(row) if row else None
            uow.commit()  # keeps the member link personal_for may have made
            return found

    def resolve(self, address: str) -> TeamsConversation | None:
        """A stored conversation by `teams:<n>` address or by Teams conversation id."""
        with self.uow() as uow:
            row_id = parse_teams_address(address)
            row = (
                uow.teams.get(row_id) if row_id is not None else uow.teams.by_conversation(address)
            )
            return TeamsConversation.of(row) if row else None

    def display_names(self, user_ids: list[str]) -> dict[str, str]:
        """Names to show for people on cards (either platform; unknown ids are left out)."""
        with self.uow() as uow:
            return uow.teams.display_names(user_ids)

    def teams_people(self) -> list[tuple[str, str]]:
        """Teams members LearnLoop knows by name: the first choices when assigning a barrier."""
        with self.uow() as uow:
            return uow.teams.teams_people()
