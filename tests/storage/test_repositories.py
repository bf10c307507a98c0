"""Repositories and the unit of work on each backend."""

from __future__ import annotations

import datetime as dt

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


def test_ledger_rows_are_written_once_and_leased_by_one_sender(uow: UnitOfWorkFactory) -> None:
    now = dt.datetime(2026, 11, 26, 15, tzinfo=dt.UTC)
    with uow() as u:
        member = u.members.ensure("slack", "U1", "housing")
        u.prompts.insert_pending("weekly", [(member.id, "weekly:2026-W48")])
        # A second run for the same cycle (a restart, another worker) adds nothing.
        u.prompts.insert_pending("weekly", [(member.id, "weekly:2026-W48")])
        u.commit()
    with uow() as u:
        [row] = u.prompts.for_cycles("weekly", ["weekly:2026-W48"])
        assert row.status == "pending"
        assert u.prompts.lease(row.id, now) is True
        u.commit()
    with uow() as u:
        # Whoever comes second finds the row taken and sends nothing.
        assert u.prompts.lease(row.id, now) is False
        assert u.session.scalar(select(func.count()).select_from(PromptRow)) == 1
        u.prompts.insert_pending("weekly", [(member.id, "weekly:2026-W49")])
        assert len(u.prompts.for_cycles("weekly", ["weekly:2026-W48", "weekly:2026-W49"])) == 2


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
