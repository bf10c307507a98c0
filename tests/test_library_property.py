"""A property over random alliances: `find` never returns an entry the asker may not read, and
nothing it shows depends on an anonymous entry's agency.

Each example stores random check-ins (any agency, author, visibility, themes, words) in a
migrated SQLite database and runs random searches (words, `--theme`, `--agency`) for a random
reader through the real query and service. Three things must hold:

1. every row the database query returns is one `can_read(Audience.member(...))` allows, and a
   search by agency returns nobody else's anonymous entry (the SQL filter agrees with the one
   visibility rule — the service checks again, but must never need to);
2. without words, the query returns exactly the brute-force answer, newest first;
3. moving every anonymous entry the reader did not write to another agency leaves the reader's
   results, as text, byte for byte the same.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.alliance import parse_alliance
from bot.domain.visibility import Audience, can_read
from bot.services.library import LibraryService
from bot.services.members import MemberService
from bot.views.library import find_message
from storage.db import make_engine
from storage.models import CheckinRow
from storage.search_queries import Reader, SearchQueries
from storage.uow import UnitOfWorkFactory

AGENCIES = ["alpha", "bravo", "charlie"]
THEMES = ["Housing", "Mental health"]
WORDS = ["pharmacy", "script", "curfew", "ward", "consent", "rent"]
START = dt.datetime(2026, 9, 1, 9, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Entry:
    agency: int
    member: int
    visibility: str
    themes: tuple[str, ...]
    words: tuple[str, ...]
    day: int


@dataclass(frozen=True)
class Ask:
    agency: int
    member: int
    words: tuple[str, ...]
    theme: str | None
    by_agency: int | None


entries = st.builds(
    Entry,
    agency=st.integers(0, 2),
    member=st.integers(0, 2),
    visibility=st.sampled_from(["team", "alliance", "anonymous"]),
    themes=st.lists(st.sampled_from(THEMES), max_size=2, unique=True).map(tuple),
    words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(tuple),
    day=st.integers(0, 20),
)
asks = st.builds(
    Ask,
    agency=st.integers(0, 2),
    member=st.integers(0, 2),
    words=st.lists(st.sampled_from(WORDS), max_size=2).map(tuple),
    theme=st.none() | st.sampled_from(THEMES),
    by_agency=st.none() | st.integers(0, 2),
)


def user(agency: int, member: int) -> str:
    return f"U0{AGENCIES[agency].upper()}{member}"


def alliance():  # type: ignore[no-untyped-def]
    return parse_alliance(
        {
            "alliance": {"name": "P", "timezone": "Europe/London", "suppress_below": 3},
            "themes": THEMES,
            "agencies": [
                {"id": a, "name": f"Agency {a.title()}", "members": [user(i, m) for m in range(3)]}
                for i, a in enumerate(AGENCIES)
            ],
            "cohorts": [{"id": "weekly", "schedule": {"days": ["thu"], "time": "15:00"}}],
            "digests": [{"id": "alliance", "channel": "C0STEWARDS", "scope": "alliance"}],
            "escalation_ladder": [{"level": "agency", "name": "Leads", "channel": "C0LEADS"}],
        }
    )


def populate(db: Path, world: list[Entry], moved_from: str | None) -> UnitOfWorkFactory:
    """Store the world; with `moved_from`, anonymous entries not by that user change agency."""
    factory = UnitOfWorkFactory(make_engine(f"sqlite:///{db}"))
    with factory() as u:
        for i, a in enumerate(AGENCIES):
            u.config.upsert_agency(a, f"Agency {a.title()}", "slack")
            for m in range(3):
                u.members.ensure("slack", user(i, m), a)
        u.config.ensure_themes(THEMES)
        for n, e in enumerate(world):
            member = u.members.by_platform_id("slack", user(e.agency, e.member))
            assert member is not None
            agency = AGENCIES[e.agency]
            if (
                moved_from
                and e.visibility == "anonymous"
                and user(e.agency, e.member) != moved_from
            ):
                agency = AGENCIES[(e.agency + 1) % len(AGENCIES)]
            row = CheckinRow(
                member_id=member.id,
                agency_id=agency,
                question_set_id="hls-default",
                questions=[],
                answers={"learned": " ".join(e.words) + f" entry {n}"},
                visibility=e.visibility,
                source="modal",
                created_at=START + dt.timedelta(days=e.day, seconds=n),
            )
            u.checkins.add(row, u.config.themes_named(list(e.themes)))
        u.commit()
    return factory


def typed(ask: Ask) -> str:
    parts = list(ask.words)
    if ask.theme:
        parts.append(f"--theme {ask.theme}")
    if ask.by_agency is not None:
        parts.append(f"--agency {AGENCIES[ask.by_agency]}")
    return " ".join(parts)


@pytest.fixture(scope="module")
def template(sqlite_template: Path) -> Path:
    return sqlite_template


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=st.lists(entries, max_size=25), questions=st.lists(asks, min_size=1, max_size=4))
def test_find_never_returns_an_entry_the_asker_may_not_read(
    world: list[Entry], questions: list[Ask], template: Path, tmp_path: Path
) -> None:
    config = alliance()
    run = next(_runs)
    db = tmp_path / f"world-{run}.db"
    shutil.copy(template, db)
    factory = populate(db, world, None)
    service = LibraryService(
        factory, config, MemberService(factory, config, lambda: START), lambda: START
    )
    engines = [factory.engine]
    try:
        for ask in questions:
            text = typed(ask)
            if not text:
                continue
            search = service.read(text)
            with factory() as u:
                reader_row = u.members.by_platform_id("slack", user(ask.agency, ask.member))
                assert reader_row is not None
                audience = Audience.member(reader_row.id, reader_row.agency_id)
                rows = SearchQueries(u.session).search(
                    Reader(reader_row.id, reader_row.agency_id),
                    search.terms,
                    theme=search.theme,
                    agency_id=search.agency_id,
                    limit=1000,
                )
                for row in rows:
                    assert can_read(audience, row), (text, row.visibility, row.agency_id)
                    if search.agency_id is not None:
                        assert row.agency_id == search.agency_id
                        own = row.member_id == reader_row.id
                        assert row.visibility != "anonymous" or own
                    if search.theme is not None:
                        assert search.theme in {t.name for t in row.themes}
                if not search.terms:
                    everything = u.session.scalars(select(CheckinRow)).all()  # brute force
                    expected = sorted(
                        (
                            r
                            for r in everything
                            if can_read(audience, r)
                            and (search.theme is None or search.theme in {t.name for t in r.themes})
                            and (
                                search.agency_id is None
                                or (
                                    r.agency_id == search.agency_id
                                    and (
                                        r.visibility != "anonymous" or r.member_id == reader_row.id
                                    )
                                )
                            )
                        ),
                        key=lambda r: (r.created_at, r.id),
                        reverse=True,
                    )
                    assert [r.id for r in rows] == [r.id for r in expected]
                else:
                    for row in rows:
                        said = row.answers["learned"]
                        assert any(w in said for w in search.terms.words), (text, said)

        # The swapped world: anonymous entries by others move agency; results read the same.
        for ask in questions:
            text = typed(ask)
            if not text or ask.by_agency is not None:
                continue
            reader = user(ask.agency, ask.member)
            # A file of its own each time: SQLite's WAL beside a reused name would replay.
            moved_db = tmp_path / f"world-{run}-moved-{next(_runs)}.db"
            shutil.copy(template, moved_db)
            moved = populate(moved_db, world, reader)
            engines.append(moved.engine)
            moved_service = LibraryService(
                moved, config, MemberService(moved, config, lambda: START), lambda: START
            )
            here = find_message(service.find("slack", reader, text))
            there = find_message(moved_service.find("slack", reader, text))
            assert repr(here) == repr(there), (text, repr(here), repr(there))
    finally:
        for engine in engines:
            engine.dispose()


_runs = itertools.count()
