"""Unit of work: one session and transaction per service call; repositories never commit."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine, event
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.errors import StorageUnavailable
from storage.board import BoardRepository
from storage.contributor_links import BarrierContactRepository, ContributorLinkRepository
from storage.digest_queries import DigestRepository
from storage.escalations import EscalationRepository
from storage.inquiries import InquiryRepository
from storage.kept_weeks import KeptWeekRepository, forget_changed_weeks
from storage.note_queries import NoteRepository
from storage.onboarding import OnboardingRepository
from storage.privacy_repository import PrivacyRepository
from storage.repositories import (
    AuditRepository,
    CheckinRepository,
    ConfigRepository,
    MemberRepository,
    PromptRepository,
)
from storage.teams import TeamsConversationRepository


class UnitOfWork:
    """A transaction with the repositories bound to it; commit explicitly, else it rolls back."""

    session: Session
    members: MemberRepository
    prompts: PromptRepository
    checkins: CheckinRepository
    config: ConfigRepository
    audit: AuditRepository
    inquiries: InquiryRepository
    escalations: EscalationRepository
    privacy: PrivacyRepository
    digests: DigestRepository
    notes: NoteRepository
    teams: TeamsConversationRepository
    board: BoardRepository
    onboarding: OnboardingRepository
    kept: KeptWeekRepository

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self.members = MemberRepository(self.session)
        self.prompts = PromptRepository(self.session)
        self.checkins = CheckinRepository(self.session)
        self.config = ConfigRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.inquiries = InquiryRepository(self.session)
        self.escalations = EscalationRepository(self.session)
        self.privacy = PrivacyRepository(self.session)
        self.digests = DigestRepository(self.session)
        self.notes = NoteRepository(self.session)
        self.teams = TeamsConversationRepository(self.session)
        self.contributor_links = ContributorLinkRepository(self.session)
        self.barrier_contacts = BarrierContactRepository(self.session)
        self.board = BoardRepository(self.session)
        self.onboarding = OnboardingRepository(self.session)
        self.kept = KeptWeekRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.session.rollback()
        except (OperationalError, InterfaceError):
            pass
        finally:
            self.session.close()
        if isinstance(exc, OperationalError | InterfaceError):
            # A database outage becomes one typed error the handlers know how to explain.
            raise StorageUnavailable() from exc

    def commit(self) -> None:
        """Commit the transaction."""
        try:
            self.session.commit()
        except (OperationalError, InterfaceError) as exc:
            raise StorageUnavailable() from exc


class UnitOfWorkFactory:
    """Makes units of work on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)
        # A change to a check-in drops the board's kept weeks it was counted in, in the same
        # transaction (storage/kept_weeks.py).
        event.listen(self._sessions, "before_flush", forget_changed_weeks)

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self._sessions)
