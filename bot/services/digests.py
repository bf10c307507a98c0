"""The weekly learning digest: build it for a destination, post it once, report on a range.

Destinations come from the config: each `digests:` entry (a steward channel with alliance
scope, an agency channel with agency scope) and, for every agency, each of its managers by DM
with that agency's digest. A digest is posted at most once per (destination, period): the
ledger row is claimed before anything is built or posted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Literal

from bot.alliance import (
    DEFAULT_QUESTION_SET,
    AllianceConfig,
    QuestionKind,
    QuestionSet,
    Schedule,
    Weekday,
)
from bot.domain.answers import barrier_text, learning_text
from bot.domain.assurance import build_assurance
from bot.domain.checkins import Visibility
from bot.domain.digest import (
    STALE_AFTER,
    CheckinFact,
    DigestInputs,
    Period,
    across_alliance,
    build_digest,
    find_patterns,
    quotable,
    range_period,
    theme_lines,
    week_key,
    week_period,
)
from bot.domain.errors import NotFound
from bot.domain.patterns import SynonymTable
from bot.domain.recurring import RecurringInputs, lookback_start, recurring_barriers
from bot.domain.visibility import Audience
from bot.ports import (
    TRANSIENT_ERRORS,
    Clock,
    DigestProgress,
    InlineImage,
    Mailer,
    MailError,
    MessageRef,
    Messenger,
    MessengerError,
)
from bot.render.charts import themes_by_agency_png, weekly_totals_png
from bot.render.digest import Chart
from bot.services.inquiries import InquiryService
from bot.views.assurance import AssuranceView
from bot.views.digest import (
    AllianceNoteView,
    DigestView,
    Pattern,
    ThemeLine,
    digest_message,
    digest_thread,
    email_refused_notice,
    not_posted_notice,
)
from bot.views.message import Message
from bot.views.recurring import RecurringBarrier
from storage.assurance_queries import AssuranceQueries
from storage.digest_queries import DigestStatus
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

# Slack's answers when the bot may not post in a channel: wait for an invitation, tell admins.
NOT_IN_CHANNEL = frozenset({"not_in_channel", "channel_not_found"})
# Answers worth trying again on the worker's next tick.
TRY_AGAIN = TRANSIENT_ERRORS | {"client_error"}
# Failures after which the platform may have accepted a part without our hearing of it.
IN_DOUBT = frozenset({"timeout", "connection_error", "client_error", "build_failed"})
# A digest still `posting` this long after its attempt began lost its worker: resume it.
POSTING_LEASE = dt.timedelta(minutes=10)
# A digest waiting for the bot to be invited is tried again this often (not every tick).
WAITING_RETRY = dt.timedelta(minutes=5)
# Places (workspaces, tenants, e-mail) whose digests are posted side by side, at most.
DIGEST_LANES = 16
# Managers get their agency's digest at the time of a configured digest, else Friday 09:00.
DEFAULT_SCHEDULE = Schedule(days=[Weekday.FRI], time=dt.time(9, 0))
# The practitioners' note is short: a few patterns and learnings, then the barriers.
NOTE_PATTERNS = 3
NOTE_QUOTES = 3


@dataclass(frozen=True)
class Destination:
    """Where one digest goes and whom it is for."""

    id: str
    channel: str
    scope: str
    schedule: Schedule | None
    kind: Literal["channel", "dm", "email"] = "channel"
    # For an e-mail destination (one per address): the `digests:` entry it came from.
    entry: str | None = None

    @property
    def log_name(self) -> str:
        """How logs name it: an e-mail destination by its entry and a fingerprint, never the
        address (a person's)."""
        if self.kind != "email":
            return self.id
        return f"{self.entry}:{hashlib.sha256(self.channel.encode()).hexdigest()[:8]}"

    @property
    def agency_id(self) -> str | None:
        """The agency of an agency-scoped destination, else None."""
        return self.scope.split(":", 1)[1] if self.scope.startswith("agency:") else None

    @property
    def audience(self) -> Audience:
        """Whom the visibility policy must consider the readers to be."""
        agency = self.agency_id
        return Audience.agency(agency) if agency else Audience.alliance()


@dataclass(frozen=True)
class SendResult:
    """What one send did (no names, no text)."""

    destination_id: str
    period: str
    status: str  # posted | already | waiting | retry | failed
    detail: str = ""
    parts_posted: int = 0  # messages of the digest the platform has accepted so far
    parts_total: int | None = None  # messages in the digest (None: not rendered this time)


class DigestService:
    """Builds, previews and posts digests; the worker calls `send_due`."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        alliance: AllianceConfig,
        messenger: Messenger,
        clock: Clock,
        inquiries: InquiryService | None = None,
        mailer: Mailer | None = None,
    ) -> None:
        self.uow = uow
        # E-mail destinations are sent through this (None: SMTP_URL is not set).
        self.mailer = mailer
        self.alliance = alliance
        self.messenger = messenger
        self.clock = clock
        # The purpose and inquiry sections.
        self.inquiries = inquiries or InquiryService(uow, alliance, messenger, clock)
        self._texts = _answer_picker(alliance)
        # Built once: the alliance's own words for the pattern finder's concepts.
        self._pattern_table = SynonymTable().extended(alliance.pattern_terms)
        self._waiting_tries: dict[str, dt.datetime] = {}
        # Set for one worker tick: an agency's channel and each of its managers read the same
        # digest, so it is built once per tick (audience and period) rather than once each.
        self._tick_views: dict[tuple[Audience, str, dt.datetime, dt.datetime], DigestView] | None
        self._tick_views = None

    # ------------------------------------------------------------------ destinations

    def destinations(self) -> list[Destination]:
        """Every destination: configured channels and addresses, then agencies' managers by DM.

        An e-mail entry is one destination per address, so each address gets its digest once
        a week whatever happens to the others.
        """
        found = []
        for d in self.alliance.digests:
            if d.channel is not None:
                found.append(
                    Destination(id=d.id, channel=d.channel, scope=d.scope, schedule=d.schedule)
                )
            for address in d.email:
                found.append(
                    Destination(
                        id=email_destination_id(d.id, address),
                        channel=address.lower(),
                        scope=d.scope,
                        schedule=d.schedule,
                        kind="email",
                        entry=d.id,
                    )
                )
        default = next((d.schedule for d in found if d.schedule is not None), DEFAULT_SCHEDULE)
        for agency in self.alliance.agencies:
            own = next((d.schedule for d in found if d.agency_id == agency.id and d.schedule), None)
            for user_id in agency.managers:
                found.append(
                    Destination(
                        id=f"manager:{agency.id}:{user_id}"[:64],
                        channel=user_id,
                        scope=f"agency:{agency.id}",
                        schedule=own or default,
                        kind="dm",
                    )
                )
        return found

    def matching(self, destination_id: str) -> list[Destination]:
        """A destination by id, or every address of an e-mail entry by the entry's id."""
        found = [d for d in self.destinations() if destination_id in (d.id, d.entry or d.id)]
        return found or [self.destination(destination_id)]

    def destination(self, destination_id: str) -> Destination:
        """A destination by id; NotFound lists the ones there are."""
        for dest in self.destinations():
            if dest.id == destination_id:
                return dest
        known = ", ".join(d.id for d in self.destinations()) or "none configured"
        raise NotFound(f"There is no digest destination {destination_id!r} (known: {known}).")

    def board_destination(self, scope: str) -> Destination:
        """The Learning Board's page for a scope: a destination that is never posted to."""
        return Destination(id="board", channel="", scope=scope, schedule=None)

    def period(self, dest: Destination, week: str | None = None) -> Period:
        """The period a destination's digest covers in an ISO week (default: this week)."""
        zone = self.alliance.alliance.zone
        key = week or week_key(self.clock(), zone)
        if dest.schedule is None:
            return week_period(key, zone)
        first_day = min(day.index for day in dest.schedule.days)
        return week_period(key, zone, first_day, dest.schedule.time)

    # ------------------------------------------------------------------ building

    def build(self, dest: Destination, week: str | Period | None = None) -> DigestView:
        """The digest a destination gets for a week (nothing is posted or recorded)."""
        period = week if isinstance(week, Period) else self.period(dest, week)
        key = (dest.audience, period.key, period.start, period.end)
        if self._tick_views is not None and key in self._tick_views:
            return self._tick_views[key]
        view = self._build(dest.audience, period, self._scope_label(dest))
        if self._tick_views is not None:
            self._tick_views[key] = view
        return view

    def week_themes(self, dest: Destination, periods: Sequence[Period]) -> list[list[ThemeLine]]:
        """Each period's theme lines for a destination, counted and suppressed as its digest's.

        The digest's own query and `theme_lines`, without the rest of the digest (the board's
        themes page reads many weeks at once).
        """
        return [self.theme_lines_for(dest, counts) for counts in self.week_theme_counts(periods)]

    def week_theme_counts(
        self, periods: Sequence[Period]
    ) -> list[dict[tuple[str | None, str], int]]:
        """Each period's raw (agency, theme) counts alliance-wide, anonymous under None.

        Raw: under the threshold too. Only `theme_lines_for` turns them into what anyone sees.
        """
        if not periods:
            return []
        with self.uow() as uow:
            uow.digests.plan_for_this_period()
            return uow.digests.theme_counts_by_window([(p.start, p.end) for p in periods], None)

    def theme_lines_for(
        self, dest: Destination, counts: Mapping[tuple[str | None, str], int]
    ) -> list[ThemeLine]:
        """A destination's theme lines from a period's alliance-wide counts (`theme_counts`).

        An agency's digest counts only its named check-ins (`theme_counts` scoped to it): the
        alliance-wide counts under its id. Suppressed by the digests' own `theme_lines`.
        """
        names = {a.id: a.name for a in self.alliance.agencies}
        agency = dest.agency_id
        if agency is not None:
            counts = {key: n for key, n in counts.items() if key[0] == agency}
        return theme_lines(dict(counts), names, self.alliance.alliance.suppress_below)

    def week_patterns(
        self, dest: Destination, periods: Sequence[Period]
    ) -> list[tuple[Pattern, ...]]:
        """Each period's shared patterns, the same as that period's digest shows.

        The board's themes page needs only the patterns of many weeks: the shareable entries of
        all of them (and, for the alliance, the recurring barriers' lookback) are read once and
        split per week, instead of building one whole digest a week. The patterns come from the
        digest's own `find_patterns`; as in `_build`, barrier patterns give way to "Barriers we
        keep meeting" when there are any.
        """
        if not periods:
            return []
        audience = dest.audience
        alliance_wide = audience.kind == "alliance"
        visibilities = [Visibility.ALLIANCE.value, Visibility.ANONYMOUS.value]
        oldest = min(p.start for p in periods)
        last = max(p.end for p in periods)
        with self.uow() as uow:
            uow.digests.plan_for_this_period()
            entries = uow.digests.shareable_checkins(
                oldest, last, visibilities, audience.agency_id, self._texts
            )
            # An agency's digest quotes its own anonymous entries only past the k-anonymity gate.
            only = [audience.agency_id] if audience.agency_id is not None else None
            gates = [
                uow.digests.contributors(p.start, p.end, only) if only else None for p in periods
            ]
        # The recurring barriers' lookback (weeks before the oldest) is read only if a week
        # has barrier patterns that "Barriers we keep meeting" might replace.
        earlier: list[CheckinFact] | None = None
        raised: dict[int, str] = {}

        def lookback() -> list[CheckinFact]:
            nonlocal earlier, raised
            if earlier is None:
                with self.uow() as uow:
                    uow.digests.plan_for_this_period()
                    earlier = uow.digests.shareable_checkins(
                        lookback_start(oldest), oldest, visibilities, None, self._texts
                    )
                    raised = uow.escalations.raised_for(
                        e.id for e in [*earlier, *entries] if e.barrier.strip()
                    )
            return earlier

        names = self.alliance.agency_names()
        scope_label = self._scope_label(dest)
        found: list[tuple[Pattern, ...]] = []
        for period, gate in zip(periods, gates, strict=True):
            current = [e for e in entries if period.start <= e.created_at < period.end]
            inputs = DigestInputs(
                audience=audience,
                period=period,
                alliance_name=self.alliance.alliance.name,
                scope_label=scope_label,
                scope_agencies={},
                agency_names=names,
                suppress_below=self.alliance.alliance.suppress_below,
                learnings={},
                people={},
                theme_counts={},
                baseline=(),
                checkins=current,
                pattern_table=self._pattern_table,
                contributors=gate,
            )
            # As `build_digest` does: the gate first (`quotable`), then the patterns.
            patterns = tuple(p for p, _ in find_patterns(quotable(inputs)))
            if alliance_wide and any(p.kind == "barrier" for p in patterns):
                since = lookback_start(period.start)
                meeting = [
                    e
                    for e in [*lookback(), *entries]
                    if since <= e.created_at < period.end and e.barrier.strip()
                ]
                recurring = recurring_barriers(
                    RecurringInputs(
                        audience=audience,
                        period_start=period.start,
                        period_end=period.end,
                        zone=self.alliance.alliance.zone,
                        entries=meeting,
                        raised={e.id: raised[e.id] for e in meeting if e.id in raised},
                        agency_names={a.id: a.name for a in self.alliance.agencies},
                        suppress_below=self.alliance.alliance.suppress_below,
                        table=self._pattern_table,
                    )
                )
                if recurring:
                    patterns = tuple(p for p in patterns if p.kind != "barrier")
            found.append(patterns)
        return found

    def charts(self, view: DigestView) -> list[Chart]:
        """The charts that go with a digest (none when nothing was tagged)."""
        charts = []
        # Every agency's name, so each keeps its colour in every digest and review pack.
        themes = themes_by_agency_png(view, list(self.alliance.agency_names().values()))
        if themes is not None:
            charts.append(Chart(view.chart_title, themes, view.chart_alt_text))
        weekly = weekly_totals_png(view)
        if weekly is not None:
            charts.append(Chart(view.weekly_title, weekly, view.weekly_alt_text))
        return charts

    def report(
        self, first: dt.date, last: dt.date, scope: str = "alliance"
    ) -> tuple[DigestView, list[Chart]]:
        """A learning review pack for a date range, from the same builder as the digest."""
        zone = self.alliance.alliance.zone
        period = range_period(first, last, zone)
        if scope != "alliance":
            agency_id = scope.removeprefix("agency:")
            try:
                self.alliance.agency(agency_id)
            except KeyError:
                raise NotFound(f"There is no agency {agency_id!r} in the alliance.") from None
            dest = Destination(id="report", channel="", scope=f"agency:{agency_id}", schedule=None)
        else:
            dest = Destination(id="report", channel="", scope="alliance", schedule=None)
        weeks = _weeks(period, zone)
        view = self._build(dest.audience, period, self._scope_label(dest), weeks=weeks)
        view = replace(view, assurance=self._assurance(period, weeks, dest.agency_id))
        return view, self.charts(view)

    def _assurance(
        self, period: Period, weeks: list[tuple[str, dt.datetime, dt.datetime]], agency: str | None
    ) -> AssuranceView:
        """Barrier ageing, time to resolution per level and themes per week, for the pack."""
        as_of = min(self.clock(), period.end)
        only = [agency] if agency is not None else None
        with self.uow() as uow:
            uow.digests.plan_for_this_period()
            register = AssuranceQueries(uow.session)
            open_barriers = register.open_barriers(as_of, agency)
            resolutions = register.resolutions(period.start, period.end, agency)
            theme_weeks = []
            for key, lo, hi in weeks:
                per_theme: dict[str, int] = {}
                # Anonymous entries count under no agency, so an agency's pack leaves them out.
                for (_, theme), n in uow.digests.theme_counts(lo, hi, only).items():
                    per_theme[theme] = per_theme.get(theme, 0) + n
                theme_weeks.append((key, per_theme))
        return build_assurance(
            ladder=[(r.level, r.name) for r in self.alliance.escalation_ladder],
            open_barriers=open_barriers,
            resolutions=resolutions,
            theme_weeks=theme_weeks,
            as_of=as_of,
            suppress_below=self.alliance.alliance.suppress_below,
        )

    def _scope_label(self, dest: Destination) -> str:
        agency = dest.agency_id
        if agency is None:
            return f"{self.alliance.alliance.name}, all agencies"
        return f"{self.alliance.agency(agency).name} (agency digest)"

    def _inputs(
        self,
        audience: Audience,
        period: Period,
        scope_label: str,
        weeks: list[tuple[str, dt.datetime, dt.datetime]] | None = None,
    ) -> DigestInputs:
        """What one audience's digest for a period is built from (read in one unit of work)."""
        names = self.alliance.agency_names()  # contributor groups count as agencies
        if audience.kind == "agency" and audience.agency_id is not None:
            scope = {audience.agency_id: names[audience.agency_id]}
            only: list[str] | None = [audience.agency_id]
            # Anonymous entries of other agencies too: "Across the alliance" may quote them.
            visibilities = [Visibility.ALLIANCE.value, Visibility.ANONYMOUS.value]
        else:
            scope, only = names, None
            visibilities = [Visibility.ALLIANCE.value, Visibility.ANONYMOUS.value]
        as_of = min(self.clock(), period.end)
        with self.uow() as uow:
            q = uow.digests
            q.plan_for_this_period()
            learnings, people = q.participation(period.start, period.end, only)
            # The k-anonymity gate for the agency's own anonymous entries (never shown).
            contributors = q.contributors(period.start, period.end, only) if only else None
            # Anonymous entries count only in an alliance-wide total, never an agency's.
            anonymous = q.anonymous(period.start, period.end) if only is None else 0
            theme_counts = q.theme_counts(period.start, period.end, only)
            baseline = q.baseline_theme_counts(period.previous(), only)
            checkins = q.shareable_checkins(
                period.start, period.end, visibilities, audience.agency_id, self._texts
            )
            barriers = q.barriers(period.start, period.end, as_of - STALE_AFTER)
            totals = [(key, q.total(lo, hi, only)) for key, lo, hi in weeks or []]
        # A range chosen wide (a quarter) starts at the first week anything was shared.
        totals = list(itertools.dropwhile(lambda week: week[1] == 0, totals))
        return DigestInputs(
            audience=audience,
            period=period,
            alliance_name=self.alliance.alliance.name,
            scope_label=scope_label,
            scope_agencies=scope,
            agency_names=names,
            suppress_below=self.alliance.alliance.suppress_below,
            learnings=learnings,
            people=people,
            theme_counts=theme_counts,
            baseline=baseline,
            checkins=checkins,
            barriers=barriers,
            ladder=[(r.level, r.name) for r in self.alliance.escalation_ladder],
            as_of=as_of,
            weekly_totals=totals,
            anonymous=anonymous,
            pattern_table=self._pattern_table,
            contributors=contributors,
        )

    def _build(
        self,
        audience: Audience,
        period: Period,
        scope_label: str,
        weeks: list[tuple[str, dt.datetime, dt.datetime]] | None = None,
    ) -> DigestView:
        inputs = self._inputs(audience, period, scope_label, weeks)
        view = build_digest(inputs)
        # What people said the system is for, and the inquiries of the period.
        running, closed = self.inquiries.digest_section(period.start, period.end, audience)
        # The stewards' digest hands over the week's shareable entries it has read already.
        recurring = tuple(self.recurring(audience, period, inputs.checkins))
        return replace(
            view,
            purpose=self.inquiries.purpose.section(period.start, period.end, audience),
            inquiries=tuple(running),
            inquiry_summaries=tuple(closed),
            recurring=recurring,
            # "Barriers we keep meeting" reads the same answers over more weeks, with a way to
            # raise them: the stewards' digest does not list them twice.
            patterns=tuple(p for p in view.patterns if not (recurring and p.kind == "barrier")),
        )

    def recurring(
        self,
        audience: Audience,
        period: Period,
        current: Sequence[CheckinFact] | None = None,
    ) -> list[RecurringBarrier]:
        """ "Barriers we keep meeting": for the stewards' (alliance) digest and pack only.

        `current` is the period's shareable check-ins when the caller has read them already
        (the digest has): then only the earlier weeks are read here.
        """
        if audience.kind != "alliance":
            return []
        visibilities = [Visibility.ALLIANCE.value, Visibility.ANONYMOUS.value]
        until = period.start if current is not None else period.end
        with self.uow() as uow:
            earlier = uow.digests.shareable_checkins(
                lookback_start(period.start), until, visibilities, None, self._texts
            )
            entries = [e for e in [*earlier, *(current or ())] if e.barrier.strip()]
            raised = uow.escalations.raised_for(e.id for e in entries)
        return recurring_barriers(
            RecurringInputs(
                audience=audience,
                period_start=period.start,
                period_end=period.end,
                zone=self.alliance.alliance.zone,
                entries=entries,
                raised=raised,
                agency_names={a.id: a.name for a in self.alliance.agencies},
                suppress_below=self.alliance.alliance.suppress_below,
                table=self._pattern_table,
            )
        )

    # ------------------------------------------------------------------ the alliance note

    def note_destination(self) -> Destination:
        """When the practitioners' weekly note goes: the alliance digest's slot (else Friday)."""
        schedule = next(
            (d.schedule for d in self.alliance.digests if d.scope == "alliance" and d.schedule),
            None,
        ) or next((d.schedule for d in self.alliance.digests if d.schedule), DEFAULT_SCHEDULE)
        return Destination(id="alliance-note", channel="", scope="alliance", schedule=schedule)

    def note(self, week: str | Period | None = None) -> AllianceNoteView:
        """The week's "What the alliance learned" note: alliance-level, the same for everyone.

        Read as the alliance reads (shared entries only, anonymous ones without their agency),
        so it depends on no one's agency and needs no k-anonymity gate of its own.
        """
        dest = self.note_destination()
        period = week if isinstance(week, Period) else self.period(dest, week)
        inputs = self._inputs(Audience.alliance(), period, self._scope_label(dest))
        return AllianceNoteView(
            alliance_name=self.alliance.alliance.name,
            period_key=period.key,
            period_label=period.label,
            across=across_alliance(
                inputs, None, pattern_limit=NOTE_PATTERNS, quote_limit=NOTE_QUOTES
            ),
        )

    # ------------------------------------------------------------------ sending

    def send(self, dest: Destination, week: str | None = None) -> SendResult:
        """Post a destination's digest for a week unless it was posted (or is being posted).

        A digest partly posted by an earlier attempt is resumed: the parts (messages, charts)
        the platform accepted are recorded one by one and never posted again.
        """
        period = self.period(dest, week)
        if dest.kind == "email":
            return self._send_email(dest, period)
        now = self.clock()
        with self.uow() as uow:
            before = uow.digests.get(dest.id, period.key)
            told_admins = before is not None and before.error in NOT_IN_CHANNEL
            row = uow.digests.claim(
                dest.id, period.key, dest.channel, now=now, stale_before=now - POSTING_LEASE
            )
            if row is not None:
                digest_id, parts = row.id, list(row.parts or [])
                charts_done, posted_to = row.charts_posted or 0, row.channel_id
            uow.commit()
        if row is None:
            with self.uow() as uow:
                current = uow.digests.get(dest.id, period.key)
                status = current.status if current else "unknown"
            return SendResult(dest.id, period.key, "already", status)
        # A worker that died mid-post, or an answer that never came, may have left the next
        # part posted but unrecorded: the messenger looks for it before posting it.
        in_doubt = before is not None and (
            before.status == DigestStatus.POSTING or before.error in IN_DOUBT
        )
        if parts or in_doubt:
            log.info("digest %s for %s: resuming after %d part(s)", dest.id, period.key, len(parts))
        progress = DigestProgress(
            marker=str(digest_id),
            channel=posted_to if parts else None,
            parts=parts,
            in_doubt=in_doubt,
            on_part=lambda index, ref: self._record_part(digest_id, index, ref),
        )
        try:
            view = self.build(dest, period)
            charts = self.charts(view)
            ref = self._post(dest, view, progress)
            self._upload_charts(dest, period, view, charts, charts_done, ref, digest_id)
        except MessengerError as exc:
            return self._not_posted(dest, period, exc, told_admins, progress)
        except Exception:
            # Give the row back (with the parts already out) so the next tick can resume it.
            self._set(dest, period, DigestStatus.PENDING, error="build_failed")
            raise
        self._set(dest, period, DigestStatus.POSTED, ref=ref)
        log.info("digest %s for %s posted", dest.id, period.key)
        done = len(progress.parts)
        return SendResult(dest.id, period.key, "posted", "", done, progress.total)

    def ledger(
        self, dests: Sequence[Destination], week: str | None = None
    ) -> list[tuple[Destination, str, str, str]]:
        """(destination, period, status, error) of each destination's digest for a week."""
        out = []
        with self.uow() as uow:
            for dest in dests:
                period = self.period(dest, week)
                row = uow.digests.get(dest.id, period.key)
                status = row.status if row else "not yet"
                out.append((dest, period.key, status, (row.error or "") if row else ""))
        return out

    def reopen(self, dest: Destination, week: str | None = None) -> str | None:
        """A failed digest may be sent again (its cause was fixed); its period, or None."""
        period = self.period(dest, week)
        with self.uow() as uow:
            done = uow.digests.reopen(dest.id, period.key)
            uow.commit()
        if done:
            log.info("digest %s for %s reopened by an admin", dest.id, period.key)
        return period.key if done else None

    def _send_email(self, dest: Destination, period: Period) -> SendResult:
        """E-mail one address its digest for a period, at most once (the same ledger row).

        A temporary failure (SMTP 4xx, no connection) gives the row back for the worker's next
        pass; a permanent one (5xx) marks it failed for admins to see and is not tried again.
        """
        if self.mailer is None:
            # Nothing claimed: once SMTP_URL is set, the digest goes out.
            log.error("digest %s for %s: SMTP_URL is not set", dest.log_name, period.key)
            return SendResult(dest.id, period.key, "failed", "smtp_not_configured")
        now = self.clock()
        with self.uow() as uow:
            row = uow.digests.claim(
                dest.id, period.key, dest.channel[:64], now=now, stale_before=now - POSTING_LEASE
            )
            uow.commit()
        if row is None:
            with self.uow() as uow:
                current = uow.digests.get(dest.id, period.key)
                status = current.status if current else "unknown"
            return SendResult(dest.id, period.key, "already", status)
        try:
            view = self.build(dest, period)
            images = tuple(InlineImage(c.title, c.png, c.alt) for c in self.charts(view))
        except Exception:
            self._set(dest, period, DigestStatus.PENDING, error="build_failed")
            raise
        try:
            self.mailer.send(
                dest.channel, digest_message(view), images, key=f"{dest.id}/{period.key}"
            )
        except MailError as exc:
            if exc.permanent:
                self._set(dest, period, DigestStatus.FAILED, error=exc.code)
                log.error(
                    "digest %s for %s: e-mail refused for good: %s",
                    dest.log_name,
                    period.key,
                    exc.code,
                )
                self._tell_admins_message(dest, email_refused_notice(dest.id, period.key, exc.code))
                return SendResult(dest.id, period.key, "failed", exc.code, 0, 1)
            self._set(dest, period, DigestStatus.PENDING, error=exc.code)
            log.warning(
                "digest %s for %s: e-mail not sent (%s): will retry",
                dest.log_name,
                period.key,
                exc.code,
            )
            return SendResult(dest.id, period.key, "retry", exc.code, 0, 1)
        self._set(dest, period, DigestStatus.POSTED, sent=True)
        log.info("digest %s for %s e-mailed", dest.log_name, period.key)
        return SendResult(dest.id, period.key, "posted", "", 1, 1)

    def _record_part(self, digest_id: int, index: int, ref: MessageRef) -> None:
        with self.uow() as uow:
            uow.digests.record_part(digest_id, index, ref.channel, ref.ts)
            uow.commit()

    def _upload_charts(
        self,
        dest: Destination,
        period: Period,
        view: DigestView,
        charts: list[Chart],
        already: int,
        ref: MessageRef,
        digest_id: int,
    ) -> None:
        """Upload the charts not uploaded yet; a transient failure leaves the rest for a retry."""
        for chart in charts[already:]:
            try:
                self.messenger.upload_chart(
                    ref.channel,
                    chart.png,
                    filename=f"learnloop-{chart.title.lower().replace(' ', '-')}-{period.key}.png",
                    title=f"{chart.title}, {view.period_label}",
                    alt_text=chart.alt,
                )
            except MessengerError as exc:
                if exc.code in TRY_AGAIN:
                    raise  # the messages are out and recorded: a retry uploads only the charts
                # The digest itself is out; a chart refused for good is worth a warning.
                log.warning(
                    "digest %s for %s: chart not uploaded: %s", dest.id, period.key, exc.code
                )
            with self.uow() as uow:
                uow.digests.record_chart(digest_id)
                uow.commit()

    def worker_retries(self, dest: Destination, period_key: str) -> bool:
        """Whether the worker will try this digest again by itself (scheduled, this week)."""
        if dest.schedule is None:
            return False
        return period_key == week_key(self.clock(), self.alliance.alliance.zone)

    def send_due(self, now: dt.datetime | None = None) -> list[SendResult]:
        """Post every digest whose slot this week has come and that is not yet posted."""
        now = now or self.clock()
        zone = self.alliance.alliance.zone
        key = week_key(now, zone)
        due = [
            dest
            for dest in self.destinations()
            if dest.schedule is not None and now >= self.period(dest, key).end
        ]
        if not due:
            return []
        with self.uow() as uow:
            statuses = uow.digests.statuses([d.id for d in due], key)
        results: list[SendResult] = []
        self._tick_views = {}
        try:
            self._send_each(due, statuses, key, now, results)
        finally:
            self._tick_views = None
        return results

    def _send_each(
        self,
        due: list[Destination],
        statuses: Mapping[str, str],
        key: str,
        now: dt.datetime,
        results: list[SendResult],
    ) -> None:
        """Send the due digests, each place's (workspace, tenant, e-mail) on a thread of its own.

        Within a place they go one after another, under its limits; places go side by side,
        so seventy agencies over ten workspaces take about a seventh of the time, and one
        workspace that answers slowly holds up only its own digests. Each digest is still
        claimed in its ledger row before it is posted, so it goes out once.
        """
        lanes: dict[str, list[Destination]] = {}
        for dest in due:
            if dest.kind == "email" and self.mailer is None:
                continue  # SMTP_URL is not set: said at start-up, nothing to claim
            status = statuses.get(dest.id, DigestStatus.PENDING)
            if status not in (*DigestStatus.CLAIMABLE, DigestStatus.POSTING):
                continue
            if status == DigestStatus.WAITING and not self._retry_waiting_now(dest.id, now):
                continue
            lanes.setdefault(self._lane_of(dest), []).append(dest)

        def run_lane(lane: list[Destination]) -> list[SendResult]:
            done: list[SendResult] = []
            for dest in lane:
                status = statuses.get(dest.id, DigestStatus.PENDING)
                try:
                    result = self.send(dest, key)
                    if status == DigestStatus.POSTING and result.status == "already":
                        continue  # still being posted elsewhere (its lease has not run out)
                    done.append(result)
                except Exception:  # noqa: BLE001 - one destination's failure must not stop the rest
                    log.exception("digest %s for %s could not be built", dest.id, key)
                    done.append(SendResult(dest.id, key, "retry", "build_failed"))
            return done

        if len(lanes) <= 1:
            for lane in lanes.values():
                results.extend(run_lane(lane))
            return
        with ThreadPoolExecutor(
            max_workers=min(len(lanes), DIGEST_LANES), thread_name_prefix="digest"
        ) as pool:
            for done in pool.map(run_lane, lanes.values()):
                results.extend(done)

    def _lane_of(self, dest: Destination) -> str:
        """The place a destination's digest is posted in: its workspace or tenant, or e-mail."""
        if dest.kind == "email":
            return "email"
        try:
            return self.messenger.pace_key(dest.channel)
        except MessengerError:
            return ""  # unknown place: its own lane; posting will say what is wrong

    def _retry_waiting_now(self, destination_id: str, now: dt.datetime) -> bool:
        """Whether a digest waiting for an invitation is due another try (every few minutes).

        Kept in memory: the one worker is long-lived, and a lost timer only means an early try.
        """
        last = self._waiting_tries.get(destination_id)
        if last is not None and now - last < WAITING_RETRY:
            return False
        self._waiting_tries[destination_id] = now
        return True

    def _post(self, dest: Destination, view: DigestView, progress: DigestProgress) -> MessageRef:
        digest = digest_thread(view)
        try:
            return self.messenger.post_digest(dest.channel, digest, progress)
        except MessengerError as exc:
            if dest.kind != "channel" or exc.code != "not_in_channel" or progress.parts:
                raise
        # A public channel the bot can see but is not in: join it and post again.
        log.info("digest %s: not in channel %s, joining it", dest.id, dest.channel)
        try:
            self.messenger.join_channel(dest.channel)
        except MessengerError as exc:
            # Private channels can't be joined: the bot waits to be invited.
            log.info("digest %s: could not join %s: %s", dest.id, dest.channel, exc.code)
            raise MessengerError("not_in_channel", "conversations.join") from exc
        return self.messenger.post_digest(dest.channel, digest, progress)

    def _not_posted(
        self,
        dest: Destination,
        period: Period,
        exc: MessengerError,
        told_admins: bool,
        progress: DigestProgress,
    ) -> SendResult:
        done, total = len(progress.parts), progress.total
        if exc.code in NOT_IN_CHANNEL and dest.kind == "channel":
            self._set(dest, period, DigestStatus.WAITING, error=exc.code)
            log.warning(
                "digest %s for %s not posted: LearnLoop is not in channel %s (%s). "
                "Invite it with /invite @LearnLoop; the worker retries until it can post.",
                dest.id,
                period.key,
                dest.channel,
                exc.code,
            )
            with self.uow() as uow:
                told_admins = told_admins or uow.digests.waiting_since_before(dest.id, period.key)
            if not told_admins:
                self._tell_admins(dest, period)
            return SendResult(dest.id, period.key, "waiting", exc.code, done, total)
        if exc.code in TRY_AGAIN:
            self._set(dest, period, DigestStatus.PENDING, error=exc.code)
            log.warning(
                "digest %s for %s not posted (%s) after %d of %s part(s): will retry and "
                "resume from there",
                dest.id,
                period.key,
                exc.code,
                done,
                total if total is not None else "?",
            )
            return SendResult(dest.id, period.key, "retry", exc.code, done, total)
        self._set(dest, period, DigestStatus.FAILED, error=exc.code)
        log.error("digest %s for %s failed: %s", dest.id, period.key, exc.code)
        return SendResult(dest.id, period.key, "failed", exc.code, done, total)

    def _tell_admins(self, dest: Destination, period: Period) -> None:
        self._tell_admins_message(dest, not_posted_notice(dest.id, period.key, dest.channel))

    def _tell_admins_message(self, dest: Destination, message: Message) -> None:
        for admin in self.alliance.roles.admins:
            try:
                self.messenger.send(admin, message)
            except MessengerError as exc:
                log.warning("could not tell an admin about digest %s: %s", dest.id, exc.code)

    def _set(
        self,
        dest: Destination,
        period: Period,
        status: str,
        error: str | None = None,
        ref: MessageRef | None = None,
        sent: bool = False,
    ) -> None:
        with self.uow() as uow:
            row = uow.digests.get(dest.id, period.key)
            assert row is not None
            row.status = status
            row.error = error[:200] if error else None
            if ref is not None:
                row.channel_id, row.message_ts = ref.channel, ref.ts
            if ref is not None or sent:
                row.posted_at = self.clock()
            uow.commit()


def email_destination_id(entry_id: str, address: str) -> str:
    """The ledger id of one address of an e-mail entry: readable when it fits in 64 characters,
    else the entry's id and a short fingerprint of the address."""
    readable = f"{entry_id}:{address.lower()}"
    if len(readable) <= 64:
        return readable
    fingerprint = hashlib.sha256(address.lower().encode()).hexdigest()[:16]
    return f"{entry_id[:47]}:{fingerprint}"


def _answer_picker(alliance: AllianceConfig) -> Any:
    """`(question_set_id, answers) -> (learning, barrier)` from the configured question sets."""
    picks: dict[str, tuple[str | None, str | None]] = {}
    for qset in [DEFAULT_QUESTION_SET, *alliance.question_sets]:
        picks[qset.id] = _picks(qset)

    def text_of(
        question_set_id: str, answers: Mapping[str, Any], asked: Sequence[Mapping[str, Any]] = ()
    ) -> tuple[str, str]:
        if any("barrier" in q for q in asked):
            # The questions stored with the entry say which answer is which, even
            # after its set changed or left the config.
            return learning_text(asked, answers), barrier_text(asked, answers)
        learning_id, barrier_id = picks.get(question_set_id, (None, None))
        learning = answers.get(learning_id) if learning_id else None
        if not isinstance(learning, str):
            # A set no longer in the config: its first text answer is the learning.
            learning = next(
                (v for k, v in answers.items() if isinstance(v, str) and k != barrier_id), ""
            )
        barrier = answers.get(barrier_id) if barrier_id else None
        return learning, barrier if isinstance(barrier, str) else ""

    return text_of


def _picks(qset: QuestionSet) -> tuple[str | None, str | None]:
    texts = [
        q
        for q in qset.questions
        if q.kind in (QuestionKind.LONG_TEXT, QuestionKind.SHORT_TEXT) and not q.barrier
    ]
    learning = next((q for q in texts if q.required), texts[0] if texts else None)
    barrier = qset.barrier_question
    return (learning.id if learning else None, barrier.id if barrier else None)


def _weeks(period: Period, zone: Any) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """The ISO weeks a range touches, each clipped to the range."""
    weeks = []
    cursor = period.start
    while cursor < period.end:
        key = week_key(cursor, zone)
        week = week_period(key, zone)
        weeks.append((key, max(week.start, period.start), min(week.end, period.end)))
        cursor = week.end
    return weeks
