"""The register's storage on each backend: the conditional UPDATE that makes one change win."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import Engine, func, select

from storage.models import (
    OUTSIDE_AGENCY_ID,
    EscalationEventRow,
    EscalationReminderRow,
    EscalationRow,
)
from storage.uow import UnitOfWorkFactory

NOW = dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)


@pytest.fixture
def uow(engine: Engine) -> UnitOfWorkFactory:
    factory = UnitOfWorkFactory(engine)
    with factory() as u:
        u.config.upsert_agency("housing", "Housing", "slack")
        u.commit()
    return factory


def _barrier(uow: UnitOfWorkFactory) -> int:
    with uow() as u:
        raiser = u.members.ensure("slack", "U1", "housing")
        row = u.escalations.add(
            EscalationRow(
                title="Letters",
                description="Read like threats",
                raised_by_id=raiser.id,
                raiser_anonymous=False,
                agencies=["housing"],
                level="agency",
                status="open",
                version=1,
                created_at=NOW,
                updated_at=NOW,
            ),
            [],
        )
        u.commit()
        return row.id


def test_two_changes_of_one_version_at_once_record_exactly_one(uow: UnitOfWorkFactory) -> None:
    barrier_id = _barrier(uow)
    both_read = threading.Barrier(2)
    won: list[str] = []
    errors: list[BaseException] = []

    def resolve(who: str) -> None:
        try:
            with uow() as u:
                seen = u.escalations.get(barrier_id)
                assert seen is not None and seen.version == 1
                # Both transactions have read version 1 before either writes.
                both_read.wait(timeout=5)
                if u.escalations.apply(
                    barrier_id, seen.version, status="resolved", outcome=who, updated_at=NOW
                ):
                    u.escalations.record(barrier_id, "resolved", None, NOW, "open", "resolved")
                    u.commit()
                    won.append(who)
        except BaseException as exc:  # surfaced below; a thread can't fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=resolve, args=(who,)) for who in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=15)
    assert errors == []
    assert len(won) == 1
    with uow() as u:
        row = u.escalations.get(barrier_id)
        assert row is not None and (row.version, row.outcome) == (2, won[0])
        events = u.session.scalar(select(func.count()).select_from(EscalationEventRow))
        assert events == 1


def test_a_stale_version_changes_nothing(uow: UnitOfWorkFactory) -> None:
    barrier_id = _barrier(uow)
    with uow() as u:
        assert u.escalations.apply(barrier_id, 1, status="acknowledged", updated_at=NOW)
        assert not u.escalations.apply(barrier_id, 1, status="closed", updated_at=NOW)
        u.commit()
    with uow() as u:
        row = u.escalations.get(barrier_id)
        assert row is not None and (row.status, row.version) == ("acknowledged", 2)


def test_a_weekly_reminder_is_claimed_once(uow: UnitOfWorkFactory) -> None:
    with uow() as u:
        first = u.escalations.claim_reminder("agency", "2026-W49")
        assert first is not None
        first.status = "posted"
        u.commit()
    with uow() as u:
        assert u.escalations.claim_reminder("agency", "2026-W49") is None
        assert u.escalations.claim_reminder("alliance", "2026-W49") is not None
        # An agency's own leadership channel has a reminder of its own on the same level.
        own = u.escalations.claim_reminder("agency", "2026-W49", "C0OWNLEAD")
        assert own is not None
        own.status = "posted"
        u.commit()
    with uow() as u:
        assert u.escalations.claim_reminder("agency", "2026-W49", "C0OWNLEAD") is None
        assert u.escalations.reminded_levels("2026-W49") == {
            ("agency", ""),
            ("agency", "C0OWNLEAD"),
        }
        count = u.session.scalar(select(func.count()).select_from(EscalationReminderRow))
        assert count == 3


def test_people_outside_every_agency_move_in_when_they_get_one(uow: UnitOfWorkFactory) -> None:
    with uow() as u:
        u.escalations.ensure_outside_agency("slack")
        u.escalations.ensure_outside_agency("slack")  # twice is fine (race-safe)
        steward = u.members.ensure("slack", "U0STEW", OUTSIDE_AGENCY_ID)
        assert steward.agency_id == OUTSIDE_AGENCY_ID
        u.commit()
    with uow() as u:
        assert u.members.ensure("slack", "U0STEW", "housing").agency_id == "housing"
        u.commit()
    with uow() as u:
        assert u.members.ensure("slack", "U0STEW", OUTSIDE_AGENCY_ID).agency_id == "housing"
