"""A property over random alliances: no output for others shows a small count or an anonymous
author's agency.

Each example builds one alliance (agencies, members, themes, suppress_below) and a few weeks of
check-ins (any visibility, anonymous included), barriers and an inquiry, stored through the
real services into SQLite. Every output built for someone else is then made by the real
builders: Slack digest blocks and fallback text, Teams digest cards, the review pack HTML and
its charts' alt text, the inquiry summary, the purpose section, App Home for a steward and an
admin, /metrics and the barrier register CSV. Two things must hold:

1. no number under the threshold appears as a count (numbers that are not counts — dates,
   week numbers, the threshold itself — are taken out first);
2. nothing depends on an anonymous entry's agency: the same world with every anonymous
   check-in and barrier moved to a person in another agency gives byte-identical outputs for
   the alliance, and the same counts in every agency's digest.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, cast

import pytest
from conftest import test_settings as settings_for
from digest_outputs import digest_card_dicts, digest_messages
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from teams_ui import card_text

from bot.alliance import parse_alliance
from bot.app import LearnLoop, build
from bot.domain.checkins import Source
from bot.mail.render import email_message
from bot.ports import InlineImage, Messenger, MessengerError
from bot.render.digest import render_html, render_text, text_lines
from bot.services.barriers import records_as_csv
from bot.services.board import Viewer
from bot.slack.home_blocks import home_view
from bot.slack.render import message as slack_message
from bot.teams import render as teams_render
from bot.views.board import RegisterFilters
from bot.views.digest import DigestView, alliance_note_message, digest_message
from bot.views.inquiry import purpose_section, summary_message
from bot.web.board.routes import board_templates

NAMES = ["Alpha", "Bravo", "Charlie", "Delta"]
THEMES = ["Housing", "Mental health", "Money and benefits", "Information sharing"]
TEXTS = [
    "Temporary accommodation is full every Friday",
    "No temporary accommodation available on Fridays again",
    "Joint visits with the ward saved a week of waiting",
    "Joint visits with the ward saved us waiting",
    "Asking where people will sleep tonight changed the plan",
    "Letters still read like threats to tenants",
]
# "What got in the way" answers: two tell the same barrier, so "Barriers we keep meeting"
# (grouped over the weeks) has something to show.
BARRIER_TEXTS = [
    "No pharmacy will register people placed in temporary accommodation out of area",
    "Temporary accommodation out of area: the pharmacy would not register him",
    "The consent form takes a week to come back from legal",
]
STEWARD, ADMIN = "U0STEWARD", "U0ADMIN"
# Thursday 19 November 2026; the digest week is Monday 16 to Sunday 22 November.
NOW = dt.datetime(2026, 11, 19, 15, 0, tzinfo=dt.UTC)
WEEK = "2026-W47"
VISIBILITIES = ["team", "alliance", "anonymous"]


@dataclass(frozen=True)
class Entry:
    agency: int
    member: int
    visibility: str
    themes: tuple[str, ...]
    text: int
    days_ago: int
    purpose: bool
    moved_to: tuple[int, int]  # where an anonymous entry goes in the swapped world
    barrier: int = -1  # which "what got in the way" answer, if any


@dataclass(frozen=True)
class Barrier:
    agency: int
    member: int
    anonymous: bool
    title: int
    moved_to: tuple[int, int]


@dataclass(frozen=True)
class World:
    sizes: tuple[int, ...]
    threshold: int
    entries: tuple[Entry, ...]
    barriers: tuple[Barrier, ...]


def user(agency: int, member: int) -> str:
    # Letters only, so a leaked user id would show in the number scan too.
    return f"U{NAMES[agency].upper()}{'ABCD'[member]}"


@st.composite
def worlds(draw: st.DrawFn) -> World:
    count = draw(st.integers(2, 4))
    sizes = tuple(draw(st.integers(1, 4)) for _ in range(count))

    def person() -> tuple[int, int]:
        agency = draw(st.integers(0, count - 1))
        return agency, draw(st.integers(0, sizes[agency] - 1))

    def elsewhere(agency: int) -> tuple[int, int]:
        other = draw(st.sampled_from([a for a in range(count) if a != agency]))
        return other, draw(st.integers(0, sizes[other] - 1))

    entries = []
    for _ in range(draw(st.integers(0, 12))):
        agency, member = person()
        entries.append(
            Entry(
                agency=agency,
                member=member,
                visibility=draw(st.sampled_from(VISIBILITIES)),
                themes=tuple(draw(st.lists(st.sampled_from(THEMES), max_size=2, unique=True))),
                text=draw(st.integers(0, len(TEXTS) - 1)),
                # Most in the digest's week, some earlier (trends and the pack's weeks).
                days_ago=draw(st.sampled_from([0, 0, 0, 1, 2, 8, 15, 22])),
                purpose=draw(st.booleans()),
                moved_to=elsewhere(agency),
                barrier=draw(st.integers(-1, len(BARRIER_TEXTS) - 1)),
            )
        )
    barriers = []
    for _ in range(draw(st.integers(0, 3))):
        agency, member = person()
        barriers.append(
            Barrier(agency, member, draw(st.booleans()), draw(st.integers(0, 5)), elsewhere(agency))
        )
    return World(sizes, draw(st.integers(1, 5)), tuple(entries), tuple(barriers))


def alliance(world: World) -> Any:
    agencies = [
        {
            "id": NAMES[i].lower(),
            "name": f"Agency {NAMES[i]}",
            "members": [user(i, m) for m in range(size)],
        }
        for i, size in enumerate(world.sizes)
    ]
    digests = [{"id": "alliance", "channel": "C0STEWARDS", "scope": "alliance"}] + [
        {"id": a["id"], "channel": f"C0{a['id'].upper()}", "scope": f"agency:{a['id']}"}
        for a in agencies
    ]
    return parse_alliance(
        {
            "alliance": {
                "name": "Property Alliance",
                "timezone": "Europe/London",
                "suppress_below": world.threshold,
            },
            "themes": THEMES,
            "roles": {"stewards": [STEWARD], "admins": [ADMIN]},
            "agencies": agencies,
            "cohorts": [{"id": "weekly", "schedule": {"days": ["thu"], "time": "15:00"}}],
            "digests": digests,
            "purpose": {"cadence": "quarterly"},
            "escalation_ladder": [
                {"level": "agency", "name": "Agency leadership", "channel": "C0LEADS"},
                {"level": "alliance", "name": "Steward group", "channel": "C0STEWARDS"},
            ],
        }
    )


class Unconnected:
    """A messenger that reaches nobody: the outputs are built, never sent, here."""

    def __getattr__(self, name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> NoReturn:
            raise MessengerError("not_connected", name)

        return refuse


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


def populate(world: World, db: Path, swapped: bool) -> tuple[LearnLoop, Clock, int]:
    """Store the world through the real services; the loop, its clock and the inquiry id."""
    clock = Clock()
    loop = build(
        settings_for(f"sqlite:///{db}", "http://127.0.0.1:9/api/"),
        alliance=alliance(world),
        clock=clock,
        messenger=cast(Messenger, Unconnected()),
        with_slack=False,
    )
    services = loop.services
    clock.now = NOW - dt.timedelta(days=30)
    inquiry = services.inquiries.start("slack", STEWARD, "What slows discharge?", "weekly", 8)
    for index, entry in enumerate(sorted(world.entries, key=lambda e: -e.days_ago)):
        where = entry.moved_to if swapped and entry.visibility == "anonymous" else None
        agency, member = where or (entry.agency, entry.member)
        clock.now = NOW - dt.timedelta(days=entry.days_ago, minutes=index)
        answers = {"learned": TEXTS[entry.text], "inquiry": TEXTS[(entry.text + 1) % len(TEXTS)]}
        if entry.barrier >= 0:
            answers["got_in_the_way"] = BARRIER_TEXTS[entry.barrier]
        # Anonymous entries never answer the purpose question here: it is asked once per
        # person, so moving one to someone else would change what that person is asked.
        if entry.purpose and entry.visibility != "anonymous":
            answers["purpose"] = "To keep people safe at home"
        services.checkins.submit(
            "slack",
            user(agency, member),
            answers=answers,
            themes=list(entry.themes),
            visibility=entry.visibility,
            source=Source.MODAL,
        )
    clock.now = NOW
    for barrier in world.barriers:
        where = barrier.moved_to if swapped and barrier.anonymous else None
        agency, member = where or (barrier.agency, barrier.member)
        services.escalations.raise_barrier(
            "slack",
            user(agency, member),
            title=f"Barrier about {TEXTS[barrier.title].lower()}",
            description="What gets in the way, said plainly",
            who_is_affected=None,
            agencies=[NAMES[barrier.agency].lower()],
            level=None,
            anonymous=barrier.anonymous,
            checkin_ids=[],
        )
    clock.now = NOW + dt.timedelta(days=2)
    return loop, clock, inquiry.id


# ------------------------------------------------------------------ what people read


def mrkdwn(node: Any) -> list[str]:
    """The mrkdwn and plain_text strings of Block Kit JSON: what a person reads."""
    if isinstance(node, list):
        return [t for item in node for t in mrkdwn(item)]
    if not isinstance(node, dict):
        return []
    found = [node["text"]] if node.get("type") in ("mrkdwn", "plain_text") else []
    return found + [t for value in node.values() for t in mrkdwn(value)]


def page_text(page: str) -> tuple[str, list[str]]:
    """An HTML page's visible text and its images' alt texts."""
    alts = [html.unescape(a) for a in re.findall(r'alt="([^"]*)"', page)]
    body = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body)), alts


def outputs_for_others(loop: LearnLoop, inquiry_id: int) -> dict[str, str]:
    """Every output built for someone else, by name, as the person reading it gets it."""
    services = loop.services
    digests = services.digests
    out: dict[str, str] = {}
    for dest in digests.destinations():
        view = digests.build(dest, WEEK)
        messages = digest_messages(view)
        out[f"slack:{dest.id}"] = "\n".join(
            [t for t, _ in messages] + [s for _, blocks in messages for s in mrkdwn(blocks)]
        )
        out[f"teams:{dest.id}"] = "\n".join(
            [card_text(c) for c in digest_card_dicts(view)]
            + [c.get("fallbackText", "") for c in digest_card_dicts(view)]
        )
        out[f"text:{dest.id}"] = render_text(view)
        out[f"alt:{dest.id}"] = "\n".join(chart.alt for chart in digests.charts(view))
        out[f"purpose:{dest.id}"] = "\n".join(text_lines(purpose_section(view.purpose)))
        # The e-mail digest (issue 15): its text part, and its HTML part's text and alt texts.
        images = tuple(InlineImage(c.title, c.png, c.alt) for c in digests.charts(view))
        mail = email_message(
            digest_message(view),
            sender="learnloop@test.example",
            to="x@test.example",
            images=images,
        )
        body, mail_alts = page_text(mail.get_body(("html",)).get_content())  # type: ignore[union-attr]
        out[f"email:{dest.id}"] = "\n".join(
            [mail.get_body(("plain",)).get_content(), body, *mail_alts]  # type: ignore[union-attr]
        )
    # The practitioners' weekly alliance note, as each platform sends it.
    note = alliance_note_message(services.notes.build(WEEK))
    fallback, blocks = slack_message(note)
    out["note:slack"] = "\n".join([fallback, *mrkdwn(blocks)])
    out["note:teams"] = card_text(teams_render.card_dict(teams_render.card(note)))
    view, charts = digests.report(NOW.date() - dt.timedelta(days=28), NOW.date())
    text, alts = page_text(render_html(view, charts))
    out["pack"] = text
    out["pack:alt"] = "\n".join(alts)
    summary = services.inquiries.summary(inquiry_id)
    fallback, blocks = slack_message(summary_message(summary))
    out["inquiry"] = "\n".join([fallback, *mrkdwn(blocks)])
    for who in (STEWARD, ADMIN):
        out[f"home:{who}"] = "\n".join(mrkdwn(home_view(services.home.for_user("slack", who))))
    out["metrics"] = loop.metrics.render().decode()
    out["barriers.csv"] = records_as_csv(services.escalations.register.export_records())
    # The Learning Board's pages for a board member (alliance-level), as the browser gets them.
    board = Viewer("email:chair@board.example", "Chair", "board")
    pages = board_templates()
    common = {"alliance": "Property Alliance", "viewer": board, "csrf": "x", "path": "/board/"}
    register = services.board.register(board, RegisterFilters())
    out["board:register"] = page_text(
        pages.get_template("board/barriers.html").render(
            view=register, page_link=lambda n: f"?page={n}", title="Register", **common
        )
    )[0]
    themes = services.board.themes(board, 4)
    out["board:themes"] = page_text(
        pages.get_template("board/themes.html").render(view=themes, title="Themes", **common)
    )[0]
    return out


# Numbers that are not counts, taken out before the scan.
NOT_COUNTS = [
    r"fewer than \d+",
    r"(?:counts|weeks) under \d+",
    # How long a barrier kept coming up: a duration in weeks, not a count of people or entries.
    r"(?:over|for) \d+ weeks?",
    r"\d+-week",
    r"\b(?:under|over) \d+ weeks|\b\d+ to \d+ weeks",  # the review pack's age bands
    r"\b\d{4}-W\d{2}\b",  # ISO weeks
    r"\b\d{4}-Q\d\b",  # purpose periods
    r"\b\d{4}-\d{2}-\d{2}(?:T[\d:.+]+)?\b",  # ISO dates and times
    r"\bweek \d+ of \d{4}",
    r"\b\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*(?: \d{4})?",
    r"\b(?:19|20)\d{2}\b",  # years
    r"[Ii]nquiry \d+|inquiry close \d+|#\d+",  # ids
    r"\b\d+ days\b",  # a barrier's age on the board
    r"Ladder history \(\d+\)",  # events in a barrier's history (not people)
    r"\d+ barriers? match(?:es)?\. Page \d+ of \d+",  # the register's size
    r"Weeks to show(?:\s+\d+)+",  # the themes page's choice of weeks
]


def small_counts(text: str, threshold: int) -> list[str]:
    """Numbers left in a text that are under the threshold (after taking out non-counts)."""
    for pattern in NOT_COUNTS:
        text = re.sub(pattern, " ", text)
    return [n for n in re.findall(r"\d[\d,]*", text) if int(n.replace(",", "")) < threshold]


def home_counts(text: str) -> str:
    """The App Home lines that count people or deliveries (the rest is configuration)."""
    return "\n".join(
        line
        for line in text.splitlines()
        if line.startswith(("Prompts:", "Failed prompts", "People:"))
    )


def metrics_counts(text: str) -> list[float]:
    """The values of the people-derived gauges in /metrics."""
    return [
        float(value)
        for name, value in re.findall(
            r"^(learnloop_(?:prompts|checkins)\{[^}]*\}) (\S+)$", text, re.M
        )
    ]


def csv_counts(text: str) -> str:
    """The barrier register's count column."""
    return "\n".join(r["linked_checkins"] for r in csv.DictReader(io.StringIO(text)))


def agency_counts(view: DigestView) -> tuple[Any, ...]:
    """What an agency's digest counts (its quotes may differ: it reads its own entries)."""
    return (view.learnings, view.agencies_contributing, view.participation, view.themes)


# ------------------------------------------------------------------ the property

# Outputs for the whole alliance, besides each platform's alliance digest.
FOR_THE_ALLIANCE = {
    "pack",
    "pack:alt",
    "inquiry",
    "metrics",
    "barriers.csv",
    f"home:{STEWARD}",
    "board:register",
    "board:themes",
    "note:slack",  # the practitioners' note is alliance-level: the same whatever the agency
    "note:teams",
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    return sqlite_template


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_no_output_for_others_shows_a_small_count_or_an_anonymous_agency(
    world: World, template: Path, tmp_path: Path
) -> None:
    loops = []
    for swapped in (False, True):
        db = tmp_path / f"world-{swapped}-{id(world)}.db"
        shutil.copy(template, db)
        loops.append(populate(world, db, swapped))
    try:
        (plain, _, inquiry), (moved, _, moved_inquiry) = loops
        seen = outputs_for_others(plain, inquiry)
        threshold = world.threshold

        # 1. No small number as a count, in any output.
        for name, text in seen.items():
            if name.startswith("home:"):
                text = home_counts(text)
            elif name == "metrics":
                assert all(v >= threshold for v in metrics_counts(text)), text
                continue
            elif name == "barriers.csv":
                text = csv_counts(text)
            assert small_counts(text, threshold) == [], (name, text)

        # 2. Nothing follows an anonymous entry's agency: the alliance's outputs are identical
        # when every anonymous entry and barrier comes from someone in another agency...
        other = outputs_for_others(moved, moved_inquiry)
        for name, text in seen.items():
            if name.endswith(":alliance") or name in FOR_THE_ALLIANCE:
                assert text == other[name], name
        # ...and each agency's digest counts the same.
        for dest in plain.services.digests.destinations():
            if dest.agency_id is not None:
                here = plain.services.digests.build(dest, WEEK)
                there = moved.services.digests.build(dest, WEEK)
                assert agency_counts(here) == agency_counts(there), dest.id
    finally:
        for loop, _, _ in loops:
            loop.engine.dispose()


# ------------------------------------------------------------------ k-anonymity, every audience

# Learnings that the pattern finder groups across agencies, so patterns are exercised too;
# each entry adds its own reference ("ref 7") so a quote can be traced back to its entry.
SAYINGS = [
    "Temporary accommodation is full every Friday",
    "No temporary accommodation available on Fridays",
    "Joint visits with the ward saved a week of waiting",
    "Joint visits with the ward saved us waiting",
    "Letters still read like threats to tenants",
]
REF = re.compile(r"ref (\d+)")


@st.composite
def small_alliances(draw: st.DrawFn) -> tuple[int, int, list[Any]]:
    """(agencies, threshold, check-in facts) for one digest week."""
    from bot.domain.digest import CheckinFact

    count = draw(st.integers(2, 4))
    threshold = draw(st.integers(1, 4))
    facts = []
    for i in range(draw(st.integers(0, 14))):
        agency = draw(st.integers(0, count - 1))
        facts.append(
            CheckinFact(
                id=i + 1,
                agency_id=NAMES[agency].lower(),
                member_id=agency * 10 + draw(st.integers(0, 4)),
                visibility=draw(st.sampled_from(VISIBILITIES)),
                created_at=NOW - dt.timedelta(hours=i),
                learning=f"{draw(st.sampled_from(SAYINGS))} ref {i + 1}",
                author_name=f"Person {agency * 10}",
            )
        )
    return count, threshold, facts


def _quotes(view: Any) -> list[Any]:
    """Every quote a view holds: its own, its patterns', and those across the alliance."""
    quotes = list(view.quotes) + [q for p in view.patterns for q in p.quotes]
    across = getattr(view, "across", None)
    if across is not None:
        quotes += list(across.quotes) + [q for p in across.patterns for q in p.quotes]
    return quotes


@settings(max_examples=60, deadline=None)
@given(world=small_alliances())
def test_no_output_quotes_what_its_readers_may_not_read_or_an_anonymous_entry_of_a_small_agency(
    world: tuple[int, int, list[Any]],
) -> None:
    from bot.domain.digest import DigestInputs, across_alliance, build_digest, week_period
    from bot.domain.visibility import ANONYMOUS_LABEL, Audience

    count, threshold, facts = world
    names = {NAMES[i].lower(): f"Agency {NAMES[i]}" for i in range(count)}
    by_id = {f.id: f for f in facts}
    contributors: dict[str, int] = {}
    for agency in names:
        contributors[agency] = len({f.member_id for f in facts if f.agency_id == agency})
    period = week_period(WEEK, dt.UTC)

    def inputs(audience: Audience) -> DigestInputs:
        scope = {audience.agency_id: names[audience.agency_id]} if audience.agency_id else names
        return DigestInputs(
            audience=audience,
            period=period,
            alliance_name="Property Alliance",
            scope_label="scope",
            scope_agencies=scope,
            agency_names=names,
            suppress_below=threshold,
            learnings={},
            people={},
            theme_counts={},
            baseline=[],
            checkins=facts,
            contributors=contributors,
        )

    def traced(quote: Any) -> Any:
        match = REF.search(quote.text)
        assert match, quote
        return by_id[int(match.group(1))]

    def check_anonymous_bylines(quotes: list[Any]) -> None:
        for quote in quotes:
            if traced(quote).visibility == "anonymous":
                assert quote.byline == ANONYMOUS_LABEL, quote  # no name, no agency

    # Alliance-level outputs: the stewards' digest and the practitioners' note.
    alliance = inputs(Audience.alliance())
    note = across_alliance(alliance, None, pattern_limit=3, quote_limit=3)
    for quotes in (_quotes(build_digest(alliance)), _quotes(note)):
        assert all(traced(q).visibility != "team" for q in quotes)
        check_anonymous_bylines(quotes)

    # Each agency's digest (its channel and its managers' DMs).
    for agency in names:
        view = build_digest(inputs(Audience.agency(agency)))
        quotes = _quotes(view)
        check_anonymous_bylines(quotes)
        for quote in quotes:
            entry = traced(quote)
            # Another agency's team-only entry is never read here.
            assert entry.agency_id == agency or entry.visibility != "team", (agency, quote)
            # k-anonymity: its own anonymous entries only when it had enough contributors.
            if entry.agency_id == agency and entry.visibility == "anonymous":
                assert contributors[agency] >= threshold, (agency, contributors, quote)
        # Its own entries are never repeated "across the alliance".
        assert view.across is not None
        for quote in list(view.across.quotes):
            assert traced(quote).agency_id != agency


# ------------------------------------------------------------------ the board reads as the digest


@settings(
    # No shrinking: a failing world took over five minutes to shrink; the report shows both sides.
    phases=[Phase.reuse, Phase.generate],
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_the_board_themes_page_counts_and_finds_patterns_as_each_weeks_digest(
    world: World, template: Path, tmp_path: Path
) -> None:
    """The themes page reads many weeks at once (one grouped count, one read of the entries);
    for every audience each week's lines and patterns are exactly that week's digest's."""
    from bot.domain.digest import theme_lines, week_period

    db = tmp_path / f"board-{id(world)}.db"
    shutil.copy(template, db)
    loop, _, _ = populate(world, db, False)
    try:
        digests = loop.services.digests
        periods = [
            week_period(f"2026-W{n}", loop.alliance.alliance.zone) for n in (48, 47, 46, 45, 44)
        ]
        names = {a.id: a.name for a in loop.alliance.agencies}
        scopes = ["alliance", *(f"agency:{a.id}" for a in loop.alliance.agencies)]
        for scope in scopes:
            dest = digests.board_destination(scope)
            fast = digests.week_patterns(dest, periods)
            slow = [digests.build(dest, p).patterns for p in periods]
            assert fast == slow, (scope, fast, slow)
            # Patterns of weeks that are not next to each other (some kept, some not).
            apart = [periods[0], periods[3]]
            assert digests.week_patterns(dest, apart) == [
                digests.build(dest, p).patterns for p in apart
            ], scope
            only = [dest.agency_id] if dest.agency_id is not None else None
            with loop.services.uow() as uow:
                one_by_one = [uow.digests.theme_counts(p.start, p.end, only) for p in periods]
            assert digests.week_themes(dest, periods) == [
                theme_lines(counts, names, world.threshold) for counts in one_by_one
            ], scope
    finally:
        loop.engine.dispose()


@settings(
    phases=[Phase.reuse, Phase.generate],
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds(), data=st.data())
def test_the_board_themes_page_after_a_change_equals_the_page_worked_out_fresh(
    world: World, data: st.DataObject, template: Path, tmp_path: Path
) -> None:
    """Finished weeks are kept (storage/kept_weeks.py); then one entry is deleted, shared
    differently, or its author erased. For every audience each week then shows exactly what
    its digest now shows (or "still being worked out"), never what the change took away; once
    the weeks are kept again the page equals the one worked out fresh."""
    from sqlalchemy import select

    from storage.models import CheckinRow, MemberRow

    db = tmp_path / f"kept-{id(world)}.db"
    shutil.copy(template, db)
    loop, clock, _ = populate(world, db, False)
    try:
        services = loop.services
        board, digests = services.board, services.digests
        now = clock()
        scopes = ["alliance", *(f"agency:{a.id}" for a in loop.alliance.agencies)]
        viewers = [
            Viewer("email:x@test.example", "X", "board")
            if scope == "alliance"
            else Viewer("email:y@test.example", "Y", "manager", scope.split(":", 1)[1])
            for scope in scopes
        ]
        periods = board._weeks(now, 5)

        def keep() -> None:
            board.keep_due(now, dt.timedelta(hours=1))  # counts, and the alliance's patterns
            settled = [p for p in periods if board._settled(p, now)]
            for scope in scopes:  # the agencies have no managers here: keep theirs by hand
                dest = digests.board_destination(scope)
                board._keep_patterns(dest, settled, now, claimed_only=True)

        def fresh(viewer: Viewer) -> list[tuple[Any, Any]]:
            dest = digests.board_destination(viewer.scope)
            lines = digests.week_themes(dest, periods)
            return [
                (tuple(week_lines), digests.build(dest, p).patterns)
                for p, week_lines in zip(periods, lines, strict=True)
            ]

        def page(viewer: Viewer) -> list[tuple[Any, Any]]:
            view = board.themes(viewer, len(periods))
            return [(w.lines, None if w.patterns_pending else w.patterns) for w in view.weeks]

        keep()
        for viewer in viewers:
            assert page(viewer) == fresh(viewer), viewer.scope
        with services.uow() as uow:
            entries = uow.session.execute(
                select(CheckinRow.id, MemberRow.platform_user_id, CheckinRow.visibility)
                .join(MemberRow, MemberRow.id == CheckinRow.member_id)
                .order_by(CheckinRow.id)
            ).all()
        if entries:
            checkin_id, author, visibility = data.draw(st.sampled_from(entries))
            action = data.draw(st.sampled_from(["delete", "share", "erase"]))
            if action == "delete":
                services.entries.delete("slack", author, checkin_id)
            elif action == "share":
                other = data.draw(st.sampled_from([v for v in VISIBILITIES if v != visibility]))
                services.entries.change_visibility("slack", author, checkin_id, other)
            else:
                services.privacy.delete_member("slack", author)
        for viewer in viewers:
            want = fresh(viewer)
            for week, (got, expected) in enumerate(zip(page(viewer), want, strict=True)):
                assert got[0] == expected[0], (viewer.scope, week)
                assert got[1] is None or got[1] == expected[1], (viewer.scope, week)
        keep()
        for viewer in viewers:
            assert page(viewer) == fresh(viewer), viewer.scope
    finally:
        loop.engine.dispose()
