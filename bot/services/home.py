"""Builds the App Home for one person, by role (see bot/views/home.py)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import replace

from bot.alliance import AllianceConfig, Cohort, Weekday
from bot.domain.privacy import subject_key
from bot.domain.roles import Role
from bot.domain.suppression import suppress_all
from bot.ports import Clock
from bot.services.barriers import EscalationService
from bot.services.entries import EntryService
from bot.services.members import MemberService
from bot.views.home import HomeAdmin, HomeBarrier, HomeLevel, HomeSchedule, HomeView
from bot.views.words import Words
from storage.home_queries import HomeQueries
from storage.models import MemberRow
from storage.uow import UnitOfWork, UnitOfWorkFactory

BARRIERS_PER_LEVEL = 8
HEALTH_DAYS = 28
_DAY_NAMES = {
    Weekday.MON: "Mondays",
    Weekday.TUE: "Tuesdays",
    Weekday.WED: "Wednesdays",
    Weekday.THU: "Thursdays",
    Weekday.FRI: "Fridays",
    Weekday.SAT: "Saturdays",
    Weekday.SUN: "Sundays",
}


def schedule_words(cohort: Cohort) -> str:
    """ "Thursdays at 15:00" (or "Every other Thursday at 15:00")."""
    days = [_DAY_NAMES[d] for d in cohort.schedule.days]
    day_text = days[0] if len(days) == 1 else ", ".join(days[:-1]) + " and " + days[-1]
    at = cohort.schedule.time.strftime("%H:%M")
    if cohort.schedule.cadence == "fortnightly":
        return f"Every other week: {day_text} at {at}"
    return f"{day_text} at {at}"


class HomeService:
    """What each person's App Home shows; counts only wherever it is more than their own."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        alliance: AllianceConfig,
        members: MemberService,
        escalations: EscalationService,
        clock: Clock,
        entries: EntryService,
    ) -> None:
        self.uow = uow
        self.alliance = alliance
        self.members = members
        self.escalations = escalations
        self.clock = clock
        self.entries = entries

    def for_user(
        self,
        platform: str,
        user_id: str,
        notice: Words | str | None = None,
        offset: int = 0,
    ) -> HomeView:
        """The App Home for one person, with what their roles add (`offset`: entries page)."""
        roles = frozenset(self.alliance.roles_of(user_id))
        with self.uow() as uow:
            member = uow.members.by_platform_id(platform, user_id)
            if member is None:
                deleted = uow.privacy.tombstone(subject_key(platform, user_id)) is not None
                view = HomeView(roles=roles, is_member=False, data_deleted=deleted)
            else:
                view = self._member_view(uow, member, roles, offset)
            admin = self._admin(uow) if Role.ADMIN in roles else None
        view = replace(view, admin=admin, notice=notice)
        if Role.STEWARD in roles or Role.ADMIN in roles:
            levels, open_count = self._barriers(platform, user_id)
            view = replace(view, levels=levels, open_barriers=open_count)
        return view

    # ------------------------------------------------------------------ everyone

    def _agency_name(self, agency_id: str) -> str:
        try:
            return self.alliance.agency(agency_id).name
        except KeyError:
            return "your agency"

    def _member_view(
        self, uow: UnitOfWork, member: MemberRow, roles: frozenset[str], offset: int
    ) -> HomeView:
        return HomeView(
            roles=roles,
            is_member=True,
            agency_name=self._agency_name(member.agency_id),
            entries=self.entries.page_for(uow, member, offset),
            schedule=self._schedule(member),
            alliance_note=bool(member.alliance_note),
        )

    def _schedule(self, member: MemberRow) -> HomeSchedule:
        cohort = self.members.cohort_of(member.agency_id)
        zone = member.timezone or self.alliance.alliance.timezone
        now = self.clock()
        paused = member.paused_until if member.paused_until and member.paused_until > now else None
        reminder = None
        if cohort is not None and cohort.remind_after_hours:
            hours = cohort.remind_after_hours
            reminder = f"One reminder {hours} hours later if you haven't replied"
        return HomeSchedule(
            cohort_id=cohort.id if cohort else None,
            when=schedule_words(cohort) if cohort else None,
            time_zone=zone,
            reminder=reminder,
            paused_until=paused.astimezone(self.alliance.alliance.zone).date() if paused else None,
        )

    # ------------------------------------------------------------------ stewards

    def _barriers(self, platform: str, user_id: str) -> tuple[tuple[HomeLevel, ...], int]:
        register = self.escalations.register
        listing = register.listing(platform, user_id, "open")
        by_name: dict[str, list[HomeBarrier]] = {}
        for line in listing.lines:
            by_name.setdefault(line.level_name, []).append(
                HomeBarrier(
                    title=line.title,
                    status_label=line.status_label,
                    days_since_change=line.days_since_change,
                    card_url=line.card_url,
                )
            )
        names = [register.level_name(level) for level in register.ladder]
        names += [n for n in by_name if n not in names]  # a level since removed from the file
        levels = tuple(
            HomeLevel(name=name, barriers=tuple(by_name.get(name, [])[:BARRIERS_PER_LEVEL]))
            for name in names
        )
        return levels, listing.total

    # ------------------------------------------------------------------ admins

    def _admin(self, uow: UnitOfWork) -> HomeAdmin:
        queries = HomeQueries(uow.session)
        now = self.clock()
        since = now - dt.timedelta(days=HEALTH_DAYS)
        config = self.alliance
        threshold = config.alliance.suppress_below
        return HomeAdmin(
            alliance_name=config.alliance.name,
            agencies=len(config.agencies),
            agencies_by_platform=dict(Counter(a.platform for a in config.agencies)),
            cohorts=len(config.cohorts),
            digests=len(config.digests),
            themes=len(config.themes),
            ladder=tuple(rung.name for rung in config.escalation_ladder),
            retention_months=config.alliance.retention_months,
            suppress_below=config.alliance.suppress_below,
            members=suppress_all(queries.member_counts(now), threshold),
            prompts=suppress_all(queries.prompt_counts(since), threshold),
            prompt_errors=suppress_all(queries.prompt_errors(since), threshold),
            # Digests are the alliance's posts, not people: their counts stay exact for admins.
            digests_by_status=suppress_all(queries.digest_counts(since), 1),
            days=HEALTH_DAYS,
        )
