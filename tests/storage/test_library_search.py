"""The learning library's full-text search, on SQLite (FTS5) and PostgreSQL (tsvector + GIN)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bot.domain.search import BadSearch, Named, Terms, parse_search, parse_terms
from storage.db import make_engine, migrate
from storage.models import CheckinRow
from storage.search_queries import Cursor, Reader, SearchQueries
from storage.uow import UnitOfWorkFactory

START = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)
THEMES = [Named("Housing", ("Housing",)), Named("Substance use", ("Substance use",))]
AGENCIES = [Named("housing", ("Housing Services", "housing")), Named("nhs", ("NHS", "nhs"))]

# Every one of these must run (or be refused with a message), never raise a database error.
HOSTILE = [
    '"',
    '""',
    '"unterminated phrase',
    "*",
    "hous*",
    "NEAR(methadone pharmacy)",
    "NEAR",
    "methadone NEAR pharmacy",
    "-",
    "--",
    "- -x",
    "-methadone",
    "AND",
    "OR",
    "NOT",
    "methadone AND",
    "methadone OR",
    "OR methadone",
    "NOT methadone",
    "(",
    ")",
    "(methadone",
    "body:methadone",
    "answers:x",
    "^methadone",
    "methadone^2",
    "'; DROP TABLE checkins; --",
    "\\",
    "a\x00b",
    "&|!<->:*",
    "!methadone",
    "methadone <-> pharmacy",
    "{methadone}",
    "+methadone",
    "🙂 pharmacy",
    "x" * 200,
    "the and of",
    "ä ö ü ß",
    "CAST(1 AS int)",
    "%_%",
]


@pytest.fixture
def uow(engine: Engine) -> UnitOfWorkFactory:
    factory = UnitOfWorkFactory(engine)
    with factory() as u:
        u.config.upsert_agency("housing", "Housing Services", "slack")
        u.config.upsert_agency("nhs", "NHS", "slack")
        u.config.ensure_themes([t.id for t in THEMES])
        u.commit()
    return factory


def _add(
    uow: UnitOfWorkFactory,
    user: str,
    agency: str,
    said: str,
    *,
    visibility: str = "alliance",
    days: int = 0,
    themes: tuple[str, ...] = (),
) -> int:
    with uow() as u:
        member = u.members.ensure("slack", user, agency)
        row = CheckinRow(
            member_id=member.id,
            agency_id=agency,
            question_set_id="hls-default",
            questions=[],
            answers={"learned": said, "route": ["Home"], "helped": ""},
            visibility=visibility,
            source="modal",
            created_at=START + dt.timedelta(days=days),
        )
        u.checkins.add(row, u.config.themes_named(list(themes)))
        u.commit()
        return row.id


def _reader(uow: UnitOfWorkFactory, user: str, agency: str) -> Reader:
    with uow() as u:
        member = u.members.ensure("slack", user, agency)
        u.commit()
        return Reader(member.id, agency)


def _find(
    uow: UnitOfWorkFactory, reader: Reader, query: str, limit: int = 10, **kw: object
) -> list[int]:
    search = parse_search(query, THEMES, AGENCIES)
    with uow() as u:
        rows = SearchQueries(u.session).search(
            reader,
            search.terms,
            theme=search.theme,
            agency_id=search.agency_id,
            limit=limit,
            **kw,  # type: ignore[arg-type]
        )
        return [r.id for r in rows]


def test_words_are_stemmed_and_results_come_newest_first(uow: UnitOfWorkFactory) -> None:
    old = _add(uow, "U1", "housing", "The tenant was evicted after arrears", days=1)
    new = _add(uow, "U2", "nhs", "Evictions rise when benefits are delayed", days=5)
    _add(uow, "U3", "nhs", "Pharmacy registration took two weeks", days=3)
    me = _reader(uow, "U9", "housing")
    assert _find(uow, me, "eviction") == [new, old]
    assert _find(uow, me, "EVICTED tenants") == [old]
    assert _find(uow, me, "pharmacies") != []


def test_phrases_alternatives_and_left_out_words(uow: UnitOfWorkFactory) -> None:
    a = _add(uow, "U1", "housing", "lost their methadone script at the pharmacy", days=1)
    b = _add(uow, "U2", "nhs", "the pharmacy lost the script", days=2)
    c = _add(uow, "U3", "nhs", "curfew at the hostel clashed with the methadone collection", days=3)
    me = _reader(uow, "U9", "housing")
    assert _find(uow, me, '"methadone script"') == [a]
    assert _find(uow, me, "curfew or script") == [c, b, a]
    assert _find(uow, me, "pharmacy -methadone") == [b]
    assert _find(uow, me, "methadone script pharmacy") == [a]


def test_answers_are_searched_not_question_ids(uow: UnitOfWorkFactory) -> None:
    entry = _add(uow, "U1", "housing", "nothing about routes")
    me = _reader(uow, "U9", "housing")
    # Choices are answers too ("Home" in a list); "learned" is a question id, not an answer.
    assert _find(uow, me, "home") == [entry]
    assert _find(uow, me, "learned") == []


def test_the_reader_finds_only_what_they_may_read(uow: UnitOfWorkFactory) -> None:
    mine = _add(uow, "U9", "housing", "ward discharge friday", visibility="team", days=1)
    team = _add(uow, "U1", "housing", "ward discharge friday", visibility="team", days=2)
    other_team = _add(uow, "U2", "nhs", "ward discharge friday", visibility="team", days=3)
    shared = _add(uow, "U3", "nhs", "ward discharge friday", visibility="alliance", days=4)
    anon = _add(uow, "U4", "nhs", "ward discharge friday", visibility="anonymous", days=5)
    me = _reader(uow, "U9", "housing")
    found = _find(uow, me, "discharge")
    assert found == [anon, shared, team, mine]
    assert other_team not in found
    # By agency: someone else's anonymous entry is never tied to its agency.
    assert _find(uow, me, "discharge --agency nhs") == [shared]
    assert _find(uow, me, "discharge --agency Housing Services") == [team, mine]


def test_theme_filter_and_theme_only_search(uow: UnitOfWorkFactory) -> None:
    housed = _add(uow, "U1", "housing", "rent arrears", themes=("Housing",), days=1)
    _add(uow, "U2", "nhs", "rent arrears", themes=("Substance use",), days=2)
    me = _reader(uow, "U9", "housing")
    assert _find(uow, me, "arrears --theme housing") == [housed]
    assert _find(uow, me, "--theme Housing") == [housed]


def test_pages_continue_after_the_last_entry_shown(uow: UnitOfWorkFactory) -> None:
    ids = [_add(uow, f"U{i}", "nhs", f"hospital discharge number {i}", days=i) for i in range(7)]
    me = _reader(uow, "U9", "housing")
    with uow() as u:
        q = SearchQueries(u.session)
        terms = parse_terms("discharge")
        first = q.search(me, terms, limit=3)
        last = first[-1]
        second = q.search(me, terms, after=Cursor(last.created_at, last.id), limit=3)
        third = q.search(me, terms, after=Cursor(second[-1].created_at, second[-1].id), limit=3)
        found = [r.id for r in first + second + third]
    assert found == list(reversed(ids))


def test_the_index_follows_edits_and_deletions(uow: UnitOfWorkFactory) -> None:
    entry = _add(uow, "U1", "housing", "consent form was lost")
    me = _reader(uow, "U9", "housing")
    with uow() as u:
        row = u.session.get(CheckinRow, entry)
        assert row is not None
        row.answers = {"learned": "the curfew was moved"}
        u.commit()
    assert _find(uow, me, "consent") == []
    assert _find(uow, me, "curfew") == [entry]
    with uow() as u:
        u.session.execute(text("DELETE FROM checkins WHERE id = :i"), {"i": entry})
        u.commit()
    assert _find(uow, me, "curfew") == []
    # The index is still sound after a delete (a contentless FTS5 table told wrong text
    # would be corrupt): a new entry with the same words is found.
    again = _add(uow, "U1", "housing", "the curfew was moved")
    assert _find(uow, me, "curfew") == [again]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_reach_the_database_as_syntax(
    uow: UnitOfWorkFactory, query: str
) -> None:
    _add(uow, "U1", "housing", "lost their methadone script at the pharmacy")
    me = _reader(uow, "U9", "housing")
    try:
        found = _find(uow, me, query)
    except BadSearch as problem:
        assert problem.message  # a message saying what to type instead
        return
    assert isinstance(found, list)


def test_the_migration_indexes_entries_stored_before_it(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0003")
    # Written as SQL: the models describe the newest schema, not revision 0003's.
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO agencies (id, name, platform) VALUES ('housing', 'H', 'slack')")
        )
        conn.execute(
            text(
                "INSERT INTO checkins (id, agency_id, question_set_id, questions, answers, "
                "visibility, source, redaction_count, created_at) VALUES (1, 'housing', 'hls', "
                "'[]', '{\"learned\": \"script transfer between pharmacies\"}', 'alliance', "
                "'modal', 0, '2026-10-01 09:00:00.000000')"
            )
        )
    entry = 1
    migrate(engine)
    factory = UnitOfWorkFactory(engine)
    me = _reader(factory, "U9", "housing")
    assert _find(factory, me, "pharmacy") == [entry]
    engine.dispose()


def test_terms_are_bounded() -> None:
    with pytest.raises(BadSearch):
        parse_terms(" ".join(f"w{i}" for i in range(40)))
    assert parse_terms("") == Terms()


def test_a_search_matching_many_walks_newest_first_with_the_same_answer(
    uow: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both SQLite plans (few matches: by id; many: newest first) give the same pages."""
    ids = [_add(uow, f"U{i}", "nhs", f"hospital discharge number {i}", days=i) for i in range(7)]
    _add(uow, "U1", "nhs", "discharge kept in the team", visibility="team", days=9)
    me = _reader(uow, "U9", "housing")
    few = _find(uow, me, "discharge", limit=4)
    monkeypatch.setattr("storage.search_queries.FEW_MATCHES", 1)
    assert _find(uow, me, "discharge", limit=4) == few == list(reversed(ids))[:4]
    assert _find(uow, me, "discharge --agency nhs", limit=10) == list(reversed(ids))
