"""Application services: each call opens a unit of work, applies the domain rules, commits."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import AllianceConfig
from bot.ports import Clock, Messenger
from bot.services.checkins import CheckinService
from bot.services.members import MemberService
from bot.services.prompts import PromptService
from storage.uow import UnitOfWorkFactory


@dataclass(frozen=True)
class Services:
    """Everything a handler or CLI command may call."""

    alliance: AllianceConfig
    uow: UnitOfWorkFactory
    members: MemberService
    checkins: CheckinService
    prompts: PromptService


def build_services(
    uow: UnitOfWorkFactory, alliance: AllianceConfig, messenger: Messenger, clock: Clock
) -> Services:
    """Wire the services together around one messenger and one clock."""
    members = MemberService(uow, alliance, clock)
    return Services(
        alliance=alliance,
        uow=uow,
        members=members,
        checkins=CheckinService(uow, alliance, members, messenger, clock),
        prompts=PromptService(uow, alliance, members, messenger, clock),
    )
