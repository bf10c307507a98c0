"""The Learning Board: who may sign in, with which role, and what each page shows them.

Every page is built from the same services and rules as chat: the week's page is the digest's
view for the viewer's audience, the themes page is each week's digest themes and patterns
(suppressed exactly as in the digests), the register follows the barrier export (never who
raised a barrier) and a theme is shown with a barrier only from check-ins the viewer's audience
may read (`bot.domain.visibility`).

Sign-in links are the web layer's to sign; here they are a one-use id (jti) stored per link,
and the rate limits that apply to asking for one.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from bot.alliance import AllianceConfig, Person
from bot.domain.digest import Period, range_period, week_key, week_period
from bot.domain.escalation import EscalationStatus
from bot.domain.visibility import Audience, can_read
from bot.ports import Clock
from bot.render.digest import Chart
from bot.services.digests import Destination, DigestService
from bot.services.inquiries import InquiryService
from bot.views.board import (
    HistoryLine,
    InquiriesView,
    InquiryEntry,
    Option,
    RegisterFilters,
    RegisterRow,
    RegisterView,
    ThemesView,
    ThemeWeek,
    WeekNav,
    history_line,
    week_nav,
)
from bot.views.digest import DigestView, Pattern
from bot.views.inquiry import summary_message
from storage.models import EscalationRow
from storage.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

LINK_LIFETIME = dt.timedelta(minutes=15)
# Rate limits on asking for a link: per address (silently: the answer never says whether an
# address is listed) and per requesting IP (said plainly: it does not depend on the address).
LIMIT_WINDOW = dt.timedelta(minutes=15)
LINKS_PER_ADDRESS = 3
LINKS_PER_IP = 10
REGISTER_PAGE_SIZE = 50
MAX_WEEKS = 26
MAX_REPORT_DAYS = 366
ALLIANCE_ROLES = ("board", "commissioner", "steward")
# Each week's shared patterns, kept per process: finished weeks change rarely (a late entry, a
# deletion), this week often.
PATTERNS_KEPT_PAST_WEEK = dt.timedelta(hours=1)
PATTERNS_KEPT_THIS_WEEK = dt.timedelta(minutes=5)
PATTERN_CACHE_SIZE = 512


@dataclass(frozen=True)
class WeekPage:
    """One week on the board: its digest and charts (None: nothing to show), and its words."""

    view: DigestView | None
    charts: list[Chart]
    nav: WeekNav


class LinkRefused(Exception):
    """A sign-in link that cannot sign anyone in: `reason` is used, unknown or gone."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TooManyRequests(Exception):
    """Too many links were asked for from one IP address."""


@dataclass(frozen=True)
class Viewer:
    """Someone signed in to the board: who, under which role, and for which agency."""

    subject: str  # "email:<address>" or "slack:<user id>"
    name: str
    role: str  # board | commissioner | steward | manager
    agency_id: str | None = None

    @property
    def audience(self) -> Audience:
        """Whom the pages are built for: the alliance, or the agency a manager manages."""
        if self.role == "manager" and self.agency_id is not None:
            return Audience.agency(self.agency_id)
        return Audience.alliance()

    @property
    def scope(self) -> str:
        """The digest scope of this viewer's pages."""
        return "alliance" if self.agency_id is None else f"agency:{self.agency_id}"


class BoardService:
    """Sign-in and the board's pages."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        alliance: AllianceConfig,
        clock: Clock,
        digests: DigestService,
        inquiries: InquiryService,
    ) -> None:
        self.uow = uow
        self.alliance = alliance
        self.clock = clock
        self.digests = digests
        self.inquiries = inquiries
        self._pattern_cache: dict[
            tuple[str, str, str], tuple[dt.datetime, tuple[Pattern, ...]]
        ] = {}

    # ------------------------------------------------------------------ who

    def person(self, email: str) -> Person | None:
        """The `people:` entry for an address (case and spaces ignored), if any."""
        wanted = email.strip().lower()
        return next((p for p in self.alliance.people if p.email == wanted), None)

    def viewer_for_email(self, email: str) -> Viewer | None:
        """The viewer an address signs in as, or None for an address nobody is listed under."""
        person = self.person(email)
        if person is None:
            return None
        agency = person.manages
        role = "manager" if agency is not None else person.role
        return Viewer(f"email:{person.email}", person.name, role, agency)

    def viewer_for_slack(self, user_id: str, name: str | None = None) -> Viewer | None:
        """The viewer a Slack account signs in as: stewards (and admins) and managers only."""
        held = self.alliance.roles_of(user_id)
        shown = name or user_id
        if {"steward", "admin"} & held:
            return Viewer(f"slack:{user_id}", shown, "steward")
        if "manager" in held:
            agency = next(a.id for a in self.alliance.agencies if user_id in a.managers)
            return Viewer(f"slack:{user_id}", shown, "manager", agency)
        return None

    def viewer(self, subject: str, name: str | None = None) -> Viewer | None:
        """The viewer a session names, as the alliance file says now (a removed role: None)."""
        kind, _, value = subject.partition(":")
        if kind == "email":
            return self.viewer_for_email(value)
        if kind == "slack":
            return self.viewer_for_slack(value, name)
        return None

    # ------------------------------------------------------------------ sign-in links

    def request_link(self, email: str, ip_key: str) -> tuple[str, Viewer] | None:
        """A new link's jti for a listed address, else None (the same answer either way).

        Raises TooManyRequests when this IP asked for too many links lately. An address that
        asked for too many gets None, as if it were not listed.
        """
        now = self.clock()
        since = now - LIMIT_WINDOW
        viewer = self.viewer_for_email(email)
        with self.uow() as uow:
            if uow.board.requests_since(since, ip_key=ip_key) >= LINKS_PER_IP:
                raise TooManyRequests()
            if viewer is None:
                uow.board.add_link(None, None, ip_key, now)
                uow.commit()
                return None
            address = viewer.subject.removeprefix("email:")
            if uow.board.requests_since(since, email=address) >= LINKS_PER_ADDRESS:
                log.info("board: link rate limit reached for an address")
                uow.board.add_link(None, None, ip_key, now)  # still counts against the IP
                uow.commit()
                return None
            jti = secrets.token_urlsafe(24)
            uow.board.add_link(jti, address, ip_key, now)
            uow.commit()
        return jti, viewer

    def issue_link(self, email: str, actor: str) -> tuple[str, Viewer] | None:
        """A link's jti for an admin to hand over (`learnloop board-link`), audited."""
        viewer = self.viewer_for_email(email)
        if viewer is None:
            return None
        jti = secrets.token_urlsafe(24)
        now = self.clock()
        with self.uow() as uow:
            uow.board.add_link(jti, viewer.subject.removeprefix("email:"), None, now)
            uow.audit.record(actor, "board_link_issued", viewer.subject, at=now)
            uow.commit()
        return jti, viewer

    def consume_link(self, jti: str, email: str, issued_at: dt.datetime) -> Viewer:
        """Sign in with a link: it must be unused, under 15 minutes old, for a listed person.

        The use and the audit row are committed together; a refused link writes nothing.
        """
        now = self.clock()
        if now - issued_at > LINK_LIFETIME:
            raise LinkRefused("expired")
        viewer = self.viewer_for_email(email)
        if viewer is None:
            raise LinkRefused("unknown")
        with self.uow() as uow:
            if not uow.board.use_link(jti, now):
                raise LinkRefused("used")
            uow.audit.record(viewer.subject, "board_signin", viewer.role, at=now, method="email")
            uow.commit()
        return viewer

    def record_signin(self, viewer: Viewer, method: str) -> None:
        """Audit a sign-in that needed no link (Slack)."""
        with self.uow() as uow:
            uow.audit.record(
                viewer.subject, "board_signin", viewer.role, at=self.clock(), method=method
            )
            uow.commit()

    def record_refusal(self, subject: str, reason: str, team_id: str | None = None) -> None:
        """Audit a Slack sign-in that was refused (an ID token from another workspace, a bad
        signature, a stale token): who it named, if its signature held, and why."""
        with self.uow() as uow:
            uow.audit.record(
                subject[:100],
                "board_signin_refused",
                reason[:100],
                at=self.clock(),
                method="slack",
                team=team_id[:32] if team_id else None,
            )
            uow.commit()

    # ------------------------------------------------------------------ this week

    def this_week(self, viewer: Viewer, week: str | None = None) -> tuple[DigestView, list[Chart]]:
        """The digest the viewer's audience gets for a week (default this week), with charts."""
        dest = self.digests.board_destination(viewer.scope)
        view = self.digests.build(dest, week)
        return view, self.digests.charts(view)

    def week_page(self, viewer: Viewer, day: dt.date | None = None) -> WeekPage:
        """The week a day falls in (default today), Monday to Sunday in the alliance's time
        zone: its digest for the viewer's audience, and the weeks either side.

        A week still to come, or one with nothing shared and no barrier moving, has no digest:
        its page says so instead.
        """
        today = self.clock().astimezone(self.alliance.alliance.zone).date()
        this_monday = today - dt.timedelta(days=today.weekday())
        chosen = day or today
        monday = chosen - dt.timedelta(days=chosen.weekday())
        if monday > this_monday:
            return WeekPage(None, [], week_nav(monday, this_monday, empty=True))
        year, week, _ = monday.isocalendar()
        view, charts = self.this_week(viewer, f"{year}-W{week:02d}")
        empty = view.learnings_count == 0 and view.barriers.empty
        nav = week_nav(monday, this_monday, empty)
        return WeekPage(None if empty else view, [] if empty else charts, nav)

    # ------------------------------------------------------------------ the register

    def register(self, viewer: Viewer, filters: RegisterFilters) -> RegisterView:
        """The register page: the viewer's barriers, filtered, one page of them, with history."""
        audience = viewer.audience
        zone = self.alliance.alliance.zone
        now = self.clock()
        names = {a.id: a.name for a in self.alliance.agencies}
        levels = {r.level: r.name for r in self.alliance.escalation_ladder}
        with self.uow() as uow:
            tagged = None
            if filters.theme:
                # Only links from check-ins this audience may read count towards a theme.
                tagged = set(self._readable_themes(uow, audience, None, filters.theme))
            total, page, shown_ids = uow.board.register_page(
                scope_agency=viewer.agency_id,
                level=filters.level or None,
                status=filters.status or None,
                agency=filters.agency or None,
                among=tagged,
                page=filters.page,
                size=REGISTER_PAGE_SIZE,
            )
            pages = max(1, math.ceil(total / REGISTER_PAGE_SIZE))
            ended_ids = uow.board.ended_ids(viewer.agency_id, REGISTER_PAGE_SIZE)
            loaded = uow.escalations.by_ids([*shown_ids, *ended_ids])
            shown = [loaded[i] for i in shown_ids]
            ended = [loaded[i] for i in ended_ids]
            themes_of = self._readable_themes(uow, audience, list(loaded))
            wanted = list({r.id for r in [*shown, *ended]})
            events = uow.escalations.history(wanted)
            people = {e.actor_id for e in events if e.actor_id is not None}
            people |= {r.owner_id for r in [*shown, *ended] if r.owner_id is not None}
            member_names = uow.board.member_names(people)
            history: dict[int, list[HistoryLine]] = {}
            for e in events:
                # Who raised a barrier is never shown, named or not (as in the export).
                actor = None if e.kind == "raised" or e.actor_id is None else e.actor_id
                history.setdefault(e.escalation_id, []).append(
                    history_line(
                        e.kind,
                        e.at.astimezone(zone),
                        member_names.get(actor) if actor is not None else None,
                        levels.get(e.from_level or "", e.from_level),
                        levels.get(e.to_level or "", e.to_level),
                        e.note,
                    )
                )

            def row_view(r: EscalationRow) -> RegisterRow:
                return RegisterRow(
                    barrier_id=r.id,
                    title=r.title,
                    description=r.description,
                    status_label=EscalationStatus(r.status).label,
                    level_name=levels.get(r.level, r.level),
                    agencies=tuple(names.get(a, a) for a in r.agencies or []),
                    owner=member_names.get(r.owner_id) if r.owner_id is not None else None,
                    age_days=max(0, (now - r.created_at).days),
                    raised_on=r.created_at.astimezone(zone).date(),
                    outcome=r.outcome or "",
                    themes=tuple(sorted(themes_of.get(r.id, ()))),
                    history=tuple(history.get(r.id, [])),
                )

            page_rows = tuple(row_view(r) for r in shown)
            said = tuple(row_view(r) for r in ended)
        agencies = (
            [a for a in self.alliance.agencies if a.id == viewer.agency_id]
            if viewer.agency_id
            else list(self.alliance.agencies)
        )
        return RegisterView(
            rows=page_rows,
            total=total,
            page=page,
            pages=pages,
            filters=filters,
            levels=tuple(Option(r.level, r.name) for r in self.alliance.escalation_ladder),
            statuses=tuple(Option(s.value, s.label) for s in EscalationStatus),
            agencies=tuple(Option(a.id, a.name) for a in agencies),
            themes=tuple(Option(t, t) for t in self.alliance.themes),
            you_said_we_did=said,
        )

    @staticmethod
    def _readable_themes(
        uow: UnitOfWork, audience: Audience, ids: Sequence[int] | None, theme: str | None = None
    ) -> dict[int, set[str]]:
        """Each barrier's themes, from the linked check-ins this audience may read only."""
        found: dict[int, set[str]] = {}
        for linked in uow.board.linked_themes(ids, theme):
            if can_read(audience, linked):
                found.setdefault(linked.escalation_id, set()).add(linked.theme)
        return found

    # ------------------------------------------------------------------ themes

    def themes(self, viewer: Viewer, weeks: int = 8) -> ThemesView:
        """Themes week by week, counted and suppressed as each week's digest counts them.

        The counts are read fresh, all weeks in one grouped query; each week's shared patterns
        are that week's digest's for the viewer's audience (`DigestService.week_patterns`, all
        missing weeks from one read), kept a while (finished weeks an hour, this week five
        minutes) since finding them is the digest's costliest step.
        """
        weeks = min(max(weeks, 1), MAX_WEEKS)
        zone = self.alliance.alliance.zone
        dest = self.digests.board_destination(viewer.scope)
        now = self.clock()
        period = week_period(week_key(now, zone), zone)
        periods: list[Period] = []
        for _ in range(weeks):
            periods.append(period)
            period = week_period(week_key(period.start - dt.timedelta(days=1), zone), zone)
        lines = self.digests.week_themes(dest, periods)
        patterns = self._patterns(dest, periods, now)
        built = [
            ThemeWeek(
                key=p.key,
                label=p.label,
                learnings="",
                lines=tuple(week_lines),
                patterns=week_patterns,
                threshold=self.alliance.alliance.suppress_below,
            )
            for p, week_lines, week_patterns in zip(periods, lines, patterns, strict=True)
        ]
        themes = sorted({line.theme for w in built for line in w.lines})
        heading = (
            f"{self.alliance.agency(viewer.agency_id).name}: all its learnings"
            if viewer.agency_id is not None
            else "Across the alliance"
        )
        return ThemesView(
            weeks=tuple(built),
            themes=tuple(themes),
            agencies=tuple(a.name for a in self.alliance.agencies)
            if viewer.agency_id is None
            else (),
            total_heading=heading,
            weeks_shown=weeks,
        )

    def _patterns(
        self, dest: Destination, periods: Sequence[Period], now: dt.datetime
    ) -> list[tuple[Pattern, ...]]:
        """Each period's patterns: kept ones, and the missing weeks found together."""
        keys = [(dest.scope, p.key, self.alliance.version) for p in periods]
        kept: dict[int, tuple[Pattern, ...]] = {}
        for i, key in enumerate(keys):
            entry = self._pattern_cache.get(key)
            if entry is not None and entry[0] > now:
                kept[i] = entry[1]
        missing = [i for i in range(len(periods)) if i not in kept]
        if missing:
            found = self.digests.week_patterns(dest, [periods[i] for i in missing])
            if len(self._pattern_cache) + len(missing) > PATTERN_CACHE_SIZE:
                self._pattern_cache.clear()
            for i, patterns in zip(missing, found, strict=True):
                kept[i] = patterns
                keep = PATTERNS_KEPT_THIS_WEEK if periods[i].end > now else PATTERNS_KEPT_PAST_WEEK
                self._pattern_cache[keys[i]] = (now + keep, patterns)
        return [kept[i] for i in range(len(periods))]

    # ------------------------------------------------------------------ inquiries

    def inquiry_page(self, viewer: Viewer) -> InquiriesView:
        """Open and recent inquiries with their summaries: for alliance roles every inquiry,
        summarised across the cohort (as the stewards read it in chat); for a manager the
        inquiries their agency takes part in, each summarised from their agency's entries as
        their agency's digest reads them."""
        agency = viewer.agency_id
        lines = self.inquiries.recent_lines()
        if agency is not None:
            lines = [line for line in lines if self.inquiries.covers(line, agency)]
        entries = [
            InquiryEntry(
                line=line,
                summary=summary_message(self.inquiries.summary(line.inquiry_id, agency)),
            )
            for line in lines
        ]
        return InquiriesView(entries=tuple(entries), agency=self._agency_name(agency))

    def _agency_name(self, agency_id: str | None) -> str | None:
        if agency_id is None:
            return None
        return next((a.name for a in self.alliance.agencies if a.id == agency_id), agency_id)

    # ------------------------------------------------------------------ the review pack

    def report(
        self, viewer: Viewer, first: dt.date, last: dt.date
    ) -> tuple[DigestView, list[Chart]]:
        """The review pack for a date range, scoped to the viewer's audience."""
        if last < first or (last - first).days > MAX_REPORT_DAYS:
            raise ValueError("dates out of order or too far apart")
        range_period(first, last, self.alliance.alliance.zone)  # validates the range
        return self.digests.report(first, last, viewer.scope)
