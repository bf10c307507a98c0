"""Application services: each call opens a unit of work, applies the domain rules, commits."""

from __future__ import annotations

from dataclasses import dataclass, fields

from bot.alliance import AllianceConfig
from bot.ports import Clock, Mailer, Messenger
from bot.services.barriers import EscalationService
from bot.services.board import BoardService
from bot.services.checkins import CheckinService
from bot.services.contributors import ContributorService
from bot.services.digests import DigestService
from bot.services.entries import EntryService
from bot.services.home import HomeService
from bot.services.inquiries import InquiryService
from bot.services.library import LibraryService
from bot.services.members import MemberService
from bot.services.notes import AllianceNoteService
from bot.services.onboarding import OnboardingService
from bot.services.privacy import PrivacyService
from bot.services.prompts import PromptService
from bot.services.purpose import PurposeService
from bot.services.teams import TeamsConversationService
from storage.uow import UnitOfWorkFactory


@dataclass
class Services:
    """Everything a handler or CLI command may call.

    Handlers, the Bolt middleware and the worker hold this one object; a reload of the alliance
    file swaps its services for ones built on the new file (`adopt`), so each holder sees the
    new file on its next call while a call under way finishes with the old one.
    """

    alliance: AllianceConfig
    uow: UnitOfWorkFactory
    members: MemberService
    checkins: CheckinService
    prompts: PromptService
    privacy: PrivacyService
    digests: DigestService
    escalations: EscalationService
    teams: TeamsConversationService  # Where people are reachable on Teams
    inquiries: InquiryService  # Inquiries and the form's extra questions
    purpose: PurposeService  # The purpose question
    home: HomeService  # The App Home
    entries: EntryService  # an author's control over each of their entries
    contributors: ContributorService  # contributor links and their web form (issue 15)
    board: BoardService  # the Learning Board: sign-in and its pages
    notes: AllianceNoteService  # the practitioners' weekly alliance note
    library: LibraryService  # `find`: search past learnings the asker may read
    onboarding: OnboardingService  # admins adding people to agencies from chat


def build_services(
    uow: UnitOfWorkFactory,
    alliance: AllianceConfig,
    messenger: Messenger,
    clock: Clock,
    teams: TeamsConversationService | None = None,
    mailer: Mailer | None = None,
    board_secret: str | None = None,
    board_url: str | None = None,
) -> Services:
    """Wire the services together around one messenger and one clock.

    `teams` is the store of Teams conversations the Teams messenger already uses, when there is
    one, so that both see the same conversations.
    """
    members = MemberService(uow, alliance, clock)
    purpose = PurposeService(uow, alliance, clock)
    inquiries = InquiryService(uow, alliance, messenger, clock, purpose)
    escalations = EscalationService(uow, alliance, members, messenger, clock, mailer=mailer)
    entries = EntryService(uow, alliance, members, clock)
    digests = DigestService(uow, alliance, messenger, clock, inquiries=inquiries, mailer=mailer)
    checkins = CheckinService(uow, alliance, members, messenger, clock, inquiries=inquiries)
    return Services(
        alliance=alliance,
        uow=uow,
        members=members,
        checkins=checkins,
        prompts=PromptService(uow, alliance, members, messenger, clock, inquiries=inquiries),
        privacy=PrivacyService(uow, alliance, members, messenger, clock),
        digests=digests,
        escalations=escalations,
        teams=teams or TeamsConversationService(uow, clock),
        inquiries=inquiries,
        purpose=purpose,
        home=HomeService(uow, alliance, members, escalations, clock, entries),
        entries=entries,
        contributors=ContributorService(
            uow, alliance, clock, board_secret, board_url, checkins=checkins, entries=entries
        ),
        board=BoardService(uow, alliance, clock, digests, inquiries),
        notes=AllianceNoteService(uow, alliance, members, messenger, clock, digests),
        library=LibraryService(uow, alliance, members, clock),
        onboarding=OnboardingService(uow, alliance, members, clock),
    )


def adopt(current: Services, fresh: Services) -> None:
    """Make `current` hand out `fresh`'s services (the one place Services changes)."""
    for item in fields(Services):
        setattr(current, item.name, getattr(fresh, item.name))
