"""The weekly learning digest: periods, aggregates, trends, shared patterns and quotes.

Pure: plain dataclasses in, a DigestView out. Every quoted piece goes through the visibility
policy (bot/domain/visibility.py) for the digest's audience; every count goes through the one
suppression rule (bot/domain/suppression.py) before any renderer sees it, and anonymous
entries arrive already left out of every per-agency count.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from bot.domain.checkins import Visibility
from bot.domain.errors import BadPeriod
from bot.domain.patterns import SynonymTable, find_groups
from bot.domain.suppression import Count, average, suppress, suppressed
from bot.domain.visibility import (
    Audience,
    attribution,
    can_read,
    may_name_author,
    quotable_in_scope,
)
from bot.views.digest import (
    AcrossAlliance,
    AgencyParticipation,
    BarrierLine,
    BarrierSummary,
    DigestView,
    Pattern,
    Quote,
    ThemeLine,
    ThemeTrend,
    Trend,
)

QUOTE_CHARS = 280
MAX_QUOTES = 6
MAX_PATTERNS = 5
MAX_TRENDS = 3
BASELINE_PERIODS = 4
# A theme "rose" or "fell" when it moved by at least this many entries and by half its average.
TREND_MIN_CHANGE = 2
TREND_MIN_RATIO = 0.5
STALE_AFTER = dt.timedelta(days=14)
OPEN_STATUSES = frozenset({"open", "acknowledged", "in_progress"})

_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$")


# --------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """A digest period: [start, end) in UTC, with a stable key for the once-only ledger."""

    key: str
    start: dt.datetime
    end: dt.datetime
    label: str

    def previous(self, count: int = BASELINE_PERIODS) -> list[tuple[dt.datetime, dt.datetime]]:
        """The `count` windows of the same length just before this one, newest first."""
        length = self.end - self.start
        return [(self.start - length * (i + 1), self.start - length * i) for i in range(count)]


def parse_week(text: str) -> tuple[int, int]:
    """(ISO year, ISO week) from "2026-W47"; BadPeriod says how to write it."""
    match = _WEEK.match(text.strip())
    if match:
        year, week = int(match.group(1)), int(match.group(2))
        try:
            dt.date.fromisocalendar(year, week, 1)
            return year, week
        except ValueError:
            pass
    raise BadPeriod(f"{text!r} is not an ISO week: write it like 2026-W47.")


def week_key(now: dt.datetime, zone: ZoneInfo) -> str:
    """The ISO week a moment falls in, in the alliance's time zone, e.g. "2026-W47"."""
    year, week, _ = now.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def week_period(
    key: str, zone: ZoneInfo, slot_weekday: int | None = None, slot_time: dt.time | None = None
) -> Period:
    """The period a weekly digest covers.

    With a schedule slot (weekday, local time) it is the seven days that end at that slot in
    the given ISO week, so consecutive digests meet exactly and Thursday's check-ins are in
    Friday's digest. Without one it is the ISO week, Monday to Monday.
    """
    year, week = parse_week(key)
    monday = dt.date.fromisocalendar(year, week, 1)
    if slot_weekday is None or slot_time is None:
        start_local = dt.datetime.combine(monday, dt.time(0, 0), tzinfo=zone)
        end_local = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(0, 0), tzinfo=zone)
    else:
        day = monday + dt.timedelta(days=slot_weekday)
        end_local = dt.datetime.combine(day, slot_time, tzinfo=zone)
        start_local = dt.datetime.combine(day - dt.timedelta(days=7), slot_time, tzinfo=zone)
    days = f"{_day(start_local)} – {_day(end_local - _SECOND)}"
    # A slot's seven days mostly fall in the ISO week before the key's, so only the dates say
    # which days a digest covers; the ISO week number would name the wrong week.
    label = (
        f"week {week} of {year} ({days})" if slot_weekday is None else f"{days} {end_local.year}"
    )
    return Period(
        key=f"{year}-W{week:02d}",
        start=start_local.astimezone(dt.UTC),
        end=end_local.astimezone(dt.UTC),
        label=label,
    )


_SECOND = dt.timedelta(seconds=1)


def range_period(first: dt.date, last: dt.date, zone: ZoneInfo) -> Period:
    """A report period from the first to the last day inclusive, in local time."""
    if last < first:
        raise BadPeriod(f"The range ends ({last}) before it starts ({first}).")
    start_local = dt.datetime.combine(first, dt.time(0, 0), tzinfo=zone)
    end_local = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0, 0), tzinfo=zone)
    return Period(
        key=f"{first.isoformat()}..{last.isoformat()}",
        start=start_local.astimezone(dt.UTC),
        end=end_local.astimezone(dt.UTC),
        label=f"{_day(start_local)} {start_local.year} – {_day(end_local - _SECOND)} {last.year}",
    )


def _day(moment: dt.datetime) -> str:
    return f"{moment.day} {moment:%b}"


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class CheckinFact:
    """What the digest needs of one check-in (it satisfies the visibility policy's Entry)."""

    id: int
    agency_id: str
    member_id: int | None
    visibility: str
    created_at: dt.datetime
    learning: str
    barrier: str = ""
    themes: tuple[str, ...] = ()
    author_name: str | None = None


@dataclass(frozen=True)
class BarrierFact:
    """What the digest needs of one barrier in the register (never who raised it)."""

    id: int
    title: str
    status: str
    level: str
    agencies: tuple[str, ...]
    created_at: dt.datetime
    updated_at: dt.datetime
    outcome: str | None = None
    moved_from: str | None = None
    moved_to: str | None = None
    resolved_at: dt.datetime | None = None


@dataclass(frozen=True)
class DigestInputs:
    """Everything one digest is built from: counts from SQL, the period's shareable entries."""

    audience: Audience
    period: Period
    alliance_name: str
    scope_label: str
    scope_agencies: Mapping[str, str]  # id -> name, the agencies the digest covers
    agency_names: Mapping[str, str]  # id -> name, every agency (to name pattern partners)
    suppress_below: int
    learnings: Mapping[str, int]  # named (not anonymous) check-ins per agency in the period
    people: Mapping[str, int]  # distinct people per agency in the period (named entries)
    # (agency id, theme) -> named check-ins; (None, theme) -> anonymous ones, alliance-wide only
    theme_counts: Mapping[tuple[str | None, str], int]
    baseline: Sequence[Mapping[str, int]]  # theme -> check-ins, one per earlier period
    checkins: Sequence[CheckinFact]
    barriers: Sequence[BarrierFact] = ()
    ladder: Sequence[tuple[str, str]] = ()  # (level, name), lowest first
    as_of: dt.datetime | None = None
    weekly_totals: Sequence[tuple[str, int]] = field(default_factory=tuple)
    anonymous: int = 0  # anonymous check-ins in the period, alliance-wide (never per agency)
    pattern_table: SynonymTable | None = None  # None: the built-in synonym table
    # Distinct people with a check-in (named or anonymous) per agency in the period: only the
    # k-anonymity gate reads it, never a renderer. None: `people` stands in for it.
    contributors: Mapping[str, int] | None = None


# --------------------------------------------------------------------------- small rules


__all__ = ["suppressed"]  # re-exported: older callers import the rule from here


def shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    """Whitespace collapsed and cut at a word boundary with "…" when longer than `limit`."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


def theme_trends(
    current: Mapping[str, int], baseline: Sequence[Mapping[str, int]], threshold: int = 1
) -> tuple[list[ThemeTrend], list[ThemeTrend]]:
    """Themes that rose and fell against the average of the earlier periods.

    Nothing is said while there is no history (a first digest would otherwise call every theme
    "rising"), nor about a theme whose larger side is under the suppression threshold: "rose
    from fewer than 3 to fewer than 3" would be a small number told another way.
    """
    if not baseline or not any(sum(b.values()) for b in baseline):
        return [], []
    rising: list[tuple[float, ThemeTrend]] = []
    falling: list[tuple[float, ThemeTrend]] = []
    for theme in sorted(set(current).union(*baseline)):
        count = current.get(theme, 0)
        average = sum(b.get(theme, 0) for b in baseline) / len(baseline)
        needed = max(TREND_MIN_CHANGE, TREND_MIN_RATIO * average)
        if count - average >= needed and count >= threshold:
            rising.append(
                (count - average, ThemeTrend(theme, Trend.ROSE, *_sides(count, average, threshold)))
            )
        elif average - count >= needed and average >= threshold:
            falling.append(
                (average - count, ThemeTrend(theme, Trend.FELL, *_sides(count, average, threshold)))
            )
    rising.sort(key=lambda t: (-t[0], t[1].theme))
    falling.sort(key=lambda t: (-t[0], t[1].theme))
    return [t for _, t in rising[:MAX_TRENDS]], [t for _, t in falling[:MAX_TRENDS]]


def _sides(count: int, mean: float, threshold: int) -> tuple[Count, str]:
    return suppress(count, threshold), average(mean, threshold)


def theme_lines(
    counts: Mapping[tuple[str | None, str], int],
    agency_names: Mapping[str, str],
    threshold: int = 1,
) -> list[ThemeLine]:
    """Themes by shown total (then name), each with its agencies by shown count (then name).

    Anonymous entries (agency None) add to their theme's total and to no agency. Small counts
    read "fewer than N" and sort as if nothing, so their order gives nothing away either.
    """
    totals: dict[str, int] = defaultdict(int)
    per_theme: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for (agency_id, theme), n in counts.items():
        if n <= 0:
            continue
        totals[theme] += n
        if agency_id is not None:
            per_theme[theme].append((agency_names.get(agency_id, agency_id), n))
    lines = []
    for theme, total in totals.items():
        agencies = [(name, suppress(n, threshold)) for name, n in per_theme[theme]]
        agencies.sort(key=lambda r: (-r[1].sort_key, r[0]))
        lines.append(ThemeLine(theme, suppress(total, threshold), tuple(agencies)))
    return sorted(lines, key=lambda line: (-line.total.sort_key, line.theme))


def participation(
    scope_agencies: Mapping[str, str],
    learnings: Mapping[str, int],
    people: Mapping[str, int],
    threshold: int,
) -> list[AgencyParticipation]:
    """Per agency, counts only, suppressed when small; agencies in name order (not ranked)."""
    return [
        AgencyParticipation(
            agency=name,
            learnings=suppressed(learnings.get(agency_id, 0), threshold),
            people=suppressed(people.get(agency_id, 0), threshold),
        )
        for agency_id, name in sorted(scope_agencies.items(), key=lambda kv: kv[1])
    ]


# --------------------------------------------------------------------------- patterns


def _named_agency(audience: Audience, entry: CheckinFact) -> str | None:
    """The agency a pattern may name for this entry, or None (anonymous or not shared)."""
    if audience.kind == "agency" and entry.agency_id == audience.agency_id:
        return entry.agency_id
    if entry.visibility == Visibility.ALLIANCE and audience.kind != "author":
        # Shared with the whole alliance under the author's name: the agency may be named.
        return entry.agency_id
    return None


def find_patterns(
    inputs: DigestInputs, limit: int = MAX_PATTERNS
) -> list[tuple[Pattern, frozenset[int]]]:
    """Learnings or barriers from two or more named agencies that say the same thing.

    Only entries this audience may read, or that were shared with the whole alliance under a
    name, take part; anonymous entries can support a pattern but never name an agency, and only
    entries the audience may read are quoted. Each pattern comes with the ids it quotes.
    """
    audience = inputs.audience
    found: list[tuple[tuple[int, int, int], Pattern, frozenset[int]]] = []
    for kind in ("learning", "barrier"):
        entries = [
            e
            for e in inputs.checkins
            if (can_read(audience, e) or _named_agency(audience, e) is not None)
            and (e.learning if kind == "learning" else e.barrier).strip()
        ]
        texts = [e.learning if kind == "learning" else e.barrier for e in entries]
        for group in find_groups(texts, table=inputs.pattern_table):
            members = [entries[i] for i in group.members]
            named = {a for a in (_named_agency(audience, m) for m in members) if a is not None}
            if len(named) < 2:
                continue
            if audience.kind == "agency" and audience.agency_id not in named:
                continue
            quoted = _pattern_quotes(inputs, members)
            if not quoted:
                continue
            agencies = tuple(sorted(inputs.agency_names.get(a, a) for a in named))
            anonymous = sum(
                1 for m in members if can_read(audience, m) and not may_name_author(audience, m)
            )
            threshold = inputs.suppress_below
            pattern = Pattern(
                kind=kind,
                agencies=agencies,
                size=suppress(len(members), threshold),
                quotes=tuple(
                    _quote(inputs, m, m.learning if kind == "learning" else m.barrier)
                    for m in quoted
                ),
                anonymous=suppress(anonymous, threshold) if anonymous >= threshold else None,
                # Named only in words of entries this audience may read.
                label=group.label({i for i in group.members if can_read(audience, entries[i])}),
            )
            rank = (-len(agencies), -len(members), min(m.id for m in members))
            found.append((rank, pattern, frozenset(m.id for m in quoted)))
    found.sort(key=lambda item: item[0])
    return [(pattern, ids) for _, pattern, ids in found[:limit]]


def _pattern_quotes(inputs: DigestInputs, members: list[CheckinFact]) -> list[CheckinFact]:
    """Up to two readable members to quote: the centre, then one from another agency."""
    audience = inputs.audience
    readable_members = [m for m in members if can_read(audience, m)]
    chosen: list[CheckinFact] = readable_members[:1]
    for member in readable_members[1:]:
        if _turn(audience, member) != _turn(audience, chosen[0]):
            chosen.append(member)
            break
    return chosen


def _turn(audience: Audience, entry: CheckinFact) -> str:
    """Whose turn an entry is when quotes take turns across agencies.

    An entry whose author may not be named is its own turn: were it queued with its agency, the
    order of the quotes (or which one is picked) would tell which agency wrote it.
    """
    if may_name_author(audience, entry):
        return entry.agency_id
    return f"anonymous:{entry.id}"


def _quote(inputs: DigestInputs, entry: CheckinFact, text: str) -> Quote:
    """A quote with the byline the policy allows for this audience."""
    audience = inputs.audience
    name = entry.author_name if may_name_author(audience, entry) else None
    agency = inputs.agency_names.get(entry.agency_id, entry.agency_id)
    return Quote(
        text=shorten(text),
        byline=attribution(audience, entry, name, agency),
        themes=entry.themes,
    )


def select_quotes(
    inputs: DigestInputs, exclude: set[int] | None = None, limit: int = MAX_QUOTES
) -> list[Quote]:
    """Learnings shared at this scope, newest first, taking turns across agencies."""
    exclude = exclude or set()
    per_agency: dict[str, list[CheckinFact]] = defaultdict(list)
    for entry in sorted(inputs.checkins, key=lambda e: (e.created_at, e.id), reverse=True):
        if entry.id in exclude or not entry.learning.strip():
            continue
        if not can_read(inputs.audience, entry):
            continue
        # Entries whose author may not be named share one turn, whatever their agency.
        turn = _turn(inputs.audience, entry)
        per_agency["~anonymous" if turn.startswith("anonymous:") else turn].append(entry)
    picked: list[CheckinFact] = []
    seen: set[str] = set()
    queues = [per_agency[a] for a in sorted(per_agency)]
    while len(picked) < limit and any(queues):
        for queue in queues:
            if queue and len(picked) < limit:
                entry = queue.pop(0)
                # The same words twice (a shared template, a re-sent reply) are quoted once.
                key = " ".join(entry.learning.lower().split())
                if key not in seen:
                    seen.add(key)
                    picked.append(entry)
    return [_quote(inputs, entry, entry.learning) for entry in picked]


# --------------------------------------------------------------------------- barriers


def summarise_barriers(inputs: DigestInputs) -> BarrierSummary:
    """Barriers new, moved up, stale (no update for 14 days) and resolved, for this audience."""
    period = inputs.period
    as_of = min(inputs.as_of or period.end, period.end)
    names = dict(inputs.ladder)
    order = {level: i for i, (level, _) in enumerate(inputs.ladder)}
    audience = inputs.audience

    def line(b: BarrierFact, note: str = "") -> BarrierLine:
        return BarrierLine(
            title=shorten(b.title, 150),
            level=names.get(b.level, b.level),
            agencies=tuple(sorted(inputs.agency_names.get(a, a) for a in b.agencies)),
            note=note,
        )

    new, moved, stale, resolved = [], [], [], []
    for b in sorted(inputs.barriers, key=lambda b: (b.created_at, b.id)):
        if audience.kind == "agency" and audience.agency_id not in b.agencies:
            continue
        if b.status == "resolved":
            at = b.resolved_at or b.updated_at
            if period.start <= at < period.end:
                resolved.append(line(b, shorten(b.outcome or "", QUOTE_CHARS)))
            continue
        if period.start <= b.created_at < period.end:
            new.append(line(b))
        elif b.moved_to and order.get(b.moved_to, -1) > order.get(b.moved_from or "", -1):
            moved.append(line(b, f"now with {names.get(b.moved_to, b.moved_to)}"))
        elif b.status in OPEN_STATUSES and b.updated_at < as_of - STALE_AFTER:
            days = (as_of - b.updated_at).days
            stale.append(line(b, f"no update for {days} days"))
    return BarrierSummary(
        new=tuple(new), moved_up=tuple(moved), stale=tuple(stale), resolved=tuple(resolved)
    )


# --------------------------------------------------------------------------- the digest


def quotable(inputs: DigestInputs) -> DigestInputs:
    """The inputs with the anonymous entries this digest's scope may not quote taken out.

    The rule is the visibility policy's k-anonymity gate (`quotable_in_scope`): in its own
    agency's digest an anonymous entry is quoted only when that agency had at least
    `suppress_below` contributors in the period.
    """
    audience = inputs.audience
    if audience.kind != "agency" or audience.agency_id is None:
        return inputs
    gate = inputs.contributors if inputs.contributors is not None else inputs.people
    kept = quotable_in_scope(inputs.checkins, audience.agency_id, gate, inputs.suppress_below)
    return replace(inputs, checkins=kept)


ACROSS_PATTERNS = 3
ACROSS_QUOTES = 4


def across_alliance(
    inputs: DigestInputs,
    own_agency: str | None = None,
    pattern_limit: int = ACROSS_PATTERNS,
    quote_limit: int = ACROSS_QUOTES,
) -> AcrossAlliance:
    """What the whole alliance learned, as an alliance-level reader may see it.

    Read as the alliance reads (entries shared with the alliance, named or anonymous, never
    anyone's team-only ones). With `own_agency` (an agency's digest or its managers' DMs) the
    inputs must already have passed `quotable`, and what its own section says is left out: its
    own entries, patterns naming it and barriers it is affected by.
    """
    wide = replace(inputs, audience=Audience.alliance())
    own_name = inputs.agency_names.get(own_agency, own_agency) if own_agency else None
    found = [
        (p, ids)
        for p, ids in find_patterns(wide, limit=MAX_PATTERNS * 2)
        if own_name is None or own_name not in p.agencies
    ][:pattern_limit]
    exclude = {i for p, ids in found if p.kind == "learning" for i in ids}
    if own_agency is not None:
        exclude |= {e.id for e in inputs.checkins if e.agency_id == own_agency}
    quotes = select_quotes(wide, exclude=exclude, limit=quote_limit)
    barriers = summarise_barriers(wide)

    def elsewhere(lines: tuple[BarrierLine, ...]) -> tuple[BarrierLine, ...]:
        return tuple(b for b in lines if own_name is None or own_name not in b.agencies)

    return AcrossAlliance(
        patterns=tuple(p for p, _ in found),
        quotes=tuple(quotes),
        moved=elsewhere(barriers.new + barriers.moved_up),
        resolved=elsewhere(barriers.resolved),
    )


def build_digest(inputs: DigestInputs) -> DigestView:
    """The digest for one audience and period."""
    inputs = quotable(inputs)
    threshold = inputs.suppress_below
    total = sum(inputs.learnings.get(a, 0) for a in inputs.scope_agencies)
    if inputs.audience.kind == "alliance":
        total += inputs.anonymous  # alliance-wide, so counting them names no agency
    contributing = sum(1 for a in inputs.scope_agencies if inputs.learnings.get(a, 0) > 0)
    current: dict[str, int] = defaultdict(int)
    for (_, theme), n in inputs.theme_counts.items():
        current[theme] += n
    rising, falling = theme_trends(current, inputs.baseline, threshold)
    found = find_patterns(inputs)
    # A learning quoted in a pattern is not quoted again below it.
    in_patterns = {i for p, ids in found if p.kind == "learning" for i in ids}
    scope_name = (
        next(iter(inputs.scope_agencies.values()))
        if inputs.audience.kind == "agency" and inputs.scope_agencies
        else inputs.alliance_name
    )
    return DigestView(
        title=f"What {scope_name} learned — {inputs.period.label}",
        period_key=inputs.period.key,
        period_label=inputs.period.label,
        scope_label=inputs.scope_label,
        alliance_name=inputs.alliance_name,
        suppress_below=threshold,
        learnings=suppressed(total, threshold),
        learnings_count=total,
        agencies_contributing=suppress(contributing, threshold),
        rising=tuple(rising),
        falling=tuple(falling),
        participation=tuple(
            participation(inputs.scope_agencies, inputs.learnings, inputs.people, threshold)
        ),
        themes=tuple(theme_lines(inputs.theme_counts, inputs.agency_names, threshold)),
        patterns=tuple(p for p, _ in found),
        quotes=tuple(select_quotes(inputs, exclude=in_patterns)),
        barriers=summarise_barriers(inputs),
        weekly_totals=tuple((week, suppress(n, threshold)) for week, n in inputs.weekly_totals),
        # An agency's digest (and its managers' DMs) goes on to what the alliance learned.
        across=(
            across_alliance(inputs, inputs.audience.agency_id)
            if inputs.audience.kind == "agency"
            else None
        ),
    )
