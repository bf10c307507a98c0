"""Members and the alliance file: who belongs where, kept in step with the config."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.alliance import AllianceConfig, Cohort
from bot.domain.errors import DataDeleted, NotAMember
from bot.domain.privacy import subject_key
from bot.ports import Clock
from storage.models import OUTSIDE_AGENCY_ID, MemberRow
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
    # The time zone from the platform profile, and when it was last looked up.
    timezone: str | None = None
    timezone_checked_at: dt.datetime | None = None

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
            timezone=row.timezone,
            timezone_checked_at=row.timezone_checked_at,
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
            for group in self.alliance.contributors:
                # A group sharing through a link is an agency of its own in every count.
                uow.config.upsert_agency(group.id, group.name, "web")
            uow.session.flush()
            for cohort in self.alliance.cohorts:
                uow.config.upsert_cohort(cohort.id, self.alliance.question_set_for(cohort).id)
            uow.config.ensure_themes(self.alliance.themes)
            listed = [
                (agency.platform, user_id, agency.id)
                for agency in self.alliance.agencies
                for user_id in [*agency.member_ids, *agency.managers]
            ]
            forgotten = self.forgotten(uow, [(p, u) for p, u, _ in listed])
            for platform, user_id, agency_id in listed:
                if (platform, user_id) not in forgotten:
                    uow.members.ensure(platform, user_id, agency_id)
            uow.commit()

    def find(self, uow: UnitOfWork, platform: str, user_id: str) -> MemberRow:
        """The member for a platform user, or NotAMember."""
        row = uow.members.by_platform_id(platform, user_id)
        if row is None or row.agency_id == OUTSIDE_AGENCY_ID:
            # People outside every agency (stewards, barrier owners) have a member row
            # for the register, but still can't check in until they are in an agency.
            if row is None and uow.privacy.tombstone(subject_key(platform, user_id)) is not None:
                raise DataDeleted()
            raise NotAMember()
        return row

    def forgotten(self, uow: UnitOfWork, people: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """The (platform, user id) pairs that deleted their data: never re-create them."""
        keys = {subject_key(platform, user_id): (platform, user_id) for platform, user_id in people}
        return {keys[k] for k in uow.privacy.tombstoned(list(keys))}

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
