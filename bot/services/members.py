"""Members and the alliance file: who belongs where, kept in step with the config."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.config import AllianceConfig, Cohort
from bot.domain.errors import NotAMember
from bot.ports import Clock
from storage.models import MemberRow
from storage.uow import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class MemberInfo:
    """What services need to know about a member, detached from the session."""

    id: int
    platform: str
    user_id: str
    agency_id: str
    paused_until: dt.datetime | None
    active: bool

    @classmethod
    def of(cls, row: MemberRow) -> MemberInfo:
        """Copy the fields out of a row."""
        return cls(
            id=row.id,
            platform=row.platform,
            user_id=row.platform_user_id,
            agency_id=row.agency_id,
            paused_until=row.paused_until,
            active=row.active,
        )

    def paused_at(self, now: dt.datetime) -> bool:
        """Whether prompts are paused at `now`."""
        return self.paused_until is not None and self.paused_until > now


class MemberService:
    """Looks people up and keeps the alliance file's agencies, cohorts and themes stored."""

    def __init__(self, uow: UnitOfWorkFactory, alliance: AllianceConfig, clock: Clock) -> None:
        self.uow = uow
        self.alliance = alliance
        self.clock = clock

    def sync_config(self) -> None:
        """Store agencies, cohorts, themes and listed members from the alliance file."""
        with self.uow() as uow:
            for agency in self.alliance.agencies:
                uow.config.upsert_agency(agency.id, agency.name, agency.platform)
            uow.session.flush()
            for cohort in self.alliance.cohorts:
                uow.config.upsert_cohort(cohort.id, self.alliance.question_set_for(cohort).id)
            uow.config.ensure_themes(self.alliance.themes)
            for agency in self.alliance.agencies:
                for user_id in [*agency.members, *agency.managers]:
                    uow.members.ensure(agency.platform, user_id, agency.id)
            uow.commit()

    def find(self, uow: UnitOfWork, platform: str, user_id: str) -> MemberRow:
        """The member for a platform user, or NotAMember."""
        row = uow.members.by_platform_id(platform, user_id)
        if row is None:
            raise NotAMember()
        return row

    def cohort_of(self, agency_id: str) -> Cohort | None:
        """The first cohort that covers an agency (its question set applies to the member)."""
        for cohort in self.alliance.cohorts:
            if cohort.agencies is None or agency_id in cohort.agencies:
                return cohort
        return None

    def pause(self, platform: str, user_id: str, until: dt.datetime | None) -> MemberInfo:
        """Pause someone's prompts until a time, or resume them with None."""
        with self.uow() as uow:
            row = self.find(uow, platform, user_id)
            uow.members.set_paused_until(row.id, until)
            uow.audit.record(
                actor=f"{platform}:{user_id}",
                action="prompts.paused" if until else "prompts.resumed",
                target=f"member:{row.id}",
                until=until.isoformat() if until else None,
            )
            uow.commit()
            uow.session.refresh(row)
            return MemberInfo.of(row)
