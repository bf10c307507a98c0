"""What every member-facing service is wired with."""

from __future__ import annotations

from bot.alliance import AllianceConfig
from bot.ports import Clock, Messenger
from bot.services.members import MemberService
from storage.uow import UnitOfWorkFactory


class MemberFacingService:
    """A service that acts for members and messages them: units of work, the alliance file,
    member lookups, the messenger and the clock."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        alliance: AllianceConfig,
        members: MemberService,
        messenger: Messenger,
        clock: Clock,
    ) -> None:
        self.uow = uow
        self.alliance = alliance
        self.members = members
        self.messenger = messenger
        self.clock = clock
