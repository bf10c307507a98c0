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
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.alliance import AllianceConfig, Person
from bot.domain.digest import Period, range_period, week_key, week_period
from bot.domain.escalation import EscalationStatus
from bot.domain.recurring import lookback_start
from bot.domain.suppression import Count
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
from bot.views.digest import DigestView, Pattern, Quote
from bot.views.inquiry import summary_message
from storage.kept_weeks import COUNTS, PATTERNS
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
# The themes page keeps finished weeks (storage/kept_weeks.py) once they have been over this
# long: a check-in saved as its week ended has been committed by then.
KEEP_AFTER = dt.timedelta(minutes=10)
# The running week's patterns are kept a few minutes (new check-ins keep coming); the worker
# works them out again this long before they go stale, so a page seldom has to.
PATTERNS_KEPT_THIS_WEEK = dt.timedelta(minutes=5)
KEEP_AHEAD = dt.timedelta(minutes=2)
# The worker's share of a tick for keeping weeks, and how many weeks it reads at once.
KEEP_BUDGET = dt.timedelta(seconds=15)
KEEP_BATCH = 4


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

        Finished weeks come from what is kept (`storage/kept_weeks.py`): their raw counts
        (kept on first view, or by the worker) with the digests' own suppression applied now,
        and their shared patterns as the worker worked them out (`keep_due`). The running week
        is counted live, and its patterns are the only ones a page may work out (kept a few
        minutes). A finished week whose patterns are not kept yet says so.
        """
        weeks = min(max(weeks, 1), MAX_WEEKS)
        dest = self.digests.board_destination(viewer.scope)
        now = self.clock()
        periods = self._weeks(now, weeks)
        starts = [p.start for p in periods]
        with self.uow() as uow:  # what is kept, in one read
            kept_counts = uow.kept.read(COUNTS, "", "", starts[1:], now)
            kept_patterns = uow.kept.read(PATTERNS, dest.scope, self.alliance.version, starts, now)
        counts = self._week_counts(periods, now, kept_counts)
        patterns = self._week_patterns(dest, periods, now, kept_patterns)
        threshold = self.alliance.alliance.suppress_below
        built = [
            ThemeWeek(
                key=p.key,
                label=p.label,
                learnings="",
                lines=tuple(self.digests.theme_lines_for(dest, week_counts)),
                patterns=week_patterns or (),
                threshold=threshold,
                patterns_pending=week_patterns is None,
            )
            for p, week_counts, week_patterns in zip(periods, counts, patterns, strict=True)
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

    def _weeks(self, now: dt.datetime, weeks: int) -> list[Period]:
        """The running week and the `weeks - 1` before it, newest first."""
        zone = self.alliance.alliance.zone
        period = week_period(week_key(now, zone), zone)
        periods: list[Period] = []
        for _ in range(weeks):
            periods.append(period)
            period = week_period(week_key(period.start - dt.timedelta(days=1), zone), zone)
        return periods

    @staticmethod
    def _settled(period: Period, now: dt.datetime) -> bool:
        """Whether a week is over long enough to keep (check-ins saved as it ended are in)."""
        return period.end + KEEP_AFTER <= now

    def _week_counts(
        self, periods: Sequence[Period], now: dt.datetime, kept: dict[dt.datetime, Any]
    ) -> list[dict[tuple[str | None, str], int]]:
        """Each week's raw alliance-wide counts: kept ones, the rest counted in one query.

        A finished week counted here is kept for the next view (claimed before it is read).
        """
        settled = {p.start for p in periods if self._settled(p, now)}
        found = {
            start: _decode_counts(payload) for start, payload in kept.items() if start in settled
        }
        missing = [p for p in periods if p.start not in found]
        claims = self._claim([p for p in missing if self._settled(p, now)], COUNTS, None, now)
        if missing:
            counted = self.digests.week_theme_counts(missing)
            for p, week_counts in zip(missing, counted, strict=True):
                found[p.start] = week_counts
            self._fill(claims, {p.start: _encode_counts(found[p.start]) for p in missing})
        return [found[p.start] for p in periods]

    def _week_patterns(
        self,
        dest: Destination,
        periods: Sequence[Period],
        now: dt.datetime,
        kept: dict[dt.datetime, Any],
    ) -> list[tuple[Pattern, ...] | None]:
        """Each week's shared patterns for the destination's audience; None: not kept yet.

        Only the running week is worked out here, and kept a few minutes; finished weeks are
        the worker's to keep.
        """
        found: dict[dt.datetime, tuple[Pattern, ...] | None] = {
            start: _decode_patterns(payload) for start, payload in kept.items()
        }
        running = [p for p in periods[:1] if p.start not in found]
        if running:
            found[running[0].start] = self._keep_patterns(dest, running, now)[0]
        return [found.get(p.start) for p in periods]

    def _keep_patterns(
        self,
        dest: Destination,
        periods: Sequence[Period],
        now: dt.datetime,
        renew_before: dt.datetime | None = None,
        claimed_only: bool = False,
    ) -> list[tuple[Pattern, ...]]:
        """Work out some weeks' patterns (one read for all) and keep them where claimed.

        `claimed_only` (the worker): skip the weeks kept or being worked out elsewhere.
        """
        claims = self._claim(periods, PATTERNS, dest, now, renew_before)
        if claimed_only:
            periods = [p for p in periods if p.start in claims]
            if not periods:
                return []
        try:
            found = self.digests.week_patterns(dest, periods)
        except Exception:
            self._release(claims)
            raise
        self._fill(
            claims, {p.start: _encode_patterns(f) for p, f in zip(periods, found, strict=True)}
        )
        return found

    def _claim(
        self,
        periods: Sequence[Period],
        kind: str,
        dest: Destination | None,
        now: dt.datetime,
        renew_before: dt.datetime | None = None,
    ) -> dict[dt.datetime, tuple[int, dt.datetime | None]]:
        """Claim weeks to keep, committed before anything is read: (row id, fresh until) by
        week start. Counts are one for every audience; patterns are the destination's.

        The check-ins a week is worked out from: its own, and for the alliance's patterns the
        recurring barriers' lookback too ("Barriers we keep meeting" decides whether barrier
        patterns show).
        """
        if not periods:
            return {}
        scope = dest.scope if dest is not None else ""
        version = self.alliance.version if dest is not None else ""
        alliance_wide = dest is not None and dest.audience.kind == "alliance"
        claims: dict[dt.datetime, tuple[int, dt.datetime | None]] = {}
        try:
            with self.uow() as uow:
                for p in periods:
                    reads = (lookback_start(p.start) if alliance_wide else p.start, p.end)
                    fresh = None if self._settled(p, now) else now + PATTERNS_KEPT_THIS_WEEK
                    row_id = uow.kept.claim(
                        kind, scope, version, (p.start, p.end), reads, now, fresh, renew_before
                    )
                    if row_id is not None:
                        claims[p.start] = (row_id, fresh)
                uow.commit()
        except IntegrityError:
            return {}  # claimed by another process at the same moment: it keeps them
        return claims

    def _fill(
        self,
        claims: dict[dt.datetime, tuple[int, dt.datetime | None]],
        payloads: dict[dt.datetime, Any],
    ) -> None:
        """Keep what was worked out for the claimed weeks (a claim a change dropped stays gone)."""
        if not claims:
            return
        with self.uow() as uow:
            for start, (row_id, fresh) in claims.items():
                uow.kept.fill(row_id, payloads[start], fresh)
            uow.commit()

    def _release(self, claims: dict[dt.datetime, tuple[int, dt.datetime | None]]) -> None:
        with self.uow() as uow:
            uow.kept.release([row_id for row_id, _ in claims.values()])
            uow.commit()

    def board_scopes(self) -> list[Destination]:
        """The audiences someone may read the board as: the alliance, and each agency with a
        manager (listed in `people:` or among its chat managers)."""
        managed = {p.manages for p in self.alliance.people if p.manages is not None}
        managed |= {a.id for a in self.alliance.agencies if a.managers}
        scopes = [
            "alliance",
            *(f"agency:{a.id}" for a in self.alliance.agencies if a.id in managed),
        ]
        return [self.digests.board_destination(scope) for scope in scopes]

    def keep_due(self, now: dt.datetime, budget: dt.timedelta = KEEP_BUDGET) -> int:
        """The worker's job: keep finished weeks' counts and every board audience's patterns.

        Newest weeks first, as many as a page may show; and each audience's running week a
        little before its kept patterns go stale, so a page seldom works them out. Stops
        starting new work once `budget` is spent (the next tick carries on). How many weeks
        it worked out.
        """
        started = time.monotonic()
        periods = self._weeks(now, MAX_WEEKS)
        settled = [p for p in periods if self._settled(p, now)]
        version = self.alliance.version
        with self.uow() as uow:
            uow.kept.prune(periods[-1].start, version)
            kept = uow.kept.read(COUNTS, "", "", [p.start for p in settled], now)
            uow.commit()
        claims = self._claim([p for p in settled if p.start not in kept], COUNTS, None, now)
        wanted = [p for p in settled if p.start in claims]
        if wanted:
            counted = self.digests.week_theme_counts(wanted)
            self._fill(
                claims, {p.start: _encode_counts(c) for p, c in zip(wanted, counted, strict=True)}
            )
        done = len(wanted)
        for dest in self.board_scopes():
            if time.monotonic() - started > budget.total_seconds():
                break
            running = periods[0]
            if not self._settled(running, now):
                done += len(
                    self._keep_patterns(dest, [running], now, now + KEEP_AHEAD, claimed_only=True)
                )
            with self.uow() as uow:
                kept = uow.kept.read(PATTERNS, dest.scope, version, [p.start for p in settled], now)
            missing = [p for p in settled if p.start not in kept]
            for i in range(0, len(missing), KEEP_BATCH):
                if time.monotonic() - started > budget.total_seconds():
                    break
                batch = missing[i : i + KEEP_BATCH]
                done += len(self._keep_patterns(dest, batch, now, claimed_only=True))
        return done

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


# ---------------------------------------------------------------------- kept weeks as JSON


def _encode_counts(counts: dict[tuple[str | None, str], int]) -> list[list[Any]]:
    return [[agency, theme, n] for (agency, theme), n in sorted(counts.items(), key=str)]


def _decode_counts(payload: Any) -> dict[tuple[str | None, str], int]:
    return {(agency, theme): n for agency, theme, n in payload}


def _encode_patterns(patterns: Sequence[Pattern]) -> list[dict[str, Any]]:
    # Counts are kept as shown (suppressed already), quotes as the audience may read them.
    return [asdict(p) for p in patterns]


def _decode_patterns(payload: Any) -> tuple[Pattern, ...]:
    def count(value: dict[str, Any] | None) -> Count | None:
        return Count(value["shown"], value["threshold"]) if value is not None else None

    return tuple(
        Pattern(
            kind=p["kind"],
            agencies=tuple(p["agencies"]),
            size=Count(p["size"]["shown"], p["size"]["threshold"]),
            quotes=tuple(
                Quote(text=q["text"], byline=q["byline"], themes=tuple(q["themes"]))
                for q in p["quotes"]
            ),
            anonymous=count(p["anonymous"]),
            label=p["label"],
        )
        for p in payload
    )
