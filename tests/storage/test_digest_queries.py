"""The digest's period queries and ledger on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from storage.digest_queries import DigestRepository, DigestStatus
from storage.models import AgencyRow, CheckinRow, CheckinThemeRow, ThemeRow

START = dt.datetime(2026, 11, 13, 9, 0, tzinfo=dt.UTC)
WEEK = dt.timedelta(days=7)
WINDOWS = [(START - WEEK * (i + 1), START - WEEK * i) for i in range(4)]


def seed(session: Session, rows: list[tuple[int, str, dt.datetime, list[int]]]) -> None:
    """Agencies, two themes, and check-ins (id, agency, created_at, theme ids)."""
    session.add_all([AgencyRow(id="a", name="A"), AgencyRow(id="b", name="B")])
    session.add_all([ThemeRow(id=1, name="Housing"), ThemeRow(id=2, name="Money")])
    session.flush()
    for checkin_id, agency, created, themes in rows:
        session.add(
            CheckinRow(
                id=checkin_id,
                agency_id=agency,
                question_set_id="hls-default",
                questions=[],
                answers={"learned": f"entry {checkin_id}"},
                visibility="alliance",
                source="modal",
                redaction_count=0,
                created_at=created,
            )
        )
        session.flush()
        session.add_all([CheckinThemeRow(checkin_id=checkin_id, theme_id=t) for t in themes])
    session.flush()


EXPECTED = [{"Housing": 2, "Money": 1}, {"Money": 1}, {}, {"Housing": 1}]


def test_baseline_counts_by_window_whether_or_not_ids_follow_time(engine: Engine) -> None:
    in_time_order = [
        (1, "a", WINDOWS[3][0] + dt.timedelta(hours=1), [1]),
        (2, "b", WINDOWS[1][0] + dt.timedelta(hours=1), [2]),
        (3, "a", WINDOWS[0][0] + dt.timedelta(hours=1), [1, 2]),
        (4, "b", WINDOWS[0][0] + dt.timedelta(hours=2), [1]),
        (5, "b", START + dt.timedelta(hours=1), [1, 2]),  # this week: not in the baseline
    ]
    with Session(engine) as session:
        seed(session, in_time_order)
        q = DigestRepository(session)
        fast = q.baseline_theme_counts(WINDOWS, None)
        joined = q.baseline_theme_counts(WINDOWS, ["a", "b"])
        assert fast == joined == EXPECTED


def test_baseline_is_exact_when_an_old_entry_has_a_new_id(engine: Engine) -> None:
    # Id 3 was written late but dated in the oldest window: the id ranges overlap.
    out_of_order = [
        (1, "a", WINDOWS[1][0] + dt.timedelta(hours=1), [2]),
        (2, "a", WINDOWS[0][0] + dt.timedelta(hours=1), [1, 2]),
        (3, "b", WINDOWS[3][0] + dt.timedelta(hours=1), [1]),
        (4, "b", WINDOWS[0][0] + dt.timedelta(hours=2), [1]),
    ]
    with Session(engine) as session:
        seed(session, out_of_order)
        assert DigestRepository(session).baseline_theme_counts(WINDOWS, None) == EXPECTED


def test_period_counts_and_an_empty_period(engine: Engine) -> None:
    rows = [
        (1, "a", START + dt.timedelta(hours=1), [1]),
        (2, "a", START + dt.timedelta(hours=2), [1, 2]),
        (3, "b", START + dt.timedelta(hours=3), []),
        (4, "b", START - dt.timedelta(hours=3), [2]),  # the week before
    ]
    with Session(engine) as session:
        seed(session, rows)
        q = DigestRepository(session)
        assert q.theme_counts(START, START + WEEK, None) == {("a", "Housing"): 2, ("a", "Money"): 1}
        assert q.theme_counts(START, START + WEEK, ["b"]) == {}
        learnings, _ = q.participation(START, START + WEEK, None)
        assert learnings == {"a": 2, "b": 1}
        later = START + WEEK * 10
        assert q.theme_counts(later, later + WEEK, None) == {}
        assert q.baseline_theme_counts([(later, later + WEEK)], None) == [{}]


def test_a_digest_is_claimed_by_one_caller_only(engine: Engine) -> None:
    with Session(engine) as session:
        q = DigestRepository(session)
        first = q.claim("alliance", "2026-W47", "C1")
        assert first is not None and first.status == DigestStatus.POSTING
        assert q.claim("alliance", "2026-W47", "C1") is None  # being posted
        first.status = DigestStatus.WAITING
        session.flush()
        assert q.claim("alliance", "2026-W47", "C1") is not None  # waiting: try again
        assert q.claim("alliance", "2026-W48", "C1") is not None  # another week
        session.commit()
