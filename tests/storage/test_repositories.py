"""Repositories and the unit of work on each backend."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from bot.domain.errors import StorageUnavailable
from storage.db import make_engine
from storage.models import PromptRow
from storage.uow import UnitOfWorkFactory


@pytest.fixture
def uow(engine: Engine) -> UnitOfWorkFactory:
    factory = UnitOfWorkFactory(engine)
    with factory() as u:
        u.config.upsert_agency("housing", "Housing", "slack")
        u.config.upsert_cohort("weekly", "hls-default")
        u.commit()
    return factory


def test_ledger_claims_each_member_cycle_once(uow: UnitOfWorkFactory) -> None:
    with uow() as u:
        member = u.members.ensure("slack", "U1", "housing")
        first = u.prompts.claim(member.id, "weekly", "weekly:2026-W48")
        u.commit()
    assert first is not None and first.status == "pending"
    with uow() as u:
        # A pending row (a crash between claim and send) is handed back to resume it...
        again = u.prompts.claim(member.id, "weekly", "weekly:2026-W48")
        assert again is not None and again.id == first.id
        again.status = "sent"
        u.commit()
    with uow() as u:
        # ...but once sent, never again.
        assert u.prompts.claim(member.id, "weekly", "weekly:2026-W48") is None
        assert u.session.scalar(select(func.count()).select_from(PromptRow)) == 1
        assert u.prompts.claim(member.id, "weekly", "weekly:2026-W49") is not None


def test_unique_member_cycle_is_enforced_by_the_database(uow: UnitOfWorkFactory) -> None:
    with uow() as u:
        member = u.members.ensure("slack", "U1", "housing")
        u.session.add(PromptRow(member_id=member.id, cohort_id="weekly", cycle="c1"))
        u.session.add(PromptRow(member_id=member.id, cohort_id="weekly", cycle="c1"))
        with pytest.raises(IntegrityError):
            u.session.flush()


def test_unit_of_work_rolls_back_without_commit(uow: UnitOfWorkFactory) -> None:
    with uow() as u:
        u.members.ensure("slack", "U2", "housing")
    with uow() as u:
        assert u.members.by_platform_id("slack", "U2") is None
    with pytest.raises(RuntimeError), uow() as u:
        u.members.ensure("slack", "U3", "housing")
        u.commit()
        u.members.ensure("slack", "U4", "housing")
        raise RuntimeError("boom")
    with uow() as u:
        assert u.members.by_platform_id("slack", "U3") is not None
        assert u.members.by_platform_id("slack", "U4") is None


def test_members_keep_their_agency(uow: UnitOfWorkFactory) -> None:
    with uow() as u:
        u.config.upsert_agency("hospital", "Hospital", "slack")
        first = u.members.ensure("slack", "U5", "housing")
        second = u.members.ensure("slack", "U5", "hospital")
        assert first.id == second.id and second.agency_id == "housing"


def test_database_outage_is_a_typed_error(tmp_path) -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    with pytest.raises(StorageUnavailable), UnitOfWorkFactory(engine)() as u:
        u.members.by_platform_id("slack", "U1")
