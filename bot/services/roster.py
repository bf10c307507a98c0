"""Who is in each cohort, and what their platform profile says (time zone, bot, deactivated).

Members come from the ids listed in the alliance file, the members of each agency's channel
(`conversations.members`, paginated) and user group. Listings are kept for `LISTING_TTL`, so the
set is refreshed at least that often and always before a cycle's slot passes by much; a listing
that fails (the bot was removed from the channel, Slack is down) keeps the last good one.
Profiles are looked up at most `PROFILES_PER_PASS` a pass (users.info is Tier 4: about 100 a
minute, and the worker passes once a minute) and again after `PROFILE_TTL`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from bot.alliance import AllianceConfig, Cohort
from bot.ports import Clock, Messenger, MessengerError, UserProfile
from bot.services.base import MemberFacingService
from bot.services.members import MemberInfo, MemberService
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

LISTING_TTL = dt.timedelta(hours=1)
PROFILE_TTL = dt.timedelta(days=7)
PROFILES_PER_PASS = 100
PROFILE_THREADS = 4
KEEP = object()  # "leave the member's active flag as it is"


def inactive_reason(profile: UserProfile) -> str | None:
    """Why a profile means "never prompt" (a bot, a deactivated account), or None."""
    if profile.is_bot:
        return "bot"
    if profile.deleted:
        return "deactivated"
    return None


class Roster(MemberFacingService):
    """Lists cohort members and keeps their profiles fresh (one per process, thread-safe)."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        alliance: AllianceConfig,
        members: MemberService,
        messenger: Messenger,
        clock: Clock,
    ) -> None:
        super().__init__(uow, alliance, members, messenger, clock)
        self._lock = threading.Lock()
        self._listings: dict[tuple[str, str], tuple[list[str], dt.datetime]] = {}
        self.errors: Counter[str] = Counter()

    def cohort_members(self, cohort: Cohort, refresh: bool = False) -> list[MemberInfo]:
        """Everyone in the cohort's agencies (stored as members on first sight)."""
        found: dict[tuple[str, str], str] = {}
        for agency in self.alliance.cohort_agencies(cohort):
            user_ids = list(agency.members)
            if agency.channel:
                user_ids += self._listing("channel", agency.channel, refresh)
            if agency.usergroup:
                user_ids += self._listing("usergroup", agency.usergroup, refresh)
            for user_id in user_ids:
                found.setdefault((agency.platform, user_id), agency.id)
        with self.uow() as uow:
            # People who deleted their data are neither re-created nor prompted.
            forgotten = self.members.forgotten(uow, list(found))
            by_platform: dict[str, dict[str, str]] = {}
            for (platform, user_id), agency_id in found.items():
                if (platform, user_id) not in forgotten:
                    by_platform.setdefault(platform, {})[user_id] = agency_id
            infos = [
                MemberInfo.of(row)
                for platform, agencies in by_platform.items()
                for row in uow.members.ensure_many(platform, agencies)
            ]
            uow.commit()
        return infos

    def _listing(self, kind: str, source: str, refresh: bool) -> list[str]:
        now = self.clock()
        with self._lock:
            cached = self._listings.get((kind, source))
        if cached is not None and not refresh and now - cached[1] < LISTING_TTL:
            return cached[0]
        try:
            if kind == "channel":
                user_ids = self.messenger.channel_members(source)
            else:
                user_ids = self.messenger.usergroup_members(source)
        except MessengerError as exc:
            with self._lock:
                self.errors[f"{kind}:{exc.code}"] += 1
            log.warning("could not list the members of %s %s: %s", kind, source, exc.code)
            return cached[0] if cached is not None else []
        with self._lock:
            self._listings[(kind, source)] = (user_ids, now)
        return user_ids

    def refresh_profiles(
        self, members: list[MemberInfo], budget: int = PROFILES_PER_PASS
    ) -> list[MemberInfo]:
        """Look up stale profiles (never-seen first), store them, and return the members updated."""
        now = self.clock()
        never = dt.datetime.min.replace(tzinfo=dt.UTC)
        stale = sorted(
            (
                m
                for m in members
                if m.timezone_checked_at is None or now - m.timezone_checked_at >= PROFILE_TTL
            ),
            key=lambda m: m.timezone_checked_at or never,
        )[:budget]
        if not stale:
            return members
        with ThreadPoolExecutor(max_workers=PROFILE_THREADS) as pool:
            looked_up = list(pool.map(self._profile, stale))
        updated: dict[int, MemberInfo] = {}
        with self.uow() as uow:
            for member, outcome in zip(stale, looked_up, strict=True):
                if outcome is None:
                    continue  # a transient failure: try again next pass
                timezone, reason = outcome
                active = member.active if reason is KEEP else reason is None
                uow.members.set_profile(
                    member.id, timezone, now, reason if isinstance(reason, str) else None, active
                )
                updated[member.id] = MemberInfo(
                    id=member.id,
                    platform=member.platform,
                    user_id=member.user_id,
                    agency_id=member.agency_id,
                    paused_until=member.paused_until,
                    active=active,
                    timezone=timezone,
                    timezone_checked_at=now,
                )
            uow.commit()
        return [updated.get(m.id, m) for m in members]

    def _profile(self, member: MemberInfo) -> tuple[str | None, str | None | object] | None:
        """(time zone, inactive reason or KEEP) for a member, or None to try again later."""
        try:
            profile = self.messenger.user_profile(member.user_id)
        except MessengerError as exc:
            if exc.unreachable:
                return member.timezone, exc.code
            with self._lock:
                self.errors[f"profile:{exc.code}"] += 1
            if exc.transient:
                return None
            # A lasting refusal (a missing scope): keep what we know, and don't ask every minute.
            return member.timezone, KEEP
        if profile is None:
            return member.timezone, None
        return profile.timezone or member.timezone, inactive_reason(profile)
