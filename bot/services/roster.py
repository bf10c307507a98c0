"""Who is in each cohort, and what their platform profile says (time zone, bot, deactivated).

Members come from the ids listed in the alliance file, the people it lists by e-mail address
(looked up on their platform), the members of each agency's channel (`conversations.members`,
paginated) and user group, and the people admins added from chat. Listings and address lookups
are stored in the database (`directory_listings`) with the time they were made, so every process
shares one lookup; a listing is refreshed after `LISTING_TTL`, an address found after
`EMAIL_TTL` (one not found after `LISTING_TTL`), and a lookup that fails (the bot was removed
from the channel, Slack is down) keeps the last good answer. An address that matches nobody is
reported to the admins once (a DM each and a log line); the agency's other members are prompted
as usual. Profiles are looked up at most `PROFILES_PER_PASS` a pass (users.info is Tier 4:
about 100 a minute, and the worker passes once a minute) and again after `PROFILE_TTL`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from bot.alliance import Agency, AllianceConfig, Cohort, is_email
from bot.ports import Clock, Messenger, MessengerError, UserProfile
from bot.services.base import MemberFacingService
from bot.services.members import MemberInfo, MemberService
from bot.views.onboarding import UnknownEmailView, unknown_email_message
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

LISTING_TTL = dt.timedelta(hours=1)
EMAIL_TTL = dt.timedelta(days=1)
EMAILS_PER_PASS = 100  # users.lookupByEmail is Tier 3 (about 50 a minute)
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
        self.errors: Counter[str] = Counter()

    def cohort_members(self, cohort: Cohort, refresh: bool = False) -> list[MemberInfo]:
        """Everyone in the cohort's agencies (stored as members on first sight)."""
        return self._members_of(self.alliance.cohort_agencies(cohort), refresh)

    def sync_agencies(self) -> list[MemberInfo]:
        """Everyone in every agency, stored now (after a reload, so new people are recognised)."""
        return self._members_of(list(self.alliance.agencies), refresh=False)

    def _members_of(self, agencies: list[Agency], refresh: bool) -> list[MemberInfo]:
        found: dict[tuple[str, str], str] = {}
        budget = [EMAILS_PER_PASS]
        # Every stored listing of the pass in one query, not one per channel.
        keys: list[tuple[str, str, str]] = [
            (a.platform, "channel", a.channel) for a in agencies if a.channel
        ]
        keys += [(a.platform, "usergroup", a.usergroup) for a in agencies if a.usergroup]
        stored = self._stored(keys)
        for agency in agencies:
            user_ids = list(agency.member_ids)
            user_ids += self._by_email(agency, refresh, budget)
            for kind, source in (("channel", agency.channel), ("usergroup", agency.usergroup)):
                if source:
                    key = (agency.platform, kind, source)
                    user_ids += self._listing(key, stored.get(key), refresh)
            for user_id in user_ids:
                found.setdefault((agency.platform, user_id), agency.id)
        with self.uow() as uow:
            # People an admin added from chat (their member row already names the agency).
            for row in uow.onboarding.additions([a.id for a in agencies]):
                found.setdefault((row.platform, row.platform_user_id), row.agency_id)
            # People who deleted their data are neither re-created nor prompted.
            forgotten = self.members.forgotten(uow, list(found))
            by_platform: dict[str, dict[str, str]] = {}
            for (platform, user_id), agency_id in found.items():
                if (platform, user_id) not in forgotten:
                    by_platform.setdefault(platform, {})[user_id] = agency_id
            infos = [
                MemberInfo.of(row)
                for platform, agencies_of in by_platform.items()
                for row in uow.members.ensure_many(platform, agencies_of)
            ]
            uow.commit()
        return infos

    def _stored(
        self, keys: list[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], tuple[list[str], dt.datetime]]:
        if not keys:
            return {}
        with self.uow() as uow:
            return {
                (row.platform, row.kind, row.source): (list(row.user_ids), row.refreshed_at)
                for row in uow.onboarding.listings(keys)
            }

    def _listing(
        self,
        key: tuple[str, str, str],
        cached: tuple[list[str], dt.datetime] | None,
        refresh: bool,
    ) -> list[str]:
        """A channel's or user group's members: the stored listing while fresh, else Slack's."""
        now = self.clock()
        platform, kind, source = key
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
        with self.uow() as uow:
            uow.onboarding.store_listing(platform, kind, source, user_ids, now)
            uow.commit()
        return user_ids

    def _by_email(self, agency: Agency, refresh: bool, budget: list[int]) -> list[str]:
        """The user ids of the agency's members listed by e-mail address."""
        user_ids: list[str] = []
        for j, entry in enumerate(agency.members):
            if not is_email(entry):
                continue
            email = entry.strip().lower()
            path = f"agencies.{self.alliance.agencies.index(agency)}.members.{j}"
            user_id = self._email(agency, email, path, refresh, budget)
            if user_id is not None:
                user_ids.append(user_id)
        return user_ids

    def _email(
        self, agency: Agency, email: str, path: str, refresh: bool, budget: list[int]
    ) -> str | None:
        now = self.clock()
        # A one-way key: the address itself is never stored.
        # Kept per workspace or tenant looked in (the deployment's own keeps the old key).
        where = f"{agency.directory}:" if agency.directory else ""
        source = hashlib.sha256(f"email:{where}{email}".encode()).hexdigest()
        with self.uow() as uow:
            row = uow.onboarding.listing(agency.platform, "email", source)
            known = list(row.user_ids) if row is not None else None
            age = now - row.refreshed_at if row is not None else None
            reported = row.reported_at if row is not None else None
        ttl = EMAIL_TTL if known else LISTING_TTL
        if known is not None and age is not None and age < ttl and not refresh:
            return known[0] if known else None
        if budget[0] <= 0:  # the rest wait for the next pass
            return known[0] if known else None
        budget[0] -= 1
        try:
            # In the agency's own workspace or tenant: the same address elsewhere is someone else.
            user_id = self.messenger.user_by_email(agency.platform, email, agency.directory)
        except MessengerError as exc:
            with self._lock:
                self.errors[f"email:{exc.code}"] += 1
            log.warning("could not look up %s (agency %s): %s", path, agency.id, exc.code)
            return known[0] if known else None
        tell = user_id is None and reported is None
        with self.uow() as uow:
            stored = uow.onboarding.store_listing(
                agency.platform, "email", source, [user_id] if user_id else [], now
            )
            # Told once while it stays unknown; told again if it is lost after being found.
            stored.reported_at = now if tell else (reported if user_id is None else None)
            uow.commit()
        if tell:
            self._report_unknown(agency, email, path)
        return user_id

    def _report_unknown(self, agency: Agency, email: str, path: str) -> None:
        """Tell the admins (a DM each) and the log that an address matched nobody."""
        log.warning(
            "agency %s: no %s user has the e-mail address at %s in the alliance file; "
            "admins told, the agency's other members are still prompted",
            agency.id,
            agency.platform,
            path,
        )
        message = unknown_email_message(
            UnknownEmailView(
                email=email, agency_name=agency.name, platform=agency.platform, field_path=path
            )
        )
        for admin in self.alliance.roles.admins:
            try:
                self.messenger.send(admin, message)
            except MessengerError as exc:
                log.warning("could not tell an admin about %s: %s", path, exc.code)

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
