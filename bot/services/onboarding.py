"""Admins placing people in agencies from chat, beside the alliance file's members.

An addition is stored in the database (`agency_additions`), audited, and takes effect at once:
the person's member row is created or moved in the same transaction, so their next check-in
works, and the roster prompts them with the agency from then on. The file stays the source of
truth for everyone it lists; a chat addition never edits it.
"""

from __future__ import annotations

import logging

from bot.alliance import AllianceConfig
from bot.domain.errors import DataDeleted, Forbidden, LearnLoopError, NotFound
from bot.domain.roles import Role, require
from bot.ports import Clock
from bot.services.members import MemberService
from bot.views.message import Message
from bot.views.onboarding import (
    ADMIN_DOING,
    AdditionLine,
    added_message,
    additions_message,
    not_added,
    removed_message,
    unknown_agency,
    wrong_platform,
)
from bot.views.words import Cmd, Command, Mention, words
from storage.models import OUTSIDE_AGENCY_ID
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)


class BadAdminCommand(LearnLoopError):
    """An admin command that isn't written as `admin add @person agency`, `remove`, `list`."""

    code = "bad_admin_command"


class WrongPlatform(LearnLoopError):
    """The person is on one platform and the agency on the other."""

    code = "wrong_platform"


def actor_user(actor: str) -> str:
    """The user id in a stored `platform:user` actor."""
    return actor.split(":", 1)[1] if ":" in actor else actor


class OnboardingService:
    """`admin add|remove|list`: people in agencies, from chat (admins only)."""

    def __init__(
        self, uow: UnitOfWorkFactory, alliance: AllianceConfig, members: MemberService, clock: Clock
    ) -> None:
        self.uow = uow
        self.alliance = alliance
        self.members = members
        self.clock = clock

    def _require_admin(self, user_id: str) -> None:
        require(self.alliance.roles_of(user_id), [Role.ADMIN], ADMIN_DOING)

    def agency_ids(self) -> list[str]:
        """The agencies' ids, as an admin types them."""
        return [a.id for a in self.alliance.agencies]

    def add(self, platform: str, admin_id: str, user_id: str, agency_id: str) -> Message:
        """Put someone in an agency now (moving them if they were in another); audited."""
        self._require_admin(admin_id)
        try:
            agency = self.alliance.agency(agency_id.strip().lower())
        except KeyError:
            raise NotFound(unknown_agency(agency_id, self.agency_ids())) from None
        if agency.platform != platform:
            raise WrongPlatform(wrong_platform(agency.name, agency.platform))
        now = self.clock()
        with self.uow() as uow:
            try:
                member = uow.members.ensure(platform, user_id, agency.id)
            except DataDeleted:
                raise Forbidden(
                    words(
                        Mention(user_id),
                        " deleted their LearnLoop data, so only they can start again (",
                        Cmd(Command.PRIVACY),
                        ").",
                    )
                ) from None
            moved_from = None
            if member.agency_id != agency.id:
                if member.agency_id != OUTSIDE_AGENCY_ID:
                    moved_from = self._agency_name(member.agency_id)
                member.agency_id = agency.id
            uow.onboarding.add(platform, user_id, agency.id, f"{platform}:{admin_id}", now)
            uow.audit.record(
                actor=f"{platform}:{admin_id}",
                action="member.added",
                target=f"member:{member.id}",
                agency=agency.id,
                moved_from=moved_from,
            )
            uow.commit()
        log.info("an admin added member to agency %s", agency.id)
        return added_message(user_id, agency.name, moved_from)

    def remove(self, platform: str, admin_id: str, user_id: str) -> Message:
        """Take back a chat addition: back to the file's agency, else outside every agency."""
        self._require_admin(admin_id)
        with self.uow() as uow:
            addition = uow.onboarding.addition(platform, user_id)
            if addition is None:
                raise NotFound(not_added(user_id))
            agency_id = addition.agency_id
            uow.onboarding.remove(platform, user_id)
            member = uow.members.by_platform_id(platform, user_id)
            listed = self._listed_agency(platform, user_id)
            if member is not None and member.agency_id == agency_id:
                if listed is None:
                    # Kept for what they wrote and raised, but no longer able to check in.
                    uow.escalations.ensure_outside_agency(platform)
                member.agency_id = listed or OUTSIDE_AGENCY_ID
            uow.audit.record(
                actor=f"{platform}:{admin_id}",
                action="member.removed",
                target=f"member:{member.id}" if member is not None else None,
                agency=agency_id,
            )
            uow.commit()
        log.info("an admin removed a member from agency %s", agency_id)
        return removed_message(user_id, self._agency_name(agency_id))

    def listing(self, platform: str, admin_id: str) -> Message:
        """Everyone added from chat, oldest first."""
        self._require_admin(admin_id)
        with self.uow() as uow:
            rows = uow.onboarding.additions()
            lines = [
                AdditionLine(
                    user_id=row.platform_user_id,
                    agency_name=self._agency_name(row.agency_id),
                    added_by=actor_user(row.added_by),
                    added_at=row.added_at.astimezone(self.alliance.alliance.zone).date(),
                )
                for row in rows
            ]
        return additions_message(lines)

    def _agency_name(self, agency_id: str) -> str:
        try:
            return self.alliance.agency(agency_id).name
        except KeyError:
            return agency_id

    def _listed_agency(self, platform: str, user_id: str) -> str | None:
        """The agency the alliance file lists this person in, if any."""
        for agency in self.alliance.agencies:
            if agency.platform == platform and user_id in (*agency.member_ids, *agency.managers):
                return agency.id
        return None
